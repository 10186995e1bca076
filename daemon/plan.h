/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "conffile.h"
#include "ops.h"

/* Converging a PF on its declared configuration, in two phases on the PF's
 * worker with the journal between them on the event loop: planning reads
 * the PF and its VFs fresh from sysfs and rtnetlink (never the daemon's
 * model), compares with the rule and lists the steps, with what each
 * device has now; the event loop records that (the ledger's rule: no
 * kernel write before its intent is on disk); executing then runs exactly
 * those steps: VF count (through 0 when changing a non-zero count), then
 * per VF, the VFs in parallel, the driver binding, then the VF attributes. A step
 * whose device changed since the plan is not run. A VF count change ends
 * the execution: the VFs it made get a plan of their own. Every step is
 * idempotent, so applying twice changes nothing the second time. */

typedef enum StepKind {
        STEP_NUMVFS,
        STEP_DRIVER,
        STEP_VF_ATTRS,
        STEP_ERROR,                     /* the plan cannot be made (what is wrong is in detail) */
} StepKind;

typedef struct PlanStep {
        StepKind kind;
        char bdf[64];                   /* the device changed, or "VF n of PF" before it exists */
        pci_addr addr;                  /* the device (has_addr: it exists now) */
        bool has_addr;
        unsigned count;                 /* STEP_NUMVFS */
        int autoprobe;
        DriverWant want;                /* STEP_DRIVER */
        char *driver;
        sriov_vf_config attrs;          /* STEP_VF_ATTRS: attrs.mask = what differs */
        char *pf_ifname;
        char *detail;                   /* for people: what changes, from what to what */
        int result;                     /* after applying: 0 or negative errno */
        char *error;
        char *prior_driver;             /* STEP_DRIVER: what the device has when planned (what RestoreDriver puts back) */
        char *prior_override;
        bool executed;                  /* the execution got to it (result says how it went) */
} PlanStep;

typedef struct Plan {
        PlanStep *steps;
        size_t n_steps;
        unsigned n_failed;
} Plan;

void plan_done(Plan *p);

/* Plan the rule for the PF. Returns <0 only on allocation failure; steps
 * that cannot be carried out are recorded in the plan as failed. assigned
 * lists the VFs that guests hold, as pairs (VF address, guest): the
 * configuration leaves their driver and settings alone (the guest's are in
 * force until Release), and a VF count change, which would destroy them,
 * is refused. *ret_family (optional): the read the plan was made from. */
int plan_pf(sriov_ctx *ctx, const ConfigPF *rule, const pci_addr *pf, char *const *assigned, Plan *ret,
            sriov_family **ret_family);

/* Executing, on workers: first the PF's step, when the plan has one (its
 * VF count and autoprobe, the plan's first step). *ret_replan: the count
 * changed, the VFs' steps need a new plan. Returns whether the VFs' steps
 * are to run now (the count did not change, nothing failed). */
bool plan_execute_pf(sriov_ctx *ctx, Plan *p, bool *ret_replan);
/* Then the steps of one VF, [first, end) (plan_device_end(p, first)): its
 * driver, then its attributes, in order; not those failed already, nor
 * those of VFs that do not exist yet. The steps of different VFs may run
 * at the same time on different threads: each touches its own steps only
 * (the plan's n_failed is counted again once they are all done). */
size_t plan_device_end(const Plan *p, size_t first);
void plan_execute_device(sriov_ctx *ctx, Plan *p, size_t first, size_t end);
void plan_count_failed(Plan *p);
/* The runnable steps of [first, end) that did not run: failed with r and message. */
void plan_refuse_steps(Plan *p, size_t first, size_t end, int r, const char *message);

const char *step_kind_name(StepKind k);
