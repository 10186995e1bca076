/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* groups and status: what the host and the daemon are like, and what the
 * declared configuration would change (drift). */

#include <inttypes.h>
#include <stdio.h>

#include "bus.h"
#include "device-view.h"
#include "output.h"
#include "steps.h"
#include "sriovctl.h"

/* The properties of org.sriovd.Manager1 */
typedef struct HostFacts {
        const char *version, *sysfs_root, *iommu_hint, *state;
        int iommu_present, vfio_container, vfio_cdev, iommufd;
        uint32_t num_pfs, num_vfs;
        char **config_files, **config_errors;
} HostFacts;

#define FIELD(name, sig, member) BUS_FIELD(HostFacts, name, sig, member)
static const BusField host_fields[] = {
        FIELD("Version", "s", version),
        FIELD("SysfsRoot", "s", sysfs_root),
        FIELD("IOMMUPresent", "b", iommu_present),
        FIELD("IOMMUHint", "s", iommu_hint),
        FIELD("VFIOContainer", "b", vfio_container),
        FIELD("VFIOCdev", "b", vfio_cdev),
        FIELD("IOMMUFD", "b", iommufd),
        FIELD("NumPFs", "u", num_pfs),
        FIELD("NumVFs", "u", num_vfs),
        FIELD("State", "s", state),
        FIELD("ConfigFiles", "as", config_files),
        FIELD("ConfigErrors", "as", config_errors),
};

static void host_facts_done(HostFacts *h) {
        h->config_files = strv_free(h->config_files);
        h->config_errors = strv_free(h->config_errors);
}

static int get_host_facts(Ctl *c, HostFacts *ret, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        *ret = (HostFacts) { .version = "", .sysfs_root = "", .iommu_hint = "", .state = "" };
        r = bus_get_manager_properties(c, host_fields, ELEMENTSOF(host_fields), ret, &error, ret_reply);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot get the properties of sriovd");
        return EXIT_OK;
}

/* ---- groups ---- */

static const OutColumn group_columns[] = {
        { "id", "GROUP", OUT_COLUMN_RIGHT },
        { "type", "TYPE" },
        { "viable", "VIABLE" },
        { "members", "DEVICES" },
        { "reserved_regions", "RESERVED" },
        { "reason", "not viable", OUT_COLUMN_BELOW },
};

/* a(tts) at m (start, inclusive end, type): under key, JSON objects, and one text cell */
int print_ranges(sd_bus_message *m, const char *key) {
        _cleanup_free_ char *text = NULL;
        uint64_t start, end;
        const char *type;
        size_t len = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(tts)");
        if (r < 0)
                return r;
        out_open_array(key);
        while ((r = sd_bus_message_read(m, "(tts)", &start, &end, &type)) > 0) {
                out_open_object(NULL);
                print_hex(PRINT_JSON, "start", NULL, start, 0);
                print_hex(PRINT_JSON, "end", NULL, end, 0);
                print_string(PRINT_JSON, "type", NULL, type);
                out_close();
                if (!out_is_json()) {
                        char *t;
                        int n = asprintf(&t, "%s%s0x%" PRIx64 "-0x%" PRIx64 "%s%s", strempty(text), len ? "; " : "",
                                         start, end, isempty(type) ? "" : " ", type);

                        if (n < 0)
                                return -ENOMEM;
                        free(text);
                        text = t;
                        len = (size_t) n;
                }
        }
        out_close();
        if (r < 0)
                return r;
        print_string(PRINT_TEXT, key, NULL, text);
        return sd_bus_message_exit_container(m);
}

static int print_group(sd_bus_message *m, void *userdata) {
        _cleanup_strv_free_ char **members = NULL;
        const char *type, *reason;
        int32_t id;
        int viable, r;

        r = sd_bus_message_read(m, "is", &id, &type);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, &members);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "bs", &viable, &reason);
        if (r < 0)
                return r;
        out_row_begin();
        print_int(PRINT_ANY, "id", NULL, id);
        print_string(PRINT_ANY, "type", NULL, type);
        print_strv(PRINT_ANY, "members", NULL, members, " ");
        print_bool(PRINT_ANY, "viable", NULL, viable);
        print_string(PRINT_ANY, "reason", NULL, reason);
        r = print_ranges(m, "reserved_regions");
        out_row_end();
        return r;
}

/* the regions of the group *userdata; the others are skipped */
static int print_regions_of(sd_bus_message *m, void *userdata) {
        int32_t id;
        int r;

        r = sd_bus_message_read(m, "i", &id);
        if (r < 0)
                return r;
        if (id != *(int32_t *) userdata)
                return sd_bus_message_skip(m, "sasbsa(tts)");
        r = sd_bus_message_skip(m, "sasbs");
        if (r < 0)
                return r;
        return print_ranges(m, "reserved_regions");
}

void print_group_regions(Ctl *c, int32_t group) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        /* best effort: a report without them is still a report */
        if (bus_call_manager(c, "ListGroups", false, NULL, &reply, NULL) >= 0)
                (void) bus_read_array(reply, "isasbsa(tts)", print_regions_of, &group);
}

int verb_groups(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *facts_reply = NULL, *reply = NULL;
        _cleanup_(host_facts_done) HostFacts h = {};
        int r;

        r = get_host_facts(c, &h, &facts_reply);
        if (r != EXIT_OK)
                return r;
        r = bus_call_manager(c, "ListGroups", false, &error, &reply, NULL);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot list the IOMMU groups");

        out_open_object(NULL);
        print_bool(PRINT_JSON, "iommu_present", NULL, h.iommu_present);
        print_string(PRINT_JSON, "iommu_hint", NULL, h.iommu_hint);
        out_table_begin("groups", NULL, OUT_ROWS, group_columns, ELEMENTSOF(group_columns));
        r = bus_read_array(reply, "isasbsa(tts)", print_group, NULL);
        out_table_end();
        out_close();
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the IOMMU groups: %s", strerror(-r));
        if (!h.iommu_present)
                print_string(PRINT_TEXT, NULL,
                             "This host has no IOMMU: no device can be passed through with VFIO.\nHint: %s\n",
                             h.iommu_hint);
        else if (r == 0)
                print_string(PRINT_TEXT, NULL, "No IOMMU groups.\n", "");
        return EXIT_OK;
}

