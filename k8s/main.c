/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>
#include <signal.h>

#include "plog.h"
#include "plugin.h"
#include "util.h"

#define DEFAULT_PLUGIN_DIR "/var/lib/kubelet/device-plugins"
#define DEFAULT_POD_RESOURCES "/var/lib/kubelet/pod-resources/kubelet.sock"
#define DEFAULT_PODS_DIR "/var/lib/kubelet/pods"

static void help(void) {
        printf("Usage: sriovd-kubelet-plugin [OPTIONS]\n\n"
               "The kubelet's device plugin for sriovd's pools: one resource per pool.\n\n"
               "  --plugin-dir DIR            The kubelet's device plugins directory\n"
               "                              (default " DEFAULT_PLUGIN_DIR ")\n"
               "  --pod-resources-socket PATH The kubelet's PodResources socket\n"
               "                              (default " DEFAULT_POD_RESOURCES ")\n"
               "  --pods-dir DIR              The kubelet's pods directory, watched for pods\n"
               "                              that go (default " DEFAULT_PODS_DIR "; \"\": none)\n"
               "  --resource-prefix PREFIX    Resources are PREFIX/POOL (default sriovd.io)\n"
               "  --pool NAME                 Only this pool (repeatable; default: every pool)\n"
               "  --reconcile-interval SEC    Clean up at least this often (default 300)\n"
               "  --allocate-grace SEC        A VF allocated this recently is in use whatever\n"
               "                              PodResources says (default 30)\n"
               "  --vfio-backend BACKEND      auto, container or iommufd (default auto)\n"
               "  --no-cdi                    No CDI device names in Allocate's answer\n"
               "  --log-level LEVEL           err, warning, notice, info or debug (default info)\n"
               "  -h --help                   Show this help\n"
               "  --version                   Show the version\n");
}

static int parse_seconds(const char *option, const char *arg, unsigned min, uint64_t *ret) {
        unsigned v;

        if (safe_atou(arg, 10, &v) < 0 || v < min || v > 86400) {
                fprintf(stderr, "Invalid %s \"%s\": seconds, %u to 86400\n", option, arg, min);
                return -EINVAL;
        }
        *ret = (uint64_t) v * 1000000ULL;
        return 0;
}

static int parse_backend(const char *arg, Backend *ret) {
        static const char *const names[] = { "auto", "container", "iommufd" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(arg, names[i])) {
                        *ret = (Backend) i;
                        return 0;
                }
        fprintf(stderr, "Invalid --vfio-backend \"%s\": auto, container or iommufd\n", arg);
        return -EINVAL;
}

