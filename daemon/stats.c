/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "lanes.h"
#include "pools.h"
#include "state.h"
#include "stats.h"

static const char *const scope_names[_STATS_SCOPE_MAX] = {
        [STATS_ALL] = "", [STATS_VF] = "vf", [STATS_PF] = "pf", [STATS_POOL] = "pool", [STATS_GUEST] = "guest",
};

int stats_scope_from_string(const char *s, StatsScope *ret) {
        for (size_t i = 0; s && i < _STATS_SCOPE_MAX; i++)
                if (streq(s, scope_names[i])) {
                        *ret = (StatsScope) i;
                        return 0;
                }
        return -EINVAL;
}

static void entry_done(VFStatsEntry *e) {
        free(e->pf_ifname);
        free(e->pf_driver);
        free(e->pool);
        free(e->guest);
        free(e->owner);
}

VFStatsSet *vf_stats_set_free(VFStatsSet *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                entry_done(&s->v[i]);
        free(s->v);
        return mfree(s);
}

/* The pool a VF is counted in: its assignment's, else the first that holds it. */
static char *pool_of(Daemon *d, const sriov_device *vf, const StateAssignment *a) {
        PoolView p;

        if (a)
                return a->pool ? strdup(a->pool) : NULL;
        for (size_t i = 0; i < pools_count(d); i++)
                if (pools_get(d, i, &p) && pool_contains(p.selectors, vf))
                        return strdup(p.name);
        return NULL;
}

