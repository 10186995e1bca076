/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* sriov-tool: runs one lib/ operation against a sysfs root, for the shell
 * tests (simulator) and the VM scenarios (real kernel). Prints the result
 * on stdout; on failure "ERRNO_NAME: message" on stderr and exit status 1. */

#include <getopt.h>
#include <poll.h>
#include <stdio.h>

#include "groups.h"
#include "host.h"
#include "json-util.h"
#include "linkmon.h"
#include "ops.h"
#include "util.h"
#include "vfattr.h"
#include "vfstats.h"

static int fail(int r, const sriov_error *e) {
        fprintf(stderr, "%s: %s\n", errno_name(r) ?: "ERROR",
                e && e->error ? e->message : strerror(-r));
        return 1;
}

static int parse_dev(const char *s, pci_addr *a) {
        if (pci_addr_parse(s, a) < 0) {
                fprintf(stderr, "EINVAL: Invalid PCI address \"%s\"\n", s);
                return -EINVAL;
        }
        return 0;
}

static const char *dash(const char *s) {
        return s ?: "-";
}

/* vf-stats IFNAME [PF_DRIVER]: each VF's IFLA_VF_STATS, one line each,
 * and whether the counters are the driver's */
static int cmd_vf_stats(const char *ifname, const char *driver) {
        _cleanup_(sriov_link_stats_done) sriov_link_stats l = {};
        sriov_error e = {};
        int r;

        r = sriov_link_get_stats(ifname, &l, &e);
        if (r < 0)
                return fail(r, &e);
        printf("num_vf %u vfinfo %s\n", l.num_vf, l.has_vfinfo ? "yes" : "no");
        for (size_t i = 0; i < l.n_vfs; i++) {
                const char *why = NULL;
                bool reported = vf_stats_reported(&l.vfs[i], driver, &why);

                printf("vf%u nest %s", l.vfs[i].vf, l.vfs[i].mask ? "yes" : "no");
                for (unsigned k = 0; k < _VF_STAT_MAX; k++)
                        if (l.vfs[i].mask & (1u << k))
                                printf(" %s=%llu", vf_stat_name(k), (unsigned long long) l.vfs[i].v[k]);
                printf(" reported=%s%s%s\n", reported ? "yes" : "no", why ? ": " : "", why ?: "");
        }
        return 0;
}

static void print_link(const sriov_link_info *l, const char *prefix) {
        printf("%s%s %s type=%s up=%s carrier=%d operstate=%s\n", prefix, l->deleted ? "DELLINK" : "NEWLINK",
               l->ifname, sriov_link_type_name(l->type), l->flags & 1 ? "yes" : "no", l->carrier,
               sriov_operstate_name(l->operstate));
}

/* link-info IFNAME [SYSFS-ROOT]: the link as rtnetlink tells it, its speed */
static int cmd_link_info(sriov_ctx *ctx, const char *ifname) {
        sriov_link_info l;
        sriov_error e = {};
        int r, speed = -1;

        r = sriov_link_info_get(ifname, &l, &e);
        if (r < 0)
                return fail(r, &e);
        print_link(&l, "");
        r = sriov_netdev_speed(ctx, ifname, &speed);
        if (r < 0)
                return fail(r, NULL);
        printf("speed %d\n", speed);
        return 0;
}

typedef struct Watch {
        const char *ifname;
        unsigned seen;
} Watch;

static void on_link(const sriov_link_info *l, void *userdata) {
        Watch *w = userdata;

        if (!streq(l->ifname, w->ifname))
                return;
        w->seen++;
        print_link(l, "notify ");
        fflush(stdout);
}

/* link-watch IFNAME SECONDS [COUNT]: subscribe, print "subscribed", then
 * every notification about IFNAME until SECONDS passed (bounded) or, given
 * COUNT, until COUNT of them came: a test that knows how many to expect
 * waits for them, not for a window that a loaded machine can outlast */
