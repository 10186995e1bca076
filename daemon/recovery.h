/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"
#include "state.h"

/* At start: what a crash left half done in the state. The decisions are
 * made from the state and the host model alone (recovery_decide()), then
 * carried out on the lanes (recovery_start()). */

typedef enum RecoveryAction {
        RECOVER_NOTHING,                /* a settled record */
        RECOVER_RESTORE_BINDING,        /* a Bind, Unbind or RestoreDriver was interrupted: back to the record */
        RECOVER_FORGET_BINDING,         /* ... of a device that is not on the host (any more) */
        RECOVER_DROP,                   /* an assignment only reserved: nothing had changed yet */
        RECOVER_ROLL_BACK,              /* an assignment under way (prepared): put back what it changed */
        RECOVER_FINISH_RELEASE,         /* a release under way: finish it */
        RECOVER_REPORT_MISSING,         /* a done assignment whose VF is not on the host */
        RECOVER_REPORT_DRIVER,          /* a done assignment whose VF is on another driver */
} RecoveryAction;

const char *recovery_action_name(RecoveryAction a);

/* What recovery does with device record i of the state. */
RecoveryAction recovery_decide_device(const State *s, size_t i, const sriov_host *h);
/* What recovery does with assignment i of the state. */
RecoveryAction recovery_decide_assignment(const State *s, size_t i, const sriov_host *h);

/* Carry the decisions out; done is called once every job they started
 * finished (maybe before returning). */
int recovery_start(Daemon *d, void (*done)(Daemon *d, void *userdata), void *userdata);
