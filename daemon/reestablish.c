/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "assign.h"
#include "binding.h"
#include "conffile.h"
#include "journal.h"
#include "ledger.h"
#include "ops.h"
#include "reestablish.h"

/* The tries under way (one per assignment at a time), and who waits for them. */
typedef struct Batch {
        unsigned outstanding;
        void (*done)(Daemon *d, void *userdata);
        void *userdata;
} Batch;

typedef struct Try {
        char vf[PCI_ADDR_STRLEN];
        Batch *batch;
} Try;

static void batch_maybe_done(Daemon *d, Batch *b) {
        if (!b || b->outstanding > 0)
                return;
        b->done(d, b->userdata);
        free(b);
}

static void try_over(Daemon *d, Try *t) {
        Batch *b = t->batch;
        char **k = d->reestablishing;

        /* no longer under way */
        for (size_t i = 0; k && k[i]; i++)
                if (streq(k[i], t->vf)) {
                        free(k[i]);
                        memmove(k + i, k + i + 1, (strv_length(k) - i) * sizeof(char *));
                        break;
                }
        free(t);
        if (b) {
                b->outstanding--;
                batch_maybe_done(d, b);
        }
}

static void set_readiness(Daemon *d, StateAssignment *a, Readiness r, const char *reason) {
        if (!state_assignment_set_readiness(a, r, reason))
                return;
        if (r == BROKEN)
                log_event(EVENT_RECOVERY, 4, &(LogFields) { .device = a->vf, .pf = a->pf, .guest = a->guest, .pool = a->pool },
                          "The assignment of %s to %s is broken: %s", a->vf, a->guest, reason);
        else if (r == READY)
                log_event(EVENT_RECOVERY, 6, &(LogFields) { .device = a->vf, .pf = a->pf, .guest = a->guest, .pool = a->pool },
                          "The assignment of %s to %s is set up again", a->vf, a->guest);
        ledger_save(d);
        ledger_emit_assignment(d, a);
}

static StateAssignment *still_not_ready(Daemon *d, const char *vf) {
        StateAssignment *a = state_find_assignment_by_vf(d->state, vf);

        return a && a->phase == ASSIGN_DONE && a->readiness == NOT_READY ? a : NULL;
}

static void step(Daemon *d, Try *t);

/* What the configuration declares for the assignment's VF (its PF's rule,
 * its index): its driver and its settings (ret->mask 0: none); false when
 * no rule covers it. */
static bool declared_for(Daemon *d, const StateAssignment *a, DriverWant *ret_want, const char **ret_driver,
                         sriov_vf_config *ret) {
        const sriov_device *pf;
        const ConfigPF *rule;
        pci_addr addr;

        *ret_want = DRIVER_UNSET;
        *ret_driver = NULL;
        if (!d->declared || a->vf_index < 0 || pci_addr_parse(a->pf, &addr) < 0 ||
            !(pf = sriov_host_find(d->host, &addr)))
                return false;
        rule = config_rule_for(d->declared, d->host, pf);
        return rule && config_vf_settings(rule, (unsigned) a->vf_index, ret_want, ret_driver, ret);
}

/* The VF settings the configuration declares for the assignment's VF;
 * false when none. */
static bool declared_settings(Daemon *d, const StateAssignment *a, sriov_vf_config *ret) {
        DriverWant want;
        const char *driver;

        return declared_for(d, a, &want, &driver, ret) && ret->mask;
}

/* The guest's wishes, over the settings the configuration declares for the
 * VF: a new VF has neither, and before it was destroyed the guest's VF had
 * both (the configuration's, then the guest's own on top). What to put back
 * comes from a new prepare, or stays. */
static AssignWork *work_for(Daemon *d, const StateAssignment *a) {
        AssignWork *w = assign_work_from(a, false);
        sriov_vf_config want;

        if (w && declared_settings(d, a, &want)) {
                vf_config_copy(&want, &a->want, a->want.mask);
                w->want = want;
        }
        return w;
}

static void apply_done(Job *j) {
        Try *t = j->userdata;
        Daemon *d = j->daemon;
        StateAssignment *a = still_not_ready(d, t->vf);
        const sriov_device *vf;
        pci_addr addr;

        if (a && j->r < 0) {
                char reason[600];

                (void) snprintf(reason, sizeof(reason), "setting it up again failed: %.560s",
                                j->error.error ? j->error.message : strerror(-j->r));
                set_readiness(d, a, BROKEN, reason);
        } else if (a) {
                (void) pci_addr_parse(a->vf, &addr);
                vf = sriov_host_find(d->host, &addr);
                if (vf)
                        (void) ledger_identity(d, vf, a->pf, &a->vf_index, &a->generation);
                set_readiness(d, a, READY, NULL);
        }
        try_over(d, t);
}


