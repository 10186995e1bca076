/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* sriovctl: the command line of sriovd. Every verb is one or two D-Bus calls
 * to org.sriovd.Manager1; nothing here touches sysfs. */

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "bus.h"
#include "output.h"
#include "sriovctl.h"
#include "util.h"

#define DEFAULT_TIMEOUT_SEC 120

/* The verbs: { name, min_args, max_args, options, changes, fn, check, usage, help }.
 * --help is generated from this table, and the arguments are checked
 * against it before the bus is touched. */
static const Verb verbs[] = {
        { "list", 0, 0, VERB_OPT_KIND, false, verb_list, NULL,
          "[--kind pf|vf|sriov|all]", "List SR-IOV PFs and their VFs, or all PCI functions" },
        { "show", 1, 1, 0, false, verb_show, NULL,
          "DEV", "Show everything about one PCI function" },
        { "enable", 2, 2, VERB_OPT_AUTOPROBE, true, verb_enable, verb_enable_check,
          "PF COUNT [--autoprobe yes|no]", "Enable COUNT VFs on PF, in place of those it has" },
        { "disable", 1, 1, 0, true, verb_disable, NULL,
          "PF", "Disable the VFs of PF" },
        { "bind", 2, 2, VERB_OPT_KEEP_OVERRIDE, true, verb_bind, NULL,
          "DEV DRIVER [--[no-]keep-override]", "Bind DEV to DRIVER (vfio-pci for passthrough)" },
        { "unbind", 1, 1, 0, true, verb_unbind, NULL,
          "DEV", "Unbind DEV from its driver" },
        { "restore", 1, 1, 0, true, verb_restore, NULL,
          "DEV", "Give DEV back to the driver it had before sriovd" },
        { "groups", 0, 0, 0, false, verb_groups, NULL,
          "", "List IOMMU groups and whether they can be passed through" },
        { "status", 0, 0, 0, false, verb_status, NULL,
          "", "Show sriovd, the IOMMU, and pending operations" },
        { "monitor", 0, 0, 0, false, verb_monitor, NULL,
          "", "Print device events as they happen, until interrupted" },
};

/* Options that belong to verbs, for the "goes with" message. */
static const struct {
        unsigned flag;
        const char *name;
} verb_options[] = {
        { VERB_OPT_KIND, "--kind" },
        { VERB_OPT_AUTOPROBE, "--autoprobe" },
        { VERB_OPT_KEEP_OVERRIDE, "--keep-override/--no-keep-override" },
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

static void help(void) {
        int width = 0;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                width = MAX(width, (int) (strlen(verbs[i].name) + 1 + strlen(verbs[i].usage)));
        printf("Usage: sriovctl [OPTIONS] VERB [ARGS]\n"
               "\n"
               "Manage SR-IOV virtual functions and the drivers of PCI functions through sriovd.\n"
               "\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %s %-*s  %s\n", verbs[i].name, width - (int) strlen(verbs[i].name) - 1, verbs[i].usage,
                       verbs[i].help);
        printf("\n"
               "Options:\n"
               "  -h --help                Show this help\n"
               "     --version             Show the version\n"
               "  -j --json[=pretty|short] Print JSON (pretty on a terminal, else one line)\n"
               "     --no-ask-password     Do not let polkit ask for a password\n"
               "     --timeout SEC         Wait at most SEC seconds for sriovd (default %d)\n"
               "\n"
               "DEV and PF are a PCI address (0000:3b:00.0 or 3b:00.0) or the name of a\n"
               "network interface (ens1f0). See sriovctl(8) for the output and exit status.\n",
               DEFAULT_TIMEOUT_SEC);
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))         /* exact: no guessing from prefixes */
                        return &verbs[i];
        return NULL;
}

static int unknown_verb(const char *name) {
        char list[256] = "";

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
        OutFormat format;
        unsigned given;                 /* VERB_OPT_* on the command line */
        bool help, version;
} Args;

