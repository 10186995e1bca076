/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "assign-internal.h"
#include "journal.h"
#include "conffile.h"
#include "ledger.h"
#include "pools.h"
#include "test-hooks.h"

static bool name_is_valid(const char *s, size_t max) {
        size_t n = s ? strlen(s) : 0;

        /* libvirt domain names, UUIDs, pod device ids: nothing that could be a path */
        if (n == 0 || n > max || !isalnum((unsigned char) s[0]))
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("_.:-", *c))
                        return false;
        return true;
}

bool guest_name_is_valid(const char *s) {
        return name_is_valid(s, GUEST_NAME_MAX);
}

bool owner_name_is_valid(const char *s) {
        return name_is_valid(s, OWNER_NAME_MAX);
}

const char *assignment_state(const StateAssignment *a) {
        return a->phase == ASSIGN_DONE ? readiness_name(a->readiness) : assign_phase_name(a->phase);
}

AssignRequest *assign_request_free(AssignRequest *q) {
        if (!q)
                return NULL;
        free(q->target);
        free(q->vf);
        free(q->token);
        free(q->driver);
        return mfree(q);
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

const char *assign_job_message(const Job *j) {
        return j->error.error ? j->error.message : NULL;
}

AssignWork *assign_work_from(const StateAssignment *a, bool force) {
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
        w->reset = a->reset;
        w->prior = a->prior;
        w->pf_link_was_down = a->pf_link_was_down;
        w->vf_index = a->vf_index;
        if ((a->prior_driver && !(w->prior_driver = strdup(a->prior_driver))) ||
            (a->prior_override && !(w->prior_override = strdup(a->prior_override))) ||
            (a->pf_ifname && !(w->pf_ifname = strdup(a->pf_ifname)))) {
                assign_work_free(w);
                return NULL;
        }
        return w;
}

int assign_submit(Daemon *d, const JobType *type, const char *vf, AssignWork *w, void (*complete)(Job *),
                  void *userdata) {
        Job *j;
        pci_addr a;
        int r;

        if (!w)
                return -ENOMEM;
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

/* The kernel holds a write of this assignment's work past the timeout: the
 * release (or the rollback) runs once it is done, as the lane's intent —
 * the way a held SetNumVFs or Bind is finished. Until then the assignment
 * stays RELEASING and the VF shows as Pending; a Release or a restart
 * finishes it as well. */
void assign_release_when_kernel_done(Daemon *d, Job *j, bool rollback) {
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;
        AssignWork *w;
        Job *k;

        a = state_find_assignment_by_vf(d->state, pci_addr_format(&j->addr, bdf));
        if (!a)
                return;
        w = assign_work_from(a, j->payload && ((AssignWork *) j->payload)->force);
        if (w)
                w->rollback = rollback;
        k = w ? job_new(d, &assign_release_job_type, &j->addr, w) : NULL;
        if (!k) {
                log_error("Out of memory: %s stays releasing until Release or a restart", bdf);
                return;
        }
        k->complete = rollback ? rollback_done : assign_release_done;
        k->lane = j->lane;
        if (lane_set_intent(d, k) < 0) {
                job_free(k);
                log_warning("%s stays releasing until Release or a restart", bdf);
        }
}

/* A failed or interrupted assignment: put back what it may have changed,
 * then answer the caller with the original failure. */
static void start_rollback(Daemon *d, StateAssignment *a, AssignCall *call, int error, const char *message) {
        AssignWork *w = assign_work_from(a, false);
        int r;

        a->phase = ASSIGN_RELEASING;
        ledger_save(d);
        if (!w) {
                call_finish(d, call, -ENOMEM, NULL, NULL);
                return;
        }
        w->rollback = true;
        w->failure = error;
        (void) snprintf(w->failure_message, sizeof(w->failure_message), "%s", strempty(message));
        r = assign_submit(d, &assign_release_job_type, a->vf, w, rollback_done, call);
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
                          assign_job_message(j) ?: strerror(-j->r));
                if (j->held)
                        assign_release_when_kernel_done(d, j, true);
        } else if (a) {
                log_info("Rolled back the assignment of %s to %s", bdf, a->guest);
                state_remove_assignment(d->state, a);
                ledger_save(d);
        }
        if (w)
                call_finish(d, TAKE_PTR(j->userdata), w->failure ?: -EIO,
                            w->failure_message[0] ? w->failure_message : NULL, NULL);
}