static int add_vf(Daemon *d, VFStatsSet *s, const sriov_device *vf) {
        const StateAssignment *a = state_find_assignment_by_vf(d->state, vf->bdf);
        VFStatsEntry *e, *n;

        if ((s->n & (s->n - 1)) == 0) {
                n = realloc(s->v, MAX(s->n * 2, 16u) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                s->v = n;
        }
        e = &s->v[s->n++];
        *e = (VFStatsEntry) { .index = vf->vf_index };
        (void) snprintf(e->vf, PCI_ADDR_STRLEN, "%s", vf->bdf);
        pci_addr_format(&vf->physfn, e->pf);
        if (vf->pf && vf->pf->netdevs && vf->pf->netdevs[0])
                e->pf_ifname = strdup(vf->pf->netdevs[0]);
        if (vf->pf && vf->pf->driver)
                e->pf_driver = strdup(vf->pf->driver);
        e->pool = pool_of(d, vf, a);
        e->guest = a ? strdup(a->guest) : NULL;
        e->owner = a ? strdup(a->owner) : NULL;
        return 0;
}

static bool in_scope(Daemon *d, StatsScope scope, const char *name, const PoolView *pool, const sriov_device *vf) {
        const StateAssignment *a;

        switch (scope) {
        case STATS_ALL:
                return true;
        case STATS_VF:
                return streq(vf->bdf, name);
        case STATS_PF:
                return vf->pf && streq(vf->pf->bdf, name);
        case STATS_POOL:
                return pool_contains(pool->selectors, vf);
        case STATS_GUEST:
                a = state_find_assignment_by_vf(d->state, vf->bdf);
                return a && a->phase == ASSIGN_DONE && streq(a->guest, name);
        default:
                return false;
        }
}

/* A VF or PF argument: its address (a VF's, a PF's interface resolved). */
static int resolve(Daemon *d, StatsScope scope, const char *name, char bdf[static PCI_ADDR_STRLEN], sriov_error *e) {
        sriov_device *dev;
        int r;

        r = sriov_host_resolve(d->host, name, &dev, e);
        if (r < 0)
                return r;
        if (scope == STATS_VF && !dev->is_vf)
                return sriov_error_set(e, -ENODEV, "%s is not a VF", dev->bdf);
        if (scope == STATS_PF && !dev->is_pf)
                return sriov_error_set(e, -ENODEV, "%s is not an SR-IOV PF", dev->bdf);
        (void) snprintf(bdf, PCI_ADDR_STRLEN, "%s", dev->bdf);
        return 0;
}

static bool guest_exists(Daemon *d, const char *guest) {
        for (size_t i = 0; i < d->state->n_assignments; i++)
                if (streq(d->state->assignments[i].guest, guest))
                        return true;
        return false;
}

int stats_collect(Daemon *d, StatsScope scope, const char *name, VFStatsSet **ret, sriov_error *e) {
        _cleanup_(vf_stats_set_freep) VFStatsSet *s = calloc(1, sizeof(*s));
        char bdf[PCI_ADDR_STRLEN] = "";
        PoolView pool = {};
        int r;

        if (!s)
                return -ENOMEM;
        if (scope == STATS_VF || scope == STATS_PF) {
                r = resolve(d, scope, name, bdf, e);
                if (r < 0)
                        return r;
                name = bdf;
        }
        if (scope == STATS_POOL && !pools_find(d, name, &pool))
                return sriov_error_set(e, -ESRCH, "No pool \"%.64s\"", name);
        if (scope == STATS_GUEST && !guest_exists(d, name))
                return sriov_error_set(e, -ESRCH, "Guest \"%.64s\" holds no VF", name);
        /* the model's order: by PF, then VF index (VFs follow their PF) */
        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *pf = d->host->devices[i];

                for (size_t k = 0; pf->is_pf && k < pf->n_vfs; k++) {
                        if (!pf->vfs[k] || !in_scope(d, scope, name, &pool, pf->vfs[k]))
                                continue;
                        r = add_vf(d, s, pf->vfs[k]);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- the read ---- */

typedef struct StatsWork {
        VFStatsSet *set;
        stats_done_t done;
        void *userdata;
} StatsWork;

static void stats_work_free(void *p) {
        StatsWork *w = p;

        vf_stats_set_free(w->set);
        free(w);
}

static const sriov_vf_stats *find_vf(const sriov_link_stats *l, int index) {
        for (size_t i = 0; index >= 0 && i < l->n_vfs; i++)
                if (l->vfs[i].vf == (uint32_t) index)
                        return &l->vfs[i];
        return NULL;
}

/* The entries [first, end) share a PF: one read. */
static void read_pf(VFStatsEntry *v, size_t first, size_t end) {
        _cleanup_(sriov_link_stats_done) sriov_link_stats l = {};
        uint64_t now;
        int r = -ENOENT;

        if (v[first].pf_ifname)
                r = sriov_link_get_stats(v[first].pf_ifname, &l, NULL);
        now = now_usec();
        for (size_t i = first; i < end; i++) {
                const sriov_vf_stats *s = r >= 0 ? find_vf(&l, v[i].index) : NULL;

                v[i].read_r = r;
                v[i].timestamp = now;
                if (s)
                        v[i].stats = *s;
                if (!v[i].pf_ifname)
                        v[i].note = "the PF has no network interface";
                else if (r < 0)
                        v[i].note = "the PF's interface could not be read";
                else
                        v[i].reported = vf_stats_reported(s, v[i].pf_driver, &v[i].note);
        }
}

static void stats_execute(Job *j) {
        StatsWork *w = j->payload;
        VFStatsEntry *v = w->set->v;
        size_t n = w->set->n;

        for (size_t first = 0, end; first < n; first = end) {
                for (end = first + 1; end < n && streq(v[end].pf, v[first].pf); end++)
                        ;
                read_pf(v, first, end);
        }
        j->r = 0;
}

static void stats_complete(Job *j) {
        StatsWork *w = j->payload;

        w->done(j->daemon, TAKE_PTR(w->set), w->userdata);
}

static const JobType stats_job_type = { .name = "vf-stats", .execute = stats_execute, .free = stats_work_free };

int stats_read(Daemon *d, VFStatsSet *set, stats_done_t done, void *userdata) {
        StatsWork *w = calloc(1, sizeof(*w));
        Job *j;
        int r;

        if (!w) {
                vf_stats_set_free(set);
                return -ENOMEM;
        }
        *w = (StatsWork) { .set = set, .done = done, .userdata = userdata };
        j = job_new(d, &stats_job_type, &LANE_HOST_KEY, w);
        if (!j)
                return -ENOMEM;
        j->complete = stats_complete;
        r = lane_submit(d, j);
        if (r < 0)
                job_free(j);
        return r;
}
