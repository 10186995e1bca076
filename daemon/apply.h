/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "conffile.h"
#include "lanes.h"
#include "plan.h"

/* The declared configuration on one PF: plan on its lane (reads only),
 * journal on the event loop what each step changes (origin "config": the
 * binding before it, the VF count before it), execute exactly those steps
 * on the lane, then settle the journal — and plan again after a VF count
 * change, for the VFs it made (at most a few rounds). A dry run only plans.
 * done gets every round's steps (taken: the callee frees them with
 * plan_done()). */

typedef struct ApplyResult {
        pci_addr pf;
        Plan steps;
        bool dry_run;
        bool retry;                     /* a retry of failed steps (keeps the lane's retry count) */
        bool held;                      /* a write is still held by the kernel */
} ApplyResult;

typedef void (*apply_pf_done_t)(Daemon *d, ApplyResult *res, void *userdata);

int apply_pf(Daemon *d, const sriov_device *pf, const ConfigPF *rule, bool dry_run, bool retry, apply_pf_done_t done,
             void *userdata);