static void apply_done(Job *j) {
        AssignCall *call = TAKE_PTR(j->userdata);
        const AssignWork *w = j->payload;
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        sriov_error e = {};
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
                ledger_save(d);
                assign_release_when_kernel_done(d, j, true);
                call_finish(d, call, j->r, assign_job_message(j), NULL);
                return;
        }
        if (j->r < 0) {
                log_warning("Assigning %s to %s failed: %s; rolling back", bdf, a->guest,
                            assign_job_message(j) ?: strerror(-j->r));
                if (w && w->reset_failed && ledger_quarantine(d, bdf, w->reset_error) > 0)
                        a = state_find_assignment_by_vf(d->state, bdf);
                start_rollback(d, a, call, j->r, assign_job_message(j));
                return;
        }
        a->phase = ASSIGN_DONE;
        (void) state_assignment_set_readiness(a, READY, NULL);
        if (ledger_commit(d, &e) < 0) {
                /* the disk says PREPARED: it must not be done only in memory */
                a = state_find_assignment_by_vf(d->state, bdf);
                if (a)
                        start_rollback(d, a, call, e.error, e.message);
                else
                        call_finish(d, call, e.error, e.message, NULL);
                return;
        }
        crash_point("assign-done");
        log_event(EVENT_ASSIGN, 6, &(LogFields) { .device = bdf, .pf = a->pf, .guest = a->guest, .pool = a->pool },
                  "Assigned %s to %s%s%s (owner %s)%s%s", bdf, a->guest, a->pool ? " from pool " : "",
                  strempty(a->pool), a->owner, w && w->reset_done ? ", reset with " : "",
                  w && w->reset_done ? (w->reset_method ?: "its reset method") : "");
        ledger_emit_assignment(d, a);
        call_finish(d, call, 0, NULL, a);
}

void assign_record_prior(StateAssignment *a, const AssignWork *w) {
        a->prior = w->prior;
        free(a->prior_driver);
        free(a->prior_override);
        free(a->pf_ifname);
        a->prior_driver = w->prior_driver ? strdup(w->prior_driver) : NULL;
        a->prior_override = w->prior_override ? strdup(w->prior_override) : NULL;
        a->pf_ifname = w->pf_ifname ? strdup(w->pf_ifname) : NULL;
        a->pf_link_was_down = w->pf_link_was_down;
        a->vf_index = w->vf_index;
        a->pf_numvfs = w->pf_numvfs;
}

/* Everything needed to undo the assignment goes on disk before anything
 * changes: what the VF had, and who it is. */
static void record_prior(Daemon *d, StateAssignment *a, const AssignWork *w) {
        assign_record_prior(a, w);
        a->generation = state_pf_generation(d->state, a->pf);
        a->phase = ASSIGN_PREPARED;
}

/* A reservation that comes to nothing. */
static void drop_reservation(Daemon *d, const char *vf) {
        StateAssignment *a = state_find_assignment_by_vf(d->state, vf);

        if (a)
                state_remove_assignment(d->state, a);
        ledger_save(d);
}

static void prepare_done(Job *j) {
        AssignCall *call = TAKE_PTR(j->userdata);
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        sriov_error e = {};
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
                log_info("Not assigning %s to %s: %s", bdf, a->guest, assign_job_message(j) ?: strerror(-j->r));
                drop_reservation(d, bdf);
                call_finish(d, call, j->r, assign_job_message(j), NULL);
                return;
        }
        record_prior(d, a, j->payload);
        r = ledger_commit(d, &e);
        if (r < 0) {
                drop_reservation(d, bdf);
                call_finish(d, call, r, e.message, NULL);
                return;
        }
        crash_point("assign-prepared");
        r = assign_submit(d, &assign_apply_job_type, bdf, TAKE_PTR(j->payload), apply_done, call);
        if (r < 0)
                start_rollback(d, state_find_assignment_by_vf(d->state, bdf), call, r, "Cannot start the assignment");
}

/* ---- Assign ---- */

