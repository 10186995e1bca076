/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "conffile.h"
#include "host.h"

/* Pool selectors, as written in the configuration and over D-Bus:
 *   ens1f0#0-3        VFs 0-3 of the PF with that interface (no "#...": all its VFs)
 *   0000:3b:00.0#4-7  VFs 4-7 of the PF at that address
 *   8086:154c         every VF with that vendor:device id
 *   numa:1            only VFs on NUMA node 1
 * A pool holds the VFs any of its PF/id selectors name, restricted to the
 * NUMA nodes of its numa: selectors (numa: selectors alone: every VF there). */

/* Bounds where pools enter (CreatePool, the configuration files), so that
 * the state and ListPools stay small (docs/security.md, "Limits"). */
#define POOLS_MAX               256     /* made at run time; as many again in the files */
#define POOL_SELECTORS_MAX      64
#define SELECTOR_LEN_MAX        64

typedef enum SelectorKind {
        SEL_PF_INTERFACE,
        SEL_PF_BDF,
        SEL_VF_ID,
        SEL_NUMA,
} SelectorKind;

typedef struct Selector {
        SelectorKind kind;
        char interface[16];
        pci_addr pf;
        unsigned first, last;           /* VF index range, inclusive */
        uint16_t vendor, device;
        int numa;
} Selector;

int selector_parse(const char *s, Selector *ret);
bool selector_matches(const Selector *sel, const sriov_device *vf);
/* selectors are pre-validated strings; invalid ones match nothing */
bool pool_contains(char * const *selectors, const sriov_device *vf);

/* A pool as assignment sees it, from the configuration or made at run time. */
typedef struct PoolView {
        const char *name;
        char * const *selectors;
        DriverWant driver_want;
        const char *driver;
        const sriov_vf_config *attrs;   /* the settings each VF gets (mac: a base when mac_is_base) */
        bool mac_is_base;
        int reset;                      /* ResetPolicy */
        bool runtime;
} PoolView;

/* The driver a pool's VFs are bound to: its own, else vfio-pci. */
const char *pool_driver(const PoolView *p);

typedef enum NumaPolicy {
        NUMA_ANY,
        NUMA_PREFERRED,
        NUMA_REQUIRED,
} NumaPolicy;

/* What a pool's member is to a request: free, or why it is not. */
typedef enum MemberUse {
        MEMBER_FREE,
        MEMBER_ASSIGNED,
        MEMBER_QUARANTINED,             /* its reset between guests failed */
        MEMBER_PENDING,                 /* a kernel write on its PF is under way */
        MEMBER_PASSED_OVER,             /* not the VF the request names */
        _MEMBER_USE_MAX,
} MemberUse;

/* The VF for a request from pool p: free (use_of says), in the pool, on
 * NUMA node numa (-1: any) as the policy asks; on equal terms the first in
 * the host's order (the lowest address). *ret_position: its place among the
 * pool's members in that order (what a MAC base is offset by). NULL when
 * none is left, with the reason in e (-ENOSPC): what holds the members. */
const sriov_device *pool_pick(const sriov_host *h, const PoolView *p, int numa, NumaPolicy policy,
                              MemberUse (*use_of)(const sriov_device *vf, void *userdata), void *userdata,
                              size_t *ret_position, sriov_error *e);