/* What to put back on disk before the VF changes, then the guest's settings
 * on it. *a: the assignment again (a failed commit puts back the records). */
static int commit_and_apply(Daemon *d, Try *t, StateAssignment **a, sriov_error *e) {
        int r;

        r = ledger_commit(d, e);
        *a = still_not_ready(d, t->vf);
        if (r < 0)
                return r;
        if (!*a)
                return -ESTALE;         /* settled otherwise meanwhile: this try is over */
        return assign_submit(d, &assign_apply_job_type, t->vf, work_for(d, *a), apply_done, t);
}

/* A new VF that the configuration declares settings for would have had them
 * but for the guest (the configuration leaves an assigned VF alone, as after
 * a reboot): those settings, not the ones the VF came with, are what a
 * release puts back. */
static void prior_as_declared(Daemon *d, StateAssignment *a) {
        _cleanup_free_ char *bound = NULL, *override = NULL;
        sriov_vf_config declared;
        DriverWant want;
        const char *driver;
        bool dma;

        if (!declared_for(d, a, &want, &driver, &declared))
                return;
        vf_config_copy(&a->prior, &declared, declared.mask);
        if (want != DRIVER_NAMED)
                return;
        /* bound as the configuration binds it: a DMA-managed driver keeps
         * its override (plan.c) */
        dma = driver_is_dma_managed(driver);
        bound = strdup(driver);
        override = dma ? strdup(driver) : NULL;
        if (!bound || (dma && !override)) {
                log_warning("Out of memory: the release of %s puts back the driver its new VF had", a->vf);
                return;
        }
        free(a->prior_driver);
        a->prior_driver = TAKE_PTR(bound);
        free(a->prior_override);
        a->prior_override = TAKE_PTR(override);
}

static void prepare_done(Job *j) {
        Try *t = j->userdata;
        Daemon *d = j->daemon;
        StateAssignment *a = still_not_ready(d, t->vf);
        sriov_error e = {};
        int r;

        if (!a) {
                try_over(d, t);
                return;
        }
        if (j->r < 0) {
                char reason[600];

                (void) snprintf(reason, sizeof(reason), "its VF cannot be set up again: %.560s",
                                j->error.error ? j->error.message : strerror(-j->r));
                set_readiness(d, a, BROKEN, reason);
                try_over(d, t);
                return;
        }
        /* the VF as it is now is what a release puts back (it is a new VF),
         * with the configuration's settings for it */
        assign_record_prior(a, j->payload);
        prior_as_declared(d, a);
        r = commit_and_apply(d, t, &a, &e);
        if (r < 0) {
                if (a)
                        (void) state_assignment_set_readiness(a, NOT_READY, e.error ? e.message : strerror(-r));
                try_over(d, t);
        }
}

static void numvfs_done(Job *j) {
        Try *t = j->userdata;
        Daemon *d = j->daemon;
        StateAssignment *a = still_not_ready(d, t->vf);

        if (a && j->r < 0) {
                char reason[600];

                (void) snprintf(reason, sizeof(reason), "its VFs cannot be created again: %.560s",
                                j->error.error ? j->error.message : strerror(-j->r));
                set_readiness(d, a, BROKEN, reason);
                try_over(d, t);
                return;
        }
        /* the VFs are there (the job read the PF back): the next step */
        step(d, t);
}

/* No VFs on the PF and nothing else creates them: as many as the PF had
 * when the guest got its VF (journaled like SetNumVFs). */
static int create_vfs(Daemon *d, Try *t, const StateAssignment *a, const sriov_device *pf) {
        unsigned want = MAX(a->pf_numvfs, (unsigned) a->vf_index + 1);
        Job *j;
        int r;

        if (want > pf->sriov.total_vfs)
                want = pf->sriov.total_vfs;
        log_info("Creating %u VFs on %s again for the assignment of %s to %s", want, pf->bdf, a->vf, a->guest);
        j = binding_numvfs_job_new(d, &pf->addr, want, -1, false);
        if (!j)
                return -ENOMEM;
        j->done = numvfs_done;
        j->userdata = t;
        r = binding_start(d, j);
        if (r < 0)
                job_free(j);
        return r;
}

