/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>

#include "bdf.h"
#include "bus.h"
#include "options.h"
#include "util.h"

typedef enum OptType {
        OPT_TYPE_FLAG,          /* no value: true */
        OPT_TYPE_NEGATABLE,     /* no value: --X true, --no-X false */
        OPT_TYPE_BOOL,          /* yes/no, on/off */
        OPT_TYPE_CHOICE,        /* one of Option.value, '|' between them */
        OPT_TYPE_STRING,        /* what check accepts (NULL: anything not empty) */
        OPT_TYPE_UINT,          /* min to max */
        OPT_TYPE_INT,
        OPT_TYPE_UID,           /* a user name or number */
        OPT_TYPE_GID,
} OptType;

typedef struct Option {
        const char *name;               /* without "--" */
        OptType type;
        const char *value;              /* the value in --help; CHOICE and BOOL: the values */
        const char *key;                /* the D-Bus option it becomes; NULL: sriovctl's own */
        const char *help;
        uint32_t min, max;              /* UINT, INT */
        bool (*check)(const char *s);   /* STRING */
        const char *expect;             /* STRING, UINT: what the message says was expected */
        const char *alias;              /* another name, without "--" (iproute2's words) */
} Option;

static bool mac_ok(const char *s) {
        if (strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i]))
                        return false;
        /* the group bit of the first octet: multicast and broadcast cannot
         * be a VF's address (the daemon refuses them too) */
        return (strtoul((char[3]) { s[0], s[1], 0 }, NULL, 16) & 1) == 0;
}

static bool token_ok(const char *s) {
        return !isempty(s) && string_is_printable(s, 128);
}

static bool owner_ok(const char *s) {
        if (isempty(s) || strlen(s) > 64 || !isalnum((unsigned char) s[0]))
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("_.:-", *c))
                        return false;
        return true;
}

static bool pf_ok(const char *s) {
        pci_addr a;

        return strchr(s, ':') ? pci_addr_parse(s, &a) >= 0 : ifname_is_valid(s);
}