static MemberUse vf_use(const sriov_device *vf, void *userdata) {
        Daemon *d = userdata;
        Lane *l;

        if (state_find_assignment_by_vf(d->state, vf->bdf))
                return MEMBER_ASSIGNED;
        if (state_find_quarantine(d->state, vf->bdf))
                return MEMBER_QUARANTINED;
        l = daemon_lane_for(d, &vf->addr);
        return l && lane_is_pending(d, l) ? MEMBER_PENDING : MEMBER_FREE;
}

static bool settings_equal(const sriov_vf_config *a, const sriov_vf_config *b) {
        return a->mask == b->mask && vf_config_diff(a, b) == 0;
}

/* The request with its pool's defaults (settings under the request's own,
 * driver, reset policy). */
static int apply_pool_defaults(AssignRequest *q, const PoolView *pool, ResetPolicy *ret_reset) {
        *ret_reset = RESET_AUTO;
        if (pool) {
                sriov_vf_config want = *pool->attrs;

                vf_config_copy(&want, &q->want, q->want.mask);
                q->want = want;
                if (!q->driver && !(q->driver = strdup(pool_driver(pool))))
                        return -ENOMEM;
                *ret_reset = (ResetPolicy) pool->reset;
        }
        if (!q->driver && !(q->driver = strdup("vfio-pci")))
                return -ENOMEM;
        return 0;
}

/* Idempotency: the same guest asking again for what it holds. Returns 1 and
 * the assignment (or an error: held with other settings or by another
 * owner, not done yet) when the request is one the guest made before; 0
 * otherwise. */
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
                if (!streq(x->owner, q->owner)) {
                        *ret_message = "The guest's VF is held under another owner's lease";
                        return -EBUSY;
                }
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

/* The request with its pool's defaults (pool: NULL when it names a VF); then
 * as find_same(): 1 when the guest holds what it asks for already. */
static int complete_request(Daemon *d, AssignRequest *q, const PoolView *pool, bool derived_mac,
                            ResetPolicy *ret_reset, StateAssignment **ret, const char **ret_message) {
        int r;

        r = apply_pool_defaults(q, pool, ret_reset);
        if (r < 0)
                return r;
        return find_same(d, q, pool != NULL, derived_mac, ret, ret_message);
}

