/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "assign.h"
#include "pools.h"
#include "test-hooks.h"

bool guest_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        /* libvirt domain names and UUIDs, nothing that could be a path */
        if (n == 0 || n > GUEST_NAME_MAX || !isalnum((unsigned char) s[0]))
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("_.:-", *c))
                        return false;
        return true;
}

AssignRequest *assign_request_free(AssignRequest *q) {
        if (!q)
                return NULL;
        free(q->target);
        free(q->token);
        free(q->driver);
        return mfree(q);
}

static void save(Daemon *d) {
        int r = state_save(d->state);

        if (r < 0)
                log_error_errno(r, "Failed to write %s: %m", d->state->path);
}

/* The caller of Assign, carried from job to job until the answer is known. */
typedef struct AssignCall {
        assign_done_t done;
        void *userdata;
} AssignCall;

static void call_finish(Daemon *d, AssignCall *c, int r, const char *message, const StateAssignment *a) {
        if (!c)
                return;
        c->done(d, r, message, a, c->userdata);
        free(c);
}

static const char *job_message(const Job *j) {
        return j->error.error ? j->error.message : NULL;
}

static AssignWork *work_from(const StateAssignment *a, bool force) {
        AssignWork *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        memcpy(w->guest, a->guest, sizeof(w->guest));
        (void) snprintf(w->driver, sizeof(w->driver), "%s", a->driver ?: "vfio-pci");
        w->want = a->want;
        w->set_owner = a->set_owner;
        w->uid = a->uid;
        w->gid = a->gid;
        w->force = force;
        w->prior = a->prior;
        if ((a->prior_driver && !(w->prior_driver = strdup(a->prior_driver))) ||
            (a->prior_override && !(w->prior_override = strdup(a->prior_override))) ||
            (a->pf_ifname && !(w->pf_ifname = strdup(a->pf_ifname)))) {
                assign_work_free(w);
                return NULL;
        }
        return w;
}

/* Queue the work w (taken) on the VF's lane. */
static int submit(Daemon *d, const JobType *type, const char *vf, AssignWork *w, void (*complete)(Job *),
                  void *userdata) {
        Job *j;
        pci_addr a;
        int r;

        if (pci_addr_parse(vf, &a) < 0) {
                assign_work_free(w);
                return -EINVAL;
        }
        j = job_new(d, type, &a, w);
        if (!j)
                return -ENOMEM;
        j->complete = complete;
        j->userdata = userdata;
        r = lane_submit(d, j);
        if (r < 0) {
                j->userdata = NULL;
                job_free(j);
        }
        return r;
}

static void rollback_done(Job *j);
static void release_done(Job *j);

/* The kernel holds a write of this assignment's work past the timeout: the
 * release (or the rollback) runs once it is done, as the lane's intent —
 * the way a held SetNumVFs or Bind is finished. Until then the assignment
 * stays RELEASING and the VF shows as Pending; a Release or a restart
 * finishes it as well. */
static void release_when_kernel_done(Daemon *d, Job *j, bool rollback) {
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;
        AssignWork *w;
        Job *k;

        a = state_find_assignment_by_vf(d->state, pci_addr_format(&j->addr, bdf));
        if (!a)
                return;
        w = work_from(a, j->payload && ((AssignWork *) j->payload)->force);
        if (w)
                w->rollback = rollback;
        k = w ? job_new(d, &assign_release_job_type, &j->addr, w) : NULL;
        if (!k) {
                log_error("Out of memory: %s stays releasing until Release or a restart", bdf);
                return;
        }
        k->complete = rollback ? rollback_done : release_done;
        k->lane = j->lane;
        if (lane_set_intent(d, k) < 0) {
                job_free(k);
                log_warning("%s stays releasing until Release or a restart", bdf);
        }
}

/* A failed or interrupted assignment: put back what it may have changed,
 * then answer the caller with the original failure. */
