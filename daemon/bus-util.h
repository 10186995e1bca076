/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon.h"
#include "sriovd-api.h"
#include "vfattr.h"

/* What the bus files share: errors, options, device references, the VF
 * settings keys, and authorization. A method handler reads top to bottom:
 *
 *   r = sd_bus_message_read(m, ...);             read the arguments
 *   if (...) return sd_bus_error_setf(...);       validate them
 *   r = bus_verify_polkit(d, m, ACTION, error);   authorize
 *   if (r < 0) return r;
 *   if (r == 0) return 1;                         (asked polkit; the handler runs again once it answered)
 *   ...                                           act, and reply (now, or when the work is done)
 */

/* Fill e from a negative errno and a message (NULL: strerror). Returns r. */
int bus_error_from_errno(sd_bus_error *e, int r, const char *message);
/* Answer method call m (nothing when NULL) with the named error of r and
 * message (the errno's text when NULL). */
void bus_reply_errno(sd_bus_message *m, int r, const char *message);

/* Authorization of a mutating call: root always; anyone else through polkit
 * (CheckAuthorization on the caller's bus name, interactive when the caller
 * allows it); nobody else when polkit is not there. Only credentials the
 * bus vouches for count (the connection's, never ones read from /proc).
 * Returns 1 when authorized; 0 when polkit was asked: the handler returns
 * 1 and is called again with the same message once polkit answered;
 * < 0 (error set) when denied. */
int bus_verify_polkit(Daemon *d, sd_bus_message *m, const char *action, sd_bus_error *error);
/* Drop the pending queries (at exit). */
void bus_polkit_done(Daemon *d);
/* The caller's uid as the bus vouches for it. */
int bus_caller_uid(sd_bus_message *m, uid_t *ret);

/* Reads the a{sv} options of the message at its current position. */
typedef struct BusOption {
        const char *name;
        char type;                      /* 'b', 's', 'u', 'i' */
        void *value;                    /* int* for 'b', const char** for 's', uint32_t* / int32_t* */
        bool *seen;                     /* optional */
} BusOption;
/* At most BUS_OPTIONS_MAX entries (LimitsExceeded). */
#define BUS_OPTIONS_MAX 64
int bus_read_options(sd_bus_message *m, const BusOption *table, sd_bus_error *error);

/* An "as" of at most max_n strings of at most max_len characters each,
 * refused at the first one past the bound (LimitsExceeded,
 * InvalidArgument): the time is linear, whatever the message carries. */
int bus_read_strv_bounded(sd_bus_message *m, size_t max_n, size_t max_len, const char *what, char ***ret,
                          sd_bus_error *error);

/* The device an argument names (BDF or interface), or a named error. */
int bus_resolve_device(Daemon *d, const char *ref, const sriov_device **ret, sd_bus_error *error);
/* Read a device argument ("s") and resolve it. */
int bus_read_device(Daemon *d, sd_bus_message *m, const sriov_device **ret, sd_bus_error *error);

/* A reply's contents: appended to reply from userdata. */
typedef int (*bus_append_t)(sd_bus_message *reply, const void *userdata);
/* Answer request (a method call) with a method return that append fills, and send it. */
int bus_send_reply(sd_bus_message *request, bus_append_t append, const void *userdata);
/* An append for a strv (as). */
int bus_append_strv(sd_bus_message *reply, const void *strv);
/* One element of an array: the i-th, appended to reply from userdata. */
typedef int (*bus_append_row_t)(sd_bus_message *reply, size_t i, const void *userdata);
/* Answer request with an array of n elements of signature element (such as "(ss)"). */
int bus_send_array(sd_bus_message *request, const char *element, size_t n, bus_append_row_t row,
                   const void *userdata);

/* {"key": <as>} inside an open a{sv}. */
int bus_append_kv_strv(sd_bus_message *m, const char *key, char * const *l);
/* {"key": <a ELEMENT>} inside an open a{sv}: opened with the array open
 * for its elements, and closed again. */
int bus_open_kv_array(sd_bus_message *m, const char *key, const char *element);
int bus_close_kv_array(sd_bus_message *m);

/* The VF settings keys of an a{sv} (SetVFConfig, Assign, CreatePool). */
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

/* Connect to the system bus, register the API, take the name (bus-manager.c). */
int bus_setup(Daemon *d);

/* Each bus file registers its part of the API. */
int bus_manager_register(Daemon *d);
int bus_device_register(Daemon *d);
int bus_assign_register(Daemon *d);
int bus_pools_register(Daemon *d);
int bus_config_register(Daemon *d);
int bus_vfio_register(Daemon *d);
int bus_vfconfig_register(Daemon *d);
int bus_stats_register(Daemon *d);
int bus_batch_register(Daemon *d);
/* DriftDetected (DaemonEvents.drift_detected) */
void bus_stats_emit_drift(Daemon *d, const DriftRecord *r);