/* ---- status ---- */

static const OutColumn status_columns[] = {
        { "version", "Version" },
        { "state", "State" },
        { "sysfs_root", "Sysfs root" },
        { "iommu_present", "IOMMU" },
        { "iommu_hint", "IOMMU hint" },
        { "vfio_container", "VFIO container" },
        { "vfio_cdev", "VFIO cdev" },
        { "iommufd", "IOMMUFD" },
        { "num_pfs", "SR-IOV PFs" },
        { "num_vfs", "VFs" },
        { "pending_count", "Pending" },
        { "config_files", "Config files" },
        { "config_errors", "Config errors" },
        { "drift_count", "Drift" },
};

static const OutColumn pending_columns[] = {
        { "address", "ADDRESS" },
        { "kind", "KIND" },
        { "pending", "PENDING OPERATION" },
};

/* Apply as a dry run: what it would do now */
static int get_drift(Ctl *c, sd_bus_error *error, ApplySteps *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = bus_call_manager(c, "Apply", false, error, &reply, "b", true);
        if (r < 0)
                return r;
        return steps_read(reply, true, ret);
}

/* What Apply would do now: the drift of the host from the declared
 * configuration, VFs changed by hand among it. A dry run only reads, and
 * anyone may ask for it; when it cannot be had, status says why and goes on. */
static void print_drift_count(Ctl *c, ApplySteps *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = get_drift(c, &error, ret);
        if (r < 0) {
                print_string(PRINT_JSON, "drift", NULL, NULL);
                print_string(PRINT_TEXT, "drift_count", "unknown: %s",
                             sd_bus_error_is_set(&error) ? strempty(error.message) : strerror(-r));
                return;
        }
        if (ret->n_steps == 0)
                print_string(PRINT_TEXT, "drift_count", NULL, "none");
        else if (ret->n_failed > 0)
                print_uint(PRINT_TEXT, "drift_count", "%s to change, not all can be", ret->n_steps);
        else
                print_uint(PRINT_TEXT, "drift_count", ret->n_steps == 1 ? "%s change" : "%s changes", ret->n_steps);
}

int verb_status(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *facts_reply = NULL, *reply = NULL;
        _cleanup_(device_list_done) DeviceList l = {};
        _cleanup_(host_facts_done) HostFacts h = {};
        _cleanup_(steps_done) ApplySteps drift = {};
        size_t n_pending = 0;
        int r;

        r = get_host_facts(c, &h, &facts_reply);
        if (r != EXIT_OK)
                return r;
        /* Pending is a device property: one ListDevices finds them all */
        r = bus_call_manager(c, "ListDevices", false, &error, &reply, "s", "");
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot list the devices");
        r = device_list_read(reply, &l);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the list of devices: %s", strerror(-r));
        for (size_t i = 0; i < l.n; i++)
                n_pending += !isempty(l.devices[i].pending);

        out_open_object(NULL);
        out_table_begin(NULL, NULL, OUT_RECORD, status_columns, ELEMENTSOF(status_columns));
        out_row_begin();
        print_string(PRINT_ANY, "version", NULL, h.version);
        print_string(PRINT_ANY, "state", NULL, h.state);
        print_string(PRINT_ANY, "sysfs_root", NULL, h.sysfs_root);
        print_bool(PRINT_ANY, "iommu_present", NULL, h.iommu_present);
        print_string(h.iommu_present ? PRINT_JSON : PRINT_ANY, "iommu_hint", NULL, h.iommu_hint);
        print_bool(PRINT_ANY, "vfio_container", NULL, h.vfio_container);
        print_bool(PRINT_ANY, "vfio_cdev", NULL, h.vfio_cdev);
        print_bool(PRINT_ANY, "iommufd", NULL, h.iommufd);
        print_uint(PRINT_ANY, "num_pfs", NULL, h.num_pfs);
        print_uint(PRINT_ANY, "num_vfs", NULL, h.num_vfs);
        /* the daemon reports an operation on the device and on the PF whose work it blocks */
        print_uint(PRINT_TEXT, "pending_count", n_pending == 1 ? "%s device" : "%s devices", n_pending);
        print_strv(PRINT_ANY, "config_files", NULL, h.config_files, ", ");
        print_strv(strv_length(h.config_errors) > 0 ? PRINT_ANY : PRINT_JSON, "config_errors", NULL, h.config_errors,
                   "\n");
        print_drift_count(c, &drift);
        out_table_end();
        out_table_begin("pending", "Devices with a pending operation", OUT_ROWS, pending_columns,
                        ELEMENTSOF(pending_columns));
        for (size_t i = 0; i < l.n; i++) {
                if (isempty(l.devices[i].pending))
                        continue;
                out_row_begin();
                print_string(PRINT_ANY, "address", NULL, l.devices[i].address);
                print_string(PRINT_ANY, "kind", NULL, l.devices[i].kind);
                print_string(PRINT_ANY, "pending", NULL, l.devices[i].pending);
                out_row_end();
        }
        out_table_end();
        if (drift.reply)
                steps_print(&drift, "drift", "Drift from the declared configuration", false);
        status_print_caught_drift(c);
        status_print_health(c);
        out_close();
        return EXIT_OK;
}
