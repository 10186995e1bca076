/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "cdi.h"
#include "ledger.h"

/* What is on disk, to go back to when a commit fails. */
static int remember_saved(Daemon *d) {
        char *text = NULL;
        int r;

        r = state_format(d->state, &text);
        if (r < 0)
                return r;
        free(d->state_saved);
        d->state_saved = text;
        return 0;
}

/* The memory as the disk has it: the last state written (or loaded). */
static void roll_back(Daemon *d) {
        _cleanup_(state_freep) State *old = state_new_empty();
        State tmp;

        if (!old || (d->state_saved && state_parse_text(old, d->state_saved) < 0)) {
                log_error("Cannot go back to the state on disk; keeping the one in memory");
                return;
        }
        /* swap the records, keep the paths */
        tmp = *d->state;
        *d->state = *old;
        d->state->dir = tmp.dir;
        d->state->path = tmp.path;
        d->state->corrupt_saved_as = tmp.corrupt_saved_as;
        d->state->corrupt_reason = tmp.corrupt_reason;
        tmp.dir = tmp.path = tmp.corrupt_saved_as = tmp.corrupt_reason = NULL;
        *old = tmp;
}

static int save(Daemon *d) {
        int r;

        r = state_save(d->state);
        if (r < 0)
                return r;
        (void) remember_saved(d);
        return 0;
}

int ledger_commit(Daemon *d, sriov_error *e) {
        int r;

        r = save(d);
        if (r < 0) {
                log_error_errno(r, "Cannot record the change in %s: %m; refusing it", d->state->path);
                roll_back(d);
                return sriov_error_set(e, -EDQUOT, "sriovd cannot record the change in %s (%s), so it made none",
                                       d->state->path, r == -EFBIG ? "the state would be too large" : strerror(-r));
        }
        return 0;
}

void ledger_save(Daemon *d) {
        int r = save(d);

        if (r < 0)
                log_error_errno(r, "Failed to write %s: %m (a restart finds the step under way)", d->state->path);
}

StateAssignment *ledger_assignment_of(Daemon *d, const char *bdf) {
        return state_find_assignment_by_vf(d->state, bdf);
}

static void mark_broken(Daemon *d, StateAssignment *a, const char *why) {
        if (a->phase == ASSIGN_DONE && state_assignment_set_readiness(a, BROKEN, why)) {
                log_warning("The assignment of %s to %s is broken: %s", a->vf, a->guest, why);
                ledger_emit_assignment(d, a);
        }
}

int ledger_check_assigned(Daemon *d, const sriov_device *dev, bool force, const char *why, sriov_error *e) {
        StateAssignment *a = ledger_assignment_of(d, dev->bdf);

        if (!a)
                return 0;
        if (!force)
                return sriov_error_set(e, -EPERM, "%s is assigned to guest %s (owner %s): release it first, or force it",
                                       dev->bdf, a->guest, a->owner);
        if (a->phase != ASSIGN_DONE)
                return sriov_error_set(e, -EINPROGRESS, "%s is being assigned to or released from guest %s", dev->bdf,
                                       a->guest);
        mark_broken(d, a, why);
        return 1;
}

int ledger_check_pf_assigned(Daemon *d, const sriov_device *pf, bool force, const char *why, sriov_error *e) {
        int changed = 0;

        for (size_t i = 0; i < pf->n_vfs; i++) {
                int r;

                if (!pf->vfs[i])
                        continue;
                r = ledger_check_assigned(d, pf->vfs[i], force, why, e);
                if (r < 0) {
                        size_t n = strlen(e ? e->message : "");

                        if (e)
                                (void) snprintf(e->message + n, sizeof(e->message) - n,
                                                " — changing the VF count of %s destroys it", pf->bdf);
                        return r;
                }
                changed |= r;
        }
        return changed;
}

int ledger_record_binding(Daemon *d, const pci_addr *addr, const char *driver, const char *override,
                          StateOrigin origin) {
        const sriov_device *dev = sriov_host_find(d->host, addr);
        char bdf[PCI_ADDR_STRLEN];
        StateDevice *rec;
        int r;

        r = state_record_prior(d->state, pci_addr_format(addr, bdf), driver, override);
        if (r < 0)
                return r;
        rec = state_find_device(d->state, bdf);
        if (r > 0) {
                rec->origin = origin;
                if (dev)
                        (void) ledger_identity(d, dev, rec->pf, &rec->vf_index, &rec->generation);
        }
        rec->pending = true;
        return r;
}

