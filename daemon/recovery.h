/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"
#include "state.h"

/* At start: what a crash, a reboot or a PF reset left in the ledger. Every
 * record is checked as the API would check it (a VF of its PF, never a
 * bridge, the device it was made for) before anything acts on it. The
 * decisions come from the state and the host model alone (the
 * recovery_decide_*() functions, unit-tested), then recovery_start()
 * carries them out on the lanes. */

typedef enum RecoveryAction {
        RECOVER_NOTHING,                /* a settled record */
        RECOVER_RESTORE_BINDING,        /* a Bind, Unbind or RestoreDriver was interrupted: back to the record */
        RECOVER_SETTLE_BINDING,         /* a binding by the configuration was interrupted: it is applied again */
        RECOVER_FORGET_BINDING,         /* a record of a device that is not there, or not the same one */
        RECOVER_SET_ASIDE,              /* a record no API call could have made (a bridge, a VF of another PF) */
        RECOVER_RESTORE_NUMVFS,         /* a VF count change was interrupted: the count before it */
        RECOVER_DROP,                   /* an assignment only reserved (or its VF is gone): nothing to undo */
        RECOVER_ROLL_BACK,              /* an assignment under way (prepared): put back what it changed */
        RECOVER_FINISH_RELEASE,         /* a release under way: finish it */
        RECOVER_NOT_READY,              /* a done assignment whose VF is gone or re-created: set it up again */
} RecoveryAction;

const char *recovery_action_name(RecoveryAction a);

/* What recovery does with device record i, PF record i, assignment i. */
RecoveryAction recovery_decide_device(const State *s, size_t i, const sriov_host *h);
RecoveryAction recovery_decide_pf(const State *s, size_t i, const sriov_host *h);
RecoveryAction recovery_decide_assignment(const State *s, size_t i, const sriov_host *h);

/* Carry the decisions out; done is called once every job they started
 * finished (maybe before returning). */
int recovery_start(Daemon *d, void (*done)(Daemon *d, void *userdata), void *userdata);
