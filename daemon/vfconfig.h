/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lanes.h"
#include "vfattr.h"

/* A VF's settings (MAC, VLAN, rates, ...) over rtnetlink, read and set one
 * VF at a time on the VF's lane (GetVFConfig, SetVFConfig). */

/* Worker-side helpers, shared with the assignment's work. */
int vf_index_of(sriov_ctx *ctx, const pci_addr *vf, pci_addr *ret_pf, sriov_error *err);
int pf_interface(sriov_ctx *ctx, const pci_addr *pf, char **ret);

typedef struct VFConfigWork {
        sriov_vf_config want;           /* set */
        bool bring_pf_up;
        /* results */
        char *pf_ifname;
        int index;
        sriov_vf_config after;          /* as the kernel reports it */
        unsigned ignored;
        bool zero_mac_fallback;
} VFConfigWork;

int vfconfig_execute(sriov_ctx *ctx, const pci_addr *vf, bool set, VFConfigWork *w, sriov_error *err);
/* get: read the VF's settings; set: set w->want and read them back. */
extern const JobType vf_get_job_type, vf_set_job_type;
