/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "conffile.h"
#include "fileio.h"
#include "pool.h"
#include "util.h"

#define CONFIG_MAX_SIZE (4 * 1024 * 1024)

_printf_(4, 0) static void add_message(char ***list, const char *file, json_pos pos, const char *fmt, va_list ap) {
        char *m = NULL, *line;

        if (vasprintf(&m, fmt, ap) < 0)
                return;
        if (pos.line > 0)
                line = strdup_printf("%s:%u:%u: %s", file, pos.line, pos.col, m);
        else
                line = strdup_printf("%s: %s", file, m);
        free(m);
        if (line)
                (void) strv_push(list, line);
}

void config_error(ConfigErrors *e, const char *file, json_pos pos, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        add_message(&e->messages, file, pos, fmt, ap);
        va_end(ap);
}

void config_warning(ConfigErrors *e, const char *file, json_pos pos, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        add_message(&e->warnings, file, pos, fmt, ap);
        va_end(ap);
}

void config_errors_done(ConfigErrors *e) {
        e->messages = strv_free(e->messages);
        e->warnings = strv_free(e->warnings);
}

static void range_done(ConfigVFRange *r) {
        free(r->driver);
        free(r->file);
}

static void pf_done(ConfigPF *p) {
        for (size_t i = 0; i < p->n_ranges; i++)
                range_done(&p->ranges[i]);
        free(p->ranges);
        free(p->file);
}

static void pool_done(ConfigPool *p) {
        free(p->name);
        strv_free(p->selectors);
        free(p->driver);
        free(p->file);
}

Config *config_ref(Config *c) {
        if (c)
                __atomic_add_fetch(&c->n_ref, 1, __ATOMIC_SEQ_CST);
        return c;
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        if (__atomic_sub_fetch(&c->n_ref, 1, __ATOMIC_SEQ_CST) > 0)
                return NULL;
        for (size_t i = 0; i < c->n_pfs; i++)
                pf_done(&c->pfs[i]);
        free(c->pfs);
        for (size_t i = 0; i < c->n_pools; i++)
                pool_done(&c->pools[i]);
        free(c->pools);
        strv_free(c->files);
        return mfree(c);
}

/* ---- small parsers ---- */

int parse_vf_range(const char *s, unsigned *ret_first, unsigned *ret_last) {
        _cleanup_free_ char *a = NULL;
        const char *dash;
        unsigned f, l;

        if (isempty(s))
                return -EINVAL;
        dash = strchr(s, '-');
        if (!dash) {
                if (safe_atou(s, 10, &f) < 0 || f > 65535)
                        return -EINVAL;
                *ret_first = *ret_last = f;
                return 0;
        }
        a = strndup(s, (size_t) (dash - s));
        if (!a)
                return -ENOMEM;
        if (safe_atou(a, 10, &f) < 0 || safe_atou(dash + 1, 10, &l) < 0 || f > l || l > 65535)
                return -EINVAL;
        *ret_first = f;
        *ret_last = l;
        return 0;
}

int parse_pci_id_pair(const char *s, uint16_t *ret_vendor, uint16_t *ret_device) {
        _cleanup_free_ char *a = NULL;
        const char *colon;
        unsigned v, d;

        if (isempty(s) || !(colon = strchr(s, ':')) || colon - s != 4 || strlen(colon + 1) != 4)
                return -EINVAL;
        /* four hexadecimal digits each: no "0x", no sign, no space */
        for (size_t i = 0; i < 9; i++)
                if (i != 4 && !isxdigit((unsigned char) s[i]))
                        return -EINVAL;
        a = strndup(s, 4);
        if (!a)
                return -ENOMEM;
        if (safe_atou(a, 16, &v) < 0 || safe_atou(colon + 1, 16, &d) < 0)
                return -EINVAL;
        *ret_vendor = (uint16_t) v;
        *ret_device = (uint16_t) d;
        return 0;
}

/* ---- schema walking ---- */

