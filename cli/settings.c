/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "output.h"
#include "settings.h"
#include "util.h"

static const char *on_off(int b) {
        return b ? "on" : "off";
}

/* "100, QoS 2, 802.1Q"; "none" for VLAN 0 */
static char *vlan_text(const VFSettings *s) {
        bool qos = s->qos != VF_SETTING_NONE && s->qos > 0;

        if (s->vlan == 0 && !qos)
                return strdup("none");
        if (!qos)
                return strdup_printf("%u, %s", s->vlan, s->vlan_proto ?: "802.1Q");
        return strdup_printf("%u, QoS %u, %s", s->vlan, s->qos, s->vlan_proto ?: "802.1Q");
}

/* "at most 1000 Mbit/s, at least 100 Mbit/s"; "no limit" */
static char *rate_text(const VFSettings *s) {
        uint32_t max = s->max_tx_rate == VF_SETTING_NONE ? 0 : s->max_tx_rate;
        uint32_t min = s->min_tx_rate == VF_SETTING_NONE ? 0 : s->min_tx_rate;
        char a[48] = "", b[48] = "";

        if (max == 0 && min == 0)
                return strdup("no limit");
        if (max > 0)
                (void) snprintf(a, sizeof(a), "at most %u Mbit/s", max);
        if (min > 0)
                (void) snprintf(b, sizeof(b), "%sat least %u Mbit/s", max > 0 ? ", " : "", min);
        return strdup_printf("%s%s", a, b);
}

/* one text cell: value (taken; NULL: not reported) */
static void cell(const char *key, char *value, bool every_cell) {
        if (value || every_cell)
                print_string(PRINT_TEXT, key, NULL, value);
        free(value);
}

static char *bool_cell(int b) {
        return b >= 0 ? strdup(on_off(b)) : NULL;
}

/* "mac 02:00:00:00:00:01, vlan 100/2/802.1Q, ..." */
static char *summary(const VFSettings *s) {
        char buf[512] = "";
        size_t n = 0;

#define ADD(...) (n += (size_t) snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, __VA_ARGS__))
        if (s->mac)
                ADD("%smac %s", n ? ", " : "", s->mac);
        if (s->vlan != VF_SETTING_NONE)
                ADD("%svlan %u/%u/%s", n ? ", " : "", s->vlan, s->qos == VF_SETTING_NONE ? 0 : s->qos,
                    s->vlan_proto ?: "802.1Q");
        if (s->max_tx_rate != VF_SETTING_NONE || s->min_tx_rate != VF_SETTING_NONE)
                ADD("%stx rate %u-%u", n ? ", " : "", s->min_tx_rate == VF_SETTING_NONE ? 0 : s->min_tx_rate,
                    s->max_tx_rate == VF_SETTING_NONE ? 0 : s->max_tx_rate);
        if (s->spoofchk >= 0)
                ADD("%sspoofchk %s", n ? ", " : "", on_off(s->spoofchk));
        if (s->trust >= 0)
                ADD("%strust %s", n ? ", " : "", on_off(s->trust));
        if (s->link_state)
                ADD("%slink state %s", n ? ", " : "", s->link_state);
        if (s->query_rss >= 0)
                ADD("%squery_rss %s", n ? ", " : "", on_off(s->query_rss));
#undef ADD
        return n > 0 ? strdup(buf) : NULL;
}

static void json_settings(const VFSettings *s) {
        if (!s) {
                print_string(PRINT_JSON, "settings", NULL, NULL);
                return;
        }
        out_open_object("settings");
        if (s->mac)
                print_string(PRINT_JSON, "mac", NULL, s->mac);
        if (s->vlan != VF_SETTING_NONE)
                print_uint(PRINT_JSON, "vlan", NULL, s->vlan);
        if (s->qos != VF_SETTING_NONE)
                print_uint(PRINT_JSON, "qos", NULL, s->qos);
        if (s->vlan_proto)
                print_string(PRINT_JSON, "vlan_proto", NULL, s->vlan_proto);
        if (s->min_tx_rate != VF_SETTING_NONE)
                print_uint(PRINT_JSON, "min_tx_rate", NULL, s->min_tx_rate);
        if (s->max_tx_rate != VF_SETTING_NONE)
                print_uint(PRINT_JSON, "max_tx_rate", NULL, s->max_tx_rate);
        if (s->spoofchk >= 0)
                print_bool(PRINT_JSON, "spoofchk", NULL, s->spoofchk);
        if (s->trust >= 0)
                print_bool(PRINT_JSON, "trust", NULL, s->trust);
        if (s->link_state)
                print_string(PRINT_JSON, "link_state", NULL, s->link_state);
        if (s->query_rss >= 0)
                print_bool(PRINT_JSON, "query_rss", NULL, s->query_rss);
        out_close();
}

void vf_settings_print(const VFSettings *s, bool every_cell) {
        static const VFSettings none = VF_SETTINGS_INIT;
        const VFSettings *v = s ?: &none;

        json_settings(s);
        if (out_is_json())
                return;
        cell("mac", v->mac ? strdup(v->mac) : NULL, every_cell);
        cell("vlan", v->vlan != VF_SETTING_NONE ? vlan_text(v) : NULL, every_cell);
        cell("tx_rate", v->max_tx_rate != VF_SETTING_NONE || v->min_tx_rate != VF_SETTING_NONE ? rate_text(v) : NULL,
             every_cell);
        cell("spoofchk", bool_cell(v->spoofchk), every_cell);
        cell("trust", bool_cell(v->trust), every_cell);
        cell("link_state", v->link_state ? strdup(v->link_state) : NULL, every_cell);
        cell("query_rss", bool_cell(v->query_rss), every_cell);
        cell("settings", summary(v), true);
}

void vf_settings_missing(const VFSettings *s, const char *ret[static VF_SETTINGS_NAMES_MAX + 1]) {
        size_t n = 0;

        if (!s->mac)
                ret[n++] = "mac";
        if (s->vlan == VF_SETTING_NONE)
                ret[n++] = "vlan";
        if (s->max_tx_rate == VF_SETTING_NONE && s->min_tx_rate == VF_SETTING_NONE)
                ret[n++] = "rate";
        if (s->spoofchk < 0)
                ret[n++] = "spoofchk";
        if (s->trust < 0)
                ret[n++] = "trust";
        if (!s->link_state)
                ret[n++] = "link_state";
        if (s->query_rss < 0)
                ret[n++] = "query_rss";
        ret[n] = NULL;
}

static const BusField vf_config_fields[] = {
        BUS_FIELD(VFConfig, "pf_netdev", "s", pf_netdev),
        BUS_FIELD(VFConfig, "vf_index", "u", vf_index),
        BUS_FIELD(VFConfig, "ignored", "as", ignored),
        BUS_FIELD(VFConfig, "zero_mac_fallback", "b", zero_mac_fallback),
        VF_SETTINGS_FIELDS(VFConfig, settings),
};

int vf_config_read(sd_bus_message *m, VFConfig *ret) {
        VFConfig c = { .vf_index = VF_SETTING_NONE, .settings = VF_SETTINGS_INIT };
        int r;

        r = bus_read_fields(m, vf_config_fields, ELEMENTSOF(vf_config_fields), &c);
        if (r < 0) {
                vf_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void vf_config_done(VFConfig *c) {
        c->ignored = strv_free(c->ignored);
}
