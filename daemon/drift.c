/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Drift caught as it happens: a declared or assigned VF's settings read
 * after a link notification of its PF (linkwatch.c), compared with what
 * sriovd wants them to be; a difference is recorded (ListDrift, status),
 * told (DriftDetected, the journal) and, with "enforce" in the
 * configuration, put back: a PF rule's VFs through the configuration's
 * journaled apply, an assigned VF through its assignment's own settings. */

#include <stdio.h>
#include <time.h>

#include "conffile.h"
#include "journal.h"
#include "ledger.h"
#include "metrics.h"
#include "observe.h"
#include "reconcile.h"
#include "state.h"
#include "vfconfig.h"

const char *vf_attrs_describe(unsigned mask, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = 0;
        for (unsigned bit = 1; bit & VF_ATTR_ALL; bit <<= 1)
                if (mask & bit)
                        len += (size_t) snprintf(buf + MIN(len, size - 1), size - MIN(len, size - 1), "%s%s",
                                                 len ? ", " : "", vf_attr_name(bit));
        return buf;
}

static int describe_one(const sriov_vf_config *c, unsigned bit, char *buf, size_t size) {
        char mac[18];

        switch (bit) {
        case VF_ATTR_MAC:
                return snprintf(buf, size, "mac %s", vf_mac_format(c->mac, mac));
        case VF_ATTR_VLAN:
                return snprintf(buf, size, "vlan %u qos %u %s", c->vlan, c->qos, vf_vlan_proto_name(c->vlan_proto));
        case VF_ATTR_RATE:
                return snprintf(buf, size, "min_tx_rate %u max_tx_rate %u", c->min_tx_rate, c->max_tx_rate);
        case VF_ATTR_SPOOFCHK:
                return snprintf(buf, size, "spoofchk %s", c->spoofchk ? "on" : "off");
        case VF_ATTR_TRUST:
                return snprintf(buf, size, "trust %s", c->trust ? "on" : "off");
        case VF_ATTR_LINK_STATE:
                return snprintf(buf, size, "link_state %s", vf_link_state_name(c->link_state));
        case VF_ATTR_QUERY_RSS:
                return snprintf(buf, size, "query_rss %s", c->query_rss ? "on" : "off");
        }
        return 0;
}

