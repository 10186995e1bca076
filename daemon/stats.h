/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"
#include "vfstats.h"

/* VF counters when asked for (GetVFStats, metrics): the VFs of a scope,
 * labelled with what sriovd knows of them (PF, pool, guest, owner), read
 * in one job on the host-wide lane (one RTM_GETLINK per PF), off the event
 * loop and away from the PFs' own lanes, so that a long bind does not hold
 * a read up. */

typedef enum StatsScope {
        STATS_ALL,
        STATS_VF,
        STATS_PF,
        STATS_POOL,
        STATS_GUEST,
        _STATS_SCOPE_MAX,
} StatsScope;

int stats_scope_from_string(const char *s, StatsScope *ret);

typedef struct VFStatsEntry {
        char vf[PCI_ADDR_STRLEN];
        char pf[PCI_ADDR_STRLEN];
        int index;
        char *pf_ifname;                /* NULL: the PF has no interface */
        char *pf_driver;
        char *pool, *guest, *owner;     /* NULL: none */
        int read_r;                     /* the PF's read: 0 or a negative errno */
        bool reported;
        const char *note;               /* why not reported (static), NULL when reported */
        sriov_vf_stats stats;
        uint64_t timestamp;             /* CLOCK_MONOTONIC µs of the read */
} VFStatsEntry;

typedef struct VFStatsSet {
        VFStatsEntry *v;
        size_t n;
} VFStatsSet;

VFStatsSet *vf_stats_set_free(VFStatsSet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(VFStatsSet *, vf_stats_set_free);

/* The VFs of the scope (name: a VF, a PF (address or interface), a pool, a
 * guest; ignored for STATS_ALL). -ENODEV / -ESRCH with a sentence in e for
 * a VF, PF, pool or guest that is not there. */
int stats_collect(Daemon *d, StatsScope scope, const char *name, VFStatsSet **ret, sriov_error *e);

/* Read their counters; done(d, set, userdata) on the event loop, the set
 * taken by done. */
typedef void (*stats_done_t)(Daemon *d, VFStatsSet *set, void *userdata);
int stats_read(Daemon *d, VFStatsSet *set, stats_done_t done, void *userdata);
