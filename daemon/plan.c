/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>

#include "plan.h"
#include "passthrough.h"
#include "safety.h"
#include "util.h"

void plan_done(Plan *p) {
        for (size_t i = 0; i < p->n_steps; i++) {
                PlanStep *s = &p->steps[i];

                free(s->driver);
                free(s->pf_ifname);
                free(s->detail);
                free(s->error);
                free(s->prior_driver);
                free(s->prior_override);
        }
        free(p->steps);
        *p = (Plan) {};
}

const char *step_kind_name(StepKind k) {
        static const char *const n[] = { "numvfs", "driver", "attributes", "error" };
        return k <= STEP_ERROR ? n[k] : "?";
}

_printf_(4, 5) static PlanStep *add_step(Plan *p, StepKind kind, const char *bdf, const char *fmt, ...) {
        PlanStep *n, *s;
        va_list ap;

        n = realloc(p->steps, (p->n_steps + 1) * sizeof(*n));
        if (!n)
                return NULL;
        p->steps = n;
        s = &p->steps[p->n_steps];
        *s = (PlanStep) { .kind = kind };
        (void) snprintf(s->bdf, sizeof(s->bdf), "%s", bdf);
        va_start(ap, fmt);
        if (vasprintf(&s->detail, fmt, ap) < 0)
                s->detail = NULL;
        va_end(ap);
        if (!s->detail)
                return NULL;
        p->n_steps++;
        return s;
}

static void step_failed(Plan *p, PlanStep *s, int r, const sriov_error *e) {
        s->result = r;
        s->error = strdup(e && e->error ? e->message : strerror(-r));
        p->n_failed++;
}

static bool driver_satisfies(DriverWant want, const char *wanted, const sriov_device *vf) {
        switch (want) {
        case DRIVER_UNSET:
                return true;
        case DRIVER_NAMED:
                return vf->driver && streq(vf->driver, wanted);
        case DRIVER_HOST:
                /* the kernel's own choice: bound, no override, not a user-space driver */
                return vf->driver && !vf->driver_override && !driver_is_dma_managed(vf->driver);
        }
        return true;
}

static char *attrs_describe(const sriov_vf_config *want, const sriov_vf_config *have, unsigned mask) {
        char buf[512] = "", a[18], b[18];
        size_t n = 0;

#define ADD(...) (n += (size_t) snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, __VA_ARGS__))
        if (mask & VF_ATTR_MAC)
                ADD("%smac %s -> %s", n ? ", " : "", have->mask & VF_ATTR_MAC ? vf_mac_format(have->mac, a) : "?",
                    vf_mac_format(want->mac, b));
        if (mask & VF_ATTR_VLAN)
                ADD("%svlan %u/%u/%s -> %u/%u/%s", n ? ", " : "", have->vlan, have->qos,
                    vf_vlan_proto_name(have->vlan_proto ?: VF_VLAN_PROTO_8021Q), want->vlan, want->qos,
                    vf_vlan_proto_name(want->vlan_proto));
        if (mask & VF_ATTR_RATE)
                ADD("%stx rate %u-%u -> %u-%u Mbit/s", n ? ", " : "", have->min_tx_rate, have->max_tx_rate,
                    want->min_tx_rate, want->max_tx_rate);
        if (mask & VF_ATTR_SPOOFCHK)
                ADD("%sspoofchk %s -> %s", n ? ", " : "", have->spoofchk ? "on" : "off", want->spoofchk ? "on" : "off");
        if (mask & VF_ATTR_TRUST)
                ADD("%strust %s -> %s", n ? ", " : "", have->trust ? "on" : "off", want->trust ? "on" : "off");
        if (mask & VF_ATTR_LINK_STATE)
                ADD("%slink state %s -> %s", n ? ", " : "", vf_link_state_name(have->link_state),
                    vf_link_state_name(want->link_state));
        if (mask & VF_ATTR_QUERY_RSS)
                ADD("%squery_rss %s -> %s", n ? ", " : "", have->query_rss ? "on" : "off", want->query_rss ? "on" : "off");
#undef ADD
        return strdup(buf);
}