/* The VF a request names (name: an address or interface), if it can be had. */
static int pick_named(Daemon *d, const AssignRequest *q, const char *name, const sriov_device **ret,
                      char **ret_message) {
        const StateAssignment *a;
        const StateQuarantine *qr;
        sriov_device *dev;
        sriov_error e = {};
        int r;

        r = sriov_host_resolve(d->host, name, &dev, &e);
        if (r == -EINVAL || r == -ENODEV) {
                *ret_message = strdup_printf("No %s named \"%.64s\"", name == q->target ? "pool or VF" : "VF", name);
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
        qr = state_find_quarantine(d->state, dev->bdf);
        if (qr) {
                *ret_message = strdup_printf("%s is quarantined (%s); an administrator clears it", dev->bdf, qr->reason);
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

static uint64_t realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* Reserve the VF: from now on no one else gets it. */
static StateAssignment *reserve(Daemon *d, const AssignRequest *q, const sriov_device *vf, const char *pool,
                                ResetPolicy reset) {
        StateAssignment *a = state_add_assignment(d->state);

        if (!a)
                return NULL;
        memcpy(a->guest, q->guest, sizeof(a->guest));
        memcpy(a->owner, q->owner, sizeof(a->owner));
        (void) snprintf(a->vf, sizeof(a->vf), "%s", vf->bdf);
        pci_addr_format(&vf->physfn, a->pf);
        a->vf_index = vf->vf_index;
        a->generation = state_pf_generation(d->state, a->pf);
        a->pool = pool ? strdup(pool) : NULL;
        a->token = q->token ? strdup(q->token) : NULL;
        a->driver = strdup(q->driver);
        a->want = q->want;
        a->reset = reset;
        a->set_owner = q->set_owner;
        a->uid = q->uid;
        a->gid = q->gid;
        a->phase = ASSIGN_RESERVED;
        a->since = realtime_usec();
        return a;
}

/* The VF reserved for the request: its work starts on the VF's lane. */
static void start_prepare(Daemon *d, StateAssignment *a, bool force, AssignCall *call) {
        char vf[PCI_ADDR_STRLEN];
        AssignWork *w;
        int r;

        memcpy(vf, a->vf, sizeof(vf));
        w = assign_work_from(a, force);
        r = w ? assign_submit(d, &assign_prepare_job_type, a->vf, w, prepare_done, call) : -ENOMEM;
        if (r < 0) {
                drop_reservation(d, vf);
                call_finish(d, call, r, r == -EINPROGRESS
                            ? "An earlier operation on this VF's PF is still pending in the kernel" : NULL, NULL);
        }
}

typedef struct OnlyVF {
        Daemon *d;
        const sriov_device *vf;
} OnlyVF;

static MemberUse only_the_named_vf(const sriov_device *vf, void *userdata) {
        const OnlyVF *o = userdata;

        return vf == o->vf ? vf_use(vf, o->d) : MEMBER_PASSED_OVER;
}

/* The member of the pool a request names (option vf), if it can be had. */
static int pick_member(Daemon *d, AssignRequest *q, const PoolView *pool, const sriov_device **ret,
                       size_t *ret_position, char **ret_message) {
        const sriov_device *vf;
        sriov_error e = {};
        int r;

        r = pick_named(d, q, q->vf, &vf, ret_message);
        if (r < 0)
                return r;
        if (!pool_contains(pool->selectors, vf)) {
                *ret_message = strdup_printf("%s is not in pool %s", vf->bdf, pool->name);
                return -EINVAL;
        }
        *ret = pool_pick(d->host, pool, -1, NUMA_ANY, only_the_named_vf, &(OnlyVF) { d, vf }, ret_position, &e);
        if (*ret)
                return 0;
        *ret_message = strdup_printf("%s is not free: an operation on its PF is still pending in the kernel", vf->bdf);
        return -EINPROGRESS;
}

/* The VF for the request: from its pool (*ret_position: its place there),
 * the member of it the request names, or the VF it names. */
static int pick(Daemon *d, AssignRequest *q, const PoolView *pool, const sriov_device **ret, size_t *ret_position,
                char **ret_message) {
        sriov_error e = {};

        if (!pool && q->vf) {
                *ret_message = strdup("The option vf goes with a pool");
                return -EINVAL;
        }
        if (!pool)
                return pick_named(d, q, q->target, ret, ret_message);
        if (q->vf)
                return pick_member(d, q, pool, ret, ret_position, ret_message);
        *ret = pool_pick(d->host, pool, q->numa, q->numa_policy, vf_use, d, ret_position, &e);
        if (*ret)
                return 0;
        *ret_message = strdup(e.message);
        return e.error;
}

void assignment_assign(Daemon *d, AssignRequest *q, assign_done_t done, void *userdata) {
        _cleanup_(assign_request_freep) AssignRequest *req = q;
        _cleanup_free_ char *msg = NULL;
        const char *message = NULL;
        const sriov_device *vf = NULL;
        StateAssignment *a = NULL;
        PoolView pool = {};
        ResetPolicy reset;
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
        r = complete_request(d, q, by_pool ? &pool : NULL, derived_mac, &reset, &a, &message);
        if (r < 0) {
                call_finish(d, call, r, message, NULL);
                return;
        }
        if (r > 0) {
                call_finish(d, call, 0, NULL, a);       /* the same answer again */
                return;
        }
        r = pick(d, q, by_pool ? &pool : NULL, &vf, &position, &msg);
        if (r < 0) {
                call_finish(d, call, r, msg, NULL);
                return;
        }
        if (derived_mac)
                offset_mac(q->want.mac, position);
        a = reserve(d, q, vf, by_pool ? pool.name : NULL, reset);
        if (!a) {
                call_finish(d, call, -ENOMEM, NULL, NULL);
                return;
        }
        r = ledger_commit(d, &e);
        if (r < 0) {
                call_finish(d, call, r, e.message, NULL);
                return;
        }
        crash_point("assign-reserved");
        start_prepare(d, state_find_assignment_by_vf(d->state, vf->bdf), q->force, call);
}