static bool pool_ok(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool driver_ok(const char *s) {
        return !isempty(s) && !strchr(s, '/') && string_is_printable(s, 64);
}

#define RATE_HELP "Mbit/s, 0: no limit"

static const Option options[_OPT_MAX] = {
        [OPT_KIND] = { "kind", OPT_TYPE_CHOICE, "pf|vf|sriov|all", NULL, "which functions (default: sriov)" },
        [OPT_AUTOPROBE] = { "autoprobe", OPT_TYPE_BOOL, "yes|no", "autoprobe",
                            "whether the kernel gives the new VFs a driver" },
        [OPT_KEEP_OVERRIDE] = { "keep-override", OPT_TYPE_NEGATABLE, NULL, "keep_override",
                                "whether driver_override stays set after the bind" },
        [OPT_WHOLE_GROUP] = { "whole-group", OPT_TYPE_FLAG, NULL, "whole_group",
                              "bind the other functions of the IOMMU group along" },
        [OPT_ALLOW_NOIOMMU] = { "allow-unsafe-noiommu", OPT_TYPE_FLAG, NULL, "allow_unsafe_noiommu",
                                "vfio-pci without an IOMMU: no DMA protection" },
        [OPT_FORCE] = { "force", OPT_TYPE_FLAG, NULL, "force", "take the device even though the host uses it" },
        [OPT_DRY_RUN] = { "dry-run", OPT_TYPE_FLAG, NULL, NULL, "only show what would change" },
        [OPT_UID] = { "uid", OPT_TYPE_UID, "USER", "uid", "the owner of the VFIO nodes (with --gid)" },
        [OPT_GID] = { "gid", OPT_TYPE_GID, "GROUP", "gid", "the group of the VFIO nodes (with --uid)" },
        [OPT_NUMA_NODE] = { "numa-node", OPT_TYPE_INT, "N", "numa_node", "the guest's NUMA node", 0, 1023 },
        [OPT_NUMA_POLICY] = { "numa-policy", OPT_TYPE_CHOICE, "required|preferred|any", "numa_policy",
                              "how strictly the VF must be on --numa-node" },
        [OPT_TOKEN] = { "token", OPT_TYPE_STRING, "TOKEN", "token", "makes a retried pool request idempotent",
                        .check = token_ok, .expect = "1 to 128 printable characters" },
        [OPT_DRIVER] = { "driver", OPT_TYPE_STRING, "DRIVER", "driver", "the driver of the VF (default: vfio-pci)",
                         .check = driver_ok, .expect = "a driver name" },
        [OPT_MAC] = { "mac", OPT_TYPE_STRING, "MAC", "mac", "the VF's MAC address", .check = mac_ok,
                      .expect = "a unicast MAC address, xx:xx:xx:xx:xx:xx" },
        [OPT_MAC_BASE] = { "mac-base", OPT_TYPE_STRING, "MAC", "mac_base", "the pool's VF n (by address) gets MAC + n",
                           .check = mac_ok, .expect = "a unicast MAC address, xx:xx:xx:xx:xx:xx" },
        [OPT_VLAN] = { "vlan", OPT_TYPE_UINT, "VLAN", "vlan", "the VLAN tag the VF's traffic gets, 0: none",
                       0, 4094 },
        [OPT_QOS] = { "qos", OPT_TYPE_UINT, "QOS", "qos", "the VLAN priority, with a VLAN", 0, 7 },
        [OPT_VLAN_PROTO] = { "vlan-proto", OPT_TYPE_CHOICE, "802.1Q|802.1ad", "vlan_proto", "the VLAN protocol",
                             .alias = "proto" },
        [OPT_MAX_TX_RATE] = { "max-tx-rate", OPT_TYPE_UINT, "RATE", "max_tx_rate", "most sent, " RATE_HELP, 0,
                              UINT32_MAX, .expect = "a whole number of Mbit/s", .alias = "max-rate" },
        [OPT_MIN_TX_RATE] = { "min-tx-rate", OPT_TYPE_UINT, "RATE", "min_tx_rate", "least sent, " RATE_HELP, 0,
                              UINT32_MAX, .expect = "a whole number of Mbit/s", .alias = "min-rate" },
        [OPT_SPOOFCHK] = { "spoofchk", OPT_TYPE_BOOL, "on|off", "spoofchk", "drop frames with another source MAC" },
        [OPT_TRUST] = { "trust", OPT_TYPE_BOOL, "on|off", "trust", "let the VF change its MAC, promiscuity" },
        [OPT_LINK_STATE] = { "link-state", OPT_TYPE_CHOICE, "auto|enable|disable", "link_state",
                             "the VF's link: as the PF's, up, down" },
        [OPT_QUERY_RSS] = { "query-rss", OPT_TYPE_BOOL, "on|off", "query_rss", "let the VF read the RSS key" },
        [OPT_BRING_PF_UP] = { "bring-pf-up", OPT_TYPE_FLAG, NULL, "bring_pf_up",
                              "set the PF's interface up if the driver needs it" },
        [OPT_FORMAT] = { "format", OPT_TYPE_CHOICE, "text|libvirt|libvirt-interface|qemu", NULL,
                         "everything, or only the libvirt XML or QEMU arguments" },
        [OPT_BACKEND] = { "backend", OPT_TYPE_CHOICE, "auto|container|iommufd", "backend", "the VFIO interface" },
        [OPT_RESET] = { "reset", OPT_TYPE_FLAG, NULL, NULL, "give the nodes back to their prior owner" },
        [OPT_OWNER] = { "owner", OPT_TYPE_STRING, "OWNER", "owner", "the lease holder: local, kubernetes, ...",
                        .check = owner_ok, .expect = "1 to 64 letters, digits, '_', '.', ':' or '-'" },
        [OPT_VF_RESET] = { "vf-reset", OPT_TYPE_CHOICE, "auto|always|never", "reset",
                           "reset a VF between guests: when it can, always (else quarantine), never" },
        [OPT_PF] = { "pf", OPT_TYPE_STRING, "PF", NULL, "the VFs of this PF (address or interface)",
                     .check = pf_ok, .expect = "a PCI address or an interface name" },
        [OPT_POOL] = { "pool", OPT_TYPE_STRING, "POOL", NULL, "the VFs of this pool", .check = pool_ok,
                       .expect = "a pool name: 1 to 64 letters, digits, '_', '.' or '-'" },
        [OPT_GUEST] = { "guest", OPT_TYPE_STRING, "GUEST", NULL, "the VFs this guest holds", .check = guest_name_ok,
                        .expect = "a guest name" },
        [OPT_WATCH] = { "watch", OPT_TYPE_UINT, "SECONDS", NULL, "read again every SECONDS, with rates", 1, 3600 },
        [OPT_SAMPLES] = { "samples", OPT_TYPE_UINT, "N", NULL, "with --watch: stop after N reads", 1, UINT32_MAX },
        [OPT_OPENMETRICS] = { "openmetrics", OPT_TYPE_FLAG, NULL, NULL,
                              "OpenMetrics 1.0 instead of Prometheus' text format" },
        [OPT_OUTPUT] = { "output", OPT_TYPE_STRING, "FILE", NULL,
                         "write FILE atomically (node_exporter's textfile collector)" },
};

size_t options_longopts(struct option *ret) {
        static char negated[_OPT_MAX][32];
        size_t n = 0;

        for (size_t i = 0; i < _OPT_MAX; i++) {
                const Option *o = &options[i];
                bool flag = o->type == OPT_TYPE_FLAG || o->type == OPT_TYPE_NEGATABLE;

                ret[n++] = (struct option) { o->name, flag ? no_argument : required_argument, NULL,
                                             OPT_VAL_BASE + (int) i };
                if (o->alias)
                        ret[n++] = (struct option) { o->alias, flag ? no_argument : required_argument, NULL,
                                                     OPT_VAL_BASE + (int) i };
                if (o->type == OPT_TYPE_NEGATABLE) {
                        (void) snprintf(negated[i], sizeof(negated[i]), "no-%s", o->name);
                        ret[n++] = (struct option) { negated[i], no_argument, NULL,
                                                     OPT_VAL_BASE + OPT_VAL_NEGATED + (int) i };
                }
        }
        return n;
}

const char *option_name(OptId id) {
        static char buf[64];

        if (options[id].type == OPT_TYPE_NEGATABLE)
                (void) snprintf(buf, sizeof(buf), "--%s/--no-%s", options[id].name, options[id].name);
        else
                (void) snprintf(buf, sizeof(buf), "--%s", options[id].name);
        return buf;
}

char *option_synopsis(OptId id) {
        const Option *o = &options[id];

        if (o->type == OPT_TYPE_NEGATABLE)
                return strdup_printf("[--[no-]%s]", o->name);
        return strdup_printf("[--%s%s%s]", o->name, o->value ? " " : "", strempty(o->value));
}

/* "pf, vf, sriov or all" from "pf|vf|sriov|all" */
static char *choices_text(const char *value) {
        const char *last = strrchr(value, '|');
        char *s = malloc(strlen(value) * 3 + 4);       /* each '|' may become ", " or " or " */

        if (!s)
                return NULL;
        s[0] = 0;
        for (const char *v = value; *v; v++) {
                if (*v != '|')
                        strncat(s, v, 1);
                else
                        strcat(s, v == last ? " or " : ", ");
        }
        return s;
}

static bool is_choice(const char *value, const char *s) {
        size_t n = strlen(s);

        for (const char *v = value; v; v = strchr(v, '|'), v = v ? v + 1 : NULL)
                if (strneq(v, s, n) && (v[n] == '|' || v[n] == 0) && n > 0)
                        return true;
        return false;
}

static int bad_value(OptId id, const char *arg, const char *expect) {
        return usage_error("--%s %s: expected %s.", options[id].name, arg, expect);
}

int parse_uid(const char *s, uint32_t *ret) {
        struct passwd *pw;
        unsigned u;

        if (safe_atou(s, 10, &u) >= 0) {
                if (u == UINT32_MAX)
                        return -ERANGE;
                *ret = u;
                return 0;
        }
        pw = isempty(s) ? NULL : getpwnam(s);
        if (!pw)
                return -ESRCH;
        *ret = pw->pw_uid;
        return 0;
}

int parse_gid(const char *s, uint32_t *ret) {
        struct group *gr;
        unsigned u;

        if (safe_atou(s, 10, &u) >= 0) {
                if (u == UINT32_MAX)
                        return -ERANGE;
                *ret = u;
                return 0;
        }
        gr = isempty(s) ? NULL : getgrnam(s);
        if (!gr)
                return -ESRCH;
        *ret = gr->gr_gid;
        return 0;
}

bool guest_name_ok(const char *s) {
        size_t n = strlen(s);

        /* as sriovd's guest_name_is_valid(): libvirt domain names and UUIDs */
        if (n == 0 || n > 64 || !isalnum((unsigned char) s[0]))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("_.:-", *s))
                        return false;
        return true;
}

