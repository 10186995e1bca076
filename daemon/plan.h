/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "conffile.h"
#include "ops.h"

/* Converging a PF on its declared configuration. Planning reads the PF and
 * its VFs fresh from sysfs and rtnetlink (never the daemon's model, so it
 * runs on the PF's worker), compares with the rule and lists the steps;
 * applying runs them in order: VF count (through 0 when changing a non-zero
 * count), then per VF the driver binding, then the VF attributes. Every step
 * is idempotent, so applying twice changes nothing the second time. */

typedef enum StepKind {
        STEP_NUMVFS,
        STEP_DRIVER,
        STEP_VF_ATTRS,
        STEP_ERROR,                     /* the plan cannot be made (what is wrong is in detail) */
} StepKind;

typedef struct PlanStep {
        StepKind kind;
        char bdf[64];                   /* the device changed, or "VF n of PF" before it exists */
        unsigned count;                 /* STEP_NUMVFS */
        int autoprobe;
        DriverWant want;                /* STEP_DRIVER */
        char *driver;
        sriov_vf_config attrs;          /* STEP_VF_ATTRS: attrs.mask = what differs */
        char *pf_ifname;
        char *detail;                   /* for people: what changes, from what to what */
        int result;                     /* after applying: 0 or negative errno */
        char *error;
        char *prior_driver;             /* STEP_DRIVER applied: what the device had */
        char *prior_override;
} PlanStep;

typedef struct Plan {
        PlanStep *steps;
        size_t n_steps;
        unsigned n_failed;
} Plan;

void plan_done(Plan *p);

/* Plan (and with apply, carry out) the rule for the PF. Returns <0 only on
 * allocation failure; failed steps are recorded in the plan. assigned lists
 * the VFs that guests hold, as pairs (VF address, guest): the configuration
 * leaves their driver and settings alone (the guest's are in force until
 * Release), and a VF count change, which would destroy them, is refused. */
int plan_pf(sriov_ctx *ctx, const ConfigPF *rule, const pci_addr *pf, bool apply, char *const *assigned, Plan *ret);

const char *step_kind_name(StepKind k);
