/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* VF attributes as JSON (the state file): the keys present are the
 * attributes in the mask. */

#include "json-util.h"
#include "util.h"
#include "vfattr.h"

/* VLAN id, priority and protocol: one setting of the VF */
static int add_vlan(json_object *o, const sriov_vf_config *c) {
        int r;

        r = json_add_int(o, "vlan", c->vlan);
        if (r < 0)
                return r;
        r = json_add_int(o, "qos", c->qos);
        if (r < 0)
                return r;
        return json_add_string(o, "vlan_proto", vf_vlan_proto_name(c->vlan_proto ?: VF_VLAN_PROTO_8021Q));
}

static int add_rate(json_object *o, const sriov_vf_config *c) {
        int r;

        r = json_add_int(o, "min_tx_rate", c->min_tx_rate);
        if (r < 0)
                return r;
        return json_add_int(o, "max_tx_rate", c->max_tx_rate);
}

int vf_config_to_json(const sriov_vf_config *c, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        char mac[18];
        int r;

        if (!o)
                return -ENOMEM;
        if (c->mask & VF_ATTR_MAC) {
                r = json_add_string(o, "mac", vf_mac_format(c->mac, mac));
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_VLAN) {
                r = add_vlan(o, c);
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_RATE) {
                r = add_rate(o, c);
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_SPOOFCHK) {
                r = json_add_bool(o, "spoofchk", c->spoofchk);
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_TRUST) {
                r = json_add_bool(o, "trust", c->trust);
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_LINK_STATE) {
                r = json_add_string(o, "link_state", vf_link_state_name(c->link_state));
                if (r < 0)
                        return r;
        }
        if (c->mask & VF_ATTR_QUERY_RSS) {
                r = json_add_bool(o, "query_rss", c->query_rss);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int get_uint(json_object *o, const char *key, uint64_t max, uint64_t *ret) {
        json_object *v;
        int64_t x;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return -EBADMSG;
        x = json_object_get_int64(v);
        if (x < 0 || (uint64_t) x > max)
                return -EBADMSG;
        *ret = (uint64_t) x;
        return 1;
}

static int get_bool(json_object *o, const char *key, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 1;
}

static int get_string(json_object *o, const char *key, const char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = json_object_get_string(v);
        return 1;
}

int vf_config_from_json(json_object *o, sriov_vf_config *ret) {
        sriov_vf_config c = {};
        const char *s;
        uint64_t u;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if ((r = get_string(o, "mac", &s)) < 0 || (r > 0 && vf_mac_parse(s, c.mac) < 0 &&
                                                   !(strlen(s) == 17 && streq(s, "00:00:00:00:00:00"))))
                return -EBADMSG;
        if (r > 0)
                c.mask |= VF_ATTR_MAC;
        if ((r = get_uint(o, "vlan", 4095, &u)) < 0)
                return r;
        if (r > 0) {
                c.vlan = (uint16_t) u;
                c.mask |= VF_ATTR_VLAN;
                c.vlan_proto = VF_VLAN_PROTO_8021Q;
                if (get_uint(o, "qos", 7, &u) < 0)
                        return -EBADMSG;
                c.qos = (uint8_t) u;
                if ((r = get_string(o, "vlan_proto", &s)) < 0 || (r > 0 && vf_vlan_proto_parse(s, &c.vlan_proto) < 0))
                        return -EBADMSG;
        }
        if ((r = get_uint(o, "max_tx_rate", UINT32_MAX, &u)) < 0)
                return r;
        if (r > 0) {
                c.max_tx_rate = (uint32_t) u;
                c.mask |= VF_ATTR_RATE;
                if (get_uint(o, "min_tx_rate", UINT32_MAX, &u) < 0)
                        return -EBADMSG;
                c.min_tx_rate = (uint32_t) u;
        }
        if ((r = get_bool(o, "spoofchk", &c.spoofchk)) < 0)
                return r;
        if (r > 0)
                c.mask |= VF_ATTR_SPOOFCHK;
        if ((r = get_bool(o, "trust", &c.trust)) < 0)
                return r;
        if (r > 0)
                c.mask |= VF_ATTR_TRUST;
        if ((r = get_string(o, "link_state", &s)) < 0 || (r > 0 && vf_link_state_parse(s, &c.link_state) < 0))
                return -EBADMSG;
        if (r > 0)
                c.mask |= VF_ATTR_LINK_STATE;
        if ((r = get_bool(o, "query_rss", &c.query_rss)) < 0)
                return r;
        if (r > 0)
                c.mask |= VF_ATTR_QUERY_RSS;
        *ret = c;
        return 0;
}
