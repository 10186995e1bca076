/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* dma-check and owner: a function bound to vfio-pci, seen from user space. */

#include <inttypes.h>
#include <stdio.h>

#include "bus.h"
#include "options.h"
#include "output.h"
#include "sriovctl.h"
#include "util.h"

/* ---- dma-check ---- */

/* DmaCheck's report: sriovd opened the device through VFIO, mapped a
 * buffer at iova, checked that mapping it again is refused (the kernel
 * has the first mapping) and unmapped it. */
typedef struct DmaReport {
        const char *backend;
        int32_t group;
        int remap_refused;
        uint64_t page_sizes, iova, size, unmapped;
        uint32_t dma_avail;             /* UINT32_MAX: not reported (iommufd) */
} DmaReport;

static const BusField dma_fields[] = {
        BUS_FIELD(DmaReport, "backend", "s", backend),
        BUS_FIELD(DmaReport, "group", "i", group),
        BUS_FIELD(DmaReport, "remap_refused", "b", remap_refused),
        BUS_FIELD(DmaReport, "page_sizes", "t", page_sizes),
        BUS_FIELD(DmaReport, "iova", "t", iova),
        BUS_FIELD(DmaReport, "size", "t", size),
        BUS_FIELD(DmaReport, "unmapped", "t", unmapped),
        BUS_FIELD(DmaReport, "dma_avail", "u", dma_avail),
};

static const OutColumn dma_columns[] = {
        { "device", "Device" },
        { "backend", "Backend" },
        { "iommu_group", "IOMMU group" },
        { "page_sizes", "Page sizes" },
        { "dma_avail", "DMA mappings left" },
        { "mapped", "Mapped" },
        { "remap", "Mapped again" },
        { "unmapped", "Unmapped" },
        { "iova_ranges", "IOVA ranges" },
        { "reserved_regions", "Reserved regions" },
        { "result", "Result" },
};

/* "4 KiB", "2 MiB"; bytes when it is no whole number of them */
static void size_text(uint64_t n, char buf[static 32]) {
        static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        size_t u = 0;

        while (u + 1 < ELEMENTSOF(units) && n >= 1024 && n % 1024 == 0) {
                n /= 1024;
                u++;
        }
        (void) snprintf(buf, 32, "%" PRIu64 " %s", n, units[u]);
}

/* the IOMMU's page sizes, a bitmap: "4 KiB, 2 MiB, 1 GiB", or "4 KiB and
 * every larger power of two" for the bitmaps that say so */
static char *page_sizes_text(uint64_t mask) {
        char buf[32 * 64] = "", one[32];
        uint64_t lowest = mask & -mask;

        if (mask == 0)
                return strdup("none reported");
        if ((mask | (lowest - 1)) == UINT64_MAX) {
                size_text(lowest, one);
                return strdup_printf("%s and every larger power of two", one);
        }
        for (unsigned b = 0; b < 64; b++)
                if (mask & (UINT64_C(1) << b)) {
                        size_text(UINT64_C(1) << b, one);
                        (void) snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? ", " : "",
                                        one);
                }
        return strdup(buf);
}

static void dma_report_print(const char *dev, const DmaReport *d) {
        char size[32], unmapped[32];

        size_text(d->size, size);
        size_text(d->unmapped, unmapped);
        print_string(PRINT_ANY, "device", NULL, dev);
        print_string(PRINT_ANY, "backend", NULL, d->backend);
        print_int_or_null(PRINT_ANY, "iommu_group", NULL, d->group);
        print_hex(PRINT_JSON, "page_sizes", NULL, d->page_sizes, 0);
        print_text_take("page_sizes", page_sizes_text(d->page_sizes));
        if (d->dma_avail != UINT32_MAX)
                print_uint(PRINT_ANY, "dma_avail", NULL, d->dma_avail);
        else
                print_string(PRINT_JSON, "dma_avail", NULL, NULL);
        print_hex(PRINT_JSON, "iova", NULL, d->iova, 0);
        print_uint(PRINT_JSON, "size", NULL, d->size);
        print_text_take("mapped", strdup_printf("%s at IOVA 0x%" PRIx64, size, d->iova));
        print_bool(PRINT_JSON, "remap_refused", NULL, d->remap_refused);
        print_string(PRINT_TEXT, "remap", NULL,
                     d->remap_refused ? "refused, as it must be: the kernel had the first mapping"
                                      : "ACCEPTED: the kernel did not have the first mapping");
        print_uint(PRINT_JSON, "unmapped", NULL, d->unmapped);
        print_string(PRINT_TEXT, "unmapped", NULL, unmapped);
}

/* One sv entry of the report: printed if it is key's a(tts) (1), skipped
 * otherwise (0) */