typedef struct Walk {
        const char *file;
        ConfigErrors *errors;
        unsigned n_errors;
} Walk;

_printf_(3, 4) static void werr(Walk *w, json_pos pos, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        add_message(&w->errors->messages, w->file, pos, fmt, ap);
        va_end(ap);
        w->n_errors++;
}

static const char *type_name(json_type t) {
        switch (t) {
        case json_type_null: return "null";
        case json_type_boolean: return "a boolean";
        case json_type_double: return "a number";
        case json_type_int: return "an integer";
        case json_type_object: return "an object";
        case json_type_array: return "an array";
        case json_type_string: return "a string";
        }
        return "?";
}

/* Object members not in allowed[] are errors. */
static void check_keys(Walk *w, json_object *o, const json_node *n, const char *what, const char *const *allowed) {
        for (size_t i = 0; i < n->n_children; i++) {
                bool ok = false;

                for (const char *const *a = allowed; *a; a++)
                        ok = ok || streq(*a, n->children[i].key);
                if (!ok)
                        werr(w, n->children[i].key_pos, "unknown key \"%s\" in %s", n->children[i].key, what);
        }
        (void) o;
}

static bool want_type(Walk *w, json_object *v, const json_node *n, json_type t, const char *key) {
        if (json_object_get_type(v) == t)
                return true;
        werr(w, n->pos, "\"%s\" must be %s, not %s", key, type_name(t), type_name(json_object_get_type(v)));
        return false;
}

static bool get_uint(Walk *w, json_object *v, const json_node *n, const char *key, uint64_t max, uint64_t *ret) {
        int64_t x;

        if (!want_type(w, v, n, json_type_int, key))
                return false;
        errno = 0;
        x = json_object_get_int64(v);
        if (x < 0 || (uint64_t) x > max || errno == ERANGE) {
                werr(w, n->pos, "\"%s\" must be between 0 and %llu", key, (unsigned long long) max);
                return false;
        }
        *ret = (uint64_t) x;
        return true;
}

static bool parse_driver(Walk *w, json_object *v, const json_node *n, DriverWant *ret_want, char **ret_driver) {
        const char *s;

        if (!want_type(w, v, n, json_type_string, "driver"))
                return false;
        s = json_object_get_string(v);
        if (streq(s, "host")) {
                *ret_want = DRIVER_HOST;
                return true;
        }
        if (!driver_name_is_valid(s)) {
                werr(w, n->pos, "invalid driver name \"%.64s\"", s);
                return false;
        }
        *ret_want = DRIVER_NAMED;
        *ret_driver = strdup(s);
        return *ret_driver != NULL;
}

/* The VF attribute keys shared by VF ranges and pools. Returns false if the
 * key is not an attribute key. */
