/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon.h"
#include "device.h"
#include "lanes.h"
#include "vfattr.h"

/* A VF's settings (MAC, VLAN, rates, ...) read and set one VF at a time
 * (docs/dbus-api.md):
 *   GetVFConfig(s vf) -> a{sv} config
 *   SetVFConfig(s vf, a{sv} settings, a{sv} options) -> a{sv} after
 * The same a{sv} keys serve Assign and CreatePool. */

/* The settings keys of an a{sv}, as bus_read_options() fills them. */
typedef struct VFSettingsArgs {
        const char *mac, *vlan_proto, *link_state;
        uint32_t vlan, qos, min_tx_rate, max_tx_rate;
        int spoofchk, trust, query_rss;
        bool have_vlan, have_qos, have_proto, have_min, have_max, have_spoofchk, have_trust, have_query_rss;
} VFSettingsArgs;

/* The BusOption entries for them; mac_key is "mac" or "mac_base". */
#define VF_SETTINGS_OPTIONS(a, mac_key)                                                                         \
        { (mac_key), 's', &(a)->mac }, { "vlan", 'u', &(a)->vlan, &(a)->have_vlan },                            \
        { "qos", 'u', &(a)->qos, &(a)->have_qos }, { "vlan_proto", 's', &(a)->vlan_proto, &(a)->have_proto },   \
        { "min_tx_rate", 'u', &(a)->min_tx_rate, &(a)->have_min },                                              \
        { "max_tx_rate", 'u', &(a)->max_tx_rate, &(a)->have_max },                                              \
        { "spoofchk", 'b', &(a)->spoofchk, &(a)->have_spoofchk }, { "trust", 'b', &(a)->trust, &(a)->have_trust }, \
        { "link_state", 's', &(a)->link_state }, { "query_rss", 'b', &(a)->query_rss, &(a)->have_query_rss }

/* Validate what was read into c (mask and values); InvalidArgument with a
 * sentence otherwise. allow_zero_mac: "00:00:00:00:00:00" clears the MAC. */
int vf_settings_args_finish(const VFSettingsArgs *a, bool allow_zero_mac, sriov_vf_config *c, sd_bus_error *error);

/* Append the attributes in c->mask as {sv} entries (inside an open a{sv}). */
int bus_append_vf_config(sd_bus_message *m, const sriov_vf_config *c);

/* Worker-side helpers, shared with assign.c. */
int vf_index_of(sriov_ctx *ctx, const pci_addr *vf, pci_addr *ret_pf, sriov_error *err);
int pf_interface(sriov_ctx *ctx, const pci_addr *pf, char **ret);

typedef struct VFConfigWork {
        sriov_vf_config want;           /* SetVFConfig */
        bool bring_pf_up;
        /* results */
        char *pf_ifname;
        int index;
        sriov_vf_config after;          /* as the kernel reports it */
        unsigned ignored;
        bool zero_mac_fallback;
} VFConfigWork;

extern const JobType vf_get_job_type, vf_set_job_type;
int vfconfig_execute(sriov_ctx *ctx, const pci_addr *vf, bool set, VFConfigWork *w, sriov_error *err);

int vfconfig_method_get(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vfconfig_method_set(sd_bus_message *m, void *userdata, sd_bus_error *error);
