/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"
#include "state.h"

/* The ledger's rules (state.h) as the daemon keeps them. Every writer of
 * the host goes through here: it changes the state in memory, commits it,
 * and only then writes to the kernel. */

/* The change made in memory must be on disk before the kernel write that
 * it allows: write it. On failure the memory goes back to what is on disk
 * (pointers into the state are invalid then), and the caller must not write
 * to the kernel: -EDQUOT (org.sriovd.Error.StateUnavailable) with a
 * sentence in e. */
int ledger_commit(Daemon *d, sriov_error *e);
/* A change that follows a kernel write (a step is over): written, and a
 * failure only logged — a restart finds the step under way and finishes or
 * undoes it. */
void ledger_save(Daemon *d);

/* The assignment that holds the device (a VF), if any. */
StateAssignment *ledger_assignment_of(Daemon *d, const char *bdf);

/* Before a verb changes dev's driver, existence or settings: a VF a guest
 * holds is refused (-EPERM: VFsAssigned, naming the guest) unless forced;
 * forced, its assignment becomes broken with why (the caller commits it
 * with its own intent). Returns 1 when an assignment was marked broken. */
int ledger_check_assigned(Daemon *d, const sriov_device *dev, bool force, const char *why, sriov_error *e);
/* The same for every VF of a PF that a VF count change removes. */
int ledger_check_pf_assigned(Daemon *d, const sriov_device *pf, bool force, const char *why, sriov_error *e);

/* The PF's VFs were (or will be) re-created: a new generation. Records of
 * the old one never act on the new devices: binding records and quarantine
 * of its VFs go; its done assignments are to be set up again (not ready).
 * Returns whether the state changed (the caller saves). */
bool ledger_new_generation(Daemon *d, const char *pf, const char *why);

/* Before a binding change: what the device has (driver, override) unless
 * an earlier change recorded it, with who made it and the VF's identity,
 * marked as under way. Returns 1 if the record was made now. */
int ledger_record_binding(Daemon *d, const pci_addr *addr, const char *driver, const char *override,
                          StateOrigin origin);

/* Before a VF count change, which unbinds the VFs it destroys first
 * (sriov_set_numvfs()): what each VF with a driver is bound to, under way,
 * so that a restart in between binds them again. The BDFs of the records
 * made now go to *ret_made, of those that were there to *ret_marked. */
int ledger_record_vfs_release(Daemon *d, const sriov_device *pf, char ***ret_made, char ***ret_marked);
/* The change is over: the records it made go, those it marked are settled
 * (both are gone already when the VFs are). Returns whether the state
 * changed (the caller saves). */
bool ledger_end_vfs_release(Daemon *d, char **made, char **marked);

/* A VF's identity as the model has it now: its PF, index and the PF's
 * generation. false if dev is not a VF. */
bool ledger_identity(Daemon *d, const sriov_device *dev, char pf[static PCI_ADDR_STRLEN], int *ret_index,
                     uint64_t *ret_generation);

/* Tell the outside an assignment changed (state, readiness, nodes), or is gone. */
void ledger_emit_assignment(Daemon *d, const StateAssignment *a);
void ledger_emit_released(Daemon *d, const StateAssignment *a);

/* Keep the VF from every guest (its reset between tenants failed), with
 * its identity; the caller saves. 1 if recorded, 0 if it was already. */
int ledger_quarantine(Daemon *d, const char *vf, const char *reason);
/* Let it go to guests again, on disk before it does. -ESRCH: it is not
 * quarantined; -EDQUOT: that cannot be recorded (it stays quarantined). */
int ledger_clear_quarantine(Daemon *d, const char *vf, sriov_error *e);