/* The guest holding a VF, from the (VF, guest) pairs; NULL if none. */
static const char *assigned_to(char *const *assigned, const char *vf) {
        for (size_t i = 0; assigned && assigned[i] && assigned[i + 1]; i += 2)
                if (streq(assigned[i], vf))
                        return assigned[i + 1];
        return NULL;
}

/* The first VF of the family that a guest holds (it exists now: a guest
 * whose VF is gone is set up again on the VFs the change makes). */
static const sriov_device *first_assigned(const sriov_family *f, char *const *assigned) {
        for (size_t i = 0; i < f->n_vfs; i++)
                if (f->vfs[i] && assigned_to(assigned, f->vfs[i]->bdf))
                        return f->vfs[i];
        return NULL;
}

static int plan_numvfs(sriov_ctx *ctx, const ConfigPF *rule, const sriov_family *f, bool apply, char *const *assigned,
                       Plan *p, bool *ret_changed) {
        const sriov_device *pf = f->dev, *held = first_assigned(f, assigned);
        unsigned want = config_wanted_vfs(rule, pf);
        bool count = want != pf->sriov.num_vfs;
        bool ap = rule->autoprobe >= 0 && pf->sriov.autoprobe >= 0 && (rule->autoprobe != 0) != (pf->sriov.autoprobe != 0);
        PlanStep *s;

        *ret_changed = false;
        if (!count && !ap)
                return 0;
        if (count)
                s = add_step(p, STEP_NUMVFS, pf->bdf, "VFs %u -> %u%s%s", pf->sriov.num_vfs, want,
                             rule->autoprobe >= 0 ? ", driver autoprobe " : "",
                             rule->autoprobe >= 0 ? (rule->autoprobe ? "on" : "off") : "");
        else
                s = add_step(p, STEP_NUMVFS, pf->bdf, "driver autoprobe %s -> %s", pf->sriov.autoprobe ? "on" : "off",
                             rule->autoprobe ? "on" : "off");
        if (!s)
                return -ENOMEM;
        s->count = want;
        s->autoprobe = rule->autoprobe;
        if (count && held) {
                /* in a dry run too: this step cannot be carried out */
                step_failed(p, s, -EPERM, &(sriov_error) { -EPERM, "" });
                free(s->error);
                if (asprintf(&s->error, "VF %s is assigned to guest %s, and changing the VF count would destroy it: "
                             "release the PF's VFs first", held->bdf, assigned_to(assigned, held->bdf)) < 0)
                        s->error = NULL;
                return s->error ? 0 : -ENOMEM;
        }
        if (!apply)
                return 0;
        if (count) {
                sriov_error e = {};
                unsigned enabled = 0;
                int r = safety_before_numvfs(ctx, &pf->addr, want, false, &e);

                if (r >= 0)
                        r = sriov_set_numvfs(ctx, &pf->addr, want, rule->autoprobe, &enabled, &e);

                if (r >= 0 && enabled < want)
                        r = sriov_error_set(&e, -EIO, "the driver enabled only %u of %u VFs", enabled, want);
                if (r < 0)
                        step_failed(p, s, r, &e);
        } else {
                int r = sysfs_dev_write(ctx, &pf->addr, "sriov_drivers_autoprobe", rule->autoprobe ? "1" : "0");
                if (r < 0)
                        step_failed(p, s, r, NULL);
        }
        *ret_changed = true;
        return 0;
}

