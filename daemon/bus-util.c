/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "bus-util.h"

int bus_error_from_errno(sd_bus_error *e, int r, const char *message) {
        int err = r < 0 ? -r : r;

        for (const sd_bus_error_map *m = sriovd_error_map; m->code != 0 && m->name; m++)
                if (m->code == err)
                        return sd_bus_error_set(e, m->name, message ?: strerror(err));
        /* sriovd's own allocation failures carry no message; the kernel's
         * ENOMEM (a driver that cannot allocate) is a failed operation */
        if (err == ENOMEM && !message)
                return sd_bus_error_set_errno(e, -ENOMEM);
        if (err == EBADR)
                return sd_bus_error_set(e, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                        message ?: "Interactive authorization required");
        (void) sd_bus_error_setf(e, SRIOVD_ERROR_FAILED, "%s", message ?: strerror(err));
        return -err;
}

void bus_reply_errno(sd_bus_message *m, int r, const char *message) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (!m)
                return;
        (void) bus_error_from_errno(&e, r, message);
        (void) sd_bus_reply_method_error(m, &e);
}

int bus_resolve_device(Daemon *d, const char *ref, const sriov_device **ret, sd_bus_error *error) {
        sriov_error e = {};
        sriov_device *dev;
        int r;

        r = sriov_host_resolve(d->host, ref, &dev, &e);
        if (r < 0)
                return bus_error_from_errno(error, r, e.message);
        *ret = dev;
        return 0;
}

int bus_read_device(Daemon *d, sd_bus_message *m, const sriov_device **ret, sd_bus_error *error) {
        const char *ref;
        int r;

        r = sd_bus_message_read(m, "s", &ref);
        if (r < 0)
                return r;
        return bus_resolve_device(d, ref, ret, error);
}

static int build_reply(sd_bus_message *request, bus_append_t append, const void *userdata, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(request, &reply);
        if (r < 0)
                return r;
        r = append(reply, userdata);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(reply);
        return 0;
}

int bus_send_reply(sd_bus_message *request, bus_append_t append, const void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = build_reply(request, append, userdata, &reply);
        if (r < 0) {
                /* the caller gets an answer whatever happened here */
                bus_reply_errno(request, r, "Cannot build the answer");
                return r;
        }
        return sd_bus_send(NULL, reply, NULL);
}

int bus_append_strv(sd_bus_message *reply, const void *strv) {
        return sd_bus_message_append_strv(reply, (char **) strv);
}

typedef struct ArrayReply {
        const char *element;
        size_t n;
        bus_append_row_t row;
        const void *userdata;
} ArrayReply;

