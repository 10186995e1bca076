/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "binding.h"
#include "journal.h"
#include "ops.h"
#include "passthrough.h"
#include "safety.h"
#include "ledger.h"
#include "state.h"

static void peers_free(GroupPeer *peers, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(peers[i].prior_driver);
                free(peers[i].prior_override);
        }
        free(peers);
}

static void bind_work_free(void *p) {
        BindWork *w = p;

        free(w->expected_peers);
        free(w->driver);
        free(w->prior_driver);
        free(w->prior_override);
        peers_free(w->peers, w->n_peers);
        free(w->found_driver);
        free(w->found_override);
        free(w);
}

static int strdup_maybe(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* A held write's re-run: the same change, with what the first attempt found. */
static Job *bind_clone_intent(const Job *j) {
        const BindWork *w = j->payload;
        BindWork *c = calloc(1, sizeof(*c));
        Job *k;

        if (!c)
                return NULL;
        c->bind_flags = w->bind_flags;
        c->pt_flags = w->pt_flags;
        c->force = w->force;
        if (strdup_maybe(w->driver, &c->driver) < 0 || strdup_maybe(w->prior_driver, &c->prior_driver) < 0 ||
            strdup_maybe(w->prior_override, &c->prior_override) < 0) {
                bind_work_free(c);
                return NULL;
        }
        k = job_new(j->daemon, j->type, &j->addr, c);
        if (!k)
                return NULL;
        k->retry = true;
        k->complete = j->complete;
        return k;
}

/* What a bind or unbind finds before it changes anything. When the kernel
 * holds one of its writes past the timeout, the intent runs it again once
 * the kernel is done, and that run finds the first attempt's half (the
 * function unbound, the override already set): what the first attempt
 * found is what the function had, and what RestoreDriver must put back. */
static void remember_before(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        BindWork *w = j->payload;
        _cleanup_free_ char *ovr = NULL;

        if (j->retry)
                return;         /* carried over from the first attempt */
        w->prior_driver = mfree(w->prior_driver);
        w->prior_override = mfree(w->prior_override);
        (void) sysfs_dev_link_name(ctx, &j->addr, "driver", &w->prior_driver);
        if (sysfs_dev_read(ctx, &j->addr, "driver_override", &ovr) >= 0) {
                strstrip(ovr);
                if (!isempty(ovr) && !streq(ovr, "(null)"))
                        w->prior_override = TAKE_PTR(ovr);
        }
}

static void adopt_before(Job *j) {
        BindWork *w = j->payload;

        if (!j->retry || j->r < 0)
                return;
        free(w->found_driver);
        free(w->found_override);
        w->found_driver = TAKE_PTR(w->prior_driver);
        w->found_override = TAKE_PTR(w->prior_override);
        j->r = 1;       /* the binding did change, in two runs */
}

static bool peer_expected(const BindWork *w, const pci_addr *a) {
        for (size_t i = 0; i < w->n_expected_peers; i++)
                if (pci_addr_equal(&w->expected_peers[i], a))
                        return true;
        return false;
}

/* The group peers bound along with the device: all, or (one failed) none;
 * only those journaled before (binding.c's journal_peers()). */
static int bind_peers(Job *j, const pci_addr *peers, size_t n_peers) {
        sriov_ctx *ctx = j->daemon->ctx;
        BindWork *w = j->payload;

        w->peers = calloc(n_peers, sizeof(*w->peers));
        if (!w->peers)
                return -ENOMEM;
        for (size_t i = 0; i < n_peers; i++) {
                GroupPeer *p = &w->peers[i];
                int r;

                p->addr = peers[i];
                r = sriov_bind(ctx, &p->addr, w->driver, w->bind_flags, &p->prior_driver, &p->prior_override, &j->error);
                if (r < 0) {
                        /* put the group back as it was */
                        for (size_t b = i; b-- > 0;)
                                (void) sriov_restore_driver(ctx, &w->peers[b].addr, w->peers[b].prior_driver,
                                                            w->peers[b].prior_override, NULL);
                        (void) sriov_restore_driver(ctx, &j->addr, w->found_driver, w->found_override, NULL);
                        return r;
                }
                w->n_peers++;
        }
        return 1;
}

/* Bind, with the checks: the function's VFIO users and host use, and for a
 * user-space driver its IOMMU group (the peers bound along with
 * whole_group; all are put back if one fails). */
static int execute_bind(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        BindWork *w = j->payload;
        _cleanup_free_ char *cur = NULL;
        _cleanup_free_ pci_addr *peers = NULL;
        size_t n_peers = 0;
        int group, r;

        if (sysfs_dev_link_name(ctx, &j->addr, "driver", &cur) >= 0 && streq(cur, w->driver))
                return sriov_bind(ctx, &j->addr, w->driver, w->bind_flags, &w->found_driver, &w->found_override,
                                  &j->error);
        r = safety_before_unbind(ctx, &j->addr, w->force, &j->error);
        if (r < 0)
                return r;
        if (driver_is_dma_managed(w->driver)) {
                r = passthrough_check(ctx, &j->addr,
                                      w->pt_flags | PASSTHROUGH_DEVICE_CHECKED | (w->force ? PASSTHROUGH_FORCE : 0),
                                      &peers, &n_peers, &group, &j->error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_peers; i++)
                if (!peer_expected(w, &peers[i])) {
                        char bdf[PCI_ADDR_STRLEN];

                        return sriov_error_set(&j->error, -EAGAIN,
                                               "The IOMMU group of %s changed since the call: %s joined it; nothing was changed, call again",
                                               pci_addr_format(&j->addr, bdf), pci_addr_format(&peers[i], bdf));
                }
        r = sriov_bind(ctx, &j->addr, w->driver, w->bind_flags, &w->found_driver, &w->found_override, &j->error);
        if (r < 0 || n_peers == 0)
                return r;
        return bind_peers(j, peers, n_peers);
}

static void bind_execute(Job *j) {
        remember_before(j);
        j->r = execute_bind(j);
        adopt_before(j);
}

/* op (unbind, reprobe) on the device, once nothing stops it from leaving its driver */
static int run_checked(Job *j, int (*op)(sriov_ctx *ctx, const pci_addr *dev, char **ret_driver, sriov_error *err)) {
        BindWork *w = j->payload;
        int r;

        r = safety_before_unbind(j->daemon->ctx, &j->addr, w->force, &j->error);
        if (r < 0)
                return r;
        return op(j->daemon->ctx, &j->addr, &w->found_driver, &j->error);
}

static void unbind_execute(Job *j) {
        remember_before(j);
        j->r = run_checked(j, sriov_unbind);
        adopt_before(j);
}

/* The device and its peers back to their prior drivers, once none of them is held. */
static int restore(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        BindWork *w = j->payload;
        int r;

        r = safety_before_unbind(ctx, &j->addr, w->force, &j->error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < w->n_peers; i++) {
                r = safety_before_unbind(ctx, &w->peers[i].addr, w->force, &j->error);
                if (r < 0)
                        return r;
        }
        r = sriov_restore_driver(ctx, &j->addr, w->prior_driver, w->prior_override, &j->error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < w->n_peers; i++) {
                r = sriov_restore_driver(ctx, &w->peers[i].addr, w->peers[i].prior_driver,
                                         w->peers[i].prior_override, &j->error);
                if (r < 0)
                        return r;
        }
        return r;
}

static void restore_execute(Job *j) {
        j->r = restore(j);
}

static void reprobe_execute(Job *j) {
        j->r = run_checked(j, sriov_reprobe);
}

const JobType bind_job_type = {
        .name = "bind", .execute = bind_execute, .free = bind_work_free, .clone_intent = bind_clone_intent,
        .read_back = true,
};
const JobType unbind_job_type = {
        .name = "unbind", .execute = unbind_execute, .free = bind_work_free, .clone_intent = bind_clone_intent,
        .read_back = true,
};
const JobType restore_job_type = {
        .name = "restore", .execute = restore_execute, .free = bind_work_free, .clone_intent = bind_clone_intent,
        .read_back = true,
};
const JobType reprobe_job_type = {
        .name = "reprobe", .execute = reprobe_execute, .free = bind_work_free, .clone_intent = bind_clone_intent,
        .read_back = true,
};

/* SetNumVFs sets sriov_drivers_autoprobe first and goes through 0 to change
 * a non-zero count: when a later step fails, put back what the PF had (its
 * autoprobe setting, then its VF count), so that a refused change leaves it
 * as it was. A write still pending in the kernel is left alone: the lane
 * finishes the intent once the kernel is done. */
static int execute_numvfs(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        NumVFsWork *w = j->payload;
        unsigned cur = 0, ap = 0, now = 0;
        bool have_cur, have_ap;
        sriov_error e = {};
        size_t n;
        int r, k;

        r = safety_before_numvfs(ctx, &j->addr, w->count, w->force, &j->error);
        if (r < 0)
                return r;
        have_cur = sysfs_dev_read_uint(ctx, &j->addr, "sriov_numvfs", 10, &cur) >= 0;
        have_ap = sysfs_dev_read_uint(ctx, &j->addr, "sriov_drivers_autoprobe", 10, &ap) >= 0;
        r = sriov_set_numvfs(ctx, &j->addr, w->count, w->autoprobe, &w->enabled, &j->error);
        if (r >= 0 || r == -ETIMEDOUT)
                return r;

        if (have_ap && w->autoprobe >= 0 && (ap != 0) != (w->autoprobe != 0))
                (void) sysfs_dev_write(ctx, &j->addr, "sriov_drivers_autoprobe", ap ? "1" : "0");
        if (!have_cur || sysfs_dev_read_uint(ctx, &j->addr, "sriov_numvfs", 10, &now) < 0 || now == cur)
                return r;
        k = sriov_set_numvfs(ctx, &j->addr, cur, -1, NULL, &e);
        n = strlen(j->error.message);
        if (k >= 0)
                (void) snprintf(j->error.message + n, sizeof(j->error.message) - n, "; the %u VFs it had were created again", cur);
        else
                (void) snprintf(j->error.message + n, sizeof(j->error.message) - n,
                                "; putting back its %u VFs failed too, it has %u now: %s", cur, now, e.message);
        /* the kernel still holds the put-back: the lane waits for it */
        return k == -ETIMEDOUT ? k : r;
}

static void numvfs_execute(Job *j) {
        j->r = execute_numvfs(j);
}

static void numvfs_work_free(void *p) {
        NumVFsWork *w = p;

        strv_free(w->released_made);
        strv_free(w->released_marked);
        free(w);
}

static Job *numvfs_clone_intent(const Job *j) {
        const NumVFsWork *w = j->payload;
        Job *k = binding_numvfs_job_new(j->daemon, &j->addr, w->count, w->autoprobe, w->force);

        if (!k)
                return NULL;
        ((NumVFsWork *) k->payload)->journaled = w->journaled;
        ((NumVFsWork *) k->payload)->released_made = strv_copy(w->released_made);
        ((NumVFsWork *) k->payload)->released_marked = strv_copy(w->released_marked);
        k->retry = true;
        k->complete = j->complete;
        return k;
}

const JobType numvfs_job_type = {
        .name = "numvfs", .execute = numvfs_execute, .free = numvfs_work_free, .clone_intent = numvfs_clone_intent,
        .read_back = true,
};

Job *binding_bind_job_new(Daemon *d, const pci_addr *a, const char *driver, unsigned bind_flags, unsigned pt_flags,
                          bool force) {
        BindWork *w = calloc(1, sizeof(*w));

        if (!w || !(w->driver = strdup(driver))) {
                free(w);
                return NULL;
        }
        w->bind_flags = bind_flags;
        w->pt_flags = pt_flags;
        w->force = force;
        return job_new(d, &bind_job_type, a, w);
}

Job *binding_unbind_job_new(Daemon *d, const pci_addr *a, bool force) {
        BindWork *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        w->force = force;
        return job_new(d, &unbind_job_type, a, w);
}

Job *binding_restore_record_job_new(Daemon *d, const pci_addr *a, const char *prior_driver, const char *prior_override) {
        BindWork *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        if (strdup_maybe(prior_driver, &w->prior_driver) < 0 || strdup_maybe(prior_override, &w->prior_override) < 0) {
                bind_work_free(w);
                return NULL;
        }
        return job_new(d, &restore_job_type, a, w);
}

/* The group peers bound along with the device bdf go back together with it. */
static int add_recorded_peers(Daemon *d, const char *bdf, BindWork *w) {
        for (size_t i = 0; i < d->state->n_devices; i++) {
                const StateDevice *p = &d->state->devices[i];
                GroupPeer *np;
                pci_addr a;

                if (!streq(p->bound_with, bdf) || pci_addr_parse(p->bdf, &a) < 0)
                        continue;
                np = realloc(w->peers, (w->n_peers + 1) * sizeof(*np));
                if (!np)
                        return -ENOMEM;
                w->peers = np;
                np[w->n_peers] = (GroupPeer) { .addr = a };
                w->n_peers++;
                if (strdup_maybe(p->prior_driver, &np[w->n_peers - 1].prior_driver) < 0 ||
                    strdup_maybe(p->prior_override, &np[w->n_peers - 1].prior_override) < 0)
                        return -ENOMEM;
        }
        return 0;
}

Job *binding_restore_job_new(Daemon *d, const pci_addr *a) {
        char bdf[PCI_ADDR_STRLEN];
        const StateDevice *s = state_find_device(d->state, pci_addr_format(a, bdf));
        BindWork *w;
        Job *j;

        if (!s) {
                w = calloc(1, sizeof(*w));
                return w ? job_new(d, &reprobe_job_type, a, w) : NULL;
        }
        j = binding_restore_record_job_new(d, a, s->prior_driver, s->prior_override);
        if (j && add_recorded_peers(d, bdf, j->payload) < 0)
                return job_free(j);
        return j;
}

Job *binding_numvfs_job_new(Daemon *d, const pci_addr *a, unsigned count, int autoprobe, bool force) {
        NumVFsWork *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        *w = (NumVFsWork) { .count = count, .autoprobe = autoprobe, .force = force };
        return job_new(d, &numvfs_job_type, a, w);
}

/* ---- the journal ---- */

static bool job_changes_binding(const Job *j) {
        return j->type == &bind_job_type || j->type == &unbind_job_type || j->type == &restore_job_type ||
                j->type == &reprobe_job_type;
}

static bool job_restores(const Job *j) {
        return j->type == &restore_job_type || j->type == &reprobe_job_type;
}

/* A record of what dev has now (unless an earlier change recorded it),
 * with the VF's identity, marked as under way. Returns 1 if made. */
static int record_device(Daemon *d, const sriov_device *dev, StateOrigin origin, const char *bound_with) {
        int r;

        r = ledger_record_binding(d, &dev->addr, dev->driver, dev->driver_override, origin);
        if (r > 0 && bound_with)
                (void) state_set_bound_with(d->state, dev->bdf, bound_with);
        return r;
}

/* The functions a whole-group bind takes along, as the model has them: its
 * IOMMU group's other members on a host driver (bridges stay). */
static int journal_peers(Daemon *d, const sriov_device *dev, BindWork *w) {
        if (!(w->pt_flags & PASSTHROUGH_WHOLE_GROUP) || !driver_is_dma_managed(w->driver) || dev->iommu_group < 0)
                return 0;
        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *p = d->host->devices[i];
                pci_addr *n;
                int r;

                if (p == dev || p->iommu_group != dev->iommu_group || p->is_bridge || !p->driver ||
                    driver_is_dma_managed(p->driver))
                        continue;
                r = ledger_check_assigned(d, p, false, NULL, &(sriov_error) {});
                if (r < 0)
                        return r;
                r = record_device(d, p, ORIGIN_PEER, dev->bdf);
                if (r < 0)
                        return r;
                n = realloc(w->expected_peers, (w->n_expected_peers + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                w->expected_peers = n;
                n[w->n_expected_peers++] = p->addr;
        }
        return 0;
}

/* Before the first kernel write of a binding change: a VF a guest holds is
 * refused (or, forced, its assignment marked broken); then what the device
 * (and each group peer bound along) has now, marked as under way, on disk —
 * so that a restart after a crash puts it back (recovery.c). */
static int journal_binding(Daemon *d, Job *j) {
        const sriov_device *dev = sriov_host_find(d->host, &j->addr);
        BindWork *w = j->payload;
        int r;

        if (!dev)
                return 0;
        r = ledger_check_assigned(d, dev, w->force, "its binding was changed by a forced Bind, Unbind or RestoreDriver",
                                  &j->error);
        if (r < 0)
                return r;
        r = record_device(d, dev, ORIGIN_API, NULL);
        if (r < 0)
                return r;
        w->journaled = r > 0;
        r = journal_peers(d, dev, w);
        if (r < 0)
                return r;
        return ledger_commit(d, &j->error);
}

/* Before a VF count change: the PF's assigned VFs (refused unless forced),
 * and the count and autoprobe it has, marked as under way: a restart puts
 * them back. */
static int journal_numvfs(Daemon *d, Job *j) {
        const sriov_device *pf = sriov_host_find(d->host, &j->addr);
        NumVFsWork *w = j->payload;
        StatePF *rec;
        int r;

        if (!pf || !pf->is_pf)
                return 0;
        if (w->count != pf->sriov.num_vfs) {
                r = ledger_check_pf_assigned(d, pf, w->force, "its VF was destroyed by a forced SetNumVFs", &j->error);
                if (r < 0)
                        return r;
                r = ledger_record_vfs_release(d, pf, &w->released_made, &w->released_marked);
                if (r < 0)
                        return r;
        }
        rec = state_find_pf(d->state, pf->bdf, true);
        if (!rec)
                return -ENOMEM;
        *rec = (StatePF) { .generation = rec->generation, .numvfs_pending = true, .prior_numvfs = pf->sriov.num_vfs,
                           .prior_autoprobe = pf->sriov.autoprobe, .target_numvfs = w->count };
        (void) snprintf(rec->bdf, sizeof(rec->bdf), "%s", pf->bdf);
        w->journaled = true;
        return ledger_commit(d, &j->error);
}

/* The change is over (done, refused, or rolled back): unmark it; a record
 * made for a change that did not happen goes. A write still pending in the
 * kernel keeps it marked until the lane's intent finishes. */
static void journal_end(Daemon *d, Job *j) {
        char bdf[PCI_ADDR_STRLEN];
        bool changed = false;

        if (j->held)
                return;
        pci_addr_format(&j->addr, bdf);
        if (j->type == &numvfs_job_type) {
                NumVFsWork *w = j->payload;
                StatePF *rec = w->journaled ? state_find_pf(d->state, bdf, false) : NULL;

                if (rec && rec->numvfs_pending) {
                        rec->numvfs_pending = false;
                        changed = true;
                }
                changed = ledger_end_vfs_release(d, w->released_made, w->released_marked) || changed;
                /* a PF sriovd has nothing else to remember of */
                if (rec && rec->generation == 0)
                        (void) state_forget_pf(d->state, bdf);
        } else if (job_changes_binding(j)) {
                BindWork *w = j->payload;
                bool undone = j->r <= 0 || job_restores(j);

                if (w->journaled && undone)
                        changed = state_forget_device(d->state, bdf) > 0;
                else
                        changed = state_set_pending(d->state, bdf, false) > 0;
                /* peers journaled for a bind that did not bind them */
                for (size_t i = 0; i < w->n_expected_peers; i++) {
                        char peer[PCI_ADDR_STRLEN];

                        pci_addr_format(&w->expected_peers[i], peer);
                        if (j->r <= 0)
                                changed = state_forget_device(d->state, peer) > 0 || changed;
                        else
                                changed = state_set_pending(d->state, peer, false) > 0 || changed;
                }
        }
        if (changed)
                ledger_save(d);
}

/* A bind or unbind that changed the binding: the very first binding sriovd
 * changed stays recorded (journaled before, or found by the worker when the
 * binding changed in two runs). */
static void record_bound(Daemon *d, Job *j, const char *bdf) {
        BindWork *w = j->payload;
        bool bind = j->type == &bind_job_type;

        if (state_record_prior(d->state, bdf, w->found_driver, w->found_override) > 0)
                ledger_save(d);
        for (size_t i = 0; i < w->n_peers; i++) {
                char peer[PCI_ADDR_STRLEN];

                log_info("Bound %s to %s along with %s (same IOMMU group)", pci_addr_format(&w->peers[i].addr, peer),
                         w->driver, bdf);
        }
        log_event(EVENT_BIND, 6, &(LogFields) { .device = bdf }, "%s %s%s%s", bind ? "Bound" : "Unbound", bdf,
                  bind ? " to " : "", bind ? w->driver : "");
}

static void record_restored(Daemon *d, Job *j, const char *bdf) {
        BindWork *w = j->payload;
        bool changed = state_forget_device(d->state, bdf) > 0;

        for (size_t i = 0; i < w->n_peers; i++) {
                char peer[PCI_ADDR_STRLEN];

                changed = state_forget_device(d->state, pci_addr_format(&w->peers[i].addr, peer)) > 0 || changed;
        }
        if (changed)
                ledger_save(d);
        log_event(EVENT_BIND, 6, &(LogFields) { .device = bdf }, "Restored the driver of %s%s", bdf,
                  w->n_peers ? " and its group peers" : "");
}

static void binding_complete(Job *j) {
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];

        pci_addr_format(&j->addr, bdf);
        journal_end(d, j);
        if (j->r < 0) {
                if (!j->done)
                        log_warning("Finishing the pending operation on %s failed: %s", bdf,
                                    j->error.error ? j->error.message : strerror(-j->r));
        } else if (j->type == &numvfs_job_type) {
                const NumVFsWork *w = j->payload;

                log_event(EVENT_NUMVFS, 6, &(LogFields) { .device = bdf, .pf = bdf }, "%s: %u VFs enabled (asked for %u)",
                          bdf, w->enabled, w->count);
        } else if (job_restores(j))
                record_restored(d, j, bdf);
        else if (j->r > 0)      /* 0: nothing had to change */
                record_bound(d, j, bdf);
        if (j->done)
                j->done(j);
}

/* The intent on disk, then the job on its lane. */
static int journal_and_submit(Daemon *d, Job *j) {
        int r;

        r = j->type == &numvfs_job_type ? journal_numvfs(d, j) : journal_binding(d, j);
        if (r < 0)
                return r;
        return lane_submit(d, j);
}

int binding_start(Daemon *d, Job *j) {
        int r;

        j->complete = binding_complete;
        r = journal_and_submit(d, j);
        if (r < 0) {
                j->r = r;
                /* a refusal from the journal has its sentence; the rest get one */
                if (r == -EINPROGRESS)
                        sriov_error_set(&j->error, r, "An earlier operation on this device is still pending in the kernel");
                else if (!j->error.error)
                        sriov_error_set(&j->error, r, "Cannot start the operation: %s", strerror(-r));
                if (r != -EDQUOT)
                        journal_end(d, j);
        }
        return r;
}