static int plan_driver(sriov_ctx *ctx, const sriov_device *vf, DriverWant want, const char *driver, bool apply,
                       Plan *p) {
        /* the checks and the bind read and write a dozen of the VF's files */
        _cleanup_(sysfs_dev_scope_end) sysfs_dev_scope scope = { .fd = -EBADF };
        PlanStep *s;
        sriov_error e = {};
        int r;

        if (driver_satisfies(want, driver, vf))
                return 0;
        s = add_step(p, STEP_DRIVER, vf->bdf, "driver %s -> %s", vf->driver ?: "(none)",
                     want == DRIVER_HOST ? "the host driver" : driver);
        if (!s)
                return -ENOMEM;
        s->want = want;
        if (driver && !(s->driver = strdup(driver)))
                return -ENOMEM;
        if (!apply)
                return 0;
        sysfs_dev_scope_begin(ctx, &vf->addr, &scope);
        /* the same checks as an interactive bind: a guest holding the VF,
         * host use, and for vfio-pci the IOMMU group */
        r = safety_before_unbind(ctx, &vf->addr, false, &e);
        if (r >= 0 && want == DRIVER_NAMED && driver_is_dma_managed(driver)) {
                pci_addr *peers = NULL;
                size_t n_peers = 0;
                int group;

                r = passthrough_check(ctx, &vf->addr, 0, &peers, &n_peers, &group, &e);
                free(peers);
        }
        if (r < 0)
                ;
        else if (want == DRIVER_HOST)
                r = sriov_reprobe(ctx, &vf->addr, NULL, &e);
        else
                r = sriov_bind(ctx, &vf->addr, driver, driver_is_dma_managed(driver) ? SRIOV_BIND_KEEP_OVERRIDE : 0,
                               &s->prior_driver, &s->prior_override, &e);
        if (r == -ETIMEDOUT && want == DRIVER_NAMED) {
                /* the kernel finishes the bind later: what the VF had before
                 * is what RestoreDriver must put back, not the half way */
                if ((vf->driver && !(s->prior_driver = strdup(vf->driver))) ||
                    (vf->driver_override && !(s->prior_override = strdup(vf->driver_override))))
                        return -ENOMEM;
        }
        if (r < 0)
                step_failed(p, s, r, &e);
        else if (want == DRIVER_HOST) {
                _cleanup_(sriov_device_freep) sriov_device *now = NULL;

                /* the kernel may find no driver for it at all */
                if (sriov_device_load(ctx, &vf->addr, &now) >= 0 && !now->driver)
                        step_failed(p, s, -ENXIO, &(sriov_error) { -ENXIO, "no host driver took the VF" });
        }
        return 0;
}

