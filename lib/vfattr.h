/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

/* VF attributes over rtnetlink (RTM_GETLINK / RTM_SETLINK on the PF's
 * netdev, IFLA_VFINFO_LIST). libnl-route-3 carries the messages (socket,
 * message building, attribute iteration); the IFLA_VF_* payloads are built
 * and parsed here because libnl 3.7's VF API writes the VLAN protocol of
 * IFLA_VF_VLAN_INFO in host byte order (802.1ad comes out as 0xa888 and the
 * kernel refuses it) and sends all changes of a VF in one message, which the
 * kernel applies up to the first failure — leaving a VF half-configured. */

enum {
        VF_ATTR_MAC = 1 << 0,
        VF_ATTR_VLAN = 1 << 1,          /* vlan, qos, vlan_proto together */
        VF_ATTR_RATE = 1 << 2,          /* min_tx_rate, max_tx_rate together */
        VF_ATTR_SPOOFCHK = 1 << 3,
        VF_ATTR_TRUST = 1 << 4,
        VF_ATTR_LINK_STATE = 1 << 5,
        VF_ATTR_QUERY_RSS = 1 << 6,
        VF_ATTR_ALL = (1 << 7) - 1,
};

#define VF_VLAN_PROTO_8021Q  0x8100
#define VF_VLAN_PROTO_8021AD 0x88a8
#define VF_LINK_STATE_AUTO    0
#define VF_LINK_STATE_ENABLE  1
#define VF_LINK_STATE_DISABLE 2

typedef struct sriov_vf_config {
        uint32_t vf;
        unsigned mask;                  /* VF_ATTR_* present in this record */
        uint8_t mac[6];
        uint16_t vlan;                  /* 0-4094, 0 = no VLAN */
        uint8_t qos;                    /* 0-7 */
        uint16_t vlan_proto;            /* VF_VLAN_PROTO_*, host byte order */
        uint32_t min_tx_rate;           /* Mbit/s, 0 = unlimited */
        uint32_t max_tx_rate;
        bool spoofchk;
        bool trust;
        bool query_rss;
        uint8_t link_state;             /* VF_LINK_STATE_* */
} sriov_vf_config;

/* Strict parsers and names (pure functions). */
int vf_mac_parse(const char *s, uint8_t ret[static 6]);         /* xx:xx:xx:xx:xx:xx, unicast */
char *vf_mac_format(const uint8_t mac[static 6], char buf[static 18]);
bool vf_mac_is_zero(const uint8_t mac[static 6]);
int vf_vlan_parse(const char *s, uint16_t *ret);                /* 0-4094 */
int vf_qos_parse(const char *s, uint8_t *ret);                  /* 0-7 */
int vf_vlan_proto_parse(const char *s, uint16_t *ret);          /* "802.1Q", "802.1ad" */
const char *vf_vlan_proto_name(uint16_t proto);
int vf_link_state_parse(const char *s, uint8_t *ret);           /* auto, enable, disable */
const char *vf_link_state_name(uint8_t state);
int vf_rate_parse(const char *s, uint32_t *ret);                /* Mbit/s */

/* Which of want's attributes differ in have (restricted to want->mask). */
unsigned vf_config_diff(const sriov_vf_config *want, const sriov_vf_config *have);
/* Copy the attributes in mask from src to dst. */
void vf_config_copy(sriov_vf_config *dst, const sriov_vf_config *src, unsigned mask);
const char *vf_attr_name(unsigned attr);

/* As JSON (vfattr-json.c): the keys present are the attributes in the mask. */
struct json_object;
int vf_config_to_json(const sriov_vf_config *c, struct json_object **ret);
int vf_config_from_json(struct json_object *o, sriov_vf_config *ret);

/* The payload of IFLA_VFINFO_LIST, as the kernel sends it (pure; fuzzed). */
int vf_info_list_parse(const void *data, size_t len, sriov_vf_config **ret, size_t *ret_n);

typedef struct sriov_link {
        int ifindex;
        unsigned flags;                 /* IFF_* */
        unsigned num_vf;                /* IFLA_NUM_VF, 0 if absent */
        sriov_vf_config *vfs;
        size_t n_vfs;
} sriov_link;

/* A whole RTM_NEWLINK message (pure; tested with canned messages). */
int vf_link_msg_parse(const void *msg, size_t len, sriov_link *ret);
void sriov_link_done(sriov_link *l);

/* The kernel. */
int sriov_link_get(const char *ifname, sriov_link *ret, sriov_error *err);

enum {
        SRIOV_VF_BRING_PF_UP = 1 << 0,  /* set the PF up when it is down, instead of failing */
};

/* Set the attributes in want->mask on VF want->vf of the PF netdev, one
 * attribute per request (MAC first: a MAC change may reset the VF), rolling
 * back what was set when one fails, then read back. *ret_after gets the VF
 * as the kernel reports it afterwards; *ret_ignored the attributes the
 * driver accepted but did not apply. A zero MAC that the driver refuses is
 * written as 02:00:00:00:00:00 instead (reported through *ret_zero_mac_fallback). */
int sriov_vf_set(const char *pf_ifname, const sriov_vf_config *want, unsigned flags,
                 sriov_vf_config *ret_after, unsigned *ret_ignored, bool *ret_zero_mac_fallback,
                 sriov_error *err);