/* 1: run; 0: exit (help, version); < 0: a usage error, reported */
static int parse_args(int argc, char *argv[], Options *o) {
        enum {
                ARG_PLUGIN_DIR = 0x100, ARG_POD_RESOURCES, ARG_PODS_DIR, ARG_PREFIX, ARG_POOL, ARG_INTERVAL,
                ARG_GRACE, ARG_BACKEND, ARG_NO_CDI, ARG_LOG_LEVEL, ARG_VERSION,
        };
        static const struct option options[] = {
                { "plugin-dir", required_argument, NULL, ARG_PLUGIN_DIR },
                { "pod-resources-socket", required_argument, NULL, ARG_POD_RESOURCES },
                { "pods-dir", required_argument, NULL, ARG_PODS_DIR },
                { "resource-prefix", required_argument, NULL, ARG_PREFIX },
                { "pool", required_argument, NULL, ARG_POOL },
                { "reconcile-interval", required_argument, NULL, ARG_INTERVAL },
                { "allocate-grace", required_argument, NULL, ARG_GRACE },
                { "vfio-backend", required_argument, NULL, ARG_BACKEND },
                { "no-cdi", no_argument, NULL, ARG_NO_CDI },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int c, r = 0;

        while (r >= 0 && (c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_PLUGIN_DIR:
                        o->plugin_dir = optarg;
                        break;
                case ARG_POD_RESOURCES:
                        o->pod_resources = optarg;
                        break;
                case ARG_PODS_DIR:
                        o->pods_dir = optarg;
                        break;
                case ARG_PREFIX:
                        o->prefix = optarg;
                        break;
                case ARG_POOL:
                        r = strv_extend(&o->pools, optarg);
                        break;
                case ARG_INTERVAL:
                        r = parse_seconds("--reconcile-interval", optarg, 1, &o->reconcile_usec);
                        break;
                case ARG_GRACE:
                        r = parse_seconds("--allocate-grace", optarg, 0, &o->grace_usec);
                        break;
                case ARG_BACKEND:
                        r = parse_backend(optarg, &o->backend);
                        break;
                case ARG_NO_CDI:
                        o->cdi = false;
                        break;
                case ARG_LOG_LEVEL:
                        log_max_level = log_level_from_string(optarg);
                        if (log_max_level < 0) {
                                fprintf(stderr, "Invalid --log-level \"%s\"\n", optarg);
                                r = -EINVAL;
                        }
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("sriovd-kubelet-plugin %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (r < 0)
                return r;
        if (optind < argc) {
                fprintf(stderr, "Unexpected argument \"%s\"\n", argv[optind]);
                return -EINVAL;
        }
        if (isempty(o->prefix) || strchr(o->prefix, '/')) {
                fprintf(stderr, "Invalid --resource-prefix \"%s\": a domain name, such as sriovd.io\n", strempty(o->prefix));
                return -EINVAL;
        }
        return 1;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Plugin *p = userdata;

        log_info("Stopping: the kubelet sees the resources go; the VFs stay assigned to their pods");
        p->exiting = true;
        resources_shutdown(p);
        /* once the servers are down (resource.c) */
        return p->n_servers == 0 ? sd_event_exit(p->event, 0) : 0;
}

static void plugin_done(Plugin *p) {
        sd_event_source_disable_unref(p->inotify_source);
        sd_event_source_disable_unref(p->reconcile_timer);
        sd_event_source_disable_unref(p->reconcile_soon);
        sd_event_source_disable_unref(p->refresh_source);
        safe_close(p->inotify_fd);
        sd_bus_flush_close_unref(p->bus);
        rpc_loop_free(p->rpc);
        for (size_t i = 0; i < p->n_held; i++) {
                free(p->held[i].guest);
                free(p->held[i].vf);
                free(p->held[i].owner);
                free(p->held[i].state);
        }
        free(p->held);
        for (size_t i = 0; i < p->n_recent; i++)
                free(p->recent[i].id);
        free(p->recent);
        strv_free(p->opt.pools);
        sd_event_unref(p->event);
}

static int run(Plugin *p) {
        sigset_t mask;
        int r;

        r = sd_event_default(&p->event);
        if (r < 0)
                return r;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) sd_event_add_signal(p->event, NULL, SIGTERM, on_signal, p);
        (void) sd_event_add_signal(p->event, NULL, SIGINT, on_signal, p);
        r = rpc_loop_new(p->event, &p->rpc);
        if (r < 0)
                return log_error_errno(r, "Cannot start gRPC: %m");
        r = sriovd_connect(p);
        if (r < 0)
                return r;
        r = kubelet_watch(p);
        if (r < 0)
                return r;
        log_info("sriovd-kubelet-plugin %s: resources %s/POOL in %s", PACKAGE_VERSION, p->opt.prefix,
                 p->opt.plugin_dir);
        return sd_event_loop(p->event);
}

int main(int argc, char *argv[]) {
        Plugin p = {
                .opt = {
                        .plugin_dir = DEFAULT_PLUGIN_DIR,
                        .pod_resources = DEFAULT_POD_RESOURCES,
                        .pods_dir = DEFAULT_PODS_DIR,
                        .prefix = "sriovd.io",
                        .reconcile_usec = 300 * 1000000ULL,
                        .grace_usec = 30 * 1000000ULL,
                        .backend = BACKEND_AUTO,
                        .cdi = true,
                },
                .inotify_fd = -EBADF,
        };
        int r;

        /* gRPC's client channels poll in the background every 5 s unless told
         * not to; this plugin's channels live for one call */
        (void) setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "0", 0);
        (void) setenv("GRPC_VERBOSITY", "ERROR", 0);
        r = parse_args(argc, argv, &p.opt);
        if (r <= 0) {
                strv_free(p.opt.pools);
                return r < 0 ? 2 : 0;
        }
        r = run(&p);
        plugin_done(&p);
        return r < 0 ? 1 : 0;
}