const char *vf_values_describe(const sriov_vf_config *c, unsigned mask, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = 0;
        for (unsigned bit = 1; bit & VF_ATTR_ALL; bit <<= 1) {
                if (!(mask & bit) || len + 3 >= size)
                        continue;
                if (len) {
                        strcpy(buf + len, ", ");
                        len += 2;
                }
                len += (size_t) MAX(describe_one(c, bit, buf + len, size - len), 0);
                len = MIN(len, size - 1);
        }
        return buf;
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* ---- what is wanted ---- */

static const ConfigPool *config_pool(Daemon *d, const char *name) {
        for (size_t i = 0; name && d->declared && i < d->declared->n_pools; i++)
                if (streq(d->declared->pools[i].name, name))
                        return &d->declared->pools[i];
        return NULL;
}

bool drift_wanted(Daemon *d, const sriov_device *vf, sriov_vf_config *ret, const char **ret_source, bool *ret_enforce) {
        const StateAssignment *a = state_find_assignment_by_vf(d->state, vf->bdf);
        const ConfigPF *rule = d->declared && vf->pf ? config_rule_for(d->declared, d->host, vf->pf) : NULL;
        const ConfigPool *pool;
        const char *driver;
        DriverWant dw;

        if (a) {
                /* only a settled assignment: one under way is sriovd's own work */
                if (a->phase != ASSIGN_DONE || a->readiness != READY || a->want.mask == 0)
                        return false;
                pool = config_pool(d, a->pool);
                *ret = a->want;
                *ret_source = "assignment";
                *ret_enforce = (pool && pool->enforce) || (rule && rule->enforce);
                return true;
        }
        if (!rule || vf->vf_index < 0 || !config_vf_settings(rule, (unsigned) vf->vf_index, &dw, &driver, ret) ||
            ret->mask == 0)
                return false;
        *ret_source = "config";
        *ret_enforce = rule->enforce;
        return true;
}

/* The settings of want that have is not, of those the driver reports; a
 * zero MAC the driver took as 02:00:00:00:00:00 is the same (vfattr.h). */
static unsigned differs(const sriov_vf_config *want, const sriov_vf_config *have) {
        static const uint8_t fallback[6] = { 0x02, 0, 0, 0, 0, 0 };
        unsigned diff = vf_config_diff(want, have) & have->mask;

        if ((diff & VF_ATTR_MAC) && vf_mac_is_zero(want->mac) && memcmp(have->mac, fallback, 6) == 0)
                diff &= ~VF_ATTR_MAC;
        return diff;
}

/* ---- records ---- */

static DriftRecord *record_find(Observe *o, const char *vf) {
        for (size_t i = 0; i < o->n_drift; i++)
                if (streq(o->drift[i].vf, vf))
                        return &o->drift[i];
        return NULL;
}

static void record_remove(Observe *o, DriftRecord *r) {
        free(r->guest);
        *r = o->drift[--o->n_drift];
}

void drift_forget_pf(Daemon *d, const char *pf) {
        Observe *o = d->observe;

        for (size_t i = 0; o && i < o->n_drift;)
                if (!pf || streq(o->drift[i].pf, pf))
                        record_remove(o, &o->drift[i]);
                else
                        i++;
        if (o && !pf)
                o->drift = mfree(o->drift);
}

static DriftRecord *record_add(Observe *o, const sriov_device *vf) {
        DriftRecord *a = realloc(o->drift, (o->n_drift + 1) * sizeof(*a));

        if (!a)
                return NULL;
        o->drift = a;
        a[o->n_drift] = (DriftRecord) { .vf_index = vf->vf_index, .since = now_realtime_usec() };
        (void) snprintf(a[o->n_drift].vf, PCI_ADDR_STRLEN, "%s", vf->bdf);
        (void) snprintf(a[o->n_drift].pf, PCI_ADDR_STRLEN, "%s", vf->pf->bdf);
        return &a[o->n_drift++];
}

/* ---- putting back ---- */

typedef struct EnforceTry {
        char vf[PCI_ADDR_STRLEN];
} EnforceTry;

static void enforce_done(Job *j) {
        Daemon *d = j->daemon;
        char vf[PCI_ADDR_STRLEN], what[128];
        DriftRecord *r;
        LogFields f;

        pci_addr_format(&j->addr, vf);
        r = d->observe ? record_find(d->observe, vf) : NULL;
        f = (LogFields) { .device = vf, .pf = r ? r->pf : NULL, .guest = r ? r->guest : NULL };
        if (j->r < 0) {
                if (r)
                        r->enforce_failed = true;
                log_event(EVENT_ENFORCE, 3, &f, "%s: cannot put the assigned settings back: %s", vf,
                          j->error.error ? j->error.message : strerror(-j->r));
                return;
        }
        log_event(EVENT_ENFORCE, 5, &f, "%s: put back %s", vf,
                  vf_attrs_describe(((VFConfigWork *) j->payload)->want.mask, what, sizeof(what)));
}

static int enforce_assignment(Daemon *d, const sriov_device *vf, const DriftRecord *r) {
        VFConfigWork *w = calloc(1, sizeof(*w));
        Job *j;
        int k;

        if (!w)
                return -ENOMEM;
        w->want = r->want;
        j = job_new(d, &vf_set_job_type, &vf->addr, w);
        if (!j)
                return -ENOMEM;
        j->complete = enforce_done;
        k = lane_submit(d, j);
        if (k < 0)
                job_free(j);
        return k;
}

static void enforce(Daemon *d, const sriov_device *vf, DriftRecord *r) {
        char was[256], want[256];
        LogFields f = { .device = vf->bdf, .pf = r->pf, .guest = r->guest };
        int k;

        if (!r->enforce || r->enforce_failed)
                return;
        log_event(EVENT_ENFORCE, 5, &f, "%s (VF %d of %s): putting back %s, overwriting %s (enforce)", vf->bdf,
                  r->vf_index, r->pf, vf_values_describe(&r->want, r->want.mask, want, sizeof(want)),
                  vf_values_describe(&r->found, r->want.mask, was, sizeof(was)));
        r->enforced++;
        d->observe->n_drift_enforced++;
        if (streq(r->source, "config")) {
                daemon_reapply(d, &vf->pf->addr, "a VF's settings were changed by hand (enforce)");
                return;
        }
        k = enforce_assignment(d, vf, r);
        if (k < 0)
                log_warning_errno(k, "%s: cannot queue putting the settings back: %m", vf->bdf);
}

/* ---- comparing ---- */

static void drift_found(Daemon *d, const sriov_device *vf, const sriov_vf_config *want, const sriov_vf_config *have,
                        unsigned diff, const char *source, bool enforce_it) {
        const StateAssignment *a = state_find_assignment_by_vf(d->state, vf->bdf);
        DriftRecord *r = record_find(d->observe, vf->bdf);
        char attrs[128], was[256], declared[256];
        bool fresh = !r || r->want.mask != diff || vf_config_diff(&r->found, have) != 0;
        LogFields f;

        if (!r && !(r = record_add(d->observe, vf)))
                return;
        if (!fresh)
                return;         /* the same drift, read again */
        r->source = source;
        free(r->guest);
        r->guest = a ? strdup(a->guest) : NULL;
        r->want = (sriov_vf_config) { .vf = want->vf };
        vf_config_copy(&r->want, want, diff);
        r->found = (sriov_vf_config) { .vf = have->vf };
        vf_config_copy(&r->found, have, diff);
        r->enforce = enforce_it;
        r->enforce_failed = false;
        d->observe->n_drift_detected++;
        f = (LogFields) { .device = vf->bdf, .pf = vf->pf->bdf, .guest = r->guest, .pool = a ? a->pool : NULL };
        log_event(EVENT_DRIFT, 4, &f, "%s (VF %d of %s): %s changed behind sriovd's back: %s, %s %s", vf->bdf,
                  vf->vf_index, vf->pf->bdf, vf_attrs_describe(diff, attrs, sizeof(attrs)),
                  vf_values_describe(have, diff, was, sizeof(was)), streq(source, "config") ? "declared" : "assigned",
                  vf_values_describe(want, diff, declared, sizeof(declared)));
        if (d->events && d->events->drift_detected)
                d->events->drift_detected(d, r);
        enforce(d, vf, r);
}

static void drift_gone(Daemon *d, const sriov_device *vf) {
        DriftRecord *r = record_find(d->observe, vf->bdf);
        LogFields f = { .device = vf->bdf, .pf = vf->pf ? vf->pf->bdf : NULL };

        if (!r)
                return;
        f.guest = r->guest;
        log_event(EVENT_DRIFT, 6, &f, "%s: its settings are as %s again", vf->bdf,
                  streq(r->source, "config") ? "declared" : "assigned");
        record_remove(d->observe, r);
}

static const sriov_vf_config *vf_in_link(const sriov_link *l, int index) {
        for (size_t i = 0; index >= 0 && i < l->n_vfs; i++)
                if (l->vfs[i].vf == (uint32_t) index)
                        return &l->vfs[i];
        return NULL;
}

void drift_check(Daemon *d, const sriov_device *pf, const sriov_link *l) {
        for (size_t i = 0; i < pf->n_vfs; i++) {
                const sriov_device *vf = pf->vfs[i];
                const sriov_vf_config *have;
                sriov_vf_config want;
                const char *source;
                bool enforce_it;
                unsigned diff;

                if (!vf)
                        continue;
                have = vf_in_link(l, vf->vf_index);
                if (!have || !drift_wanted(d, vf, &want, &source, &enforce_it)) {
                        drift_gone(d, vf);
                        continue;
                }
                diff = differs(&want, have);
                if (diff)
                        drift_found(d, vf, &want, have, diff, source, enforce_it);
                else
                        drift_gone(d, vf);
        }
}
