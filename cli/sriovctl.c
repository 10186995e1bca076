/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* sriovctl: the command line of sriovd. Every verb is one or two D-Bus calls
 * to org.sriovd.Manager1; nothing here touches sysfs. */

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "bdf.h"
#include "bus.h"
#include "options.h"
#include "output.h"
#include "sriovctl.h"
#include "util.h"

#define DEFAULT_TIMEOUT_SEC 120

#define OPTS_ASSIGN                                                                                        \
        (OPTS_VF_ATTRS | OPT(OPT_UID) | OPT(OPT_GID) | OPT(OPT_NUMA_NODE) | OPT(OPT_NUMA_POLICY) |          \
         OPT(OPT_TOKEN) | OPT(OPT_DRIVER) | OPT(OPT_FORCE) | OPT(OPT_FORMAT) | OPT(OPT_OWNER))
/* a pool's settings: those of a VF, with a MAC base for the pool's VFs */
#define OPTS_POOL ((OPTS_VF_ATTRS & ~OPT(OPT_MAC)) | OPT(OPT_MAC_BASE) | OPT(OPT_DRIVER) | OPT(OPT_VF_RESET))
#define OPTS_BIND (OPT(OPT_KEEP_OVERRIDE) | OPT(OPT_WHOLE_GROUP) | OPT(OPT_ALLOW_NOIOMMU) | OPT(OPT_FORCE))

/* The verbs: { name, args, min_args, max_args, options, changes, fn, check, help }.
 * --help is generated from this table and the one of the options, and the
 * arguments are checked against them before the bus is touched. */
static const Verb verbs[] = {
        { "list", "", 0, 0, OPT(OPT_KIND), false, verb_list, NULL,
          "List SR-IOV PFs and their VFs, or all PCI functions" },
        { "show", "DEV", 1, 1, 0, false, verb_show, NULL,
          "Show everything about one PCI function" },
        { "enable", "PF COUNT", 2, 2, OPT(OPT_AUTOPROBE) | OPT(OPT_FORCE), true, verb_enable, verb_enable_check,
          "Enable COUNT VFs on PF, in place of those it has" },
        { "disable", "PF", 1, 1, OPT(OPT_FORCE), true, verb_disable, NULL,
          "Disable the VFs of PF" },
        { "bind", "DEV... DRIVER", 2, UINT32_MAX, OPTS_BIND, true, verb_bind, verb_bind_check,
          "Bind DEV (each DEV, at once) to DRIVER (vfio-pci for passthrough)" },
        { "unbind", "DEV", 1, 1, OPT(OPT_FORCE), true, verb_unbind, NULL,
          "Unbind DEV from its driver" },
        { "restore", "DEV...", 1, UINT32_MAX, 0, true, verb_restore, NULL,
          "Give DEV (each DEV, at once) back to the driver it had before sriovd" },
        { "set", "VF", 1, 1, OPTS_VF_ATTRS | OPT(OPT_BRING_PF_UP), true, verb_set, verb_set_check,
          "Change the settings of a VF: MAC, VLAN, rates, ..." },
        { "assign", "GUEST POOL|VF", 2, 2, OPTS_ASSIGN, true, verb_assign, verb_assign_check,
          "Give a VF of a pool, or the VF named, to a guest" },
        { "release", "GUEST [VF]", 1, 2, OPT(OPT_FORCE), true, verb_release, verb_release_check,
          "Take the VFs of a guest (or one of them) back" },
        { "assignments", "", 0, 0, OPT(OPT_OWNER), false, verb_assignments, NULL,
          "List the VFs assigned to guests (of one lease holder)" },
        { "reconcile", "OWNER [GUEST...]", 1, UINT32_MAX, OPT(OPT_DRY_RUN), true, verb_reconcile, verb_reconcile_check,
          "Release OWNER's VFs held by guests that are not among GUEST..." },
        { "verify", "", 0, 0, 0, false, verb_verify, NULL,
          "Compare the ledger of assignments with the host" },
        { "unquarantine", "VF", 1, 1, 0, true, verb_unquarantine, NULL,
          "Let a quarantined VF (its reset failed) go to guests again" },
        { "pools", "", 0, 0, 0, false, verb_pools, NULL,
          "List the pools of VFs" },
        { "pool-create", "NAME SELECTOR...", 2, UINT32_MAX, OPTS_POOL, true, verb_pool_create, NULL,
          "Create a pool of VFs" },
        { "pool-delete", "NAME", 1, 1, 0, true, verb_pool_delete, NULL,
          "Delete a pool made with pool-create" },
        { "apply", "", 0, 0, OPT(OPT_DRY_RUN), true, verb_apply, NULL,
          "Bring the host to the declared configuration" },
        { "reload", "", 0, 0, 0, true, verb_reload, NULL,
          "Read the configuration files again and apply them" },
        { "groups", "", 0, 0, 0, false, verb_groups, NULL,
          "List IOMMU groups and whether they can be passed through" },
        { "dma-check", "DEV", 1, 1, OPT(OPT_BACKEND), true, verb_dma_check, NULL,
          "Map and unmap DMA through VFIO for DEV: does the IOMMU work?" },
        { "owner", "DEV", 1, 1, OPT(OPT_UID) | OPT(OPT_GID) | OPT(OPT_RESET), true, verb_owner, verb_owner_check,
          "Hand the VFIO nodes of DEV to --uid:--gid, or back (--reset)" },
        { "status", "", 0, 0, 0, false, verb_status, NULL,
          "Show sriovd, the IOMMU, the configuration, drift and health" },
        { "stats", "[VF]", 0, 1, OPT(OPT_PF) | OPT(OPT_POOL) | OPT(OPT_GUEST) | OPT(OPT_WATCH) | OPT(OPT_SAMPLES),
          false, verb_stats, verb_stats_check, "VF traffic counters (and rates with --watch)" },
        { "metrics", "", 0, 0, OPT(OPT_OPENMETRICS) | OPT(OPT_OUTPUT), false, verb_metrics, NULL,
          "Print metrics in Prometheus' text format (or OpenMetrics)" },
        { "monitor", "", 0, 0, 0, false, verb_monitor, NULL,
          "Print device events as they happen, until interrupted" },
};

