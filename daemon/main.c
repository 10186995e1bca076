/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>
#include <malloc.h>
#include <stdio.h>

#include "bus-util.h"
#include "conffile.h"
#include "daemon.h"
#include "scan.h"
#include "util.h"

#define DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/sriovd"
#define DEFAULT_CONFIG SYSCONFDIR "/sriovd/sriovd.conf"
#define DEFAULT_CONFIG_DIR SYSCONFDIR "/sriovd/conf.d"

/* --check-config: parse and validate, against the host when it can be read. */
static int check_config(const char *file, const char *dir, const char *sysfs_root) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(sriov_ctx_freep) sriov_ctx *ctx = NULL;
        _cleanup_(sriov_host_freep) sriov_host *host = NULL;
        ConfigErrors errors = {};
        bool host_checked = false;
        int r;

        r = config_load(file, dir, &c, &errors);
        if (r >= 0 && sriov_ctx_new(sysfs_root, &ctx) >= 0 && sriov_host_scan(ctx, &host) >= 0) {
                r = config_check_host(c, host, &errors);
                host_checked = true;
        }
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
               "  --timeout SEC        Bound on every wait for the kernel (default 10)\n"
               "  --coalesce-ms MS     Window that coalesces a burst of uevents (default 50)\n"
               "  --retry-ms MS        First delay before failed configuration steps are tried again,\n"
               "                       doubling each time, 6 tries (default 1000; 0: no retries)\n"
               "  --uevent-source SRC  auto, udev, kernel or none (default auto)\n"
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

/* The environment first (SRIOVD_LOG_LEVEL; under systemd, StateDirectory=
 * names the state directory, the first of a colon-separated list), the
 * command line over it. -EINVAL: a usage error, reported. */
static int parse_args(int argc, char *argv[], DaemonConfig *config, char **state_env, Mode *ret_mode) {
        enum {
                ARG_SCAN = 0x100, ARG_JSON, ARG_SYSFS_ROOT, ARG_DEV_ROOT, ARG_STATE_DIR, ARG_TIMEOUT,
                ARG_COALESCE, ARG_UEVENT_SOURCE, ARG_LOG_LEVEL, ARG_VERSION, ARG_CHECK_CONFIG, ARG_CONFIG,
                ARG_CONFIG_DIR, ARG_RETRY,
        };
        static const struct option options[] = {
                { "scan", no_argument, NULL, ARG_SCAN },
                { "json", no_argument, NULL, ARG_JSON },
                { "sysfs-root", required_argument, NULL, ARG_SYSFS_ROOT },
                { "dev-root", required_argument, NULL, ARG_DEV_ROOT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "coalesce-ms", required_argument, NULL, ARG_COALESCE },
                { "retry-ms", required_argument, NULL, ARG_RETRY },
                { "uevent-source", required_argument, NULL, ARG_UEVENT_SOURCE },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        bool scan = false, json = false, check = false;
        const char *env;
        int c, r = 0;

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

        while (r >= 0 && (c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_SCAN:
                        scan = true;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case ARG_SYSFS_ROOT:
                        config->sysfs_root = optarg;
                        break;
                case ARG_DEV_ROOT:
                        config->dev_root = optarg;
                        break;
                case ARG_STATE_DIR:
                        config->state_dir = optarg;
                        break;
                case ARG_TIMEOUT:
                        r = parse_timeout(optarg, &config->op_timeout_usec);
                        break;
                case ARG_COALESCE:
                        r = parse_ms("--coalesce-ms", optarg, 10000, &config->coalesce_usec);
                        break;
                case ARG_RETRY:
                        r = parse_ms("--retry-ms", optarg, 60000, &config->retry_usec);
                        break;
                case ARG_UEVENT_SOURCE:
                        r = parse_uevent_source(optarg, &config->uevent_source);
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0)
                                fprintf(stderr, "Invalid --log-level \"%s\"\n", optarg);
                        else
                                log_max_level = r;
                        break;
                case ARG_CHECK_CONFIG:
                        check = true;
                        break;
                case ARG_CONFIG:
                        config->config_file = optarg;
                        break;
                case ARG_CONFIG_DIR:
                        config->config_dir = optarg;
                        break;
                case 'h':
                        help();
                        *ret_mode = MODE_EXIT;
                        return 0;
                case ARG_VERSION:
                        puts(PACKAGE_STRING);
                        *ret_mode = MODE_EXIT;
                        return 0;
                default:
                        return -EINVAL;
                }
        if (r < 0)
                return r;
        if (optind < argc) {
                fprintf(stderr, "sriovd takes no arguments (got \"%s\")\n", argv[optind]);
                return -EINVAL;
        }
        if (json && !scan) {
                fprintf(stderr, "--json goes with --scan\n");
                return -EINVAL;
        }
        *ret_mode = scan ? (json ? MODE_SCAN_JSON : MODE_SCAN) : check ? MODE_CHECK_CONFIG : MODE_SERVE;
        return 0;
}

int main(int argc, char *argv[]) {
        DaemonConfig config = {
                .state_dir = DEFAULT_STATE_DIR,
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
        return r < 0 ? 1 : 0;
}