static int parse_argv(int argc, char *argv[], Ctl *c, Args *a) {
        enum {
                ARG_VERSION = 0x100, ARG_JSON, ARG_NO_ASK_PASSWORD, ARG_TIMEOUT, ARG_KIND, ARG_AUTOPROBE,
                ARG_KEEP_OVERRIDE, ARG_NO_KEEP_OVERRIDE,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", optional_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "kind", required_argument, NULL, ARG_KIND },
                { "autoprobe", required_argument, NULL, ARG_AUTOPROBE },
                { "keep-override", no_argument, NULL, ARG_KEEP_OVERRIDE },
                { "no-keep-override", no_argument, NULL, ARG_NO_KEEP_OVERRIDE },
                {}
        };
        int o, r;

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
                                a->format = isatty(STDOUT_FILENO) ? OUT_JSON_PRETTY : OUT_JSON_SHORT;
                        else if (streq(optarg, "pretty"))
                                a->format = OUT_JSON_PRETTY;
                        else if (streq(optarg, "short"))
                                a->format = OUT_JSON_SHORT;
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
                case ARG_KIND:
                        if (!streq(optarg, "pf") && !streq(optarg, "vf") && !streq(optarg, "sriov") &&
                            !streq(optarg, "all"))
                                return usage_error("--kind %s: expected pf, vf, sriov or all.", optarg);
                        c->kind = streq(optarg, "all") ? "" : optarg;
                        a->given |= VERB_OPT_KIND;
                        break;
                case ARG_AUTOPROBE:
                        r = parse_boolean(optarg);
                        if (r < 0)
                                return usage_error("--autoprobe %s: expected yes or no.", optarg);
                        c->autoprobe = r;
                        a->given |= VERB_OPT_AUTOPROBE;
                        break;
                case ARG_KEEP_OVERRIDE:
                case ARG_NO_KEEP_OVERRIDE:
                        c->keep_override = o == ARG_KEEP_OVERRIDE;
                        a->given |= VERB_OPT_KEEP_OVERRIDE;
                        break;
                case '?':
                        if (optopt >= ARG_VERSION)
                                return usage_error("%s needs a value.", argv[optind - 1]);
                        if (optopt != 0)
                                return usage_error("Unknown option -%c.", optopt);
                        return usage_error("Unknown option %s.", argv[optind - 1]);
                default:
                        return usage_error("Cannot parse the options.");
                }
        return 0;
}

/* The verb and its arguments, checked against the table: usage errors here
 * mean that no call is made. */
static int check_verb(const Verb *v, const Args *a, char **args, size_t n_args) {
        size_t n = n_args;

        if (n < v->min_args || n > v->max_args) {
                if (v->max_args == 0)
                        return usage_error("%s takes no arguments.", v->name);
                return usage_error("%s: expected %s, got %zu argument%s.", v->name, v->usage, n,
                                   n == 1 ? "" : "s");
        }
        for (size_t i = 0; i < ELEMENTSOF(verb_options); i++)
                if ((a->given & verb_options[i].flag) && !(v->options & verb_options[i].flag))
                        return usage_error("%s does not go with %s.", verb_options[i].name, v->name);
        return v->check ? v->check(args, n_args) : 0;
}

int main(int argc, char *argv[]) {
        Ctl c = {
                .timeout_usec = DEFAULT_TIMEOUT_SEC * 1000000ULL,
                .ask_password = true,
                .kind = "sriov",
                .autoprobe = -1,
                .keep_override = -1,
        };
        Args a = { .format = OUT_TEXT };
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
        status = check_verb(v, &a, argv + optind + 1, (size_t) (argc - optind - 1));
        if (status != 0)
                return status;

        out_init(a.format);
        status = bus_connect(&c);
        if (status == 0) {
                if (v->changes && c.ask_password)
                        polkit_agent_open(&agent);
                status = v->fn(&c, argv + optind + 1, (size_t) (argc - optind - 1));
                polkit_agent_close(agent);
        }
        r = out_flush();
        if (r < 0 && r != -EPIPE && status == EXIT_OK)
                status = error_exit(EXIT_FAIL, "Cannot write the output: %s", strerror(-r));
        out_free();
        sd_bus_flush_close_unref(c.bus);
        return status;
}
