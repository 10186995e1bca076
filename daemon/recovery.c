/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "assign.h"
#include "binding.h"
#include "journal.h"
#include "ledger.h"
#include "recovery.h"

const char *recovery_action_name(RecoveryAction a) {
        static const char *const names[] = {
                [RECOVER_NOTHING] = "nothing",
                [RECOVER_RESTORE_BINDING] = "restore-binding",
                [RECOVER_SETTLE_BINDING] = "settle-binding",
                [RECOVER_FORGET_BINDING] = "forget-binding",
                [RECOVER_SET_ASIDE] = "set-aside",
                [RECOVER_RESTORE_NUMVFS] = "restore-numvfs",
                [RECOVER_DROP] = "drop",
                [RECOVER_ROLL_BACK] = "roll-back",
                [RECOVER_FINISH_RELEASE] = "finish-release",
                [RECOVER_NOT_READY] = "not-ready",
        };

        return a < ELEMENTSOF(names) ? names[a] : "?";
}

static const sriov_device *find(const sriov_host *h, const char *bdf) {
        pci_addr a;

        return pci_addr_parse(bdf, &a) < 0 ? NULL : sriov_host_find(h, &a);
}

/* The device at the address is the VF the record was made for: a VF of the
 * recorded PF, at the recorded index (when the record knows it). */
static bool same_vf(const sriov_device *dev, const char *pf, int vf_index) {
        char bdf[PCI_ADDR_STRLEN];

        if (!dev->is_vf || !streq(pci_addr_format(&dev->physfn, bdf), pf))
                return false;
        return vf_index < 0 || dev->vf_index < 0 || dev->vf_index == vf_index;
}

RecoveryAction recovery_decide_device(const State *s, size_t i, const sriov_host *h) {
        const StateDevice *rec = &s->devices[i];
        const sriov_device *dev = find(h, rec->bdf);

        if (!dev)
                return RECOVER_FORGET_BINDING;
        if (dev->is_bridge)
                return RECOVER_SET_ASIDE;
        if (!isempty(rec->pf)) {
                /* a VF's record: of this VF, of this generation of its PF */
                if (!same_vf(dev, rec->pf, rec->vf_index))
                        return RECOVER_SET_ASIDE;
                if (rec->generation < state_pf_generation(s, rec->pf))
                        return RECOVER_FORGET_BINDING;
        }
        if (!rec->pending)
                return RECOVER_NOTHING;
        return rec->origin == ORIGIN_CONFIG ? RECOVER_SETTLE_BINDING : RECOVER_RESTORE_BINDING;
}

RecoveryAction recovery_decide_pf(const State *s, size_t i, const sriov_host *h) {
        const StatePF *rec = &s->pfs[i];
        const sriov_device *pf;

        if (!rec->numvfs_pending)
                return RECOVER_NOTHING;
        pf = find(h, rec->bdf);
        return pf && pf->is_pf ? RECOVER_RESTORE_NUMVFS : RECOVER_FORGET_BINDING;
}

