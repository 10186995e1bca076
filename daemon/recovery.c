/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "assign.h"
#include "binding.h"
#include "recovery.h"

const char *recovery_action_name(RecoveryAction a) {
        static const char *const names[] = {
                [RECOVER_NOTHING] = "nothing",
                [RECOVER_RESTORE_BINDING] = "restore-binding",
                [RECOVER_FORGET_BINDING] = "forget-binding",
                [RECOVER_DROP] = "drop",
                [RECOVER_ROLL_BACK] = "roll-back",
                [RECOVER_FINISH_RELEASE] = "finish-release",
                [RECOVER_REPORT_MISSING] = "report-missing",
                [RECOVER_REPORT_DRIVER] = "report-driver",
        };

        return a < ELEMENTSOF(names) ? names[a] : "?";
}

static const sriov_device *find(const sriov_host *h, const char *bdf) {
        pci_addr a;

        return pci_addr_parse(bdf, &a) < 0 ? NULL : sriov_host_find(h, &a);
}

RecoveryAction recovery_decide_device(const State *s, size_t i, const sriov_host *h) {
        const StateDevice *dev = &s->devices[i];

        if (!dev->pending)
                return RECOVER_NOTHING;
        return find(h, dev->bdf) ? RECOVER_RESTORE_BINDING : RECOVER_FORGET_BINDING;
}

RecoveryAction recovery_decide_assignment(const State *s, size_t i, const sriov_host *h) {
        const StateAssignment *a = &s->assignments[i];
        const sriov_device *vf;

        switch (a->phase) {
        case ASSIGN_RESERVED:
                return RECOVER_DROP;
        case ASSIGN_PREPARED:
                return RECOVER_ROLL_BACK;
        case ASSIGN_RELEASING:
                return RECOVER_FINISH_RELEASE;
        case ASSIGN_DONE:
                vf = find(h, a->vf);
                if (!vf)
                        return RECOVER_REPORT_MISSING;
                if (!vf->driver || !a->driver || !streq(vf->driver, a->driver))
                        return RECOVER_REPORT_DRIVER;
                return RECOVER_NOTHING;
        default:
                return RECOVER_NOTHING;
        }
}

typedef struct Recovery {
        unsigned outstanding;
        void (*done)(Daemon *d, void *userdata);
        void *userdata;
} Recovery;

static void recovery_maybe_done(Daemon *d, Recovery *rc) {
        if (rc->outstanding > 0)
                return;
        rc->done(d, rc->userdata);
        free(rc);
}

static void save(Daemon *d) {
        int r = state_save(d->state);

        if (r < 0)
                log_error_errno(r, "Failed to write %s: %m", d->state->path);
}

static void restore_done(Job *j) {
        Recovery *rc = j->userdata;     /* NULL: the lane's re-run once a held write finished */
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];

        pci_addr_format(&j->addr, bdf);
        if (j->r >= 0) {
                log_info("Put back the binding of %s after an interrupted change", bdf);
                if (state_forget_device(d->state, bdf) > 0)
                        save(d);
        } else if (j->r == -ETIMEDOUT)
                log_notice("Putting back the binding of %s waits for the kernel; it is finished once the kernel is done", bdf);
        else
                log_warning("Putting back the binding of %s failed: %s (it stays recorded; RestoreDriver retries)", bdf,
                            j->error.error ? j->error.message : strerror(-j->r));
        if (rc) {
                rc->outstanding--;
                recovery_maybe_done(d, rc);
        }
}

/* A Bind, Unbind or RestoreDriver that a crash interrupted: back to the
 * binding recorded before it started (binding.c's journal). */