static int cmd_link_watch(const char *ifname, const char *seconds, const char *count) {
        _cleanup_(sriov_linkmon_freep) sriov_linkmon *m = NULL;
        Watch w = { .ifname = ifname };
        uint64_t end;
        double t = atof(seconds);
        unsigned want = 0;
        int r;

        if (count && (safe_atou(count, 10, &want) < 0 || want == 0))
                return fail(-EINVAL, NULL);
        r = sriov_linkmon_open(&m);
        if (r < 0)
                return fail(r, NULL);
        puts("subscribed");
        fflush(stdout);
        end = now_usec() + (uint64_t) (t * 1e6);
        while (now_usec() < end && (want == 0 || w.seen < want)) {
                struct pollfd p = { .fd = sriov_linkmon_fd(m), .events = POLLIN };
                uint64_t left = end - now_usec();

                if (poll(&p, 1, (int) (left / 1000) + 1) < 0 && errno != EINTR)
                        return fail(-errno, NULL);
                r = sriov_linkmon_read(m, on_link, &w);
                if (r < 0)
                        return fail(r, NULL);
        }
        printf("notifications %u\n", w.seen);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "sysfs-root", required_argument, NULL, 'r' },
                { "timeout", required_argument, NULL, 't' },
                { "autoprobe", required_argument, NULL, 'a' },
                { "keep-override", no_argument, NULL, 'k' },
                {}
        };
        _cleanup_(sriov_ctx_freep) sriov_ctx *ctx = NULL;
        const char *root = NULL, *cmd;
        sriov_error e = {};
        int autoprobe = -1, c, r;
        unsigned flags = 0;
        double timeout = -1;
        pci_addr a;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                        root = optarg;
                        break;
                case 't':
                        timeout = atof(optarg);
                        break;
                case 'a':
                        autoprobe = parse_boolean(optarg);
                        if (autoprobe < 0)
                                return fail(-EINVAL, NULL);
                        break;
                case 'k':
                        flags |= SRIOV_BIND_KEEP_OVERRIDE;
                        break;
                default:
                        return 2;
                }
        if (optind >= argc) {
                fprintf(stderr, "usage: sriov-tool [--sysfs-root DIR] [--timeout SEC] numvfs|bind|unbind|restore|show|groups|vf-set|vf-get|vf-stats|link-info|link-watch ...\n");
                return 2;
        }
        r = sriov_ctx_new(root, &ctx);
        if (r < 0)
                return fail(r, NULL);
        if (timeout >= 0)
                sriov_ctx_set_timeout(ctx, (uint64_t) (timeout * 1e6));
        cmd = argv[optind++];
        argc -= optind;
        argv += optind;

        if (streq(cmd, "numvfs") && argc == 2) {
                unsigned count, enabled = 0;

                if (parse_dev(argv[0], &a) < 0)
                        return 1;
                if (safe_atou(argv[1], 10, &count) < 0)
                        return fail(-EINVAL, NULL);
                r = sriov_set_numvfs(ctx, &a, count, autoprobe, &enabled, &e);
                if (r < 0)
                        return fail(r, &e);
                printf("enabled %u\n", enabled);
                return 0;
        }
        if (streq(cmd, "bind") && argc == 2) {
                _cleanup_free_ char *pd = NULL, *po = NULL;

                if (parse_dev(argv[0], &a) < 0)
                        return 1;
                r = sriov_bind(ctx, &a, argv[1], flags, &pd, &po, &e);
                if (r < 0)
                        return fail(r, &e);
                printf("%s prior-driver %s prior-override %s\n", r > 0 ? "changed" : "unchanged", dash(pd), dash(po));
                return 0;
        }
        if (streq(cmd, "unbind") && argc == 1) {
                _cleanup_free_ char *pd = NULL;

                if (parse_dev(argv[0], &a) < 0)
                        return 1;
                r = sriov_unbind(ctx, &a, &pd, &e);
                if (r < 0)
                        return fail(r, &e);
                printf("%s prior-driver %s\n", r > 0 ? "changed" : "unchanged", dash(pd));
                return 0;
        }
        if (streq(cmd, "restore") && argc == 3) {
                if (parse_dev(argv[0], &a) < 0)
                        return 1;
                r = sriov_restore_driver(ctx, &a, streq(argv[1], "-") ? NULL : argv[1],
                                         streq(argv[2], "-") ? NULL : argv[2], &e);
                if (r < 0)
                        return fail(r, &e);
                printf("restored\n");
                return 0;
        }
        /* vf-set IFNAME VF JSON: VF settings (the configuration's keys)
         * through the PF's interface; prints the VF as the kernel reports it
         * afterwards and what the driver ignored */
        if (streq(cmd, "vf-set") && argc == 3) {
                _cleanup_json_ json_object *in = json_tokener_parse(argv[2]), *out = NULL;
                sriov_vf_config want, after = {};
                unsigned ignored = 0, vf;
                bool fallback = false;

                if (!in || safe_atou(argv[1], 10, &vf) < 0 || vf_config_from_json(in, &want) < 0)
                        return fail(-EINVAL, NULL);
                want.vf = vf;
                r = sriov_vf_set(argv[0], &want, SRIOV_VF_BRING_PF_UP, &after, &ignored, &fallback, &e);
                if (r < 0)
                        return fail(r, &e);
                r = vf_config_to_json(&after, &out);
                if (r < 0)
                        return fail(r, NULL);
                printf("%s", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
                for (unsigned bit = 1; bit & VF_ATTR_ALL; bit <<= 1)
                        if (ignored & bit)
                                printf(" ignored:%s", vf_attr_name(bit));
                printf("%s\n", fallback ? " zero-mac-fallback" : "");
                return 0;
        }
        /* vf-get IFNAME: every VF of the PF's interface, one line each */
        if (streq(cmd, "vf-get") && argc == 1) {
                _cleanup_(sriov_link_done) sriov_link l = {};

                r = sriov_link_get(argv[0], &l, &e);
                if (r < 0)
                        return fail(r, &e);
                for (size_t i = 0; i < l.n_vfs; i++) {
                        _cleanup_json_ json_object *out = NULL;

                        r = vf_config_to_json(&l.vfs[i], &out);
                        if (r < 0)
                                return fail(r, NULL);
                        printf("vf%u %s\n", l.vfs[i].vf, json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
                }
                return 0;
        }
        if (streq(cmd, "vf-stats") && (argc == 1 || argc == 2))
                return cmd_vf_stats(argv[0], argc == 2 ? argv[1] : NULL);
        if (streq(cmd, "link-info") && argc == 1)
                return cmd_link_info(ctx, argv[0]);
        if (streq(cmd, "link-watch") && (argc == 2 || argc == 3))
                return cmd_link_watch(argv[0], argv[1], argc == 3 ? argv[2] : NULL);
        if (streq(cmd, "show") && argc == 1) {
                _cleanup_(sriov_host_freep) sriov_host *h = NULL;
                _cleanup_json_ json_object *j = NULL;
                sriov_device *d;

                r = sriov_host_scan(ctx, &h);
                if (r < 0)
                        return fail(r, NULL);
                r = sriov_host_resolve(h, argv[0], &d, &e);
                if (r < 0)
                        return fail(r, &e);
                r = sriov_device_to_json(d, &j);
                if (r < 0)
                        return fail(r, NULL);
                puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
                return 0;
        }
        if (streq(cmd, "refresh") && argc == 1) {
                /* scan, refresh one device, and print the whole model: the
                 * refreshed model must equal a fresh scan */
                _cleanup_(sriov_host_freep) sriov_host *h = NULL;
                _cleanup_json_ json_object *j = NULL;
                bool changed = false;

                if (parse_dev(argv[0], &a) < 0)
                        return 1;
                r = sriov_host_scan(ctx, &h);
                if (r < 0)
                        return fail(r, NULL);
                r = sriov_host_refresh(h, &a, &changed);
                if (r < 0)
                        return fail(r, NULL);
                r = sriov_host_to_json(h, &j);
                if (r < 0)
                        return fail(r, NULL);
                puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
                return 0;
        }
        fprintf(stderr, "sriov-tool: unknown command or wrong arguments: %s\n", cmd);
        return 2;
}
