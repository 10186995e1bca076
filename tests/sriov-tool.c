/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* sriov-tool: runs one lib/ operation against a sysfs root, for the shell
 * tests (simulator) and the VM scenarios (real kernel). Prints the result
 * on stdout; on failure "ERRNO_NAME: message" on stderr and exit status 1. */

#include <getopt.h>
#include <stdio.h>

#include "groups.h"
#include "host.h"
#include "json-util.h"
#include "ops.h"
#include "util.h"
#include "vfattr.h"

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
                fprintf(stderr, "usage: sriov-tool [--sysfs-root DIR] [--timeout SEC] numvfs|bind|unbind|restore|show|groups|vf-set|vf-get ...\n");
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