int option_parse(Ctl *c, int val, const char *arg) {
        bool negated = (val - OPT_VAL_BASE) & OPT_VAL_NEGATED;
        OptId id = (OptId) ((val - OPT_VAL_BASE) & ~OPT_VAL_NEGATED);
        const Option *o = &options[id];
        OptValue *v = &c->opt[id];
        int r;

        switch (o->type) {
        case OPT_TYPE_FLAG:
        case OPT_TYPE_NEGATABLE:
                v->b = !negated;
                break;
        case OPT_TYPE_BOOL:
                r = parse_boolean(arg);
                if (r < 0) {
                        _cleanup_free_ char *t = choices_text(o->value);
                        return bad_value(id, arg, strna(t));
                }
                v->b = r;
                break;
        case OPT_TYPE_CHOICE:
                if (!is_choice(o->value, arg)) {
                        _cleanup_free_ char *t = choices_text(o->value);
                        return bad_value(id, arg, strna(t));
                }
                v->s = arg;
                break;
        case OPT_TYPE_STRING:
                if (o->check ? !o->check(arg) : isempty(arg))
                        return bad_value(id, arg, o->expect ?: "a value");
                v->s = arg;
                break;
        case OPT_TYPE_UINT:
        case OPT_TYPE_INT: {
                unsigned u;

                if (safe_atou(arg, 10, &u) < 0 || !isdigit((unsigned char) arg[0]) || u < o->min || u > o->max) {
                        char expect[64];

                        (void) snprintf(expect, sizeof(expect), "a whole number from %u to %u", o->min, o->max);
                        return bad_value(id, arg, o->expect ?: expect);
                }
                if (o->type == OPT_TYPE_INT)
                        v->i = (int32_t) u;
                else
                        v->u = u;
                break;
        }
        case OPT_TYPE_UID:
                if (parse_uid(arg, &v->u) < 0)
                        return bad_value(id, arg, "a user name or number");
                break;
        case OPT_TYPE_GID:
                if (parse_gid(arg, &v->u) < 0)
                        return bad_value(id, arg, "a group name or number");
                break;
        }
        c->given |= OPT(id);
        return 0;
}