/* Where the assignment stands, and the next thing it needs. */
static void step(Daemon *d, Try *t) {
        StateAssignment *a = still_not_ready(d, t->vf);
        const sriov_device *pf, *vf;
        char reason[300];
        pci_addr addr;
        int r;

        if (!a) {
                try_over(d, t);
                return;
        }
        pf = pci_addr_parse(a->pf, &addr) >= 0 ? sriov_host_find(d->host, &addr) : NULL;
        vf = pci_addr_parse(a->vf, &addr) >= 0 ? sriov_host_find(d->host, &addr) : NULL;
        if (!pf || !pf->is_pf) {
                set_readiness(d, a, NOT_READY, "its PF is not on the host; it is set up again when the PF comes back");
                try_over(d, t);
                return;
        }
        if (!pf->driver) {
                /* no VFs without the PF's driver (a reload, a reset under way) */
                set_readiness(d, a, NOT_READY, "its PF has no driver; it is set up again when the PF has one");
                try_over(d, t);
                return;
        }
        if (vf && vf->is_vf && pci_addr_equal(&vf->physfn, &pf->addr) &&
            (a->vf_index < 0 || vf->vf_index == a->vf_index)) {
                bool intact = vf->driver && a->driver && streq(vf->driver, a->driver);

                /* a VF still on the guest's driver keeps what to put back */
                r = intact ? assign_submit(d, &assign_apply_job_type, t->vf, work_for(d, a), apply_done, t)
                           : assign_submit(d, &assign_prepare_job_type, t->vf, work_for(d, a), prepare_done, t);
        } else if (pf->sriov.num_vfs == 0 && !(d->declared && config_rule_for(d->declared, d->host, pf)))
                r = create_vfs(d, t, a, pf);
        else if (pf->sriov.num_vfs == 0) {
                set_readiness(d, a, NOT_READY, "waiting for the declared configuration to create the PF's VFs");
                r = -EAGAIN;
        } else {
                (void) snprintf(reason, sizeof(reason), "%s has %u VFs now, and VF %d is not among them", pf->bdf,
                                pf->sriov.num_vfs, a->vf_index);
                set_readiness(d, a, BROKEN, reason);
                r = -ENODEV;
        }
        if (r == -EINPROGRESS)
                (void) state_assignment_set_readiness(a, NOT_READY, "waiting for a kernel write on its PF");
        if (r < 0)
                try_over(d, t);
}

static int start_try(Daemon *d, const StateAssignment *a, Batch *b) {
        Try *t;

        if (strv_contains(d->reestablishing, a->vf))
                return 0;
        t = calloc(1, sizeof(*t));
        if (!t || strv_extend(&d->reestablishing, a->vf) < 0) {
                free(t);
                return -ENOMEM;
        }
        memcpy(t->vf, a->vf, sizeof(t->vf));
        t->batch = b;
        if (b)
                b->outstanding++;
        step(d, t);
        return 1;
}

/* The VFs of the not-ready assignments (of pf, or all): the list is taken
 * first, since a step can change the state under the loop. */
static char **not_ready(Daemon *d, const char *pf) {
        char **l = NULL;

        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                if (a->phase == ASSIGN_DONE && a->readiness == NOT_READY && (!pf || streq(a->pf, pf)) &&
                    strv_extend(&l, a->vf) < 0)
                        return strv_free(l);
        }
        return l;
}

static void try_each(Daemon *d, char **vfs, Batch *b) {
        STRV_FOREACH(v, vfs) {
                StateAssignment *a = still_not_ready(d, *v);

                if (a && start_try(d, a, b) < 0)
                        log_error("Out of memory: the assignment of %s is set up again later", *v);
        }
}

int reestablish_all(Daemon *d, void (*done)(Daemon *d, void *userdata), void *userdata) {
        _cleanup_strv_free_ char **vfs = not_ready(d, NULL);
        Batch *b = calloc(1, sizeof(*b));

        if (!b)
                return -ENOMEM;
        *b = (Batch) { .outstanding = 1, .done = done, .userdata = userdata };
        if (vfs)
                log_info("Setting up %zu assignment(s) again", strv_length(vfs));
        try_each(d, vfs, b);
        b->outstanding--;
        batch_maybe_done(d, b);
        return 0;
}

void reestablish_pf(Daemon *d, const char *pf) {
        _cleanup_strv_free_ char **vfs = not_ready(d, pf);

        try_each(d, vfs, NULL);
}
