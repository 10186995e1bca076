/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The declared configuration against a host: which rule a PF falls under,
 * what it wants of each VF, and what in it the host cannot do. */

#include <stdio.h>

#include "conffile.h"
#include "util.h"

/* ---- against a host ---- */

static size_t sriov_pf_ordinal(const sriov_host *h, const sriov_device *pf) {
        size_t n = 0;

        for (size_t i = 0; i < h->n_devices && h->devices[i] != pf; i++)
                n += h->devices[i]->is_pf && h->devices[i]->vendor == pf->vendor && h->devices[i]->device == pf->device;
        return n;
}

bool config_match(const ConfigMatch *m, const sriov_host *h, const sriov_device *pf) {
        if (!pf->is_pf)
                return false;
        switch (m->kind) {
        case MATCH_BDF:
                return pci_addr_equal(&m->bdf, &pf->addr);
        case MATCH_INTERFACE:
                return strv_contains(pf->netdevs, m->interface);
        case MATCH_ID:
                return pf->vendor == m->vendor && pf->device == m->device &&
                        (m->index < 0 || sriov_pf_ordinal(h, pf) == (size_t) m->index);
        }
        return false;
}

const ConfigPF *config_rule_for(const Config *c, const sriov_host *h, const sriov_device *pf) {
        for (size_t i = 0; c && i < c->n_pfs; i++)
                if (config_match(&c->pfs[i].match, h, pf))
                        return &c->pfs[i];
        return NULL;
}

unsigned config_wanted_vfs(const ConfigPF *rule, const sriov_device *pf) {
        return rule->num_vfs >= 0 ? (unsigned) rule->num_vfs : pf->sriov.num_vfs;
}

bool config_vf_settings(const ConfigPF *rule, unsigned n, DriverWant *ret_want, const char **ret_driver,
                        sriov_vf_config *ret_attrs) {
        for (size_t i = 0; i < rule->n_ranges; i++) {
                const ConfigVFRange *r = &rule->ranges[i];

                if (n < r->first || n > r->last)
                        continue;
                *ret_want = r->driver_want;
                *ret_driver = r->driver;
                *ret_attrs = r->attrs;
                ret_attrs->vf = n;
                if ((r->attrs.mask & VF_ATTR_MAC) && r->mac_is_base) {
                        /* add n - first to the address, carrying through the octets */
                        unsigned carry = n - r->first;

                        for (int k = 5; k >= 1 && carry; k--) {
                                unsigned s = ret_attrs->mac[k] + (carry & 0xff);
                                ret_attrs->mac[k] = (uint8_t) s;
                                carry = (carry >> 8) + (s >> 8);
                        }
                }
                return true;
        }
        return false;
}

int config_check_host(const Config *c, const sriov_host *h, ConfigErrors *errors) {
        unsigned n_errors = 0;

        for (size_t i = 0; i < c->n_pfs; i++) {
                const ConfigPF *p = &c->pfs[i];
                bool matched = false;

                for (size_t k = 0; k < h->n_devices; k++) {
                        const sriov_device *d = h->devices[k];
                        unsigned want;

                        if (!config_match(&p->match, h, d))
                                continue;
                        matched = true;
                        for (size_t j = 0; j < i; j++)
                                if (config_match(&c->pfs[j].match, h, d)) {
                                        config_error(errors, p->file, p->pos,
                                                     "this rule and the one at %s:%u:%u both match %s", c->pfs[j].file,
                                                     c->pfs[j].pos.line, c->pfs[j].pos.col, d->bdf);
                                        n_errors++;
                                }
                        if (p->num_vfs >= 0 && (unsigned) p->num_vfs > d->sriov.total_vfs) {
                                config_error(errors, p->file, p->num_vfs_pos, "%d VFs exceed the %u that %s supports",
                                             p->num_vfs, d->sriov.total_vfs, d->bdf);
                                n_errors++;
                        }
                        want = config_wanted_vfs(p, d);
                        for (size_t j = 0; j < p->n_ranges; j++)
                                if (p->ranges[j].last >= MIN(want, d->sriov.total_vfs) && p->num_vfs < 0) {
                                        config_error(errors, p->ranges[j].file, p->ranges[j].pos,
                                                     "VF range %u-%u goes beyond the %u VFs of %s",
                                                     p->ranges[j].first, p->ranges[j].last, MIN(want, d->sriov.total_vfs),
                                                     d->bdf);
                                        n_errors++;
                                }
                }
                if (!matched) {
                        _cleanup_free_ char *what = config_match_describe(&p->match);
                        config_warning(errors, p->file, p->pos, "no SR-IOV PF matches %s (yet)", strna(what));
                }
        }
        return n_errors > 0 ? -EINVAL : 0;
}