static bool parse_vf_attr(Walk *w, const char *key, json_object *v, const json_node *n, sriov_vf_config *a,
                          bool *mac_is_base) {
        uint64_t u;

        if (streq(key, "mac") || streq(key, "mac_base")) {
                if (!want_type(w, v, n, json_type_string, key))
                        return true;
                if (vf_mac_parse(json_object_get_string(v), a->mac) < 0) {
                        werr(w, n->pos, "invalid MAC address \"%.32s\": expected xx:xx:xx:xx:xx:xx, unicast",
                             json_object_get_string(v));
                        return true;
                }
                if ((a->mask & VF_ATTR_MAC) && mac_is_base) {
                        werr(w, n->pos, "\"mac\" and \"mac_base\" exclude each other");
                        return true;
                }
                a->mask |= VF_ATTR_MAC;
                if (mac_is_base)
                        *mac_is_base = streq(key, "mac_base");
                return true;
        }
        if (streq(key, "vlan")) {
                if (get_uint(w, v, n, key, 4094, &u)) {
                        a->vlan = (uint16_t) u;
                        a->mask |= VF_ATTR_VLAN;
                }
                return true;
        }
        if (streq(key, "qos")) {
                if (get_uint(w, v, n, key, 7, &u)) {
                        a->qos = (uint8_t) u;
                        a->mask |= VF_ATTR_VLAN;
                }
                return true;
        }
        if (streq(key, "vlan_proto")) {
                if (want_type(w, v, n, json_type_string, key) &&
                    vf_vlan_proto_parse(json_object_get_string(v), &a->vlan_proto) < 0)
                        werr(w, n->pos, "\"vlan_proto\" must be \"802.1Q\" or \"802.1ad\"");
                a->mask |= VF_ATTR_VLAN;
                return true;
        }
        if (streq(key, "min_tx_rate") || streq(key, "max_tx_rate")) {
                if (get_uint(w, v, n, key, 10000000, &u)) {
                        if (streq(key, "min_tx_rate"))
                                a->min_tx_rate = (uint32_t) u;
                        else
                                a->max_tx_rate = (uint32_t) u;
                        a->mask |= VF_ATTR_RATE;
                }
                return true;
        }
        if (streq(key, "spoofchk") || streq(key, "trust") || streq(key, "query_rss")) {
                if (want_type(w, v, n, json_type_boolean, key)) {
                        bool b = json_object_get_boolean(v);
                        if (streq(key, "spoofchk")) {
                                a->spoofchk = b;
                                a->mask |= VF_ATTR_SPOOFCHK;
                        } else if (streq(key, "trust")) {
                                a->trust = b;
                                a->mask |= VF_ATTR_TRUST;
                        } else {
                                a->query_rss = b;
                                a->mask |= VF_ATTR_QUERY_RSS;
                        }
                }
                return true;
        }
        if (streq(key, "link_state")) {
                if (want_type(w, v, n, json_type_string, key) &&
                    vf_link_state_parse(json_object_get_string(v), &a->link_state) < 0)
                        werr(w, n->pos, "\"link_state\" must be \"auto\", \"enable\" or \"disable\"");
                a->mask |= VF_ATTR_LINK_STATE;
                return true;
        }
        return false;
}

static void check_attr_consistency(Walk *w, const sriov_vf_config *a, const json_node *n) {
        if ((a->mask & VF_ATTR_VLAN) && a->vlan == 0 && a->qos != 0)
                werr(w, n->pos, "\"qos\" needs a non-zero \"vlan\"");
        if ((a->mask & VF_ATTR_VLAN) && a->vlan_proto == 0)
                ((sriov_vf_config *) a)->vlan_proto = VF_VLAN_PROTO_8021Q;
        if ((a->mask & VF_ATTR_RATE) && a->max_tx_rate != 0 && a->min_tx_rate > a->max_tx_rate)
                werr(w, n->pos, "\"min_tx_rate\" exceeds \"max_tx_rate\"");
}

static void parse_range(Walk *w, json_object *o, const json_node *n, ConfigVFRange *r) {
        static const char *const keys[] = {
                "range", "driver", "mac", "mac_base", "vlan", "qos", "vlan_proto", "min_tx_rate", "max_tx_rate",
                "spoofchk", "trust", "link_state", "query_rss", NULL
        };
        bool have_range = false;

        r->pos = n->pos;
        if (!want_type(w, o, n, json_type_object, "vfs[]"))
                return;
        check_keys(w, o, n, "a VF range", keys);
        json_object_object_foreach(o, key, v) {
                const json_node *c = json_node_member(n, key);

                if (!c)
                        continue;
                if (streq(key, "range")) {
                        if (want_type(w, v, c, json_type_string, key)) {
                                if (parse_vf_range(json_object_get_string(v), &r->first, &r->last) < 0)
                                        werr(w, c->pos, "invalid VF range \"%.32s\": expected N or N-M", json_object_get_string(v));
                                else
                                        have_range = true;
                        }
                } else if (streq(key, "driver"))
                        (void) parse_driver(w, v, c, &r->driver_want, &r->driver);
                else
                        (void) parse_vf_attr(w, key, v, c, &r->attrs, &r->mac_is_base);
        }
        if (!have_range)
                werr(w, n->pos, "a VF range needs \"range\"");
        if (have_range && (r->attrs.mask & VF_ATTR_MAC) && !r->mac_is_base && r->first != r->last)
                werr(w, json_node_member(n, "mac") ? json_node_member(n, "mac")->pos : n->pos,
                     "\"mac\" on a range of %u VFs would give them one address; use \"mac_base\"",
                     r->last - r->first + 1);
        check_attr_consistency(w, &r->attrs, n);
}