static void start_rollback(Daemon *d, StateAssignment *a, AssignCall *call, int error, const char *message) {
        AssignWork *w = work_from(a, false);
        int r;

        a->phase = ASSIGN_RELEASING;
        save(d);
        if (!w) {
                call_finish(d, call, -ENOMEM, NULL, NULL);
                return;
        }
        w->rollback = true;
        w->failure = error;
        (void) snprintf(w->failure_message, sizeof(w->failure_message), "%s", strempty(message));
        r = submit(d, &assign_release_job_type, a->vf, w, rollback_done, call);
        if (r < 0) {
                log_error_errno(r, "Cannot roll back the assignment of %s now (Release retries): %m", a->vf);
                call_finish(d, call, error, message, NULL);
        }
}

static void rollback_done(Job *j) {
        const AssignWork *w = j->payload;
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (j->r < 0) {
                log_error("Rolling back the assignment of %s failed: %s (it stays recorded; Release retries)", bdf,
                          job_message(j) ?: strerror(-j->r));
                if (j->held)
                        release_when_kernel_done(d, j, true);
        } else if (a) {
                log_info("Rolled back the assignment of %s to %s", bdf, a->guest);
                state_remove_assignment(d->state, a);
                save(d);
        }
        if (w)
                call_finish(d, TAKE_PTR(j->userdata), w->failure ?: -EIO,
                            w->failure_message[0] ? w->failure_message : NULL, NULL);
}

static void apply_done(Job *j) {
        AssignCall *call = TAKE_PTR(j->userdata);
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (!a) {
                call_finish(d, call, -ESTALE, "The assignment vanished while it was made", NULL);
                return;
        }
        if (j->held) {
                /* nothing can be undone while the kernel holds the write */
                log_warning("Assigning %s to %s did not finish in time: %s; rolling back once the kernel is done",
                            bdf, a->guest, j->error.message);
                a->phase = ASSIGN_RELEASING;
                save(d);
                release_when_kernel_done(d, j, true);
                call_finish(d, call, j->r, job_message(j), NULL);
                return;
        }
        if (j->r < 0) {
                log_warning("Assigning %s to %s failed: %s; rolling back", bdf, a->guest,
                            job_message(j) ?: strerror(-j->r));
                start_rollback(d, a, call, j->r, job_message(j));
                return;
        }
        a->phase = ASSIGN_DONE;
        save(d);
        crash_point("assign-done");
        log_info("Assigned %s to %s%s%s", bdf, a->guest, a->pool ? " from pool " : "", strempty(a->pool));
        call_finish(d, call, 0, NULL, a);
}

/* Everything needed to undo the assignment goes on disk before anything changes. */
static void record_prior(StateAssignment *a, const AssignWork *w) {
        a->prior = w->prior;
        free(a->prior_driver);
        free(a->prior_override);
        free(a->pf_ifname);
        a->prior_driver = w->prior_driver ? strdup(w->prior_driver) : NULL;
        a->prior_override = w->prior_override ? strdup(w->prior_override) : NULL;
        a->pf_ifname = w->pf_ifname ? strdup(w->pf_ifname) : NULL;
        a->phase = ASSIGN_PREPARED;
}

static void prepare_done(Job *j) {
        AssignCall *call = TAKE_PTR(j->userdata);
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;
        int r;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (!a) {
                call_finish(d, call, -ESTALE, "The assignment vanished while it was prepared", NULL);
                return;
        }
        if (j->r < 0) {
                /* nothing was changed: just let the VF go */
                log_info("Not assigning %s to %s: %s", bdf, a->guest, job_message(j) ?: strerror(-j->r));
                state_remove_assignment(d->state, a);
                save(d);
                call_finish(d, call, j->r, job_message(j), NULL);
                return;
        }
        record_prior(a, j->payload);
        save(d);
        crash_point("assign-prepared");

        r = submit(d, &assign_apply_job_type, bdf, TAKE_PTR(j->payload), apply_done, call);
        if (r < 0)
                start_rollback(d, a, call, r, "Cannot start the assignment");
}

/* ---- Assign ---- */

static bool vf_is_free(const sriov_device *vf, void *userdata) {
        Daemon *d = userdata;
        Lane *l;

        if (state_find_assignment_by_vf(d->state, vf->bdf))
                return false;
        l = daemon_lane_for(d, &vf->addr);
        return !l || !lane_is_pending(d, l);
}

