/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "sriovctl.h"

/* The steps that Apply and Reload answer, a(ssss): the device (an address,
 * or "VF n of PF" for VFs that do not exist yet), the kind of step
 * ("numvfs", "driver", "attributes", or "error" when the plan cannot be
 * made), what changes ("VFs 0 -> 4", "driver iavf -> vfio-pci", or for an
 * error what is wrong) and, after applying, why the step failed ("" if it
 * did not). Strings point into the reply. */
typedef struct PlanStep {
        const char *device, *kind, *change, *error;
} PlanStep;

typedef struct Plan {
        sd_bus_message *reply;
        PlanStep *steps;
        size_t n_steps;
        size_t n_failed;        /* error steps, and steps that failed */
        bool dry_run;
} Plan;

int plan_read(sd_bus_message *reply, bool dry_run, Plan *ret);
void plan_done(Plan *p);

/* A table of the steps under the JSON key; with_result adds "result"
 * (planned, done or failed) to each. */
void plan_print(const Plan *p, const char *key, const char *title, bool with_result);