int plan_pf(sriov_ctx *ctx, const ConfigPF *rule, const pci_addr *addr, bool apply, char *const *assigned, Plan *ret) {
        _cleanup_(sriov_family_freep) sriov_family *f = NULL;
        sriov_link link = {};
        const char *ifname = NULL;
        bool changed = false, need_attrs = false;
        char bdf[PCI_ADDR_STRLEN];
        Plan p = {};
        int r;

        pci_addr_format(addr, bdf);
        r = sriov_family_load(ctx, addr, &f);
        if (r < 0 || !f->dev || !f->dev->is_pf) {
                if (!add_step(&p, STEP_ERROR, bdf, "%s", r < 0 ? strerror(-r) : "not an SR-IOV PF (any more)"))
                        goto nomem;
                p.n_failed++;
                *ret = p;
                return 0;
        }

        r = plan_numvfs(ctx, rule, f, apply, assigned, &p, &changed);
        if (r < 0)
                goto nomem;
        if (changed && apply) {
                sriov_family *g = NULL;

                if (p.n_failed > 0) {
                        *ret = p;
                        return 0;
                }
                r = sriov_family_load(ctx, addr, &g);
                if (r < 0 || !g->dev) {
                        sriov_family_free(g);
                        if (!add_step(&p, STEP_ERROR, bdf, "the PF vanished"))
                                goto nomem;
                        p.n_failed++;
                        *ret = p;
                        return 0;
                }
                sriov_family_free(f);
                f = g;
        }

        for (size_t i = 0; i < rule->n_ranges; i++)
                need_attrs = need_attrs || rule->ranges[i].attrs.mask;
        if (need_attrs) {
                sriov_error e = {};

                ifname = f->dev->netdevs ? f->dev->netdevs[0] : NULL;
                if (!ifname) {
                        if (!add_step(&p, STEP_ERROR, bdf, "VF attributes are declared, but %s has no network interface", bdf))
                                goto nomem;
                        p.n_failed++;
                        need_attrs = false;
                } else if (sriov_link_get(ifname, &link, &e) < 0) {
                        if (!add_step(&p, STEP_ERROR, bdf, "%s", e.message))
                                goto nomem;
                        p.n_failed++;
                        need_attrs = false;
                }
        }

        /* when VFs would be created, the dry run cannot see them: each
         * declared VF then needs its driver and attributes */
        for (unsigned n = 0; n < config_wanted_vfs(rule, f->dev); n++) {
                const sriov_device *vf = n < f->n_vfs ? f->vfs[n] : NULL;
                const char *driver = NULL;
                DriverWant want = DRIVER_UNSET;
                sriov_vf_config attrs;

                if (!config_vf_settings(rule, n, &want, &driver, &attrs))
                        continue;
                if (vf && assigned_to(assigned, vf->bdf))
                        continue;       /* the guest's settings are in force */
                if (!vf) {
                        char what[sizeof(p.steps->bdf)];

                        (void) snprintf(what, sizeof(what), "VF %u of %s", n, bdf);
                        if (want != DRIVER_UNSET &&
                            !add_step(&p, STEP_DRIVER, what, "driver -> %s", want == DRIVER_HOST ? "the host driver" : driver))
                                goto nomem;
                        if (attrs.mask && !add_step(&p, STEP_VF_ATTRS, what, "attributes as declared"))
                                goto nomem;
                        continue;
                }
                r = plan_driver(ctx, vf, want, driver, apply, &p);
                if (r < 0)
                        goto nomem;
                if (attrs.mask && need_attrs) {
                        const sriov_vf_config *have = NULL;
                        unsigned diff;
                        PlanStep *s;

                        for (size_t k = 0; k < link.n_vfs; k++)
                                if (link.vfs[k].vf == n)
                                        have = &link.vfs[k];
                        if (!have) {
                                if (!add_step(&p, STEP_ERROR, vf->bdf, "%s does not report VF %u", ifname, n))
                                        goto nomem;
                                p.n_failed++;
                                continue;
                        }
                        diff = vf_config_diff(&attrs, have);
                        if (!diff)
                                continue;
                        {
                                _cleanup_free_ char *d = attrs_describe(&attrs, have, diff);
                                s = add_step(&p, STEP_VF_ATTRS, vf->bdf, "%s", strna(d));
                        }
                        if (!s)
                                goto nomem;
                        s->attrs = attrs;
                        s->attrs.mask = diff;
                        s->pf_ifname = strdup(ifname);
                        if (apply) {
                                sriov_error e = {};
                                unsigned ignored = 0;

                                r = sriov_vf_set(ifname, &s->attrs, SRIOV_VF_BRING_PF_UP, NULL, &ignored, NULL, &e);
                                if (r >= 0 && ignored) {
                                        char names[128] = "";

                                        for (unsigned b = 1; b <= VF_ATTR_QUERY_RSS; b <<= 1)
                                                if (ignored & b)
                                                        (void) snprintf(names + strlen(names), sizeof(names) - strlen(names),
                                                                        "%s%s", names[0] ? ", " : "", vf_attr_name(b));
                                        r = sriov_error_set(&e, -EPROTONOSUPPORT, "the driver accepted but did not apply: %s", names);
                                }
                                if (r < 0)
                                        step_failed(&p, s, r, &e);
                        }
                }
        }
        sriov_link_done(&link);
        *ret = p;
        return 0;

nomem:
        sriov_link_done(&link);
        plan_done(&p);
        return -ENOMEM;
}
