/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What PF drivers do with VF attributes (ndo_set_vf_* / ndo_get_vf_config),
 * one declarative model per driver from the topology's "vf_ops"; the state
 * each PF driver keeps per VF; the addresses and routes the host has on
 * the simulated net devices. The models and the kernel sources they follow
 * are in README.md ("rtnetlink"). */

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>

#include "sim-rtnl.h"
#include "util.h"

#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88a8

sim_rtnl *sim_rtnl_get(sim *s) {
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        sim_rtnl *r;

        pthread_mutex_lock(&lock);
        r = s->rtnl;
        if (!r) {
                r = calloc(1, sizeof(*r));
                if (r) {
                        r->sim = s;
                        r->listen_fd = -EBADF;
                        r->rover = -4097;
                        pthread_mutex_init(&r->rtnl_lock, NULL);
                        pthread_mutex_init(&r->ports_lock, NULL);
                        pthread_mutex_init(&r->subs_lock, NULL);
                        s->rtnl = r;
                }
        }
        pthread_mutex_unlock(&lock);
        return r;
}

/* ---- topology: "vf_ops" ---- */

static int model_error(const char *file, const char *where, const char *fmt, ...) _printf_(3, 4);
static int model_error(const char *file, const char *where, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s: %s.vf_ops: ", file, where);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}

static bool key_allowed(const char *key, const char *const *allowed) {
        if (key[0] == '_')
                return true;
        for (const char *const *a = allowed; *a; a++)
                if (streq(*a, key))
                        return true;
        return false;
}

/* an op: false/absent (not implemented), true, or an object of quirks */
static int op_get(const char *file, const char *where, json_object *o, const char *name, const char *const *quirks,
                  bool *ret, json_object **ret_quirks) {
        json_object *v;

        *ret = false;
        *ret_quirks = NULL;
        if (!json_object_object_get_ex(o, name, &v))
                return 0;
        if (json_object_is_type(v, json_type_boolean)) {
                *ret = json_object_get_boolean(v);
                return 0;
        }
        if (!json_object_is_type(v, json_type_object) || !quirks)
                return model_error(file, where, "\"%s\" must be true, false%s", name, quirks ? " or an object" : "");
        json_object_object_foreach(v, key, val) {
                (void) val;
                if (!key_allowed(key, quirks))
                        return model_error(file, where, "%s: unknown key \"%s\"", name, key);
        }
        *ret = true;
        *ret_quirks = v;
        return 0;
}

static int quirk_bool(const char *file, const char *where, json_object *q, const char *op, const char *key, bool *ret) {
        json_object *v;

        if (!q || !json_object_object_get_ex(q, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return model_error(file, where, "%s.%s must be true or false", op, key);
        *ret = json_object_get_boolean(v);
        return 0;
}

static int quirk_uint(const char *file, const char *where, json_object *q, const char *op, const char *key, unsigned *ret) {
        json_object *v;

        if (!q || !json_object_object_get_ex(q, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
            json_object_get_int64(v) > 10000000)
                return model_error(file, where, "%s.%s must be Mbit/s (0-10000000)", op, key);
        *ret = (unsigned) json_object_get_int64(v);
        return 0;
}

/* one of a few words */
static int quirk_word(const char *file, const char *where, json_object *q, const char *op, const char *key,
                      const char *a, const char *b, bool *ret_b) {
        json_object *v;
        const char *w;

        if (!q || !json_object_object_get_ex(q, key, &v))
                return 0;
        w = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (streq(w, a))
                *ret_b = false;
        else if (streq(w, b))
                *ret_b = true;
        else
                return model_error(file, where, "%s.%s must be \"%s\" or \"%s\"", op, key, a, b);
        return 0;
}

static void model_free(sim_vf_model *m) {
        if (m) {
                free(m->driver);
                free(m);
        }
}

int sim_rtnl_parse_vf_ops(sim *s, const char *file, const char *where, const char *driver, json_object *o) {
        static const char *const keys[] = {
                "mac", "vlan", "rate", "spoofchk", "trust", "link_state", "query_rss", "ivi_memset", "stats", NULL,
        };
        static const char *const mac_q[] = { "zero", "netdev", "report", NULL };
        static const char *const vlan_q[] = { "proto", "proto_first", NULL };
        static const char *const rate_q[] = { "min", "link_up", "max", "floor", NULL };
        static const char *const default_q[] = { "default", NULL };
        static const char *const link_q[] = { "invalid", NULL };
        sim_rtnl *r = sim_rtnl_get(s);
        sim_vf_model *m, **a;
        json_object *q, *v;
        int e;

        if (!r)
                return -ENOMEM;
        if (!json_object_is_type(o, json_type_object))
                return model_error(file, where, "expected an object of ndo_set_vf_* operations");
        json_object_object_foreach(o, key, val) {
                (void) val;
                if (!key_allowed(key, keys))
                        return model_error(file, where, "unknown key \"%s\"", key);
        }
        m = calloc(1, sizeof(*m));
        if (!m || !(m->driver = strdup(driver))) {
                model_free(m);
                return -ENOMEM;
        }
        /* defaults: the common Intel behaviour */
        m->mac_report_vf = true;
        m->spoofchk_default = true;

        if ((e = op_get(file, where, o, "mac", mac_q, &m->mac, &q)) < 0 ||
            (e = quirk_word(file, where, q, "mac", "zero", "clear", "einval", &m->mac_zero_einval)) < 0 ||
            (e = quirk_word(file, where, q, "mac", "netdev", "probe", "reset", &m->mac_netdev_reset)) < 0)
                goto fail;
        if (q && json_object_object_get_ex(q, "report", &v)) {
                bool admin = false;

                if ((e = quirk_word(file, where, q, "mac", "report", "vf", "admin", &admin)) < 0)
                        goto fail;
                m->mac_report_vf = !admin;
        }
        if ((e = op_get(file, where, o, "vlan", vlan_q, &m->vlan, &q)) < 0 ||
            (e = quirk_bool(file, where, q, "vlan", "proto_first", &m->vlan_proto_first)) < 0)
                goto fail;
        if (q && json_object_object_get_ex(q, "proto", &v)) {
                bool q8021 = false;

                if (!json_object_is_type(v, json_type_array)) {
                        e = model_error(file, where, "vlan.proto must be an array of \"802.1Q\", \"802.1ad\"");
                        goto fail;
                }
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *p = json_object_array_get_idx(v, i);
                        const char *w = json_object_is_type(p, json_type_string) ? json_object_get_string(p) : "";

                        if (streq(w, "802.1Q"))
                                q8021 = true;
                        else if (streq(w, "802.1ad"))
                                m->vlan_8021ad = true;
                        else {
                                e = model_error(file, where, "vlan.proto: unknown protocol \"%s\"", w);
                                goto fail;
                        }
                }
                if (!q8021) {
                        e = model_error(file, where, "vlan.proto: every driver takes 802.1Q");
                        goto fail;
                }
        }
        if ((e = op_get(file, where, o, "rate", rate_q, &m->rate, &q)) < 0 ||
            (e = quirk_bool(file, where, q, "rate", "min", &m->rate_min)) < 0 ||
            (e = quirk_bool(file, where, q, "rate", "link_up", &m->rate_link_up)) < 0 ||
            (e = quirk_uint(file, where, q, "rate", "max", &m->rate_max)) < 0 ||
            (e = quirk_uint(file, where, q, "rate", "floor", &m->rate_floor)) < 0)
                goto fail;
        if (q && !json_object_object_get_ex(q, "min", &v))
                m->rate_min = false;
        if ((e = op_get(file, where, o, "spoofchk", default_q, &m->spoofchk, &q)) < 0 ||
            (e = quirk_bool(file, where, q, "spoofchk", "default", &m->spoofchk_default)) < 0 ||
            (e = op_get(file, where, o, "trust", NULL, &m->trust, &q)) < 0 ||
            (e = op_get(file, where, o, "link_state", link_q, &m->link_state, &q)) < 0 ||
            (e = quirk_word(file, where, q, "link_state", "invalid", "einval", "auto", &m->link_state_invalid_auto)) < 0 ||
            (e = op_get(file, where, o, "query_rss", default_q, &m->query_rss, &q)) < 0 ||
            (e = quirk_bool(file, where, q, "query_rss", "default", &m->query_rss_default)) < 0)
                goto fail;
        if (json_object_object_get_ex(o, "ivi_memset", &v)) {
                if (!json_object_is_type(v, json_type_boolean)) {
                        e = model_error(file, where, "\"ivi_memset\" must be true or false");
                        goto fail;
                }
                m->ivi_memset = json_object_get_boolean(v);
        }
        if (json_object_object_get_ex(o, "stats", &v)) {
                if (!json_object_is_type(v, json_type_boolean)) {
                        e = model_error(file, where, "\"stats\" must be true or false");
                        goto fail;
                }
                m->stats = json_object_get_boolean(v);
        }
        if (!m->spoofchk)
                m->spoofchk_default = false;

        a = realloc(r->models, (r->n_models + 1) * sizeof(*a));
        if (!a) {
                e = -ENOMEM;
                goto fail;
        }
        r->models = a;
        r->models[r->n_models++] = m;
        return 0;
fail:
        model_free(m);
        return e;
}

const sim_vf_model *sim_vf_model_find(const sim_rtnl *r, const sim_driver *drv) {
        if (!r || !drv)
                return NULL;
        for (size_t i = 0; i < r->n_models; i++)
                if (streq(r->models[i]->driver, drv->name))
                        return r->models[i];
        return NULL;
}

/* ---- topology: "addresses", "routes" ---- */

static int parse_prefix(const char *s, unsigned char *ret_family, uint8_t addr[static 16], uint8_t *ret_len) {
        char buf[64];
        const char *slash = strchr(s, '/');
        unsigned len;
        unsigned char family;

        if (!slash || (size_t) (slash - s) >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, (size_t) (slash - s));
        buf[slash - s] = 0;
        memset(addr, 0, 16);
        if (inet_pton(AF_INET, buf, addr) == 1)
                family = AF_INET;
        else if (inet_pton(AF_INET6, buf, addr) == 1)
                family = AF_INET6;
        else
                return -EINVAL;
        if (safe_atou(slash + 1, 10, &len) < 0 || len > (family == AF_INET ? 32u : 128u))
                return -EINVAL;
        *ret_family = family;
        *ret_len = (uint8_t) len;
        return 0;
}

static int parse_addr(const char *s, unsigned char *ret_family, uint8_t addr[static 16]) {
        memset(addr, 0, 16);
        if (inet_pton(AF_INET, s, addr) == 1) {
                *ret_family = AF_INET;
                return 0;
        }
        if (inet_pton(AF_INET6, s, addr) == 1) {
                *ret_family = AF_INET6;
                return 0;
        }
        return -EINVAL;
}

static bool host_bits_zero(const uint8_t *a, unsigned char family, unsigned len) {
        unsigned bits = family == AF_INET ? 32 : 128;

        for (unsigned b = len; b < bits; b++)
                if (a[b / 8] & (0x80 >> (b % 8)))
                        return false;
        return true;
}

/* "192.0.2.1/24", "2001:db8::1/64" */
static int ipaddr_parse(const char *s, sim_ipaddr *ret) {
        sim_ipaddr a = {};

        if (parse_prefix(s, &a.family, a.addr, &a.prefix) < 0)
                return -EINVAL;
        *ret = a;
        return 0;
}

/* "default via 192.0.2.254", "198.51.100.0/24 via 192.0.2.1 metric 100",
 * "203.0.113.0/24" (on the link) */
static int iproute_parse_words(char **w, size_t n, sim_iproute *ret) {
        sim_iproute rt = {};
        size_t i = 1;

        if (n == 0)
                return -EINVAL;
        if (streq(w[0], "default"))
                rt.family = 0;
        else if (parse_prefix(w[0], &rt.family, rt.dst, &rt.dst_len) < 0 ||
                 !host_bits_zero(rt.dst, rt.family, rt.dst_len))
                return -EINVAL;
        for (; i < n; i += 2) {
                if (i + 1 >= n)
                        return -EINVAL;
                if (streq(w[i], "via")) {
                        unsigned char f;

                        if (parse_addr(w[i + 1], &f, rt.gw) < 0 || (rt.family && f != rt.family))
                                return -EINVAL;
                        rt.family = f;
                        rt.gw_set = true;
                } else if (streq(w[i], "metric")) {
                        unsigned m;

                        if (safe_atou(w[i + 1], 10, &m) < 0)
                                return -EINVAL;
                        rt.metric = m;
                        rt.metric_set = true;
                } else
                        return -EINVAL;
        }
        if (rt.family == 0)
                return -EINVAL;         /* "default" needs a gateway to know its family */
        *ret = rt;
        return 0;
}

static int iproute_parse(const char *s, sim_iproute *ret) {
        _cleanup_free_ char *copy = strdup(s);
        char *w[8], *save = NULL, *p;
        size_t n = 0;

        if (!copy)
                return -ENOMEM;
        for (p = strtok_r(copy, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
                if (n == ELEMENTSOF(w))
                        return -EINVAL;
                w[n++] = p;
        }
        return iproute_parse_words(w, n, ret);
}

static int ipconf_add_addr(sim_ipconf *c, const sim_ipaddr *a) {
        sim_ipaddr *n;

        for (size_t i = 0; i < c->n_addrs; i++)
                if (c->addrs[i].family == a->family && memcmp(c->addrs[i].addr, a->addr, 16) == 0)
                        return -EEXIST;
        n = realloc(c->addrs, (c->n_addrs + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        c->addrs = n;
        c->addrs[c->n_addrs++] = *a;
        return 0;
}

static bool route_same(const sim_iproute *a, const sim_iproute *b) {
        return a->family == b->family && a->dst_len == b->dst_len && memcmp(a->dst, b->dst, 16) == 0 &&
               a->metric == b->metric;
}

static int ipconf_add_route(sim_ipconf *c, const sim_iproute *rt) {
        sim_iproute *n;

        for (size_t i = 0; i < c->n_routes; i++)
                if (route_same(&c->routes[i], rt))
                        return -EEXIST;
        n = realloc(c->routes, (c->n_routes + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        c->routes = n;
        c->routes[c->n_routes++] = *rt;
        return 0;
}

static void ipconf_done(sim_ipconf *c) {
        free(c->addrs);
        free(c->routes);
        *c = (sim_ipconf) {};
}

static int ipconf_copy(sim_ipconf *dst, const sim_ipconf *src) {
        *dst = (sim_ipconf) {};
        if (src->n_addrs && !(dst->addrs = malloc(src->n_addrs * sizeof(*dst->addrs))))
                return -ENOMEM;
        if (src->n_routes && !(dst->routes = malloc(src->n_routes * sizeof(*dst->routes)))) {
                ipconf_done(dst);
                return -ENOMEM;
        }
        if (src->n_addrs)
                memcpy(dst->addrs, src->addrs, src->n_addrs * sizeof(*dst->addrs));
        if (src->n_routes)
                memcpy(dst->routes, src->routes, src->n_routes * sizeof(*dst->routes));
        dst->n_addrs = src->n_addrs;
        dst->n_routes = src->n_routes;
        return 0;
}

int sim_rtnl_parse_device(sim *s, const char *file, const char *where, const char *bdf, json_object *dev) {
        json_object *addrs = NULL, *routes = NULL;
        sim_topo_ip ip = {}, *a;
        sim_rtnl *r;
        int e;

        (void) json_object_object_get_ex(dev, "addresses", &addrs);
        (void) json_object_object_get_ex(dev, "routes", &routes);
        if (!addrs && !routes)
                return 0;
        r = sim_rtnl_get(s);
        if (!r)
                return -ENOMEM;
        (void) snprintf(ip.bdf, sizeof(ip.bdf), "%s", bdf);
        for (int k = 0; k < 2; k++) {
                json_object *l = k == 0 ? addrs : routes;
                const char *key = k == 0 ? "addresses" : "routes";

                if (!l)
                        continue;
                if (!json_object_is_type(l, json_type_array)) {
                        fprintf(stderr, "%s: %s: \"%s\" must be an array of strings\n", file, where, key);
                        ipconf_done(&ip.conf);
                        return -EINVAL;
                }
                for (size_t i = 0; i < json_object_array_length(l); i++) {
                        json_object *v = json_object_array_get_idx(l, i);
                        const char *str = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
                        sim_ipaddr ad;
                        sim_iproute rt;

                        if (k == 0)
                                e = ipaddr_parse(str, &ad) < 0 ? -EINVAL : ipconf_add_addr(&ip.conf, &ad);
                        else
                                e = iproute_parse(str, &rt) < 0 ? -EINVAL : ipconf_add_route(&ip.conf, &rt);
                        if (e < 0) {
                                fprintf(stderr, "%s: %s: %s[%zu]: %s \"%s\"\n", file, where, key, i,
                                        e == -EEXIST ? "duplicate" :
                                        k == 0 ? "expected ADDRESS/PREFIXLEN, not" :
                                                 "expected \"PREFIX|default [via GATEWAY] [metric N]\", not",
                                        str);
                                ipconf_done(&ip.conf);
                                return -EINVAL;
                        }
                }
        }
        a = realloc(r->topo_ip, (r->n_topo_ip + 1) * sizeof(*a));
        if (!a) {
                ipconf_done(&ip.conf);
                return -ENOMEM;
        }
        r->topo_ip = a;
        r->topo_ip[r->n_topo_ip++] = ip;
        return 0;
}

/* ---- per-VF state ---- */

sim_device *sim_vf_find(const sim_device *pf, uint32_t vf) {
        sim_device *d;

        if (!pf->sriov || vf >= pf->sriov->total)
                return NULL;
        d = pf->sriov->vfs[vf];
        return d && d->present ? d : NULL;
}

static sim_netdev *vf_netdev(const sim_device *vf) {
        return vf->n_netdevs > 0 ? vf->netdevs[0] : NULL;
}

/* entries of VFs that are gone (disabled, hot-removed): the next VF with
 * that number is a new device and starts from the driver's defaults */
void sim_vf_state_gc(sim_rtnl *r) {
        size_t k = 0;

        for (size_t i = 0; i < r->n_vfs; i++) {
                sim_vf_state *st = r->vfs[i];
                sim_device *pf = st->vf->physfn;

                if (st->vf->present && pf && pf->sriov && st->vf->vf_index < pf->sriov->total &&
                    pf->sriov->vfs[st->vf->vf_index] == st->vf)
                        r->vfs[k++] = st;
                else {
                        sim_device_unref(st->vf);
                        free(st);
                }
        }
        r->n_vfs = k;
}

sim_vf_state *sim_vf_state_get(sim_rtnl *r, sim_device *vf) {
        const sim_vf_model *m;
        sim_vf_state *st, **a;
        sim_netdev *nd;

        for (size_t i = 0; i < r->n_vfs; i++)
                if (r->vfs[i]->vf == vf)
                        return r->vfs[i];
        m = vf->physfn ? sim_vf_model_find(r, vf->physfn->driver) : NULL;
        st = calloc(1, sizeof(*st));
        a = st ? realloc(r->vfs, (r->n_vfs + 1) * sizeof(*a)) : NULL;
        if (!a) {
                free(st);
                return NULL;
        }
        r->vfs = a;
        st->vf = sim_device_ref(vf);
        st->vlan_proto = ETH_P_8021Q;
        st->link_state = IFLA_VF_LINK_STATE_AUTO;
        st->spoofchk = m && m->spoofchk_default;
        st->query_rss = m && m->query_rss_default;
        /* the Intel PF drivers learn the address the VF driver uses */
        nd = vf_netdev(vf);
        if (m && m->mac_report_vf && nd)
                memcpy(st->mac, nd->mac, 6);
        r->vfs[r->n_vfs++] = st;
        return st;
}

int sim_vf_get_config(sim_rtnl *r, sim_device *pf, uint32_t vf, sim_vf_info *ret) {
        const sim_vf_model *m = sim_vf_model_find(r, pf->driver);
        sim_device *d = sim_vf_find(pf, vf);
        sim_vf_state *st;
        sim_vf_info ivi = {};

        if (!m)
                return -EOPNOTSUPP;
        if (!d || vf >= pf->sriov->num_vfs)
                return -EINVAL;
        st = sim_vf_state_get(r, d);
        if (!st)
                return -ENOMEM;
        /* rtnl_fill_vfinfo()'s presets, then the driver's fill */
        ivi.spoofchk = UINT32_MAX;
        ivi.rss_query_en = UINT32_MAX;
        ivi.trusted = UINT32_MAX;
        ivi.vlan_proto = htons(ETH_P_8021Q);
        if (m->ivi_memset)
                ivi = (sim_vf_info) {};
        ivi.vf = vf;
        memcpy(ivi.mac, st->mac, 6);
        ivi.vlan = st->vlan;
        ivi.qos = st->qos;
        if ((st->vlan || st->qos) && !m->ivi_memset)
                ivi.vlan_proto = htons(st->vlan_proto);
        ivi.min_tx_rate = st->min_rate;
        ivi.max_tx_rate = st->max_rate;
        ivi.linkstate = st->link_state;
        if (m->spoofchk)
                ivi.spoofchk = st->spoofchk;
        if (m->trust)
                ivi.trusted = st->trust;
        if (m->query_rss)
                ivi.rss_query_en = st->query_rss;
        *ret = ivi;
        return 0;
}

void sim_vf_get_stats(sim_rtnl *r, sim_device *pf, uint32_t vf, uint64_t ret[static SIM_VF_STATS]) {
        const sim_vf_model *m = sim_vf_model_find(r, pf->driver);
        sim_device *d = sim_vf_find(pf, vf);
        sim_vf_state *st = m && m->stats && d ? sim_vf_state_get(r, d) : NULL;

        for (size_t i = 0; i < SIM_VF_STATS; i++)
                ret[i] = st ? st->stats[i] : 0;
}

/* "traffic VF COUNTER N": the VF's hardware counts N more (the kernel's
 * names: rx_packets, tx_packets, rx_bytes, tx_bytes, broadcast, multicast,
 * rx_dropped, tx_dropped), whether or not its PF driver reports them */
int sim_rtnl_ctl_traffic(sim *s, char **argv, size_t argc) {
        static const char *const names[SIM_VF_STATS] = {
                "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "broadcast", "multicast", "rx_dropped", "tx_dropped",
        };
        sim_rtnl *r = sim_rtnl_get(s);
        unsigned long long n;
        sim_vf_state *st;
        sim_device *d;
        size_t i;
        int e = 0;

        if (!r)
                return -ENOMEM;
        if (argc != 4 || kstrtoull(argv[3], 10, &n) < 0)
                return -EINVAL;
        for (i = 0; i < SIM_VF_STATS && !streq(argv[2], names[i]); i++)
                ;
        if (i == SIM_VF_STATS)
                return -EINVAL;
        sim_lock(s);
        sim_vf_state_gc(r);
        d = sim_find_device(s, argv[1]);
        if (!d || !d->present || !d->physfn || !sim_vf_model_find(r, d->physfn->driver))
                e = -ENODEV;
        else if (!(st = sim_vf_state_get(r, d)))
                e = -ENOMEM;
        else
                st->stats[i] += n;
        sim_unlock(s);
        return e;
}

/* ---- ndo_set_vf_* ---- */

static const char *const op_names[] = {
        [SIM_VF_MAC] = "mac", [SIM_VF_VLAN] = "vlan", [SIM_VF_RATE] = "rate", [SIM_VF_SPOOFCHK] = "spoofchk",
        [SIM_VF_TRUST] = "trust", [SIM_VF_LINK_STATE] = "link_state", [SIM_VF_QUERY_RSS] = "query_rss",
};

static bool model_has(const sim_vf_model *m, sim_vf_op op) {
        switch (op) {
        case SIM_VF_MAC: return m->mac;
        case SIM_VF_VLAN: return m->vlan;
        case SIM_VF_RATE: return m->rate;
        case SIM_VF_SPOOFCHK: return m->spoofchk;
        case SIM_VF_TRUST: return m->trust;
        case SIM_VF_LINK_STATE: return m->link_state;
        case SIM_VF_QUERY_RSS: return m->query_rss;
        }
        return false;
}

static void format_value(const sim_vf_req *q, char *buf, size_t size) {
        switch (q->op) {
        case SIM_VF_MAC:
                (void) snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", q->mac[0], q->mac[1], q->mac[2], q->mac[3],
                                q->mac[4], q->mac[5]);
                break;
        case SIM_VF_VLAN:
                (void) snprintf(buf, size, "vlan %u qos %u proto %s", q->vlan, q->qos,
                                q->vlan_proto == ETH_P_8021Q ? "802.1Q" :
                                q->vlan_proto == ETH_P_8021AD ? "802.1ad" : "other");
                break;
        case SIM_VF_RATE:
                (void) snprintf(buf, size, "min %u max %u", q->min_rate, q->max_rate);
                break;
        case SIM_VF_LINK_STATE:
                (void) snprintf(buf, size, "%s", q->setting == 0 ? "auto" : q->setting == 1 ? "enable" :
                                                 q->setting == 2 ? "disable" : "invalid");
                break;
        default:
                (void) snprintf(buf, size, "%s", q->setting ? "on" : "off");
        }
}

/* the driver's checks and effect; sim->lock held */
static int apply(sim_rtnl *r, const sim_vf_model *m, sim_netdev *pf_nd, sim_device *pf, const sim_vf_req *q) {
        sim_device *vf = sim_vf_find(pf, q->vf);
        sim_vf_state *st;
        sim_netdev *vnd;

        /* every driver: "Invalid VF Identifier" and friends */
        if (!vf || q->vf >= pf->sriov->num_vfs) {
                /* mlx5 has e-switch vports for every possible VF: accepted,
                 * and kept nowhere the simulator shows (README) */
                if (m->ivi_memset && pf->sriov && q->vf < pf->sriov->total)
                        return 0;
                return -EINVAL;
        }
        st = sim_vf_state_get(r, vf);
        if (!st)
                return -ENOMEM;
        vnd = vf_netdev(vf);
        switch (q->op) {
        case SIM_VF_MAC:
                if (q->mac[0] & 1)
                        return -EINVAL;         /* multicast, broadcast */
                if (!memcmp(q->mac, (uint8_t[6]) {}, 6)) {
                        if (m->mac_zero_einval)
                                return -EINVAL;
                        st->mac_admin = false;
                        memset(st->mac, 0, 6);
                        return 0;
                }
                st->mac_admin = true;
                memcpy(st->mac, q->mac, 6);
                /* i40e/ice reset the VF; iavf comes back with the new address */
                if (m->mac_netdev_reset && vnd)
                        memcpy(vnd->mac, q->mac, 6);
                return 0;
        case SIM_VF_VLAN: {
                bool proto_ok = q->vlan_proto == ETH_P_8021Q || (q->vlan_proto == ETH_P_8021AD && m->vlan_8021ad);

                if (m->vlan_proto_first && !proto_ok)
                        return -EPROTONOSUPPORT;
                if (q->vlan > 4095 || q->qos > 7)
                        return -EINVAL;
                if (!proto_ok)
                        return -EPROTONOSUPPORT;
                st->vlan = (uint16_t) q->vlan;
                st->qos = (uint8_t) q->qos;
                st->vlan_proto = q->vlan || q->qos ? q->vlan_proto : ETH_P_8021Q;
                return 0;
        }
        case SIM_VF_RATE:
                if (q->min_rate && !m->rate_min)
                        return -EINVAL;
                if (m->rate_link_up && !pf_nd->up)
                        return -EINVAL;
                if (m->rate_max && (q->max_rate > m->rate_max || q->min_rate > m->rate_max))
                        return -EINVAL;
                if (m->rate_floor && q->max_rate && q->max_rate <= m->rate_floor)
                        return -EINVAL;
                st->min_rate = q->min_rate;
                st->max_rate = q->max_rate;
                return 0;
        case SIM_VF_SPOOFCHK:
                st->spoofchk = q->setting != 0;
                return 0;
        case SIM_VF_TRUST:
                st->trust = q->setting != 0;
                return 0;
        case SIM_VF_LINK_STATE:
                if (q->setting > IFLA_VF_LINK_STATE_DISABLE) {
                        if (!m->link_state_invalid_auto)
                                return -EINVAL;
                        st->link_state = IFLA_VF_LINK_STATE_AUTO;
                        return 0;
                }
                st->link_state = (uint8_t) q->setting;
                return 0;
        case SIM_VF_QUERY_RSS:
                st->query_rss = q->setting != 0;
                return 0;
        }
        return -EINVAL;
}

int sim_vf_ndo_set(sim_rtnl *r, sim_netdev *pf_nd, const sim_vf_req *q) {
        sim *s = r->sim;
        const sim_vf_model *m;
        sim_device *pf, *vf;
        char path[96], value[64], vf_name[PCI_ADDR_STRLEN] = "", pf_name[PCI_ADDR_STRLEN] = "", ifname[SIM_IFNAMSIZ];
        int e;

        sim_lock(s);
        pf = pf_nd->dev;
        m = pf ? sim_vf_model_find(r, pf->driver) : NULL;
        (void) snprintf(ifname, sizeof(ifname), "%s", pf_nd->name);
        if (pf) {
                (void) snprintf(pf_name, sizeof(pf_name), "%s", pf->name);
                vf = sim_vf_find(pf, q->vf);
                if (vf)
                        (void) snprintf(vf_name, sizeof(vf_name), "%s", vf->name);
        }
        sim_unlock(s);
        if (!pf)
                return -ENODEV;
        /* do_setvfinfo(): no such ndo at all */
        if (!m || !model_has(m, q->op))
                return -EOPNOTSUPP;

        (void) snprintf(path, sizeof(path), "rtnl/%s/vf%u/%s", ifname, q->vf, op_names[q->op]);
        format_value(q, value, sizeof(value));
        sim_delay(s, SIM_LAT_VF_SET);
        /* "fail vf_set TARGET ...": the VF, the PF's interface or the PF,
         * each alone or with "/ATTR" for one attribute only */
        {
                char t[6][64];
                const char *names[6];
                size_t n = 0;

                for (int k = 0; k < 6; k++) {
                        const char *base = k < 2 ? vf_name : k < 4 ? ifname : pf_name;

                        if (!base[0])
                                continue;
                        (void) snprintf(t[n], sizeof(t[n]), k % 2 == 0 ? "%s/%s" : "%s", base, op_names[q->op]);
                        names[n] = t[n];
                        n++;
                }
                e = sim_inject_check_names(s, SIM_OP_VF_SET, names, n);
        }
        if (e == 0) {
                sim_lock(s);
                sim_vf_state_gc(r);
                e = pf_nd->dev == pf && pf->driver ? apply(r, m, pf_nd, pf, q) : -ENODEV;
                sim_unlock(s);
        }
        sim_log_write(s, path, value, strlen(value), e);
        return e;
}

/* netdev_register() calls this (sim->lock held) with the address picked:
 * the VF drivers read the address the PF set at probe (igbvf, ixgbevf,
 * iavf, mlx5), and tell the PF their own when it set none. */
void sim_rtnl_netdev_registered(sim_netdev *nd) {
        sim_rtnl *r = nd->sim->rtnl;
        const sim_vf_model *m;
        sim_vf_state *st;
        sim_device *d = nd->dev;

        if (!r)
                return;
        r->probe_hook = true;
        if (!d || !d->physfn)
                return;
        m = sim_vf_model_find(r, d->physfn->driver);
        if (!m)
                return;
        sim_vf_state_gc(r);
        st = sim_vf_state_get(r, d);
        if (!st)
                return;
        if (st->mac_admin)
                memcpy(nd->mac, st->mac, 6);
        else if (m->mac_report_vf)
                memcpy(st->mac, nd->mac, 6);
}

/* ---- addresses and routes of net devices ---- */

static void netdev_ip_gc(sim_rtnl *r) {
        size_t k = 0;

        for (size_t i = 0; i < r->n_ips; i++) {
                sim_netdev_ip *ip = r->ips[i];

                if (ip->nd->dev)
                        r->ips[k++] = ip;
                else {
                        ipconf_done(&ip->conf);
                        sim_kobj_unref(ip->nd);
                        free(ip);
                }
        }
        r->n_ips = k;
}

sim_ipconf *sim_netdev_ipconf(sim_rtnl *r, sim_netdev *nd) {
        sim_netdev_ip *ip, **a;

        if (!nd->dev)
                return NULL;
        netdev_ip_gc(r);
        for (size_t i = 0; i < r->n_ips; i++)
                if (r->ips[i]->nd == nd)
                        return &r->ips[i]->conf;
        ip = calloc(1, sizeof(*ip));
        a = ip ? realloc(r->ips, (r->n_ips + 1) * sizeof(*a)) : NULL;
        if (!a) {
                free(ip);
                return NULL;
        }
        r->ips = a;
        /* the host's network configuration puts the topology's addresses on
         * the interface whenever it appears */
        for (size_t i = 0; i < r->n_topo_ip; i++)
                if (streq(r->topo_ip[i].bdf, nd->dev->name) && ipconf_copy(&ip->conf, &r->topo_ip[i].conf) < 0) {
                        free(ip);
                        return NULL;
                }
        ip->nd = sim_kobj_ref(nd);
        r->ips[r->n_ips++] = ip;
        return &ip->conf;
}

static sim_netdev *netdev_by_name(sim *s, const char *name) {
        for (size_t i = 0; i < s->n_netdevs; i++)
                if (streq(s->netdevs[i]->name, name))
                        return s->netdevs[i];
        return NULL;
}

/* .sim/ctl: netdev IFNAME addr add|del ADDR/LEN
 *           netdev IFNAME route add|del PREFIX|default [via GW] [metric N] */
int sim_rtnl_ctl_netdev(sim *s, char **argv, size_t argc) {
        sim_rtnl *r = sim_rtnl_get(s);
        bool add, addr;
        sim_ipconf *c;
        sim_netdev *nd;
        sim_ipaddr a;
        sim_iproute rt;
        int e = 0;

        if (!r)
                return -ENOMEM;
        if (argc < 5 || (!streq(argv[3], "add") && !streq(argv[3], "del")))
                return -EINVAL;
        add = streq(argv[3], "add");
        addr = streq(argv[2], "addr");
        if (addr ? (argc != 5 || ipaddr_parse(argv[4], &a) < 0) : iproute_parse_words(argv + 4, argc - 4, &rt) < 0)
                return -EINVAL;
        sim_lock(s);
        nd = netdev_by_name(s, argv[1]);
        c = nd ? sim_netdev_ipconf(r, nd) : NULL;
        if (!nd)
                e = -ENODEV;
        else if (!c)
                e = -ENOMEM;
        else if (add)
                e = addr ? ipconf_add_addr(c, &a) : ipconf_add_route(c, &rt);
        else {
                size_t i, n = addr ? c->n_addrs : c->n_routes;

                for (i = 0; i < n; i++)
                        if (addr ? c->addrs[i].family == a.family && !memcmp(c->addrs[i].addr, a.addr, 16) &&
                                           c->addrs[i].prefix == a.prefix
                                 : route_same(&c->routes[i], &rt))
                                break;
                if (i == n)
                        e = -ENOENT;
                else if (addr)
                        c->addrs[i] = c->addrs[--c->n_addrs];
                else
                        c->routes[i] = c->routes[--c->n_routes];
        }
        sim_unlock(s);
        return e;
}

/* ---- .sim/state ---- */

static json_object *mac_json(const uint8_t *m) {
        char b[18];

        (void) snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        return json_object_new_string(b);
}

static json_object *prefix_json(unsigned char family, const uint8_t *a, unsigned len, bool with_len) {
        char b[INET6_ADDRSTRLEN + 8], x[INET6_ADDRSTRLEN];

        if (!inet_ntop(family, a, x, sizeof(x)))
                x[0] = 0;
        if (with_len)
                (void) snprintf(b, sizeof(b), "%s/%u", x, len);
        else
                (void) snprintf(b, sizeof(b), "%s", x);
        return json_object_new_string(b);
}

/* sim->lock held: the VF's attributes as its PF driver keeps them, and the
 * addresses and routes of the function's net devices */
void sim_rtnl_dump_device(sim *s, const sim_device *cd, json_object *o) {
        sim_device *d = (sim_device *) cd;
        sim_rtnl *r = s->rtnl;
        json_object *ips = NULL;

        if (!r)
                return;
        if (d->physfn && d->present && sim_vf_model_find(r, d->physfn->driver)) {
                sim_vf_state *st = sim_vf_state_get(r, d);
                json_object *v = json_object_new_object();

                if (st && v) {
                        json_object_object_add(v, "mac", mac_json(st->mac));
                        json_object_object_add(v, "mac_admin", json_object_new_boolean(st->mac_admin));
                        json_object_object_add(v, "vlan", json_object_new_int(st->vlan));
                        json_object_object_add(v, "qos", json_object_new_int(st->qos));
                        json_object_object_add(v, "vlan_proto", json_object_new_string(
                                st->vlan_proto == ETH_P_8021AD ? "802.1ad" : "802.1Q"));
                        json_object_object_add(v, "min_tx_rate", json_object_new_int64(st->min_rate));
                        json_object_object_add(v, "max_tx_rate", json_object_new_int64(st->max_rate));
                        json_object_object_add(v, "spoofchk", json_object_new_boolean(st->spoofchk));
                        json_object_object_add(v, "trust", json_object_new_boolean(st->trust));
                        json_object_object_add(v, "link_state", json_object_new_string(
                                st->link_state == 1 ? "enable" : st->link_state == 2 ? "disable" : "auto"));
                        json_object_object_add(v, "query_rss", json_object_new_boolean(st->query_rss));
                        /* whether register_netdev() tells us about new net devices */
                        json_object_object_add(v, "probe_hook", json_object_new_boolean(r->probe_hook));
                        json_object_object_add(o, "vf_config", v);
                        /* the traffic the hardware counted (reported or not) */
                        v = json_object_new_array();
                        for (size_t k = 0; v && k < SIM_VF_STATS; k++)
                                json_object_array_add(v, json_object_new_int64((int64_t) st->stats[k]));
                        if (v)
                                json_object_object_add(o, "vf_stats", v);
                } else
                        json_object_put(v);
        }
        for (size_t i = 0; i < d->n_netdevs; i++) {
                sim_ipconf *c = sim_netdev_ipconf(r, d->netdevs[i]);
                json_object *n, *al, *rl;

                if (!c || (c->n_addrs == 0 && c->n_routes == 0))
                        continue;
                if (!ips)
                        ips = json_object_new_object();
                n = json_object_new_object();
                al = json_object_new_array();
                rl = json_object_new_array();
                for (size_t k = 0; k < c->n_addrs; k++)
                        json_object_array_add(al, prefix_json(c->addrs[k].family, c->addrs[k].addr, c->addrs[k].prefix, true));
                for (size_t k = 0; k < c->n_routes; k++) {
                        const sim_iproute *rt = &c->routes[k];
                        char b[160];
                        json_object *dst = rt->dst_len || !rt->gw_set ? prefix_json(rt->family, rt->dst, rt->dst_len, true)
                                                                       : NULL;
                        json_object *gw = rt->gw_set ? prefix_json(rt->family, rt->gw, 0, false) : NULL;

                        (void) snprintf(b, sizeof(b), "%s%s%s", dst ? json_object_get_string(dst) : "default",
                                        gw ? " via " : "", gw ? json_object_get_string(gw) : "");
                        if (rt->metric_set)
                                (void) snprintf(b + strlen(b), sizeof(b) - strlen(b), " metric %u", rt->metric);
                        json_object_put(dst);
                        json_object_put(gw);
                        json_object_array_add(rl, json_object_new_string(b));
                }
                json_object_object_add(n, "addresses", al);
                json_object_object_add(n, "routes", rl);
                json_object_object_add(ips, d->netdevs[i]->name, n);
        }
        if (ips)
                json_object_object_add(o, "ip", ips);
}