static int append_array(sd_bus_message *reply, const void *userdata) {
        const ArrayReply *a = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', a->element);
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->n; i++) {
                r = a->row(reply, i, a->userdata);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

int bus_send_array(sd_bus_message *request, const char *element, size_t n, bus_append_row_t row,
                   const void *userdata) {
        const ArrayReply a = { element, n, row, userdata };

        return bus_send_reply(request, append_array, &a);
}

/* {"key": <contents>}, left open */
static int open_kv(sd_bus_message *m, const char *key, const char *contents) {
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", key);
        if (r < 0)
                return r;
        return sd_bus_message_open_container(m, 'v', contents);
}

int bus_open_kv_array(sd_bus_message *m, const char *key, const char *element) {
        char array[32];
        int r;

        (void) snprintf(array, sizeof(array), "a%s", element);
        r = open_kv(m, key, array);
        if (r < 0)
                return r;
        return sd_bus_message_open_container(m, 'a', element);
}

int bus_close_kv_array(sd_bus_message *m) {
        int r;

        for (int i = 0; i < 3; i++) {
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_append_kv_strv(sd_bus_message *m, const char *key, char * const *l) {
        int r;

        r = open_kv(m, key, "as");
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, (char **) l);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* Append a copy of s to l of n strings (no strlen of l each time). */
static int push(char ***l, size_t *n, const char *s) {
        char **nl = realloc(*l, (*n + 2) * sizeof(char *));

        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[*n] = strdup(s);
        nl[*n + 1] = NULL;
        if (!nl[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

int bus_read_strv_bounded(sd_bus_message *m, size_t max_n, size_t max_len, const char *what, char ***ret,
                          sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        for (;;) {
                const char *s;

                r = sd_bus_message_read_basic(m, 's', &s);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                /* refused at the first one too many: linear, whatever the message holds */
                if (n >= max_n)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_LIMITS_EXCEEDED, "At most %zu %s", max_n, what);
                if (strlen(s) > max_len)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                                 "One of the %s is longer than %zu characters", what, max_len);
                r = push(&l, &n, s);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

int bus_read_options(sd_bus_message *m, const BusOption *table, sd_bus_error *error) {
        unsigned n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const BusOption *o = NULL;
                const char *name, *contents;
                char type;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (++n > BUS_OPTIONS_MAX)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_LIMITS_EXCEEDED, "At most %u options",
                                                 BUS_OPTIONS_MAX);
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                for (const BusOption *t = table; t && t->name; t++)
                        if (streq(t->name, name))
                                o = t;
                if (!o)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Unknown option \"%.64s\"", name);
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if (!contents || contents[0] != o->type || contents[1] != 0)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                                 "Option \"%s\" must be of type '%c'", o->name, o->type);
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_read_basic(m, o->type, o->value);
                if (r < 0)
                        return r;
                if (o->type == 'b')
                        *(int *) o->value = !!*(int *) o->value;
                if (o->seen)
                        *o->seen = true;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(m);
}

int vf_settings_args_finish(const VFSettingsArgs *a, bool allow_zero_mac, sriov_vf_config *c, sd_bus_error *error) {
#define BAD(...) sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, __VA_ARGS__)
        if (a->mac) {
                if (allow_zero_mac && streq(a->mac, "00:00:00:00:00:00"))
                        memset(c->mac, 0, sizeof(c->mac));
                else if (vf_mac_parse(a->mac, c->mac) < 0)
                        return BAD("Invalid MAC address \"%.32s\": expected xx:xx:xx:xx:xx:xx, unicast", a->mac);
                c->mask |= VF_ATTR_MAC;
        }
        if (a->have_vlan || a->have_qos || a->have_proto) {
                if (a->vlan > 4094)
                        return BAD("VLAN %u is out of range (0-4094)", a->vlan);
                if (a->qos > 7)
                        return BAD("QoS %u is out of range (0-7)", a->qos);
                if (a->qos && !a->vlan)
                        return BAD("A QoS needs a non-zero VLAN");
                c->vlan = (uint16_t) a->vlan;
                c->qos = (uint8_t) a->qos;
                c->vlan_proto = VF_VLAN_PROTO_8021Q;
                if (a->vlan_proto && vf_vlan_proto_parse(a->vlan_proto, &c->vlan_proto) < 0)
                        return BAD("Invalid VLAN protocol \"%.16s\": \"802.1Q\" or \"802.1ad\"", a->vlan_proto);
                c->mask |= VF_ATTR_VLAN;
        }
        if (a->have_min || a->have_max) {
                if (a->max_tx_rate && a->min_tx_rate > a->max_tx_rate)
                        return BAD("min_tx_rate exceeds max_tx_rate");
                c->min_tx_rate = a->min_tx_rate;
                c->max_tx_rate = a->max_tx_rate;
                c->mask |= VF_ATTR_RATE;
        }
        if (a->have_spoofchk) {
                c->spoofchk = a->spoofchk;
                c->mask |= VF_ATTR_SPOOFCHK;
        }
        if (a->have_trust) {
                c->trust = a->trust;
                c->mask |= VF_ATTR_TRUST;
        }
        if (a->link_state) {
                if (vf_link_state_parse(a->link_state, &c->link_state) < 0)
                        return BAD("Invalid link state \"%.16s\": auto, enable or disable", a->link_state);
                c->mask |= VF_ATTR_LINK_STATE;
        }
        if (a->have_query_rss) {
                c->query_rss = a->query_rss;
                c->mask |= VF_ATTR_QUERY_RSS;
        }
        return 0;
#undef BAD
}

int bus_append_vf_config(sd_bus_message *m, const sriov_vf_config *c) {
        char mac[18];
        int r;

        if (c->mask & VF_ATTR_MAC) {
                r = sd_bus_message_append(m, "{sv}", "mac", "s", vf_mac_format(c->mac, mac));
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_VLAN) {
                r = sd_bus_message_append(m, "{sv}{sv}{sv}", "vlan", "u", (uint32_t) c->vlan, "qos", "u", (uint32_t) c->qos,
                                          "vlan_proto", "s", vf_vlan_proto_name(c->vlan_proto ?: VF_VLAN_PROTO_8021Q));
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_RATE) {
                r = sd_bus_message_append(m, "{sv}{sv}", "min_tx_rate", "u", c->min_tx_rate, "max_tx_rate", "u",
                                          c->max_tx_rate);
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_SPOOFCHK) {
                r = sd_bus_message_append(m, "{sv}", "spoofchk", "b", c->spoofchk);
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_TRUST) {
                r = sd_bus_message_append(m, "{sv}", "trust", "b", c->trust);
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_LINK_STATE) {
                r = sd_bus_message_append(m, "{sv}", "link_state", "s", vf_link_state_name(c->link_state));
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_QUERY_RSS)
                return sd_bus_message_append(m, "{sv}", "query_rss", "b", c->query_rss);
        return 0;
}