int ledger_record_vfs_release(Daemon *d, const sriov_device *pf, char ***ret_made, char ***ret_marked) {
        _cleanup_strv_free_ char **made = NULL, **marked = NULL;

        for (size_t i = 0; i < pf->n_vfs; i++) {
                const sriov_device *vf = pf->vfs[i];
                const StateDevice *rec;
                int r;

                if (!vf || !vf->driver)
                        continue;
                rec = state_find_device(d->state, vf->bdf);
                if (rec && rec->pending)
                        continue;       /* under way already: what it says stands */
                r = ledger_record_binding(d, &vf->addr, vf->driver, vf->driver_override, ORIGIN_API);
                if (r < 0)
                        return r;
                r = strv_extend(r > 0 ? &made : &marked, vf->bdf);
                if (r < 0)
                        return r;
        }
        *ret_made = TAKE_PTR(made);
        *ret_marked = TAKE_PTR(marked);
        return 0;
}

bool ledger_end_vfs_release(Daemon *d, char **made, char **marked) {
        bool changed = false;

        STRV_FOREACH(b, made)
                changed = state_forget_device(d->state, *b) > 0 || changed;
        STRV_FOREACH(b, marked)
                changed = state_set_pending(d->state, *b, false) > 0 || changed;
        return changed;
}

bool ledger_identity(Daemon *d, const sriov_device *dev, char pf[static PCI_ADDR_STRLEN], int *ret_index,
                     uint64_t *ret_generation) {
        if (!dev->is_vf)
                return false;
        pci_addr_format(&dev->physfn, pf);
        *ret_index = dev->vf_index;
        *ret_generation = state_pf_generation(d->state, pf);
        return true;
}

bool ledger_new_generation(Daemon *d, const char *pf, const char *why) {
        StatePF *p = state_find_pf(d->state, pf, true);
        bool changed = p != NULL;

        if (!p)
                return false;
        p->generation++;
        log_info("%s: its VFs are new (generation %llu): %s", pf, (unsigned long long) p->generation, why);
        /* binding records of the old VFs: nothing to put back on the new ones */
        for (size_t i = 0; i < d->state->n_devices;) {
                const StateDevice *r = &d->state->devices[i];

                if (streq(r->pf, pf) && r->generation < p->generation) {
                        log_info("Forgetting the recorded binding of %s: that VF is gone", r->bdf);
                        (void) state_forget_device(d->state, r->bdf);
                        continue;
                }
                i++;
        }
        for (size_t i = 0; i < d->state->n_quarantine;) {
                const StateQuarantine *q = &d->state->quarantine[i];

                if (streq(q->pf, pf) && q->generation < p->generation) {
                        log_info("%s leaves quarantine: that VF is gone, the new one is reset", q->vf);
                        (void) state_remove_quarantine(d->state, q->vf);
                        continue;
                }
                i++;
        }
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                StateAssignment *a = &d->state->assignments[i];

                if (!streq(a->pf, pf) || a->phase != ASSIGN_DONE || a->readiness == BROKEN)
                        continue;
                if (state_assignment_set_readiness(a, NOT_READY, why))
                        ledger_emit_assignment(d, a);
        }
        return changed;
}

/* The VF's own view (its Guest and Quarantine properties) changed too. */
static void emit_vf(Daemon *d, const char *vf) {
        const sriov_device *dev;
        pci_addr a;

        if (!d->events || !d->events->device_changed || pci_addr_parse(vf, &a) < 0)
                return;
        dev = sriov_host_find(d->host, &a);
        if (dev)
                d->events->device_changed(d, SRIOV_DEVICE_CHANGED, dev);
}

void ledger_emit_assignment(Daemon *d, const StateAssignment *a) {
        cdi_update(d, a, false);
        if (d->events && d->events->assignment_changed)
                d->events->assignment_changed(d, a, false);
        emit_vf(d, a->vf);
}

void ledger_emit_released(Daemon *d, const StateAssignment *a) {
        cdi_update(d, a, true);
        if (d->events && d->events->assignment_changed)
                d->events->assignment_changed(d, a, true);
        emit_vf(d, a->vf);
}

int ledger_quarantine(Daemon *d, const char *vf, const char *reason) {
        char pf[PCI_ADDR_STRLEN] = "";
        const sriov_device *dev;
        uint64_t generation = 0;
        int index = -1, r;
        pci_addr a;

        dev = pci_addr_parse(vf, &a) >= 0 ? sriov_host_find(d->host, &a) : NULL;
        if (dev)
                (void) ledger_identity(d, dev, pf, &index, &generation);
        r = state_add_quarantine(d->state, vf, pf, index, generation, reason);
        if (r > 0) {
                log_warning("%s is quarantined, it goes to no guest until an administrator clears it: %s", vf, reason);
                emit_vf(d, vf);
        }
        return r;
}

int ledger_clear_quarantine(Daemon *d, const char *vf, sriov_error *e) {
        int r;

        if (state_remove_quarantine(d->state, vf) <= 0)
                return sriov_error_set(e, -ESRCH, "%s is not quarantined", vf);
        r = ledger_commit(d, e);
        if (r < 0)
                return r;
        emit_vf(d, vf);
        return 0;
}
