/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "bus.h"

/* The settings of a VF (MAC, VLAN, rates, ...) under the keys sriovd uses in
 * every a{sv} that has them: GetVFConfig, SetVFConfig, Assign,
 * ListAssignments and ListPools. Only what was reported is set. */
#define VF_SETTING_NONE UINT32_MAX
typedef struct VFSettings {
        const char *mac, *vlan_proto, *link_state;      /* NULL: not reported */
        uint32_t vlan, qos, min_tx_rate, max_tx_rate;   /* VF_SETTING_NONE: not reported */
        int spoofchk, trust, query_rss;                 /* -1: not reported */
} VFSettings;

#define VF_SETTINGS_INIT                                                                                   \
        { .vlan = VF_SETTING_NONE, .qos = VF_SETTING_NONE, .min_tx_rate = VF_SETTING_NONE,                 \
          .max_tx_rate = VF_SETTING_NONE, .spoofchk = -1, .trust = -1, .query_rss = -1 }

/* The BusField entries of the settings, for a struct type with a VFSettings member. */
#define VF_SETTINGS_FIELDS(type, member)                                                                   \
        BUS_FIELD(type, "mac", "s", member.mac), BUS_FIELD(type, "vlan", "u", member.vlan),                \
        BUS_FIELD(type, "qos", "u", member.qos), BUS_FIELD(type, "vlan_proto", "s", member.vlan_proto),    \
        BUS_FIELD(type, "min_tx_rate", "u", member.min_tx_rate),                                           \
        BUS_FIELD(type, "max_tx_rate", "u", member.max_tx_rate),                                           \
        BUS_FIELD(type, "spoofchk", "b", member.spoofchk), BUS_FIELD(type, "trust", "b", member.trust),    \
        BUS_FIELD(type, "link_state", "s", member.link_state), BUS_FIELD(type, "query_rss", "b", member.query_rss)

/* The lines of a record (OUT_RECORD) for the text cells below. */
#define VF_SETTINGS_COLUMNS                                                                                \
        { "mac", "MAC" }, { "vlan", "VLAN" }, { "tx_rate", "TX rate" }, { "spoofchk", "Spoof check" },     \
        { "trust", "Trust" }, { "link_state", "Link state" }, { "query_rss", "Query RSS" }

/* Emits the JSON object "settings" (the keys reported; s NULL: null, when
 * they could not be read) and the text cells "mac", "vlan", "tx_rate",
 * "spoofchk", "trust", "link_state", "query_rss" (every one, "-" where not
 * reported, with every_cell; else only those reported) and "settings" (all
 * of them on one line, for tables of rows). */
void vf_settings_print(const VFSettings *s, bool every_cell);

/* The names of the settings not reported in s, as sriovd names them in
 * SetVFConfig's "ignored" (mac, vlan, rate, spoofchk, trust, link_state,
 * query_rss), into ret, NULL-terminated. */
#define VF_SETTINGS_NAMES_MAX 7
void vf_settings_missing(const VFSettings *s, const char *ret[static VF_SETTINGS_NAMES_MAX + 1]);

/* GetVFConfig's and SetVFConfig's answer: the settings as the kernel
 * reports them, and (SetVFConfig) what the driver ignored. */
typedef struct VFConfig {
        const char *pf_netdev;
        uint32_t vf_index;              /* VF_SETTING_NONE: not reported */
        char **ignored;                 /* names of settings the driver accepted but did not apply */
        int zero_mac_fallback;          /* a zero MAC was refused, and 02:00:00:00:00:00 written */
        VFSettings settings;
} VFConfig;

int vf_config_read(sd_bus_message *m, VFConfig *ret);
void vf_config_done(VFConfig *c);