int error_exit(int status, const char *fmt, ...) {
        va_list ap;

        fputs("sriovctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (status == EXIT_USAGE)
                fputs("Try \"sriovctl --help\".\n", stderr);
        return status;
}

void warning(const char *fmt, ...) {
        va_list ap;

        fputs("sriovctl: warning: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* "assign GUEST POOL|VF [OPTIONS]", "enable PF COUNT [--autoprobe yes|no] [--force]":
 * the options of the verb named when they are few */
#define SYNOPSIS_OPTIONS_MAX 48
static char *verb_synopsis(const Verb *v) {
        char opts[256] = "";

        for (size_t i = 0; i < _OPT_MAX; i++) {
                _cleanup_free_ char *o = NULL;

                if (!(v->options & OPT(i)))
                        continue;
                o = option_synopsis(i);
                if (!o)
                        return NULL;
                (void) snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts), " %s", o);
        }
        if (strlen(opts) > SYNOPSIS_OPTIONS_MAX)
                strcpy(opts, " [OPTIONS]");
        return strdup_printf("%s%s%s%s", v->name, isempty(v->args) ? "" : " ", v->args, opts);
}

#define HELP_COLUMN 32
static void help(void) {
        printf("Usage: sriovctl [OPTIONS] VERB [ARGS]\n"
               "\n"
               "Manage SR-IOV virtual functions, their drivers and settings, and their\n"
               "assignment to guests through sriovd.\n"
               "\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                _cleanup_free_ char *s = verb_synopsis(&verbs[i]);

                if (strlen(strna(s)) > HELP_COLUMN)
                        printf("  %s\n  %-*s  %s\n", strna(s), HELP_COLUMN, "", verbs[i].help);
                else
                        printf("  %-*s  %s\n", HELP_COLUMN, strna(s), verbs[i].help);
        }
        printf("\n"
               "Options:\n"
               "  -h --help                Show this help\n"
               "     --version             Show the version\n"
               "  -j --json[=pretty|short] Print JSON (pretty on a terminal, else one line)\n"
               "     --no-ask-password     Do not let polkit ask for a password\n"
               "     --timeout SEC         Wait at most SEC seconds for sriovd (default %d)\n"
               "\n",
               DEFAULT_TIMEOUT_SEC);
        options_help(stdout, verbs, ELEMENTSOF(verbs));
        printf("\n"
               "DEV and PF are a PCI address (0000:3b:00.0 or 3b:00.0) or the name of a\n"
               "network interface (ens1f0). See sriovctl(8) for the output and exit status.\n");
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))         /* exact: no guessing from prefixes */
                        return &verbs[i];
        return NULL;
}

static int unknown_verb(const char *name) {
        char list[512] = "";

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                strcat(list, i > 0 ? ", " : "");
                strcat(list, verbs[i].name);
        }
        return usage_error("Unknown verb \"%s\"; the verbs are %s.", name, list);
}

static int parse_timeout(const char *s, uint64_t *ret) {
        char *end;
        double t;

        errno = 0;
        t = strtod(s, &end);
        if (errno != 0 || end == s || *end || !isfinite(t) || t <= 0 || t > 24 * 3600)
                return -EINVAL;
        *ret = MAX((uint64_t) (t * 1e6), 1u);  /* 0 would mean sd-bus' default */
        return 0;
}

