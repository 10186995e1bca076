/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Is a VF fit for what it is for? Computed when asked (properties,
 * GetHealth, metrics) from the model, the ledger and each PF's link; its
 * changes are told with the VF's PropertiesChanged, which every change of
 * those carries (DaemonEvents.device_changed). */

#include "conffile.h"
#include "ledger.h"
#include "observe.h"
#include "state.h"

char *pf_health_reason(Daemon *d, const sriov_device *pf) {
        const PFLink *l = observe_pf_link(d, pf->bdf);

        if (!l || !l->ifname[0])
                return strdup("");
        if (!l->admin_up)
                return strdup_printf("PF link down (%s is administratively down)", l->ifname);
        if (l->carrier == 0)
                return strdup_printf("PF link down (%s has no carrier)", l->ifname);
        return strdup("");
}

/* The driver the VF should have: its assignment's, else a named one of the configuration. */
static const char *wanted_driver(Daemon *d, const sriov_device *vf, const StateAssignment *a) {
        const ConfigPF *rule;
        DriverWant want;
        const char *driver = NULL;
        sriov_vf_config attrs;

        if (a)
                return a->phase == ASSIGN_DONE && a->readiness == READY ? a->driver : NULL;
        if (!d->declared || !vf->pf || vf->vf_index < 0)
                return NULL;
        rule = config_rule_for(d->declared, d->host, vf->pf);
        if (!rule || !config_vf_settings(rule, (unsigned) vf->vf_index, &want, &driver, &attrs))
                return NULL;
        return want == DRIVER_NAMED ? driver : NULL;
}

/* Append reason (taken) to *acc, "; " between. */
static void add_reason(char **acc, char *reason) {
        char *n;

        if (!*acc || !reason) {
                free(reason);
                *acc = mfree(*acc);     /* out of memory: no answer rather than half of one */
                return;
        }
        n = strdup_printf("%s%s%s", *acc, **acc ? "; " : "", reason);
        free(reason);
        free(*acc);
        *acc = n;
}

/* Every reason, most serious first: quarantined, assignment not ready
 * (or broken), wrong driver, PF link down. */
char *vf_health_reason(Daemon *d, const sriov_device *vf) {
        const StateQuarantine *q = state_find_quarantine(d->state, vf->bdf);
        const StateAssignment *a = state_find_assignment_by_vf(d->state, vf->bdf);
        const char *driver = wanted_driver(d, vf, a);
        _cleanup_free_ char *pf = vf->pf ? pf_health_reason(d, vf->pf) : NULL;
        char *acc = strdup("");

        if (q)
                add_reason(&acc, strdup_printf("quarantined: %s", strempty(q->reason)));
        if (a && a->phase == ASSIGN_DONE && a->readiness != READY)
                add_reason(&acc, strdup_printf("assignment not ready: %s%s", a->readiness == BROKEN ? "broken, " : "",
                                               strempty(a->reason)));
        if (driver && !streq(strempty(vf->driver), driver))
                add_reason(&acc, strdup_printf("wrong driver: %s, expected %s", vf->driver ?: "none", driver));
        if (!isempty(pf))
                add_reason(&acc, strdup(pf));
        return acc;
}