RecoveryAction recovery_decide_assignment(const State *s, size_t i, const sriov_host *h) {
        const StateAssignment *a = &s->assignments[i];
        const sriov_device *vf = find(h, a->vf);

        /* what is there must be the VF the record names */
        if (vf && !same_vf(vf, a->pf, a->vf_index))
                return RECOVER_SET_ASIDE;
        switch (a->phase) {
        case ASSIGN_RESERVED:
                return RECOVER_DROP;
        case ASSIGN_PREPARED:
                return vf ? RECOVER_ROLL_BACK : RECOVER_DROP;
        case ASSIGN_RELEASING:
                return RECOVER_FINISH_RELEASE;
        case ASSIGN_DONE:
                if (a->readiness == BROKEN)
                        return RECOVER_NOTHING;
                if (!vf || !vf->driver || !a->driver || !streq(vf->driver, a->driver) ||
                    a->generation < state_pf_generation(s, a->pf))
                        return RECOVER_NOT_READY;
                return a->readiness == READY ? RECOVER_NOTHING : RECOVER_NOT_READY;
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

static void restore_done(Job *j) {
        Recovery *rc = j->userdata;     /* NULL: the lane's re-run once a held write finished */
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];

        pci_addr_format(&j->addr, bdf);
        if (j->r >= 0) {
                log_event(EVENT_RECOVERY, 6, &(LogFields) { .device = bdf }, "Put back the binding of %s after an interrupted change",
                          bdf);
                if (state_forget_device(d->state, bdf) > 0)
                        ledger_save(d);
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

static void submit_recovery_job(Daemon *d, Recovery *rc, Job *j, void (*complete)(Job *j), const char *what) {
        int r;

        if (!j) {
                log_error("Out of memory: %s stays recorded", what);
                return;
        }
        j->complete = complete;
        j->userdata = rc;
        r = lane_submit(d, j);
        if (r < 0) {
                log_error_errno(r, "Cannot put back %s now: %m", what);
                job_free(j);
        } else
                rc->outstanding++;
}

/* A Bind, Unbind or RestoreDriver that a crash interrupted: back to the
 * binding recorded before it started (binding.c's journal). */
static void restore_binding(Daemon *d, Recovery *rc, const StateDevice *s) {
        pci_addr addr;

        log_notice("Putting back the binding of %s (%s) after a restart: a change of it was interrupted", s->bdf,
                   s->prior_driver ?: "no driver");
        (void) pci_addr_parse(s->bdf, &addr);
        submit_recovery_job(d, rc, binding_restore_record_job_new(d, &addr, s->prior_driver, s->prior_override),
                            restore_done, s->bdf);
}

/* The binding records; returns whether the state changed. */
static bool recover_bindings(Daemon *d, Recovery *rc) {
        bool changed = false;

        for (size_t i = 0; i < d->state->n_devices;) {
                StateDevice *s = &d->state->devices[i];
                RecoveryAction act = recovery_decide_device(d->state, i, d->host);

                switch (act) {
                case RECOVER_RESTORE_BINDING:
                        restore_binding(d, rc, s);
                        break;
                case RECOVER_SETTLE_BINDING:
                        log_notice("%s: a binding of the configuration was interrupted; the configuration is applied again",
                                   s->bdf);
                        s->pending = false;
                        changed = true;
                        break;
                case RECOVER_FORGET_BINDING:
                case RECOVER_SET_ASIDE:
                        if (act == RECOVER_SET_ASIDE)
                                log_warning("Setting aside the recorded binding of %s: no call of the API could have made it "
                                            "(a bridge, or not the VF of %s it names)", s->bdf, strna(s->pf));
                        else
                                log_notice("Forgetting the recorded binding of %s: that device is not on the host (any more)",
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

static void numvfs_done(Job *j) {
        Recovery *rc = j->userdata;
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        StatePF *p = state_find_pf(d->state, pci_addr_format(&j->addr, bdf), false);

        if (j->r >= 0 && p) {
                log_event(EVENT_RECOVERY, 6, &(LogFields) { .device = bdf, .pf = bdf },
                          "Put back the VF count of %s after an interrupted change", bdf);
                p->numvfs_pending = false;
                ledger_save(d);
        } else if (j->r < 0)
                log_warning("Putting back the VF count of %s failed: %s", bdf,
                            j->error.error ? j->error.message : strerror(-j->r));
        if (rc) {
                rc->outstanding--;
                recovery_maybe_done(d, rc);
        }
}

/* The interrupted VF count changes; returns whether the state changed. */
static bool recover_numvfs(Daemon *d, Recovery *rc) {
        bool changed = false;

        for (size_t i = 0; i < d->state->n_pfs; i++) {
                StatePF *p = &d->state->pfs[i];
                pci_addr addr;

                switch (recovery_decide_pf(d->state, i, d->host)) {
                case RECOVER_RESTORE_NUMVFS:
                        log_notice("Putting back %u VFs on %s after a restart: a change to %u was interrupted",
                                   p->prior_numvfs, p->bdf, p->target_numvfs);
                        (void) pci_addr_parse(p->bdf, &addr);
                        submit_recovery_job(d, rc,
                                            binding_numvfs_job_new(d, &addr, p->prior_numvfs, p->prior_autoprobe, true),
                                            numvfs_done, p->bdf);
                        break;
                case RECOVER_FORGET_BINDING:
                        p->numvfs_pending = false;
                        changed = true;
                        break;
                default:
                        break;
                }
        }
        return changed;
}

static void release_finished(Daemon *d, int r, void *userdata) {
        Recovery *rc = userdata;

        rc->outstanding--;
        recovery_maybe_done(d, rc);
}

/* An assignment that cannot be set up as it is: its PF gets a new
 * generation (its VFs are new), which makes every done assignment on it
 * not ready, to be set up again (reestablish.c). */
static void mark_not_ready(Daemon *d, StateAssignment *a) {
        char pf[PCI_ADDR_STRLEN];
        const sriov_device *vf;
        pci_addr addr;

        vf = pci_addr_parse(a->vf, &addr) >= 0 ? sriov_host_find(d->host, &addr) : NULL;
        memcpy(pf, a->pf, sizeof(pf));
        if (!vf || a->generation < state_pf_generation(d->state, pf) ||
            !(vf->driver && a->driver && streq(vf->driver, a->driver)))
                (void) ledger_new_generation(d, pf, vf ? "its VF is not on the guest's driver after a restart"
                                                       : "its VF is gone after a restart (a reboot or a PF reset)");
        else
                (void) state_assignment_set_readiness(a, NOT_READY, "to be set up again");
}

/* The unfinished assignments and releases; < 0 on ENOMEM, else whether the state changed. */
static int recover_assignments(Daemon *d, Recovery *rc) {
        bool changed = false;

        for (size_t i = 0; i < d->state->n_assignments;) {
                StateAssignment *a = &d->state->assignments[i];
                RecoveryAction act = recovery_decide_assignment(d->state, i, d->host);
                int r;

                switch (act) {
                case RECOVER_SET_ASIDE:
                case RECOVER_DROP:
                        if (act == RECOVER_SET_ASIDE)
                                log_warning("Setting aside the assignment of %s to %s: %s is not a VF of %s", a->vf,
                                            a->guest, a->vf, a->pf);
                        else
                                log_notice("Dropping the unfinished assignment of %s to %s (nothing to undo)", a->vf,
                                           a->guest);
                        state_remove_assignment(d->state, a);
                        changed = true;
                        continue;
                case RECOVER_ROLL_BACK:
                case RECOVER_FINISH_RELEASE:
                        log_event(EVENT_RECOVERY, 5,
                                  &(LogFields) { .device = a->vf, .pf = a->pf, .guest = a->guest, .pool = a->pool },
                                  "%s the %s of %s to %s after a restart",
                                  act == RECOVER_ROLL_BACK ? "Rolling back" : "Finishing",
                                  act == RECOVER_ROLL_BACK ? "unfinished assignment" : "release", a->vf, a->guest);
                        changed = true;
                        r = assignment_finish_release(d, a, release_finished, rc);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                log_error_errno(r, "Cannot finish the release of %s now: %m", a->vf);
                                break;
                        }
                        rc->outstanding++;
                        break;
                case RECOVER_NOT_READY:
                        mark_not_ready(d, a);
                        changed = true;
                        break;
                default:
                        break;
                }
                i++;
        }
        return changed;
}

/* Records from before identities (state format 1): the devices they name
 * as they are now. */
static void fill_identities(Daemon *d) {
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                StateAssignment *a = &d->state->assignments[i];
                const sriov_device *vf = find(d->host, a->vf);

                if (a->vf_index < 0 && vf && same_vf(vf, a->pf, -1))
                        a->vf_index = vf->vf_index;
        }
        for (size_t i = 0; i < d->state->n_devices; i++) {
                StateDevice *rec = &d->state->devices[i];
                const sriov_device *dev = find(d->host, rec->bdf);

                if (isempty(rec->pf) && dev && dev->is_vf)
                        (void) ledger_identity(d, dev, rec->pf, &rec->vf_index, &rec->generation);
        }
}

int recovery_start(Daemon *d, void (*done)(Daemon *d, void *userdata), void *userdata) {
        Recovery *rc = calloc(1, sizeof(*rc));
        bool changed;
        int r;

        if (!rc)
                return -ENOMEM;
        *rc = (Recovery) { .outstanding = 1, .done = done, .userdata = userdata };
        fill_identities(d);
        r = recover_assignments(d, rc);
        if (r < 0)
                return r;       /* out of memory: the daemon exits, rc with it */
        /* after the assignments: a PF they found re-created forgets its VFs' records */
        changed = recover_bindings(d, rc);
        changed = recover_numvfs(d, rc) || changed;
        if (changed || r > 0)
                ledger_save(d);
        rc->outstanding--;
        recovery_maybe_done(d, rc);
        return 0;
}
