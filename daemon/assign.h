/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lanes.h"
#include "pool.h"
#include "state.h"
#include "vfattr.h"

/* Assigning VFs to guests (docs/assignment.md). Exactly one guest holds a
 * VF: the choice is made on the event loop and recorded (RESERVED) before
 * any work starts. Everything needed to undo an assignment is recorded
 * (PREPARED) before anything changes on the host, so a restart after a
 * crash rolls back what was not finished and finishes releases
 * (recovery.c). The kernel work runs on the VF's lane (assign-work.c). */

/* What Assign asks for. */
typedef struct AssignRequest {
        char guest[GUEST_NAME_MAX + 1];
        char owner[OWNER_NAME_MAX + 1]; /* the lease holder ("local" unless named) */
        char *target;                   /* a pool, or a VF (address or interface) */
        char *vf;                       /* with a pool: this member of it (option vf), else NULL */
        char *token;                    /* the caller's idempotency token, NULL if none */
        sriov_vf_config want;           /* settings (on top of the pool's) */
        bool set_owner;
        uint32_t uid, gid;
        int numa;                       /* -1: none named */
        NumaPolicy numa_policy;
        char *driver;                   /* NULL: the pool's, else vfio-pci */
        bool force;
} AssignRequest;

/* At most this many live guests in one Reconcile (a node of an orchestrator
 * runs hundreds). */
#define RECONCILE_GUESTS_MAX 16384

/* The guest's assignments, or every one of owner's whose guest is not in
 * live_guests (the lease holder's guests that exist): Reconcile. */
typedef void (*reconcile_done_t)(Daemon *d, int r, const char *message, char **released_pairs, void *userdata);
/* Release owner's assignments whose guest is not in live (released_pairs:
 * guest, VF, guest, VF, ...); with dry_run only say which. */
void assignment_reconcile(Daemon *d, const char *owner, char **live, bool dry_run, reconcile_done_t done,
                          void *userdata);
/* 1-64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit. */
bool owner_name_is_valid(const char *s);

AssignRequest *assign_request_free(AssignRequest *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(AssignRequest *, assign_request_free);

/* r >= 0: a is the guest's assignment (done); r < 0: why not (message may be NULL). */
typedef void (*assign_done_t)(Daemon *d, int r, const char *message, const StateAssignment *a, void *userdata);
/* Assign a VF to q->guest (takes q); done is called exactly once, maybe before returning. */
void assignment_assign(Daemon *d, AssignRequest *q, assign_done_t done, void *userdata);

/* released: the VFs given back; r < 0: the first failure (message). */
typedef void (*release_done_t)(Daemon *d, int r, const char *message, char **released, void *userdata);
/* Release the guest's VFs (vf: only that one; NULL or "": all); done is
 * called exactly once, maybe before returning. */
void assignment_release(Daemon *d, const char *guest, const char *vf, bool force, release_done_t done,
                        void *userdata);

/* Put back what the assignment a changed (a RELEASING record, at start:
 * recovery.c); done(r) once it is over. */
int assignment_finish_release(Daemon *d, StateAssignment *a, void (*done)(Daemon *d, int r, void *userdata),
                              void *userdata);

bool guest_name_is_valid(const char *s);

/* reserved, prepared, ready, not-ready, broken or releasing */
const char *assignment_state(const StateAssignment *a);

/* ---- the worker side (assign-work.c) ---- */

/* The work a job carries; the worker fills in priors and results. */
typedef struct AssignWork {
        char guest[GUEST_NAME_MAX + 1];
        char driver[64];
        sriov_vf_config want;
        bool set_owner;
        uid_t uid;
        gid_t gid;
        bool force;
        ResetPolicy reset;
        /* prepare: found */
        char *prior_driver;
        char *prior_override;
        sriov_vf_config prior;
        char *pf_ifname;
        bool pf_link_was_down;          /* and release: Assign brought it up */
        int vf_index;
        unsigned pf_numvfs;
        bool will_reset;                /* the VF is reset before the guest gets it */
        char *reset_method;             /* the kernel's first reset method, NULL if it does not say */
        /* apply, release: */
        bool reset_done;
        bool reset_failed;              /* the VF must not go to another tenant */
        char reset_error[512];
        /* release: what to put back */
        bool rollback;                  /* of a failed or interrupted assignment */
        bool pf_link_down_ok;           /* no other user of the PF's link that sriovd knows */
        const char *pf_link_needed_by;  /* else who needs it up, when known (a static string) */
        char pf_link_note[600];         /* what became of the PF's link */
        bool unchanged;                 /* refused before the first change */
        int failure;                    /* rollback after a failure: the error to answer with */
        char failure_message[512];
} AssignWork;

/* What the VF had before (driver, override, settings, the PF's link and VF
 * count, its index), from the prepare step's reading, into a. */
void assign_record_prior(StateAssignment *a, const AssignWork *w);

void assign_work_free(AssignWork *w);
/* The work of the assignment a: what it wants, what to put back. */
AssignWork *assign_work_from(const StateAssignment *a, bool force);
/* Queue the work w (taken) on the VF's lane; complete gets j->userdata. */
int assign_submit(Daemon *d, const JobType *type, const char *vf, AssignWork *w, void (*complete)(Job *),
                  void *userdata);
/* prepare: read what the assignment will change (nothing changes);
 * apply: VF settings, binding, node ownership; release: put them back. */
extern const JobType assign_prepare_job_type, assign_apply_job_type, assign_release_job_type;

/* ---- what a VMM needs (assign-vmm.c) ---- */

typedef struct AssignmentVmm {
        const sriov_device *vf;
        char *libvirt_hostdev;          /* <hostdev> */
        char *libvirt_interface;        /* <interface type='hostdev'> with the MAC and VLAN */
        char **qemu_args;               /* -device vfio-pci,host=...,id=... */
        char **device_nodes;            /* /dev/vfio/GROUP and the VFIO cdev where the kernel has one */
} AssignmentVmm;

/* -ENODEV when the VF is not on the host (any more). */
int assignment_vmm(Daemon *d, const StateAssignment *a, AssignmentVmm *ret);
void assignment_vmm_done(AssignmentVmm *v);
