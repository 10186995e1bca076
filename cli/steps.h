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
typedef struct ApplyStep {
        const char *device, *kind, *change, *error;
} ApplyStep;

typedef struct ApplySteps {
        sd_bus_message *reply;
        ApplyStep *steps;
        size_t n_steps;
        size_t n_failed;        /* error steps, and steps that failed */
        bool dry_run;
} ApplySteps;

int steps_read(sd_bus_message *reply, bool dry_run, ApplySteps *ret);
void steps_done(ApplySteps *p);

/* A table of the steps under the JSON key; with_result adds "result"
 * (planned, done or failed) to each. */
void steps_print(const ApplySteps *p, const char *key, const char *title, bool with_result);