static void parse_match(Walk *w, json_object *o, const json_node *n, ConfigMatch *m) {
        static const char *const keys[] = { "bdf", "interface", "id", "index", NULL };
        json_object *v;
        unsigned kinds = 0;

        if (!want_type(w, o, n, json_type_object, "match"))
                return;
        check_keys(w, o, n, "\"match\"", keys);
        m->index = -1;
        if (json_object_object_get_ex(o, "bdf", &v)) {
                const json_node *c = json_node_member(n, "bdf");
                kinds++;
                m->kind = MATCH_BDF;
                if (want_type(w, v, c, json_type_string, "bdf") && pci_addr_parse(json_object_get_string(v), &m->bdf) < 0)
                        werr(w, c->pos, "invalid PCI address \"%.32s\": expected DDDD:BB:DD.F or BB:DD.F",
                             json_object_get_string(v));
        }
        if (json_object_object_get_ex(o, "interface", &v)) {
                const json_node *c = json_node_member(n, "interface");
                kinds++;
                m->kind = MATCH_INTERFACE;
                if (want_type(w, v, c, json_type_string, "interface")) {
                        if (!ifname_is_valid(json_object_get_string(v)))
                                werr(w, c->pos, "invalid interface name \"%.32s\"", json_object_get_string(v));
                        else
                                (void) snprintf(m->interface, sizeof(m->interface), "%s", json_object_get_string(v));
                }
        }
        if (json_object_object_get_ex(o, "id", &v)) {
                const json_node *c = json_node_member(n, "id");
                kinds++;
                m->kind = MATCH_ID;
                if (want_type(w, v, c, json_type_string, "id") &&
                    parse_pci_id_pair(json_object_get_string(v), &m->vendor, &m->device) < 0)
                        werr(w, c->pos, "invalid PCI id \"%.32s\": expected vvvv:dddd in hex", json_object_get_string(v));
        }
        if (json_object_object_get_ex(o, "index", &v)) {
                const json_node *c = json_node_member(n, "index");
                uint64_t u;

                if (m->kind != MATCH_ID || kinds != 1)
                        werr(w, c->key_pos, "\"index\" goes with \"id\" only");
                else if (get_uint(w, v, c, "index", 255, &u))
                        m->index = (int) u;
        }
        if (kinds != 1)
                werr(w, n->pos, "\"match\" needs exactly one of \"bdf\", \"interface\" or \"id\"");
}

/* Ranges by their first VF, then by their place in the rule. */
static int cmp_range(const void *a, const void *b, void *ranges) {
        const ConfigVFRange *x = (const ConfigVFRange *) ranges + *(const size_t *) a,
                            *y = (const ConfigVFRange *) ranges + *(const size_t *) b;

        if (x->first != y->first)
                return x->first < y->first ? -1 : 1;
        return *(const size_t *) a < *(const size_t *) b ? -1 : 1;
}

/* Overlapping ranges, in n log n (a rule may have 65535): a sweep by first
 * VF, each range against the one that reaches furthest so far; the error
 * is the later one's, in the order of the rule. */