typedef struct Args {
        bool help, version;
} Args;

static int parse_argv(int argc, char *argv[], Ctl *c, Args *a) {
        enum {
                ARG_VERSION = 0x100, ARG_JSON, ARG_NO_ASK_PASSWORD, ARG_TIMEOUT,
        };
        static const struct option global[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", optional_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
        };
        struct option options[ELEMENTSOF(global) + OPT_LONGOPTS_MAX + 1] = {};
        int o;

        memcpy(options, global, sizeof(global));
        (void) options_longopts(options + ELEMENTSOF(global));
        opterr = 0;     /* our own messages */
        while ((o = getopt_long(argc, argv, "hj", options, NULL)) >= 0)
                switch (o) {
                case 'h':
                        a->help = true;
                        break;
                case ARG_VERSION:
                        a->version = true;
                        break;
                case 'j':
                case ARG_JSON:
                        if (!optarg)
                                c->format = isatty(STDOUT_FILENO) ? OUT_JSON_PRETTY : OUT_JSON_SHORT;
                        else if (streq(optarg, "pretty"))
                                c->format = OUT_JSON_PRETTY;
                        else if (streq(optarg, "short"))
                                c->format = OUT_JSON_SHORT;
                        else
                                return usage_error("--json=%s: expected pretty or short.", optarg);
                        break;
                case ARG_NO_ASK_PASSWORD:
                        c->ask_password = false;
                        break;
                case ARG_TIMEOUT:
                        if (parse_timeout(optarg, &c->timeout_usec) < 0)
                                return usage_error("--timeout %s: expected seconds, more than 0 and at most a day.",
                                                   optarg);
                        break;
                case '?':
                        if (optopt >= ARG_VERSION)
                                return usage_error("%s needs a value.", argv[optind - 1]);
                        if (optopt != 0)
                                return usage_error("Unknown option -%c.", optopt);
                        return usage_error("Unknown option %s.", argv[optind - 1]);
                default:
                        if (o >= OPT_VAL_BASE) {
                                int status = option_parse(c, o, optarg);

                                if (status != 0)
                                        return status;
                                break;
                        }
                        return usage_error("Cannot parse the options.");
                }
        return 0;
}

/* A device argument (DEV, PF, VF) as sriovd takes it: a PCI address, or
 * the name of a network interface (which never has a ':'). */
static bool device_arg_ok(const char *s) {
        pci_addr a;

        return strchr(s, ':') ? pci_addr_parse(s, &a) >= 0 : ifname_is_valid(s);
}

/* A pool name as sriovd takes it: 1 to 64 of [A-Za-z0-9._-] (no ':', so it
 * never looks like a VF). */