static bool settings_equal(const sriov_vf_config *a, const sriov_vf_config *b) {
        return a->mask == b->mask && vf_config_diff(a, b) == 0;
}

/* The request with its pool's defaults (settings under the request's own,
 * driver) and the driver it binds to. */
static int apply_pool_defaults(AssignRequest *q, const PoolView *pool) {
        if (pool) {
                sriov_vf_config want = *pool->attrs;

                vf_config_copy(&want, &q->want, q->want.mask);
                q->want = want;
                if (!q->driver && !(q->driver = strdup(pool_driver(pool))))
                        return -ENOMEM;
        }
        if (!q->driver && !(q->driver = strdup("vfio-pci")))
                return -ENOMEM;
        return 0;
}

/* Idempotency: the same guest asking again for what it holds. Returns 1 and
 * the assignment (or an error: held with other settings, not done yet) when
 * the request is one the guest made before; 0 otherwise. */
static int find_same(Daemon *d, const AssignRequest *q, bool by_pool, bool derived_mac, StateAssignment **ret,
                     const char **ret_message) {
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                StateAssignment *x = &d->state->assignments[i];
                sriov_device *dev = NULL;
                sriov_vf_config asked = q->want;
                bool same;

                if (!streq(x->guest, q->guest))
                        continue;
                if (by_pool)
                        same = x->pool && streq(x->pool, q->target) && q->token && x->token && streq(x->token, q->token);
                else
                        same = sriov_host_resolve(d->host, q->target, &dev, NULL) >= 0 && streq(dev->bdf, x->vf);
                if (!same)
                        continue;
                if (x->phase != ASSIGN_DONE) {
                        *ret_message = "This assignment is still being made or undone";
                        return -EINPROGRESS;
                }
                if (derived_mac)
                        /* the MAC the VF got from the base is what this request would get */
                        vf_config_copy(&asked, &x->want, VF_ATTR_MAC);
                if (!settings_equal(&x->want, &asked) || !streq(strempty(x->driver), q->driver)) {
                        *ret_message = "The guest holds this VF with other settings; release it first";
                        return -EBUSY;
                }
                *ret = x;
                return 1;
        }
        return 0;
}

/* The VF a request names by address (or interface), if it can be had. */
static int pick_named(Daemon *d, const AssignRequest *q, const sriov_device **ret, char **ret_message) {
        const StateAssignment *a;
        sriov_device *dev;
        sriov_error e = {};
        int r;

        r = sriov_host_resolve(d->host, q->target, &dev, &e);
        if (r == -EINVAL || r == -ENODEV) {
                *ret_message = strdup_printf("No pool or VF named \"%.64s\"", q->target);
                return -ESRCH;
        }
        if (r < 0) {
                *ret_message = strdup(e.message);
                return r;
        }
        if (!dev->is_vf) {
                *ret_message = strdup("Only VFs are assigned to guests; this is not a VF");
                return -EINVAL;
        }
        a = state_find_assignment_by_vf(d->state, dev->bdf);
        if (a) {
                *ret_message = strdup_printf("%s is assigned to guest %s", dev->bdf, a->guest);
                return -EBUSY;
        }
        if (q->numa_policy == NUMA_REQUIRED && q->numa >= 0 && dev->numa_node != q->numa) {
                *ret_message = strdup("The VF is not on the required NUMA node");
                return -ENOSPC;
        }
        *ret = dev;
        return 0;
}

/* A pool-wide MAC base: each VF gets base + its place in the pool's order. */
static void offset_mac(uint8_t mac[6], size_t position) {
        size_t carry = position;

        for (int k = 5; k >= 1 && carry; k--) {
                unsigned sum = mac[k] + (carry & 0xff);

                mac[k] = (uint8_t) sum;
                carry = (carry >> 8) + (sum >> 8);
        }
}