static void check_overlaps(Walk *w, const ConfigPF *p) {
        _cleanup_free_ size_t *order = malloc(MAX(p->n_ranges, 1u) * sizeof(size_t));
        size_t reach;

        if (!order || p->n_ranges < 2)
                return;
        for (size_t i = 0; i < p->n_ranges; i++)
                order[i] = i;
        qsort_r(order, p->n_ranges, sizeof(*order), cmp_range, p->ranges);
        reach = order[0];
        for (size_t i = 1; i < p->n_ranges; i++) {
                const ConfigVFRange *r = &p->ranges[order[i]], *f = &p->ranges[reach];

                if (r->first <= f->last) {
                        const ConfigVFRange *later = order[i] > reach ? r : f, *earlier = later == r ? f : r;

                        werr(w, later->pos, "VF range %u-%u overlaps %u-%u of the same rule", later->first,
                             later->last, earlier->first, earlier->last);
                }
                if (r->last > f->last)
                        reach = order[i];
        }
}

static void parse_pf(Walk *w, json_object *o, const json_node *n, ConfigPF *p) {
        static const char *const keys[] = { "match", "num_vfs", "autoprobe", "vfs", "enforce", NULL };
        json_object *v;

        p->pos = n->pos;
        p->num_vfs = -1;
        p->autoprobe = -1;
        if (!want_type(w, o, n, json_type_object, "pfs[]"))
                return;
        check_keys(w, o, n, "a PF rule", keys);
        if (!json_object_object_get_ex(o, "match", &v))
                werr(w, n->pos, "a PF rule needs \"match\"");
        else
                parse_match(w, v, json_node_member(n, "match"), &p->match);
        if (json_object_object_get_ex(o, "num_vfs", &v)) {
                const json_node *c = json_node_member(n, "num_vfs");
                uint64_t u;

                p->num_vfs_pos = c->pos;
                if (get_uint(w, v, c, "num_vfs", 65535, &u))
                        p->num_vfs = (int) u;
        }
        if (json_object_object_get_ex(o, "autoprobe", &v)) {
                const json_node *c = json_node_member(n, "autoprobe");
                if (want_type(w, v, c, json_type_boolean, "autoprobe"))
                        p->autoprobe = json_object_get_boolean(v);
        }
        if (json_object_object_get_ex(o, "enforce", &v) &&
            want_type(w, v, json_node_member(n, "enforce"), json_type_boolean, "enforce"))
                p->enforce = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "vfs", &v)) {
                const json_node *c = json_node_member(n, "vfs");
                size_t len;

                if (!want_type(w, v, c, json_type_array, "vfs"))
                        return;
                len = json_object_array_length(v);
                p->ranges = calloc(MAX(len, 1u), sizeof(*p->ranges));
                if (!p->ranges)
                        return;
                for (size_t i = 0; i < len; i++) {
                        ConfigVFRange *r = &p->ranges[p->n_ranges++];

                        r->file = strdup(w->file);
                        parse_range(w, json_object_array_get_idx(v, i), json_node_element(c, i), r);
                        if (p->num_vfs >= 0 && r->last >= (unsigned) p->num_vfs)
                                werr(w, r->pos, "VF range %u-%u goes beyond \"num_vfs\" %d", r->first, r->last,
                                     p->num_vfs);
                }
                check_overlaps(w, p);
        }
}

static bool pool_name_is_valid(const char *s) {
        if (!sysfs_name_is_valid(s, 64))
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && *c != '-' && *c != '_' && *c != '.')
                        return false;
        return true;
}

static const char *const reset_names[_RESET_POLICY_MAX] = {
        [RESET_AUTO] = "auto",
        [RESET_ALWAYS] = "always",
        [RESET_NEVER] = "never",
};

const char *reset_policy_name(ResetPolicy p) {
        return p < _RESET_POLICY_MAX ? reset_names[p] : "?";
}

int reset_policy_from_string(const char *s, ResetPolicy *ret) {
        for (size_t i = 0; s && i < _RESET_POLICY_MAX; i++)
                if (streq(s, reset_names[i])) {
                        *ret = (ResetPolicy) i;
                        return 0;
                }
        return -EINVAL;
}

