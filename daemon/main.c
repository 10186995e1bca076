/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>
#include <stdio.h>

#include "scan.h"
#include "util.h"

static void help(void) {
        printf("Usage: sriovd [OPTIONS]\n"
               "\n"
               "SR-IOV and VFIO passthrough manager.\n"
               "\n"
               "  --scan               Print the host model (PFs, VFs, drivers, IOMMU groups) and exit\n"
               "  --json               With --scan: print JSON (format in docs/json.md)\n"
               "  --sysfs-root DIR     Read and write sysfs under DIR instead of /sys\n"
               "  --dev-root DIR       Look for /dev/vfio and /dev/iommu under DIR instead of /dev\n"
               "  -h --help            Show this help\n"
               "  --version            Show the version\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_SCAN = 0x100, ARG_JSON, ARG_SYSFS_ROOT, ARG_DEV_ROOT, ARG_VERSION };
        static const struct option options[] = {
                { "scan", no_argument, NULL, ARG_SCAN },
                { "json", no_argument, NULL, ARG_JSON },
                { "sysfs-root", required_argument, NULL, ARG_SYSFS_ROOT },
                { "dev-root", required_argument, NULL, ARG_DEV_ROOT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        const char *sysfs_root = NULL, *dev_root = NULL;
        bool scan = false, json = false;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_SCAN:
                        scan = true;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case ARG_SYSFS_ROOT:
                        sysfs_root = optarg;
                        break;
                case ARG_DEV_ROOT:
                        dev_root = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        puts(PACKAGE_STRING);
                        return 0;
                default:
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "sriovd takes no arguments (got \"%s\")\n", argv[optind]);
                return 2;
        }
        if (json && !scan) {
                fprintf(stderr, "--json goes with --scan\n");
                return 2;
        }
        if (scan)
                return run_scan(sysfs_root, dev_root, json) < 0 ? 1 : 0;

        fprintf(stderr, "Nothing to do: use --scan (the service mode arrives with the D-Bus API)\n");
        return 2;
}
