/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>
#include <malloc.h>
#include <stdio.h>

#include "bus-limits.h"
#include "bus-util.h"
#include "conffile.h"
#include "daemon.h"
#include "scan.h"
#include "util.h"

#define DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/sriovd"
#define DEFAULT_CDI_DIR RUNSTATEDIR "/cdi"
#define DEFAULT_CONFIG SYSCONFDIR "/sriovd/sriovd.conf"
#define DEFAULT_CONFIG_DIR SYSCONFDIR "/sriovd/conf.d"

/* The configuration, and checked against the host when its devices can be read (*host_checked). */
static int load_and_check(const char *file, const char *dir, const char *sysfs_root, Config **c,
                          ConfigErrors *errors, bool *host_checked) {
        _cleanup_(sriov_ctx_freep) sriov_ctx *ctx = NULL;
        _cleanup_(sriov_host_freep) sriov_host *host = NULL;
        int r;

        r = config_load(file, dir, c, errors);
        if (r < 0)
                return r;
        if (sriov_ctx_new(sysfs_root, &ctx) < 0 || sriov_host_scan(ctx, &host) < 0)
                return r;
        *host_checked = true;
        return config_check_host(*c, host, errors);
}

/* --check-config: parse and validate, against the host when it can be read. */
static int check_config(const char *file, const char *dir, const char *sysfs_root) {
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};
        bool host_checked = false;
        int r;

        r = load_and_check(file, dir, sysfs_root, &c, &errors, &host_checked);
        STRV_FOREACH(w, errors.warnings)
                fprintf(stderr, "%s (warning)\n", *w);
        STRV_FOREACH(e, errors.messages)
                printf("%s\n", *e);
        if (r == -ENOMEM)
                fprintf(stderr, "Out of memory\n");
        else if (r >= 0 && !errors.messages) {
                printf("configuration OK\n");
                if (!host_checked)
                        fprintf(stderr, "(not checked against the host: cannot read the PCI devices under %s)\n",
                                sysfs_root ?: "/sys");
        }
        config_errors_done(&errors);
        return r < 0 || errors.messages ? 1 : 0;
}

static void help(void) {
        printf("Usage: sriovd [OPTIONS]\n"
               "\n"
               "SR-IOV and VFIO passthrough manager. Without --scan, runs the service on the\n"
               "system bus (org.sriovd.Manager1); see sriovd(8) and sriovd-dbus(5).\n"
               "\n"
               "  --scan               Print the host model (PFs, VFs, drivers, IOMMU groups) and exit\n"
               "  --json               With --scan: print JSON (format in docs/json.md)\n"
               "  --sysfs-root DIR     Read and write sysfs under DIR instead of /sys\n"
               "  --dev-root DIR       Look for /dev/vfio and /dev/iommu under DIR instead of /dev\n"
               "  --check-config       Validate the configuration and exit\n"
               "  --config FILE        Main configuration file (default " DEFAULT_CONFIG ")\n"
               "  --config-dir DIR     Drop-in directory (default " DEFAULT_CONFIG_DIR ")\n"
               "  --state-dir DIR      Keep state in DIR (default " DEFAULT_STATE_DIR ")\n"
               "  --cdi-dir DIR        Write the CDI specs of assigned VFs in DIR (default " DEFAULT_CDI_DIR "; \"\": none)\n"
               "  --timeout SEC        Bound on every wait for the kernel (default 10)\n"
               "  --coalesce-ms MS     Window that coalesces a burst of uevents (default 50)\n"
               "  --retry-ms MS        First delay before failed configuration steps are tried again,\n"
               "                       doubling each time, 6 tries (default 1000; 0: no retries)\n"
               "  --uevent-source SRC  auto, udev, kernel or none (default auto)\n"
               "  --workers N          Jobs of one PF run at once, on different VFs (1-64, default 4)\n"
               "  --log-level LEVEL    err, warning, notice, info or debug (default info)\n"
               "  -h --help            Show this help\n"
               "  --version            Show the version\n");
}

/* An option in milliseconds, 0 to max, as µs. */
static int parse_ms(const char *option, const char *arg, unsigned max, uint64_t *ret_usec) {
        unsigned u;

        if (safe_atou(arg, 10, &u) < 0 || u > max) {
                fprintf(stderr, "Invalid %s \"%s\": milliseconds, at most %u\n", option, arg, max);
                return -EINVAL;
        }
        *ret_usec = (uint64_t) u * 1000ULL;
        return 0;
}