static void parse_reset(Walk *w, json_object *v, const json_node *c, ResetPolicy *ret) {
        if (!want_type(w, v, c, json_type_string, "reset"))
                return;
        if (reset_policy_from_string(json_object_get_string(v), ret) < 0)
                werr(w, c->pos, "invalid reset policy \"%.16s\": auto, always or never", json_object_get_string(v));
}

static void parse_pool(Walk *w, json_object *o, const json_node *n, ConfigPool *p) {
        static const char *const keys[] = {
                "name", "select", "driver", "reset", "mac_base", "vlan", "qos", "vlan_proto", "min_tx_rate",
                "max_tx_rate", "spoofchk", "trust", "link_state", "query_rss", "enforce", NULL
        };

        p->pos = n->pos;
        if (!want_type(w, o, n, json_type_object, "pools[]"))
                return;
        check_keys(w, o, n, "a pool", keys);
        json_object_object_foreach(o, key, v) {
                const json_node *c = json_node_member(n, key);

                if (!c)
                        continue;
                if (streq(key, "name")) {
                        if (want_type(w, v, c, json_type_string, key)) {
                                if (!pool_name_is_valid(json_object_get_string(v)))
                                        werr(w, c->pos, "invalid pool name \"%.64s\": letters, digits, '-', '_', '.'",
                                             json_object_get_string(v));
                                else
                                        p->name = strdup(json_object_get_string(v));
                        }
                } else if (streq(key, "select")) {
                        if (!want_type(w, v, c, json_type_array, key))
                                continue;
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                json_object *s = json_object_array_get_idx(v, i);
                                const json_node *sn = json_node_element(c, i);

                                Selector sel;

                                if (!want_type(w, s, sn, json_type_string, "select[]"))
                                        continue;
                                if (selector_parse(json_object_get_string(s), &sel) < 0)
                                        werr(w, sn->pos,
                                             "invalid selector \"%.64s\": expected IFNAME#N-M, DDDD:BB:DD.F#N-M, vvvv:dddd or numa:N",
                                             json_object_get_string(s));
                                else
                                        (void) strv_extend(&p->selectors, json_object_get_string(s));
                        }
                        if (json_object_array_length(v) == 0)
                                werr(w, c->pos, "\"select\" is empty");
                        if (json_object_array_length(v) > POOL_SELECTORS_MAX)
                                werr(w, c->pos, "\"select\" has %zu selectors, more than %u", json_object_array_length(v),
                                     POOL_SELECTORS_MAX);
                } else if (streq(key, "driver")) {
                        if (parse_driver(w, v, c, &p->driver_want, &p->driver) && p->driver_want == DRIVER_HOST)
                                werr(w, c->pos, "a pool hands VFs over: \"driver\" must name the driver (\"vfio-pci\", "
                                     "or a VF driver such as \"iavf\"), not \"host\"");
                } else if (streq(key, "reset"))
                        parse_reset(w, v, c, &p->reset);
                else if (streq(key, "enforce")) {
                        if (want_type(w, v, c, json_type_boolean, key))
                                p->enforce = json_object_get_boolean(v);
                }
                else if (streq(key, "mac_base"))
                        (void) parse_vf_attr(w, "mac_base", v, c, &p->attrs, &p->mac_is_base);
                else
                        (void) parse_vf_attr(w, key, v, c, &p->attrs, NULL);
        }
        if (!p->name)
                werr(w, n->pos, "a pool needs \"name\"");
        if (!p->selectors)
                werr(w, n->pos, "a pool needs \"select\"");
        check_attr_consistency(w, &p->attrs, n);
}

static bool match_equal(const ConfigMatch *a, const ConfigMatch *b) {
        if (a->kind != b->kind)
                return false;
        switch (a->kind) {
        case MATCH_BDF:
                return pci_addr_equal(&a->bdf, &b->bdf);
        case MATCH_INTERFACE:
                return streq(a->interface, b->interface);
        case MATCH_ID:
                return a->vendor == b->vendor && a->device == b->device && a->index == b->index;
        }
        return false;
}