static bool pool_name_ok(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* The name of argument i of n_args in the table's "DEV... DRIVER": a name
 * with "..." takes the arguments the names after it leave. */
static const char *arg_name(char **names, size_t n_names, size_t n_args, size_t i) {
        for (size_t k = 0; k < n_names; k++) {
                size_t after = n_names - k - 1;

                if (!strstr(names[k], "..."))
                        continue;
                if (i < k)
                        break;
                if (n_args - i <= after)
                        return names[n_names - (n_args - i)];
                return names[k];
        }
        return i < n_names ? names[i] : NULL;
}

/* The positional arguments whose form sriovctl can judge, by their name in
 * the table ("DEV DRIVER", "GUEST [VF]", "DEV... DRIVER"); the others are
 * left to the verb's check or to sriovd. */
static int check_args(const Verb *v, char **args, size_t n_args) {
        _cleanup_free_ char *copy = strdup(v->args);
        char *save = NULL, *names[8];
        size_t n_names = 0;

        if (!copy)
                return error_exit(EXIT_FAIL, "Out of memory.");
        for (char *t = strtok_r(copy, " []", &save); t && n_names < ELEMENTSOF(names); t = strtok_r(NULL, " []", &save))
                names[n_names++] = t;
        for (size_t i = 0; i < n_args; i++) {
                const char *name = arg_name(names, n_names, n_args, i);
                char bare[16];

                if (!name)
                        break;
                (void) snprintf(bare, sizeof(bare), "%.*s", (int) strcspn(name, "."), name);
                if ((streq(bare, "DEV") || streq(bare, "PF") || streq(bare, "VF")) && !device_arg_ok(args[i]))
                        return usage_error("%s: %s \"%s\" is neither a PCI address (DDDD:BB:DD.F or BB:DD.F) nor "
                                           "the name of a network interface.", v->name, bare, args[i]);
                if (streq(bare, "DRIVER") && !driver_name_is_valid(args[i]))
                        return usage_error("%s: invalid driver name \"%s\": 1 to 63 letters, digits, '_', '.' or '-'.",
                                           v->name, args[i]);
                if (streq(bare, "NAME") && !pool_name_ok(args[i]))
                        return usage_error("%s: invalid pool name \"%s\": 1 to 64 letters, digits, '_', '.' or '-'.",
                                           v->name, args[i]);
        }
        return 0;
}

/* Options that go together, as sriovd would refuse them (InvalidArgument):
 * said before the call, with the options' names. */
static int check_option_pairs(const Verb *v, const Ctl *c) {
        uint32_t min = c->opt[OPT_MIN_TX_RATE].u, max = c->opt[OPT_MAX_TX_RATE].u;

        /* VLAN, QoS and protocol are one setting: a missing VLAN is 0 */
        if (ctl_has(c, OPT_QOS) && c->opt[OPT_QOS].u > 0 && (!ctl_has(c, OPT_VLAN) || c->opt[OPT_VLAN].u == 0))
                return usage_error("%s: --qos %u needs a VLAN: give --vlan (1 to 4094) too.", v->name,
                                   c->opt[OPT_QOS].u);
        /* the two rates are one setting too: a missing one is 0 (no limit) */
        if (ctl_has(c, OPT_MIN_TX_RATE) && ctl_has(c, OPT_MAX_TX_RATE) && max > 0 && min > max)
                return usage_error("%s: --min-tx-rate %u is above --max-tx-rate %u.", v->name, min, max);
        if (ctl_has(c, OPT_UID) != ctl_has(c, OPT_GID) && !streq(v->name, "owner"))
                return usage_error("%s: --uid and --gid go together: give both, or neither.", v->name);
        if (ctl_has(c, OPT_NUMA_POLICY) && !ctl_has(c, OPT_NUMA_NODE) &&
            !streq(c->opt[OPT_NUMA_POLICY].s, "any"))
                return usage_error("%s: --numa-policy %s needs --numa-node.", v->name, c->opt[OPT_NUMA_POLICY].s);
        return 0;
}

/* The verb and its arguments, checked against the table: usage errors here
 * mean that no call is made. */
static int check_verb(const Verb *v, const Ctl *c, char **args, size_t n_args) {
        size_t n = n_args;
        int r;

        if (n < v->min_args || n > v->max_args) {
                if (v->max_args == 0)
                        return usage_error("%s takes no arguments.", v->name);
                return usage_error("%s: expected %s, got %zu argument%s.", v->name, v->args, n, n == 1 ? "" : "s");
        }
        for (size_t i = 0; i < _OPT_MAX; i++)
                if (ctl_has(c, i) && !(v->options & OPT(i)))
                        return usage_error("%s does not go with %s.", option_name(i), v->name);
        r = check_args(v, args, n_args);
        if (r != 0)
                return r;
        r = check_option_pairs(v, c);
        if (r != 0)
                return r;
        return v->check ? v->check(c, args, n_args) : 0;
}

int main(int argc, char *argv[]) {
        Ctl c = {
                .timeout_usec = DEFAULT_TIMEOUT_SEC * 1000000ULL,
                .ask_password = true,
                .format = OUT_TEXT,
        };
        Args a = {};
        const Verb *v;
        pid_t agent = 0;
        int status, r;

        status = parse_argv(argc, argv, &c, &a);
        if (status != 0)
                return status;
        if (a.help) {
                help();
                return EXIT_OK;
        }
        if (a.version) {
                puts(PACKAGE_STRING);
                return EXIT_OK;
        }
        if (optind >= argc)
                return usage_error("Which verb? (list, show, enable, ... see --help)");
        v = find_verb(argv[optind]);
        if (!v)
                return unknown_verb(argv[optind]);
        status = check_verb(v, &c, argv + optind + 1, (size_t) (argc - optind - 1));
        if (status != 0)
                return status;

        out_init(c.format);
        status = bus_connect(&c);
        if (status == 0) {
                /* a dry run changes nothing: no password to ask for */
                if (v->changes && !ctl_has(&c, OPT_DRY_RUN) && c.ask_password)
                        polkit_agent_open(&agent);
                status = v->fn(&c, argv + optind + 1, (size_t) (argc - optind - 1));
                polkit_agent_close(agent);
        }
        r = out_flush();
        /* a change that was made stays made: its exit status says so, and
         * stderr that its report is lost; a read whose output is lost failed */
        if (r < 0 && r != -EPIPE && status == EXIT_OK && v->changes)
                warning("The change was made, but its report could not be written: %s", strerror(-r));
        else if (r < 0 && r != -EPIPE && status == EXIT_OK)
                status = error_exit(EXIT_FAIL, "Cannot write the output: %s", strerror(-r));
        out_free();
        sd_bus_flush_close_unref(c.bus);
        return status;
}