typedef enum Mode {
        MODE_SERVE,
        MODE_SCAN,
        MODE_SCAN_JSON,
        MODE_CHECK_CONFIG,
        MODE_EXIT,                      /* --help, --version */
} Mode;

static int parse_timeout(const char *arg, uint64_t *ret_usec) {
        char *end;
        double t = strtod(arg, &end);

        if (*end || !(t > 0 && t <= 3600)) {
                fprintf(stderr, "Invalid --timeout \"%s\": seconds, more than 0 and at most 3600\n", arg);
                return -EINVAL;
        }
        *ret_usec = (uint64_t) (t * 1e6);
        return 0;
}

static int parse_workers(const char *arg, unsigned *ret) {
        unsigned u;

        if (safe_atou(arg, 10, &u) < 0 || u < 1 || u > 64) {
                fprintf(stderr, "Invalid --workers \"%s\": 1 to 64\n", arg);
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

static int parse_uevent_source(const char *arg, UeventSource *ret) {
        static const char *const names[] = {
                [UEVENT_SOURCE_AUTO] = "auto", [UEVENT_SOURCE_UDEV] = "udev",
                [UEVENT_SOURCE_KERNEL] = "kernel", [UEVENT_SOURCE_NONE] = "none",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(arg, names[i])) {
                        *ret = (UeventSource) i;
                        return 0;
                }
        fprintf(stderr, "Invalid --uevent-source \"%s\": auto, udev, kernel or none\n", arg);
        return -EINVAL;
}

enum {
        ARG_SCAN = 0x100, ARG_JSON, ARG_SYSFS_ROOT, ARG_DEV_ROOT, ARG_STATE_DIR, ARG_TIMEOUT, ARG_COALESCE,
        ARG_UEVENT_SOURCE, ARG_LOG_LEVEL, ARG_VERSION, ARG_CHECK_CONFIG, ARG_CONFIG, ARG_CONFIG_DIR, ARG_RETRY,
        ARG_CDI_DIR, ARG_WORKERS,
};

/* What the options ask for besides the configuration. */
typedef struct Wants {
        bool scan, json, check, exit;
} Wants;

/* SRIOVD_LOG_LEVEL; under systemd, StateDirectory= names the state
 * directory (the first of a colon-separated list). */
static int parse_env(DaemonConfig *config, char **state_env) {
        const char *env;

        env = getenv("SRIOVD_LOG_LEVEL");
        if (env && log_level_from_string(env) >= 0)
                log_max_level = log_level_from_string(env);
        env = getenv("STATE_DIRECTORY");
        if (env && env[0] == '/') {
                *state_env = strndup(env, strcspn(env, ":"));
                if (!*state_env)
                        return -ENOMEM;
                config->state_dir = *state_env;
        }
        return 0;
}

static int parse_log_level(const char *arg) {
        int r = log_level_from_string(arg);

        if (r < 0) {
                fprintf(stderr, "Invalid --log-level \"%s\"\n", arg);
                return r;
        }
        log_max_level = r;
        return 0;
}

/* One option (getopt_long's c and optarg). */
static int parse_option(int c, const char *arg, DaemonConfig *config, Wants *w) {
        switch (c) {
        case ARG_SCAN:
                w->scan = true;
                return 0;
        case ARG_JSON:
                w->json = true;
                return 0;
        case ARG_CHECK_CONFIG:
                w->check = true;
                return 0;
        case ARG_SYSFS_ROOT:
                config->sysfs_root = arg;
                return 0;
        case ARG_DEV_ROOT:
                config->dev_root = arg;
                return 0;
        case ARG_STATE_DIR:
                config->state_dir = arg;
                return 0;
        case ARG_CDI_DIR:
                if (!isempty(arg) && arg[0] != '/') {
                        fprintf(stderr, "Invalid --cdi-dir \"%s\": an absolute path, or \"\"\n", arg);
                        return -EINVAL;
                }
                config->cdi_dir = arg;
                return 0;
        case ARG_CONFIG:
                config->config_file = arg;
                return 0;
        case ARG_CONFIG_DIR:
                config->config_dir = arg;
                return 0;
        case ARG_TIMEOUT:
                return parse_timeout(arg, &config->op_timeout_usec);
        case ARG_COALESCE:
                return parse_ms("--coalesce-ms", arg, 10000, &config->coalesce_usec);
        case ARG_RETRY:
                return parse_ms("--retry-ms", arg, 60000, &config->retry_usec);
        case ARG_UEVENT_SOURCE:
                return parse_uevent_source(arg, &config->uevent_source);
        case ARG_WORKERS:
                return parse_workers(arg, &config->lane_workers);
        case ARG_LOG_LEVEL:
                return parse_log_level(arg);
        case 'h':
                help();
                w->exit = true;
                return 0;
        case ARG_VERSION:
                puts(PACKAGE_STRING);
                w->exit = true;
                return 0;
        default:
                return -EINVAL;
        }
}

/* The environment first, the command line over it. -EINVAL: a usage
 * error, reported. */
static int parse_args(int argc, char *argv[], DaemonConfig *config, char **state_env, Mode *ret_mode) {
        static const struct option options[] = {
                { "scan", no_argument, NULL, ARG_SCAN },
                { "json", no_argument, NULL, ARG_JSON },
                { "sysfs-root", required_argument, NULL, ARG_SYSFS_ROOT },
                { "dev-root", required_argument, NULL, ARG_DEV_ROOT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "cdi-dir", required_argument, NULL, ARG_CDI_DIR },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "coalesce-ms", required_argument, NULL, ARG_COALESCE },
                { "retry-ms", required_argument, NULL, ARG_RETRY },
                { "uevent-source", required_argument, NULL, ARG_UEVENT_SOURCE },
                { "workers", required_argument, NULL, ARG_WORKERS },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        Wants w = {};
        int c, r;

        r = parse_env(config, state_env);
        if (r < 0)
                return r;
        while (!w.exit && (c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = parse_option(c, optarg, config, &w);
                if (r < 0)
                        return r;
        }
        if (w.exit) {
                *ret_mode = MODE_EXIT;
                return 0;
        }
        if (optind < argc) {
                fprintf(stderr, "sriovd takes no arguments (got \"%s\")\n", argv[optind]);
                return -EINVAL;
        }
        if (w.json && !w.scan) {
                fprintf(stderr, "--json goes with --scan\n");
                return -EINVAL;
        }
        *ret_mode = w.scan ? (w.json ? MODE_SCAN_JSON : MODE_SCAN) : w.check ? MODE_CHECK_CONFIG : MODE_SERVE;
        return 0;
}

int main(int argc, char *argv[]) {
        DaemonConfig config = {
                .state_dir = DEFAULT_STATE_DIR,
                .cdi_dir = DEFAULT_CDI_DIR,
                .config_file = DEFAULT_CONFIG,
                .config_dir = DEFAULT_CONFIG_DIR,
                .op_timeout_usec = 10 * 1000000ULL,
                .coalesce_usec = 50 * 1000ULL,
                .retry_usec = 1000 * 1000ULL,
                .uevent_source = UEVENT_SOURCE_AUTO,
        };
        _cleanup_(daemon_freep) Daemon *d = NULL;
        _cleanup_free_ char *state_env = NULL;
        Mode mode;
        int r;

        /* Memory (docs/benchmarks.md, daemon cost): one malloc arena, since
         * the lanes' workers read device families that end up in the host
         * model, and an arena per worker keeps its pages; and a fixed mmap
         * threshold, so that a large D-Bus reply (ListDevices of thousands
         * of functions) is unmapped when freed instead of staying in the
         * heap (glibc's threshold otherwise rises to the largest free). */
        (void) mallopt(M_ARENA_MAX, 1);
        (void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);

        r = parse_args(argc, argv, &config, &state_env, &mode);
        if (r == -ENOMEM)
                return 1;
        if (r < 0)
                return 2;
        switch (mode) {
        case MODE_EXIT:
                return 0;
        case MODE_SCAN:
        case MODE_SCAN_JSON:
                return run_scan(config.sysfs_root, config.dev_root, mode == MODE_SCAN_JSON) < 0 ? 1 : 0;
        case MODE_CHECK_CONFIG:
                return check_config(config.config_file, config.config_dir, config.sysfs_root);
        case MODE_SERVE:
                break;
        }
        r = daemon_new(&config, &d);
        if (r < 0)
                return 1;
        r = bus_setup(d);
        if (r < 0)
                return 1;
        r = daemon_run(d);
        /* the bus glue's own state goes before the core */
        bus_polkit_done(d);
        bus_callers_free(d);
        return r < 0 ? 1 : 0;
}