char *config_match_describe(const ConfigMatch *m) {
        char bdf[PCI_ADDR_STRLEN];

        switch (m->kind) {
        case MATCH_BDF:
                return strdup_printf("bdf %s", pci_addr_format(&m->bdf, bdf));
        case MATCH_INTERFACE:
                return strdup_printf("interface %s", m->interface);
        case MATCH_ID:
                return m->index >= 0 ? strdup_printf("id %04x:%04x index %d", m->vendor, m->device, m->index)
                                     : strdup_printf("id %04x:%04x", m->vendor, m->device);
        }
        return NULL;
}

/* A PF rule joins the configuration (which takes p): a rule with the same
 * match earlier in this file is an error; one from an earlier file is
 * replaced. */
static int config_add_pf(Walk *w, Config *c, ConfigPF *p) {
        ConfigPF *np;

        for (size_t k = 0; k < c->n_pfs; k++) {
                if (!match_equal(&c->pfs[k].match, &p->match))
                        continue;
                if (streq(c->pfs[k].file, w->file)) {
                        werr(w, p->pos, "a PF rule with the same match is at line %u", c->pfs[k].pos.line);
                        break;
                }
                pf_done(&c->pfs[k]);
                c->pfs[k] = *p;
                return 0;
        }
        np = realloc(c->pfs, (c->n_pfs + 1) * sizeof(*np));
        if (!np) {
                pf_done(p);
                return -ENOMEM;
        }
        c->pfs = np;
        c->pfs[c->n_pfs++] = *p;
        return 0;
}

/* A pool joins the configuration (which takes p), as config_add_pf(): by name. */
static int config_add_pool(Walk *w, Config *c, ConfigPool *p) {
        ConfigPool *np;

        for (size_t k = 0; p->name && k < c->n_pools; k++) {
                if (!c->pools[k].name || !streq(c->pools[k].name, p->name))
                        continue;
                if (streq(c->pools[k].file, w->file)) {
                        werr(w, p->pos, "pool \"%s\" is defined twice", p->name);
                        break;
                }
                pool_done(&c->pools[k]);
                c->pools[k] = *p;
                return 0;
        }
        np = realloc(c->pools, (c->n_pools + 1) * sizeof(*np));
        if (!np) {
                pool_done(p);
                return -ENOMEM;
        }
        c->pools = np;
        c->pools[c->n_pools++] = *p;
        return 0;
}

