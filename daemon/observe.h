/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"
#include "linkmon.h"
#include "vfattr.h"

/* What sriovd watches (issue 18): each PF's link (carrier, speed, link
 * type, RDMA), the health of the VFs it hands out, and the settings of the
 * VFs it declared or assigned, kept in step by one rtnetlink subscription
 * (RTNLGRP_LINK): a notification about a PF's interface queues a read of
 * the PF (its link and its VFs' settings) on the PF's lane, after the
 * work sriovd itself does there. Nothing runs while nothing changes. */

typedef struct PFLink {
        char pf[PCI_ADDR_STRLEN];
        char ifname[16];                /* "" when the PF has no interface */
        bool known;                     /* read at least once */
        bool admin_up;                  /* IFF_UP */
        int carrier;                    /* 1, 0; -1 unknown */
        int operstate;                  /* IF_OPER_*, -1 unknown */
        unsigned short type;            /* ARPHRD_*, 0 unknown */
        int speed;                      /* Mbit/s; -1 unknown */
        char *rdma;                     /* the PF's RDMA device, NULL if none */
} PFLink;

/* A VF whose settings differ from what sriovd declared or assigned. */
typedef struct DriftRecord {
        char vf[PCI_ADDR_STRLEN];
        char pf[PCI_ADDR_STRLEN];
        int vf_index;
        const char *source;             /* "config" or "assignment" */
        char *guest;                    /* the assignment's, NULL for "config" */
        sriov_vf_config want;           /* want.mask: the settings that differ */
        sriov_vf_config found;
        uint64_t since;                 /* CLOCK_REALTIME µs */
        bool enforce;
        unsigned enforced;              /* times put back */
        bool enforce_failed;            /* the last try failed: not again until it changes */
} DriftRecord;

typedef struct Metrics Metrics;

typedef struct Observe {
        sriov_linkmon *mon;
        sd_event_source *source;
        PFLink *links;
        size_t n_links;
        DriftRecord *drift;
        size_t n_drift;
        unsigned long long n_drift_detected, n_drift_enforced, n_notifications, n_resyncs;
        Metrics *metrics;
} Observe;

/* linkwatch.c: the subscription; every PF read once (at start, and again
 * once the daemon is ready); after a model change of a PF */
int observe_setup(Daemon *d);
void observe_done(Daemon *d);
void observe_read_all(Daemon *d);
void observe_device_changed(Daemon *d, sriov_change change, const sriov_device *dev);
/* Queue a read of the PF's link and VF settings (coalesced). */
void linkwatch_refresh(Daemon *d, const pci_addr *pf);
/* The PF's link as last read; NULL before the first read. */
const PFLink *observe_pf_link(Daemon *d, const char *pf);

/* health.c: "" (healthy) or why not, for a VF of the model */
char *vf_health_reason(Daemon *d, const sriov_device *vf);
/* and for a PF: its link, "" when up with a carrier or without an interface */
char *pf_health_reason(Daemon *d, const sriov_device *pf);

/* drift.c: compare the PF's VFs (as just read, l) with what sriovd declared
 * or assigned; record, tell, and put back where enforced */
void drift_check(Daemon *d, const sriov_device *pf, const sriov_link *l);
void drift_forget_pf(Daemon *d, const char *pf);
/* The declared or assigned settings of a VF; false if none. */
bool drift_wanted(Daemon *d, const sriov_device *vf, sriov_vf_config *ret, const char **ret_source, bool *ret_enforce);

/* Attribute names of mask, ", " separated (a static buffer for logs). */
const char *vf_attrs_describe(unsigned mask, char *buf, size_t size);
/* "mac 02:00:..., vlan 100" of the attributes in mask */
const char *vf_values_describe(const sriov_vf_config *c, unsigned mask, char *buf, size_t size);
