/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lanes.h"

/* The binding engine: Bind, Unbind, RestoreDriver (and its re-probe when
 * nothing is recorded) and SetNumVFs, with their journal. Before the first
 * kernel write of a binding change, what the device has is recorded in the
 * state and marked as under way (binding_start()), so that a restart after
 * a crash puts it back (recovery.c); the record is what RestoreDriver puts
 * back later. */

typedef struct GroupPeer {
        pci_addr addr;
        char *prior_driver;
        char *prior_override;
} GroupPeer;

typedef struct BindWork {
        char *driver;                   /* bind: the driver */
        unsigned bind_flags;            /* bind: SRIOV_BIND_* */
        unsigned pt_flags;              /* bind to a user-space driver: PASSTHROUGH_* */
        bool force;                     /* skip the host-use and VFIO-user checks */
        char *prior_driver;             /* restore: what to restore; bind, unbind: what the function
                                         * had before the first attempt (an intent's re-run) */
        char *prior_override;
        GroupPeer *peers;               /* bind whole group: the peers bound along, their prior drivers;
                                         * restore: the peers to restore with it */
        size_t n_peers;
        bool journaled;                 /* the state record was made for this job */
        pci_addr *expected_peers;       /* bind whole group: the peers journaled before (nothing else is bound) */
        size_t n_expected_peers;
        /* results */
        char *found_driver;             /* what sriov_bind()/sriov_unbind() found before */
        char *found_override;
} BindWork;

typedef struct NumVFsWork {
        unsigned count;
        int autoprobe;                  /* -1: leave it */
        bool force;
        bool journaled;                 /* the PF's record says the change is under way */
        char **released_made;           /* the VFs' binding records for the change (ledger_record_vfs_release()) */
        char **released_marked;
        unsigned enabled;               /* result */
} NumVFsWork;

extern const JobType bind_job_type, unbind_job_type, restore_job_type, reprobe_job_type, numvfs_job_type;

Job *binding_bind_job_new(Daemon *d, const pci_addr *a, const char *driver, unsigned bind_flags, unsigned pt_flags,
                          bool force);
Job *binding_unbind_job_new(Daemon *d, const pci_addr *a, bool force);
/* Back to what the state records for the device (with the group peers bound
 * along with it); a re-probe of the host's drivers when nothing is recorded. */
Job *binding_restore_job_new(Daemon *d, const pci_addr *a);
/* A restore to the binding a state record names (recovery after a crash). */
Job *binding_restore_record_job_new(Daemon *d, const pci_addr *a, const char *prior_driver, const char *prior_override);
Job *binding_numvfs_job_new(Daemon *d, const pci_addr *a, unsigned count, int autoprobe, bool force);

/* Journal the change and queue it; j->done runs when it is over (j->r,
 * j->error, the payload's results). On failure (nothing was started: the
 * lane is pending, the journal cannot be written) j is not consumed and
 * j->r, j->error say why. */
int binding_start(Daemon *d, Job *j);