static int parse_pfs(Walk *w, json_object *v, const json_node *n, Config *c) {
        int r;

        if (!want_type(w, v, n, json_type_array, "pfs"))
                return 0;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                ConfigPF p = { .file = strdup(w->file) };

                parse_pf(w, json_object_array_get_idx(v, i), json_node_element(n, i), &p);
                r = config_add_pf(w, c, &p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_pools(Walk *w, json_object *v, const json_node *n, Config *c) {
        int r;

        if (!want_type(w, v, n, json_type_array, "pools"))
                return 0;
        if (json_object_array_length(v) > POOLS_MAX) {
                werr(w, n->pos, "\"pools\" has %zu pools, more than %u", json_object_array_length(v), POOLS_MAX);
                return 0;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                ConfigPool p = { .file = strdup(w->file) };

                parse_pool(w, json_object_array_get_idx(v, i), json_node_element(n, i), &p);
                r = config_add_pool(w, c, &p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A NUL in the text, or a string that escapes one ("\u0000"): json-c would
 * cut the name there ("vfio-pci\u0000/../x" read as "vfio-pci"). Where the
 * first one is, or false. */
static bool find_nul(const char *text, size_t len, json_pos *ret) {
        json_pos p = { 1, 1 };

        for (size_t i = 0; i < len; i++) {
                if (text[i] == '\0' || (text[i] == '\\' && i + 5 < len && text[i + 1] == 'u' &&
                                        strneq(text + i + 2, "0000", 4))) {
                        *ret = p;
                        return true;
                }
                if (text[i] == '\\' && i + 1 < len) {
                        i++;            /* an escape: the next character is not one */
                        p.col++;
                }
                if (text[i] == '\n')
                        p = (json_pos) { p.line + 1, 1 };
                else
                        p.col++;
        }
        return false;
}

int config_parse_text(const char *file, const char *text, size_t len, Config *c, ConfigErrors *errors) {
        static const char *const keys[] = { "pfs", "pools", NULL };
        _cleanup_(json_doc_done) json_doc doc = {};
        Walk w = { .file = file, .errors = errors };
        json_pos pos = {};
        char msg[160] = "";
        json_object *v;
        int r;

        if (find_nul(text, len, &pos)) {
                config_error(errors, file, pos, "a NUL character (or \"\\u0000\"): no name may hold one");
                return -EINVAL;
        }
        r = json_doc_parse(text, len, &doc, &pos, msg, sizeof(msg));
        if (r == -EBADMSG) {
                config_error(errors, file, pos, "%s", msg);
                return -EINVAL;
        }
        if (r < 0)
                return r;
        if (!want_type(&w, doc.root, doc.index, json_type_object, "the document"))
                return -EINVAL;
        check_keys(&w, doc.root, doc.index, "the top level", keys);

        if (json_object_object_get_ex(doc.root, "pfs", &v)) {
                r = parse_pfs(&w, v, json_node_member(doc.index, "pfs"), c);
                if (r < 0)
                        return r;
        }
        if (json_object_object_get_ex(doc.root, "pools", &v)) {
                r = parse_pools(&w, v, json_node_member(doc.index, "pools"), c);
                if (r < 0)
                        return r;
        }
        return w.n_errors > 0 ? -EINVAL : 0;
}

static int load_file(const char *path, Config *c, ConfigErrors *errors) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        /* never a FIFO or a device: opened without blocking, a regular file
         * or an error with its reason */
        r = read_regular_file(path, false, CONFIG_MAX_SIZE, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r == -EFBIG) {
                config_error(errors, path, (json_pos) {}, "cannot read: it is larger than %u bytes",
                             (unsigned) CONFIG_MAX_SIZE);
                return -EINVAL;
        }
        if (r < 0) {
                config_error(errors, path, (json_pos) {}, "cannot read: %s", read_regular_file_error(r));
                return -EINVAL;
        }
        r = strv_extend(&c->files, path);
        if (r < 0)
                return r;
        return config_parse_text(path, text, len, c, errors);
}

static bool conf_name(const char *n) {
        size_t l = strlen(n);

        return n[0] != '.' && l > 5 && streq(n + l - 5, ".conf");
}

int config_load(const char *main_file, const char *dir, Config **ret, ConfigErrors *errors) {
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));
        bool failed = false;
        int r;

        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        if (main_file) {
                r = load_file(main_file, c, errors);
                if (r == -ENOMEM)
                        return r;
                failed = r < 0;
        }
        if (dir) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_closedir_ DIR *d = opendir(dir);
                struct dirent *de;

                if (!d && errno != ENOENT) {
                        config_error(errors, dir, (json_pos) {}, "cannot read the directory: %m");
                        return -EINVAL;
                }
                while (d && (de = readdir(d)))
                        if (conf_name(de->d_name) && strv_extend(&names, de->d_name) < 0)
                                return -ENOMEM;
                strv_sort(names);
                STRV_FOREACH(n, names) {
                        _cleanup_free_ char *p = strdup_printf("%s/%s", dir, *n);

                        if (!p)
                                return -ENOMEM;
                        r = load_file(p, c, errors);
                        if (r == -ENOMEM)
                                return r;
                        failed = failed || r < 0;
                }
        }
        if (failed || errors->messages)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}
