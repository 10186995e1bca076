/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Release: a guest's VFs given back, a batch at a time; leases
 * (Reconcile); a release left over from before a restart. */

#include <stdarg.h>
#include <stdio.h>

#include "assign-internal.h"
#include "conffile.h"
#include "journal.h"
#include "ledger.h"
#include "test-hooks.h"

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

/* A release refused before it changed anything: the assignment is as it was. */
static void release_refused(Daemon *d, Job *j, StateAssignment *a, ReleaseBatch *b, const char *bdf) {
        const char *why = assign_job_message(j) ?: strerror(-j->r);

        if (a && a->phase == ASSIGN_RELEASING) {
                a->phase = ASSIGN_DONE;
                ledger_save(d);
        }
        log_notice("Not releasing %s from %s: %s; nothing was changed", bdf, a ? a->guest : "its guest", why);
        /* the VF named once */
        if (strneq(why, bdf, strlen(bdf)))
                release_batch_fail(b, j->r, "%.440s; nothing was changed", why);
        else
                release_batch_fail(b, j->r, "%s: %.440s; nothing was changed", bdf, why);
}

static void release_succeeded(Daemon *d, Job *j, StateAssignment *a, ReleaseBatch *b, const char *bdf) {
        const AssignWork *w = j->payload;

        if (w && w->reset_failed && ledger_quarantine(d, bdf, w->reset_error) > 0)
                log_event(EVENT_RESET, 4, &(LogFields) { .device = bdf, .pf = a ? a->pf : NULL, .guest = a ? a->guest : NULL },
                          "%s is quarantined: its reset between tenants failed: %s", bdf, strna(w->reset_error));
        if (w && w->pf_link_note[0])
                log_info("%s", w->pf_link_note);
        if (a) {
                log_event(w && w->reset_done ? EVENT_RESET : EVENT_RELEASE, 6,
                          &(LogFields) { .device = bdf, .pf = a->pf, .guest = a->guest, .pool = a->pool },
                          "Released %s from %s%s%s", bdf, a->guest, w && w->reset_done ? ", reset with " : "",
                          w && w->reset_done ? (w->reset_method ?: "its reset method") : "");
                ledger_emit_released(d, a);
                state_remove_assignment(d->state, a);
        }
        ledger_save(d);
        crash_point("release-done");
        if (b)
                (void) strv_extend(&b->released, bdf);
}

void assign_release_done(Job *j) {
        const AssignWork *w = j->payload;
        Daemon *d = j->daemon;
        ReleaseBatch *b = j->userdata;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (j->r < 0 && w && w->unchanged)
                release_refused(d, j, a, b, bdf);
        else if (j->r < 0) {
                /* stays RELEASING: the next Release (or a restart) finishes it */
                log_warning("Releasing %s failed: %s", bdf, assign_job_message(j) ?: strerror(-j->r));
                if (j->held)
                        assign_release_when_kernel_done(d, j, false);
                release_batch_fail(b, j->r, "%s: %.480s", bdf, assign_job_message(j) ?: strerror(-j->r));
        } else
                release_succeeded(d, j, a, b, bdf);
        if (b) {
                b->outstanding--;
                release_batch_maybe_done(d, b);
        }
}

/* Who needs the PF's link up, so that Release leaves it up even when Assign
 * brought it up: another assignment's VF settings on the PF, or the declared
 * configuration's rule for it. NULL: nothing sriovd knows of. */
static const char *pf_link_needed_by(Daemon *d, const StateAssignment *a) {
        const sriov_device *pf;
        pci_addr addr;

        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *o = &d->state->assignments[i];

                if (o != a && streq(o->pf, a->pf) && o->want.mask)
                        return "another assignment's VF settings on it need it";
        }
        if (pci_addr_parse(a->pf, &addr) < 0 || !(pf = sriov_host_find(d->host, &addr)))
                return "its PF is not in sriovd's model of the host";
        if (d->declared && config_rule_for(d->declared, d->host, pf))
                return "the configuration has a rule for its PF";
        return NULL;
}

/* Whether Release may take the PF's link down again, and why not (the log
 * says it: dbus-api.md, Release). */
static void set_pf_link_rule(Daemon *d, const StateAssignment *a, AssignWork *w) {
        w->pf_link_needed_by = pf_link_needed_by(d, a);
        w->pf_link_down_ok = !w->pf_link_needed_by;
}

static int start_release(Daemon *d, StateAssignment *a, bool force, void (*complete)(Job *), void *userdata,
                         sriov_error *e) {
        char vf[PCI_ADDR_STRLEN];
        AssignWork *w;
        int r;

        memcpy(vf, a->vf, sizeof(vf));
        a->phase = ASSIGN_RELEASING;
        r = ledger_commit(d, e);
        if (r < 0)
                return r;
        crash_point("release-marked");
        a = state_find_assignment_by_vf(d->state, vf);
        w = assign_work_from(a, force);
        if (!w)
                return -ENOMEM;
        set_pf_link_rule(d, a, w);
        ledger_emit_assignment(d, a);
        return assign_submit(d, &assign_release_job_type, vf, w, complete, userdata);
}