void options_help(FILE *f, const Verb *verbs, size_t n_verbs) {
        fputs("Options of the verbs:\n", f);
        for (size_t i = 0; i < _OPT_MAX; i++) {
                const Option *o = &options[i];
                char head[64], which[96] = "";

                if (o->type == OPT_TYPE_NEGATABLE)
                        (void) snprintf(head, sizeof(head), "--[no-]%s", o->name);
                else
                        (void) snprintf(head, sizeof(head), "--%s%s%s", o->name, o->value ? " " : "",
                                        strempty(o->value));
                for (size_t k = 0; k < n_verbs; k++)
                        if (verbs[k].options & OPT(i))
                                (void) snprintf(which + strlen(which), sizeof(which) - strlen(which), "%s%s",
                                                which[0] ? ", " : "", verbs[k].name);
                if (o->alias)
                        (void) snprintf(head + strlen(head), sizeof(head) - strlen(head), ", --%s", o->alias);
                if (strlen(head) > 28)
                        fprintf(f, "  %s\n  %-28s  %s: %s\n", head, "", which, o->help);
                else
                        fprintf(f, "  %-28s  %s: %s\n", head, which, o->help);
        }
}

static int append_option(sd_bus_message *m, const Option *o, const OptValue *v) {
        switch (o->type) {
        case OPT_TYPE_FLAG:
        case OPT_TYPE_NEGATABLE:
        case OPT_TYPE_BOOL:
                return sd_bus_message_append(m, "{sv}", o->key, "b", (int) v->b);
        case OPT_TYPE_UINT:
        case OPT_TYPE_UID:
        case OPT_TYPE_GID:
                return sd_bus_message_append(m, "{sv}", o->key, "u", v->u);
        case OPT_TYPE_INT:
                return sd_bus_message_append(m, "{sv}", o->key, "i", v->i);
        case OPT_TYPE_CHOICE:
        case OPT_TYPE_STRING:
                return sd_bus_message_append(m, "{sv}", o->key, "s", v->s);
        }
        return 0;
}

int bus_append_options(sd_bus_message *m, const Ctl *c, uint64_t mask) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < _OPT_MAX; i++) {
                if (!(c->given & mask & OPT(i)) || !options[i].key)
                        continue;
                r = append_option(m, &options[i], &c->opt[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int bus_call_with_options(Ctl *c, const char *member, sd_bus_error *error, sd_bus_message **ret_reply,
                          const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_new_manager_callv(c, member, true, &m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = bus_append_options(m, c, UINT64_MAX);
        if (r < 0)
                return r;
        return bus_call(c, m, error, ret_reply);
}