static void restore_binding(Daemon *d, Recovery *rc, const StateDevice *s) {
        pci_addr addr;
        Job *j;
        int r;

        log_notice("Putting back the binding of %s (%s) after a restart: a change of it was interrupted", s->bdf,
                   s->prior_driver ?: "no driver");
        j = pci_addr_parse(s->bdf, &addr) >= 0 ?
                binding_restore_record_job_new(d, &addr, s->prior_driver, s->prior_override) : NULL;
        if (!j) {
                log_error("Out of memory: the binding of %s stays recorded; RestoreDriver puts it back", s->bdf);
                return;
        }
        j->complete = restore_done;
        j->userdata = rc;
        r = lane_submit(d, j);
        if (r < 0) {
                log_error_errno(r, "Cannot put back the binding of %s now (RestoreDriver retries): %m", s->bdf);
                job_free(j);
        } else
                rc->outstanding++;
}

/* The interrupted binding changes; returns whether the state changed. */
static bool recover_bindings(Daemon *d, Recovery *rc) {
        bool changed = false;

        for (size_t i = 0; i < d->state->n_devices;) {
                const StateDevice *s = &d->state->devices[i];

                switch (recovery_decide_device(d->state, i, d->host)) {
                case RECOVER_RESTORE_BINDING:
                        restore_binding(d, rc, s);
                        break;
                case RECOVER_FORGET_BINDING:
                        log_notice("Forgetting the interrupted binding change of %s: it is not on the host (any more)",
                                   s->bdf);
                        (void) state_forget_device(d->state, s->bdf);
                        changed = true;
                        continue;       /* the next one moved here */
                default:
                        break;
                }
                i++;
        }
        return changed;
}

static void release_finished(Daemon *d, int r, void *userdata) {
        Recovery *rc = userdata;

        rc->outstanding--;
        recovery_maybe_done(d, rc);
}

/* The unfinished assignments and releases; returns whether the state changed. */
static int recover_assignments(Daemon *d, Recovery *rc) {
        bool changed = false;

        for (size_t i = 0; i < d->state->n_assignments;) {
                StateAssignment *a = &d->state->assignments[i];
                RecoveryAction act = recovery_decide_assignment(d->state, i, d->host);
                int r;

                switch (act) {
                case RECOVER_DROP:
                        log_notice("Dropping the unfinished assignment of %s to %s (nothing was changed yet)", a->vf, a->guest);
                        state_remove_assignment(d->state, a);
                        changed = true;
                        continue;
                case RECOVER_ROLL_BACK:
                case RECOVER_FINISH_RELEASE:
                        log_notice("%s the %s of %s to %s after a restart",
                                   act == RECOVER_ROLL_BACK ? "Rolling back" : "Finishing",
                                   act == RECOVER_ROLL_BACK ? "unfinished assignment" : "release", a->vf, a->guest);
                        changed = true;
                        r = assignment_finish_release(d, a, release_finished, rc);
                        if (r == -ENOMEM)
                                return r;
                        if (r >= 0)
                                rc->outstanding++;
                        else
                                log_error_errno(r, "Cannot finish the release of %s now: %m", a->vf);
                        break;
                case RECOVER_REPORT_MISSING:
                        log_warning("%s, assigned to %s, is not on the host (any more)", a->vf, a->guest);
                        break;
                case RECOVER_REPORT_DRIVER: {
                        pci_addr addr;
                        const sriov_device *vf = pci_addr_parse(a->vf, &addr) >= 0 ? sriov_host_find(d->host, &addr) : NULL;

                        log_warning("%s, assigned to %s, is bound to %s instead of %s", a->vf, a->guest,
                                    vf && vf->driver ? vf->driver : "no driver", strna(a->driver));
                        break;
                }
                default:
                        break;
                }
                i++;
        }
        return changed;
}

int recovery_start(Daemon *d, void (*done)(Daemon *d, void *userdata), void *userdata) {
        Recovery *rc = calloc(1, sizeof(*rc));
        bool changed;
        int r;

        if (!rc)
                return -ENOMEM;
        *rc = (Recovery) { .outstanding = 1, .done = done, .userdata = userdata };
        changed = recover_bindings(d, rc);
        r = recover_assignments(d, rc);
        if (r < 0)
                return r;       /* out of memory: the daemon exits, rc with it */
        if (changed || r > 0)
                save(d);
        rc->outstanding--;
        recovery_maybe_done(d, rc);
        return 0;
}