/* Release the VFs the guests hold (vf: only that one), one batch. */
static void release_matching(Daemon *d, char * const *guests, const char *vf, bool force, release_done_t done,
                             void *userdata) {
        _cleanup_strv_free_ char **vfs = NULL;
        ReleaseBatch *b = calloc(1, sizeof(*b));

        if (!b) {
                done(d, -ENOMEM, NULL, NULL, userdata);
                return;
        }
        *b = (ReleaseBatch) { .done = done, .userdata = userdata, .outstanding = 1 /* until every release is queued */ };
        /* the VFs first: a commit that fails rolls the state back under the loop */
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                if (strv_contains(guests, a->guest) && (isempty(vf) || streq(a->vf, vf)) && strv_extend(&vfs, a->vf) < 0)
                        release_batch_fail(b, -ENOMEM, "Out of memory");
        }
        STRV_FOREACH(v, vfs) {
                StateAssignment *a = state_find_assignment_by_vf(d->state, *v);
                sriov_error e = {};
                int r;

                if (!a)
                        continue;
                if (a->phase == ASSIGN_RESERVED || a->phase == ASSIGN_PREPARED) {
                        release_batch_fail(b, -EINPROGRESS,
                                           "%s is still being assigned; release it once Assign has answered", *v);
                        continue;
                }
                r = start_release(d, a, force, assign_release_done, b, &e);
                if (r < 0) {
                        release_batch_fail(b, r, "%s: %s", *v, e.error ? e.message : r == -EINPROGRESS
                                           ? "an earlier operation on its PF is still pending in the kernel"
                                           : strerror(-r));
                        continue;
                }
                b->outstanding++;
        }
        if (!vfs)
                release_batch_fail(b, -ESRCH, "Guest %s holds %s", guests[0], isempty(vf) ? "no VFs" : "no such VF");
        b->outstanding--;
        release_batch_maybe_done(d, b);
}

void assignment_release(Daemon *d, const char *guest, const char *vf, bool force, release_done_t done,
                        void *userdata) {
        char *guests[] = { (char *) guest, NULL };

        release_matching(d, guests, vf, force, done, userdata);
}

/* ---- leases: what an owner's guests no longer need ---- */

typedef struct ReconcileCall {
        reconcile_done_t done;
        void *userdata;
        char **pairs;
} ReconcileCall;

static void reconcile_released(Daemon *d, int r, const char *message, char **released, void *userdata) {
        ReconcileCall *c = userdata;

        c->done(d, r, message, c->pairs, c->userdata);
        strv_free(c->pairs);
        free(c);
}

void assignment_reconcile(Daemon *d, const char *owner, char **live, bool dry_run, reconcile_done_t done,
                          void *userdata) {
        _cleanup_strv_free_ char **guests = NULL;
        ReconcileCall *c = calloc(1, sizeof(*c));

        if (!c) {
                done(d, -ENOMEM, NULL, NULL, userdata);
                return;
        }
        *c = (ReconcileCall) { done, userdata, NULL };
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                if (!streq(a->owner, owner) || strv_contains(live, a->guest) || a->phase == ASSIGN_RESERVED ||
                    a->phase == ASSIGN_PREPARED)
                        continue;
                if (strv_extend(&c->pairs, a->guest) < 0 || strv_extend(&c->pairs, a->vf) < 0 ||
                    (!strv_contains(guests, a->guest) && strv_extend(&guests, a->guest) < 0)) {
                        reconcile_released(d, -ENOMEM, NULL, NULL, c);
                        return;
                }
        }
        if (dry_run || !guests) {
                reconcile_released(d, 0, NULL, NULL, c);
                return;
        }
        log_info("Reconciling owner %s: %zu guest(s) no longer live", owner, strv_length(guests));
        /* one release of all their VFs: the answer comes when every one is back */
        release_matching(d, guests, NULL, false, reconcile_released, c);
}

/* ---- a release left over from before a restart ---- */

typedef struct FinishCall {
        void (*done)(Daemon *d, int r, void *userdata);
        void *userdata;
} FinishCall;

static void finish_release_done(Job *j) {
        FinishCall *c = TAKE_PTR(j->userdata);

        assign_release_done(j);
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
        w = assign_work_from(a, false);
        if (w)
                set_pf_link_rule(d, a, w);
        r = w ? assign_submit(d, &assign_release_job_type, a->vf, w, finish_release_done, c) : -ENOMEM;
        if (r < 0)
                free(c);
        return r;
}
