/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>

#include "conffile.h"
#include "ledger.h"
#include "pools.h"

static PoolView view_of_config(const ConfigPool *p) {
        return (PoolView) { p->name, p->selectors, p->driver_want, p->driver, &p->attrs, p->mac_is_base, p->reset,
                            false };
}

static PoolView view_of_state(const StatePool *p) {
        return (PoolView) { p->name, p->selectors, p->driver ? DRIVER_NAMED : DRIVER_UNSET, p->driver, &p->attrs,
                            p->mac_is_base, p->reset, true };
}

bool pools_find(Daemon *d, const char *name, PoolView *ret) {
        const StatePool *sp;

        for (size_t i = 0; d->declared && i < d->declared->n_pools; i++)
                if (d->declared->pools[i].name && streq(d->declared->pools[i].name, name)) {
                        *ret = view_of_config(&d->declared->pools[i]);
                        return true;
                }
        sp = state_find_pool(d->state, name);
        if (!sp)
                return false;
        *ret = view_of_state(sp);
        return true;
}

size_t pools_count(Daemon *d) {
        return (d->declared ? d->declared->n_pools : 0) + d->state->n_pools;
}

bool pools_get(Daemon *d, size_t i, PoolView *ret) {
        size_t n_declared = d->declared ? d->declared->n_pools : 0;

        if (i < n_declared) {
                *ret = view_of_config(&d->declared->pools[i]);
                return true;
        }
        if (i - n_declared >= d->state->n_pools)
                return false;
        *ret = view_of_state(&d->state->pools[i - n_declared]);
        return true;
}

void pools_usage(Daemon *d, const PoolView *p, unsigned *ret_size, unsigned *ret_assigned, unsigned *ret_quarantined) {
        unsigned size = 0, used = 0, quarantined = 0;

        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *vf = d->host->devices[i];

                if (!pool_contains(p->selectors, vf))
                        continue;
                size++;
                used += state_find_assignment_by_vf(d->state, vf->bdf) != NULL;
                quarantined += state_find_quarantine(d->state, vf->bdf) != NULL;
        }
        *ret_size = size;
        *ret_assigned = used;
        *ret_quarantined = quarantined;
}

bool pool_name_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("-_.", *c))
                        return false;
        /* a pool name must not look like a VF */
        return !strchr(s, ':');
}

static void state_pool_free(StatePool *p) {
        free(p->name);
        strv_free(p->selectors);
        free(p->driver);
        free(p);
}

int pools_create(Daemon *d, StatePool *p, sriov_error *e) {
        _cleanup_free_ char *name = NULL;
        PoolView existing;
        StatePool *n;
        int r;

        if (d->state->n_pools >= POOLS_MAX) {
                state_pool_free(p);
                return sriov_error_set(e, -EUSERS, "There are %u pools made at run time already; delete one first",
                                       POOLS_MAX);
        }
        if (pools_find(d, p->name, &existing)) {
                r = sriov_error_set(e, -EEXIST, existing.runtime ? "A pool of that name exists"
                                                                 : "A pool of that name is in the configuration files");
                state_pool_free(p);
                return r;
        }
        name = strdup(p->name);
        n = state_add_pool(d->state);
        if (!n || !name) {
                state_pool_free(p);
                return -ENOMEM;
        }
        *n = *p;
        free(p);
        /* on disk first: a pool the daemon forgets at its next start
         * would be one an orchestrator thinks it has */
        r = ledger_commit(d, e);
        if (r < 0)
                return r;
        log_info("Created pool %s", name);
        return 0;
}

int pools_delete(Daemon *d, const char *name, sriov_error *e) {
        StatePool *p = state_find_pool(d->state, name);
        PoolView existing;
        int r;

        if (!p) {
                bool declared = pools_find(d, name, &existing);

                return sriov_error_set(e, declared ? -EROFS : -ESRCH, "%s",
                                       declared ? "The pool comes from the configuration files; change them instead"
                                                : "No such pool");
        }
        for (size_t i = 0; i < d->state->n_assignments; i++)
                if (d->state->assignments[i].pool && streq(d->state->assignments[i].pool, p->name))
                        return sriov_error_set(e, -EBUSY, "VFs of the pool are assigned; release them first");
        state_remove_pool(d->state, p);
        r = ledger_commit(d, e);
        if (r < 0)
                return r;
        log_info("Deleted pool %s", name);
        return 0;
}