/* Reserve the VF: from now on no one else gets it. */
static StateAssignment *reserve(Daemon *d, const AssignRequest *q, const sriov_device *vf, const char *pool) {
        StateAssignment *a = state_add_assignment(d->state);
        struct timespec ts;

        if (!a)
                return NULL;
        memcpy(a->guest, q->guest, sizeof(a->guest));
        (void) snprintf(a->vf, sizeof(a->vf), "%s", vf->bdf);
        pci_addr_format(&vf->physfn, a->pf);
        a->pool = pool ? strdup(pool) : NULL;
        a->token = q->token ? strdup(q->token) : NULL;
        a->driver = strdup(q->driver);
        a->want = q->want;
        a->set_owner = q->set_owner;
        a->uid = q->uid;
        a->gid = q->gid;
        a->phase = ASSIGN_RESERVED;
        clock_gettime(CLOCK_REALTIME, &ts);
        a->since = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
        return a;
}

/* The VF reserved for the request: its work starts on the VF's lane. */
static void start_prepare(Daemon *d, StateAssignment *a, bool force, AssignCall *call) {
        char vf[PCI_ADDR_STRLEN];
        AssignWork *w;
        int r;

        memcpy(vf, a->vf, sizeof(vf));
        w = work_from(a, force);
        r = w ? submit(d, &assign_prepare_job_type, a->vf, w, prepare_done, call) : -ENOMEM;
        if (r < 0) {
                state_remove_assignment(d->state, state_find_assignment_by_vf(d->state, vf));
                save(d);
                call_finish(d, call, r, r == -EINPROGRESS
                            ? "An earlier operation on this VF's PF is still pending in the kernel" : NULL, NULL);
        }
}

void assignment_assign(Daemon *d, AssignRequest *q, assign_done_t done, void *userdata) {
        _cleanup_(assign_request_freep) AssignRequest *req = q;
        _cleanup_free_ char *msg = NULL;
        const char *message = NULL;
        const sriov_device *pick = NULL;
        StateAssignment *a = NULL;
        PoolView pool = {};
        AssignCall *call;
        size_t position = 0;
        sriov_error e = {};
        bool by_pool, derived_mac;
        int r;

        call = calloc(1, sizeof(*call));
        if (!call) {
                done(d, -ENOMEM, NULL, NULL, userdata);
                return;
        }
        *call = (AssignCall) { done, userdata };
        by_pool = pools_find(d, q->target, &pool);
        /* the pool's MAC base gives the MAC unless the request names one */
        derived_mac = by_pool && pool.mac_is_base && (pool.attrs->mask & VF_ATTR_MAC) && !(q->want.mask & VF_ATTR_MAC);
        r = apply_pool_defaults(q, by_pool ? &pool : NULL);
        if (r >= 0)
                r = find_same(d, q, by_pool, derived_mac, &a, &message);
        if (r != 0) {
                call_finish(d, call, r < 0 ? r : 0, message, a);
                return;
        }
        if (by_pool) {
                pick = pool_pick(d->host, &pool, q->numa, q->numa_policy, vf_is_free, d, &position, &e);
                r = pick ? 0 : e.error;
                message = e.message;
        } else {
                r = pick_named(d, q, &pick, &msg);
                message = msg;
        }
        if (r < 0) {
                call_finish(d, call, r, message, NULL);
                return;
        }
        if (derived_mac)
                offset_mac(q->want.mac, position);
        a = reserve(d, q, pick, by_pool ? pool.name : NULL);
        if (!a) {
                call_finish(d, call, -ENOMEM, NULL, NULL);
                return;
        }
        save(d);
        crash_point("assign-reserved");
        start_prepare(d, a, q->force, call);
}

/* ---- Release ---- */

typedef struct ReleaseBatch {
        release_done_t done;
        void *userdata;
        unsigned outstanding;
        char **released;
        int error;
        char message[600];
} ReleaseBatch;

static void release_batch_fail(ReleaseBatch *b, int r, const char *fmt, ...) _printf_(3, 4);
static void release_batch_fail(ReleaseBatch *b, int r, const char *fmt, ...) {
        va_list ap;

        if (!b || b->error < 0)
                return;         /* the first failure is the answer */
        b->error = r;
        va_start(ap, fmt);
        (void) vsnprintf(b->message, sizeof(b->message), fmt, ap);
        va_end(ap);
}