static int print_report_entry(sd_bus_message *reply, const char *key) {
        const char *name;
        int r;

        r = sd_bus_message_read_basic(reply, 's', &name);
        if (r < 0)
                return r;
        if (!streq(name, key) || sd_bus_message_enter_container(reply, 'v', "a(tts)") <= 0) {
                r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                return 0;
        }
        r = print_ranges(reply, key);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        return 1;
}

/* The report's a(tts) entry named key, printed; 0 if the report has none
 * (a daemon before 0.1 said only the group). */
static int print_report_ranges(sd_bus_message *reply, const char *key) {
        int found = 0, r;

        r = sd_bus_message_rewind(reply, true);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = print_report_entry(reply, key);
                if (r < 0)
                        return r;
                if (r > 0)
                        found = 1;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return found;
}

/* The ranges the IOMMU maps, and those it keeps for itself, as the session
 * saw them; from an older daemon, the group's from sysfs */
static int print_report_regions(Ctl *c, sd_bus_message *reply, int32_t group) {
        int r;

        r = print_report_ranges(reply, "iova_ranges");
        if (r < 0)
                return r;
        r = print_report_ranges(reply, "reserved_regions");
        if (r < 0)
                return r;
        if (r == 0 && group >= 0)
                print_group_regions(c, group);
        return 0;
}

int verb_dma_check(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DmaReport d = { .backend = "", .group = -1, .dma_avail = UINT32_MAX };
        int r;

        r = bus_call_with_options(c, "DmaCheck", &error, &reply, "s", args[0]);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot check DMA through %s", args[0]);
        r = bus_read_fields(reply, dma_fields, ELEMENTSOF(dma_fields), &d);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the report of sriovd: %s", strerror(-r));

        out_open_object(NULL);
        out_table_begin(NULL, NULL, OUT_RECORD, dma_columns, ELEMENTSOF(dma_columns));
        out_row_begin();
        dma_report_print(args[0], &d);
        r = print_report_regions(c, reply, d.group);
        if (r < 0) {
                out_table_end();
                out_close();
                return error_exit(EXIT_FAIL, "Cannot read the report of sriovd: %s", strerror(-r));
        }
        /* sriovd answers only when every check passed */
        print_string(PRINT_TEXT, "result", NULL, "DMA mapping through the IOMMU works");
        out_table_end();
        out_close();
        return EXIT_OK;
}

/* ---- owner ---- */

int verb_owner_check(const Ctl *c, char **args, size_t n_args) {
        bool uid = ctl_has(c, OPT_UID), gid = ctl_has(c, OPT_GID);

        if (ctl_has(c, OPT_RESET)) {
                if (uid || gid)
                        return usage_error("owner: --reset gives the nodes back to their prior owner; "
                                           "it does not go with --uid or --gid.");
                return 0;
        }
        if (!uid || !gid)
                return usage_error("owner: give --uid USER and --gid GROUP, or --reset.");
        return 0;
}

/* SetDeviceOwner, or ResetDeviceOwner: the nodes handed over or given back */
static int call_owner(Ctl *c, const char *dev, bool reset, uint32_t uid, uint32_t gid, sd_bus_error *error,
                      char ***ret_nodes) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (reset)
                r = bus_call_manager(c, "ResetDeviceOwner", true, error, &reply, "s", dev);
        else
                r = bus_call_manager(c, "SetDeviceOwner", true, error, &reply, "suu", dev, uid, gid);
        if (r < 0)
                return r;
        return sd_bus_message_read_strv(reply, ret_nodes);
}

int verb_owner(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_strv_free_ char **nodes = NULL;
        bool reset = ctl_has(c, OPT_RESET);
        uint32_t uid = c->opt[OPT_UID].u, gid = c->opt[OPT_GID].u;      /* both given: verb_owner_check() */
        int r;

        r = call_owner(c, args[0], reset, uid, gid, &error, &nodes);
        if (r < 0)
                return reset ? bus_error_exit(&error, r, "Cannot give the VFIO nodes of %s back", args[0])
                             : bus_error_exit(&error, r, "Cannot hand the VFIO nodes of %s to %u:%u", args[0], uid,
                                              gid);

        out_open_object(NULL);
        print_string(PRINT_JSON, "device", NULL, args[0]);
        if (!reset) {
                print_uint(PRINT_JSON, "uid", NULL, uid);
                print_uint(PRINT_JSON, "gid", NULL, gid);
        }
        print_strv(PRINT_JSON, "nodes", NULL, nodes, ",");
        STRV_FOREACH(n, nodes)
                print_text_take(NULL, reset ? strdup_printf("%s: %s given back\n", args[0], *n)
                                            : strdup_printf("%s: %s handed to %u:%u\n", args[0], *n, uid, gid));
        if (!nodes)
                print_string(PRINT_TEXT, NULL, "%s: nothing to give back\n", args[0]);
        out_close();
        return EXIT_OK;
}