static void release_batch_maybe_done(Daemon *d, ReleaseBatch *b) {
        if (b->outstanding > 0)
                return;
        b->done(d, b->error, b->message[0] ? b->message : NULL, b->released, b->userdata);
        strv_free(b->released);
        free(b);
}

static void release_done(Job *j) {
        Daemon *d = j->daemon;
        ReleaseBatch *b = j->userdata;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (j->r < 0) {
                /* stays RELEASING: the next Release (or a restart) finishes it */
                log_warning("Releasing %s failed: %s", bdf, job_message(j) ?: strerror(-j->r));
                if (j->held)
                        release_when_kernel_done(d, j, false);
                release_batch_fail(b, j->r, "%s: %.480s", bdf, job_message(j) ?: strerror(-j->r));
        } else {
                if (a) {
                        log_info("Released %s from %s", bdf, a->guest);
                        state_remove_assignment(d->state, a);
                        save(d);
                }
                crash_point("release-done");
                if (b)
                        (void) strv_extend(&b->released, bdf);
        }
        if (b) {
                b->outstanding--;
                release_batch_maybe_done(d, b);
        }
}

static int start_release(Daemon *d, StateAssignment *a, bool force, void (*complete)(Job *), void *userdata) {
        AssignWork *w;

        a->phase = ASSIGN_RELEASING;
        save(d);
        crash_point("release-marked");
        w = work_from(a, force);
        if (!w)
                return -ENOMEM;
        return submit(d, &assign_release_job_type, a->vf, w, complete, userdata);
}

void assignment_release(Daemon *d, const char *guest, const char *vf, bool force, release_done_t done,
                        void *userdata) {
        ReleaseBatch *b = calloc(1, sizeof(*b));
        bool any = false;

        if (!b) {
                done(d, -ENOMEM, NULL, NULL, userdata);
                return;
        }
        *b = (ReleaseBatch) { .done = done, .userdata = userdata, .outstanding = 1 /* until every release is queued */ };
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                StateAssignment *a = &d->state->assignments[i];
                int r;

                if (!streq(a->guest, guest) || (!isempty(vf) && !streq(a->vf, vf)))
                        continue;
                any = true;
                if (a->phase == ASSIGN_RESERVED || a->phase == ASSIGN_PREPARED) {
                        release_batch_fail(b, -EINPROGRESS,
                                           "%s is still being assigned; release it once Assign has answered", a->vf);
                        continue;
                }
                r = start_release(d, a, force, release_done, b);
                if (r >= 0)
                        b->outstanding++;
                else
                        release_batch_fail(b, r, "%s: %s", a->vf, r == -EINPROGRESS
                                           ? "an earlier operation on its PF is still pending in the kernel"
                                           : strerror(-r));
        }
        if (!any)
                release_batch_fail(b, -ESRCH, "Guest %s holds %s", guest, isempty(vf) ? "no VFs" : "no such VF");
        b->outstanding--;
        release_batch_maybe_done(d, b);
}

/* ---- a release left over from before a restart ---- */

typedef struct FinishCall {
        void (*done)(Daemon *d, int r, void *userdata);
        void *userdata;
} FinishCall;

static void finish_release_done(Job *j) {
        FinishCall *c = TAKE_PTR(j->userdata);

        release_done(j);
        c->done(j->daemon, j->r, c->userdata);
        free(c);
}

int assignment_finish_release(Daemon *d, StateAssignment *a, void (*done)(Daemon *d, int r, void *userdata),
                              void *userdata) {
        FinishCall *c = calloc(1, sizeof(*c));
        AssignWork *w;
        int r;

        if (!c)
                return -ENOMEM;
        *c = (FinishCall) { done, userdata };
        a->phase = ASSIGN_RELEASING;
        w = work_from(a, false);
        r = w ? submit(d, &assign_release_job_type, a->vf, w, finish_release_done, c) : -ENOMEM;
        if (r < 0)
                free(c);
        return r;
}
