/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* list and show: the devices as sriovd sees them. */

#include <string.h>

#include "bus.h"
#include "device-view.h"
#include "output.h"
#include "settings.h"
#include "sriovctl.h"

static const OutColumn list_columns[] = {
        { "address", "ADDRESS" },
        { "kind", "KIND" },
        { "driver", "DRIVER" },
        { "netdevs", "NETDEV" },
        { "numa_node", "NUMA", OUT_COLUMN_RIGHT },
        { "iommu_group", "GROUP", OUT_COLUMN_RIGHT },
        { "vfs", "VFS", OUT_COLUMN_RIGHT },
        { "use", "USE" },
        { "health", "HEALTH" },
        { "name", "NAME" },
};

static const OutColumn show_columns[] = {
        { "address", "Address" },
        { "kind", "Kind" },
        { "name", "Name" },
        { "class_text", "Class" },
        { "ids", "IDs" },
        { "driver", "Driver" },
        { "driver_override", "Driver override" },
        { "prior_driver", "Prior driver" },
        { "netdevs", "Interfaces" },
        { "numa_node", "NUMA node" },
        { "iommu_group", "IOMMU group" },
        { "parent", "Parent bridge" },
        { "pending", "Pending" },
        { "vfs", "VFs" },
        { "vf_device_id", "VF device id" },
        { "routing", "VF routing" },
        { "drivers_autoprobe", "VF autoprobe" },
        { "config_space", "Config space" },
        { "interface", "Interface" },
        { "link", "Link" },
        { "link_type", "Link type" },
        { "rdma_device", "RDMA device" },
        { "physfn", "PF" },
        { "physfn_driver", "PF driver" },
        { "physfn_netdevs", "PF interfaces" },
        { "vf_index", "VF index" },
        { "guest", "Guest" },
        { "quarantine", "Quarantined" },
        { "health_reason", "Health" },
        VF_SETTINGS_COLUMNS,
        { "settings_not_reported", "Not reported" },
        { "settings_error", "Settings" },
};

static const OutColumn vf_columns[] = {
        { "vf_index", "VF", OUT_COLUMN_RIGHT },
        { "address", "ADDRESS" },
        { "driver", "DRIVER" },
        { "netdevs", "NETDEV" },
        { "iommu_group", "GROUP", OUT_COLUMN_RIGHT },
        { "pending", "PENDING" },
        { "use", "USE" },
        { "health", "HEALTH" },
};

static int cmp_address(const void *a, const void *b) {
        return strcmp(((const Device *) a)->address, ((const Device *) b)->address);
}

/* VFs by PF, then by index */
static int cmp_vf(const void *a, const void *b) {
        const Device *x = *(const Device * const *) a, *y = *(const Device * const *) b;
        int c = strcmp(x->physfn, y->physfn);

        return c != 0 ? c : (x->vf_index > y->vf_index) - (x->vf_index < y->vf_index);
}

/* The VFs of the list sorted by PF and index, so that a PF finds its own
 * with a binary search: no quadratic walk with thousands of VFs. */
typedef struct VFIndex {
        const Device **vfs;
        size_t n;
} VFIndex;

static int vf_index_build(const DeviceList *l, VFIndex *ret) {
        const Device **v = calloc(l->n + 1, sizeof(Device *));
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++)
                if (device_is_vf(&l->devices[i]))
                        v[n++] = &l->devices[i];
        qsort(v, n, sizeof(Device *), cmp_vf);
        *ret = (VFIndex) { v, n };
        return 0;
}

static void vf_index_done(VFIndex *x) {
        x->vfs = mfree(x->vfs);
}

/* [*ret_first, return value) are the VFs of pf */
static size_t vf_index_range(const VFIndex *x, const char *pf, size_t *ret_first) {
        size_t lo = 0, hi = x->n, end;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(x->vfs[mid]->physfn, pf) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (end = lo; end < x->n && streq(x->vfs[end]->physfn, pf); end++)
                ;
        *ret_first = lo;
        return end;
}

static bool list_has(const DeviceList *l, const char *address) {
        Device key = { .address = address };

        return !isempty(address) && bsearch(&key, l->devices, l->n, sizeof(Device), cmp_address);
}

static void print_row(const Device *d, bool under_pf) {
        out_row_begin();
        device_print(d, under_pf ? "  %s" : "%s");
        if (device_is_vf(d))
                print_string(PRINT_TEXT, "name", NULL, NULL);   /* the PF's line names the hardware */
        out_row_end();
}

static const char *nothing_found(const char *kind) {
        if (isempty(kind))
                return "No PCI functions found.\n";
        if (streq(kind, "vf"))
                return "No VFs are enabled.\n";
        return "No SR-IOV physical functions found; \"sriovctl list --kind all\" lists every PCI function.\n";
}

/* JSON: the daemon writes the document (DescribeDevices), with the keys
 * and in the order device_print() and the table below use; decoding
 * thousands of a{sv} here would cost more than the rest of the call.
 * -EOPNOTSUPP from a daemon that predates the method: list as below. */
static int list_json(Ctl *c, const char *kind) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *json;
        int r;

        r = bus_call_manager(c, "DescribeDevices", false, &error, &reply, "s", kind);
        if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_METHOD))
                return -EOPNOTSUPP;
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot list the devices");
        r = sd_bus_message_read(reply, "s", &json);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the list of devices: %s", strerror(-r));
        r = out_json_document(json);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the list of devices: %s", strerror(-r));
        return EXIT_OK;
}

int verb_list(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(device_list_done) DeviceList l = {};
        _cleanup_(vf_index_done) VFIndex vfs = {};
        const char *kind = ctl_string(c, OPT_KIND, "sriov");
        int r;

        /* one call, whatever the number of VFs; "" is every function */
        if (streq(kind, "all"))
                kind = "";
        if (out_is_json()) {
                r = list_json(c, kind);
                if (r != -EOPNOTSUPP)
                        return r;
        }
        r = bus_call_manager(c, "ListDevices", false, &error, &reply, "s", kind);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot list the devices");
        r = device_list_read(reply, &l);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the list of devices: %s", strerror(-r));
        /* sorted already by the daemon; list_has() relies on it, so make sure */
        qsort(l.devices, l.n, sizeof(Device), cmp_address);
        r = vf_index_build(&l, &vfs);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the list of devices: %s", strerror(-r));

        out_open_object(NULL);
        out_table_begin("devices", NULL, OUT_ROWS, list_columns, ELEMENTSOF(list_columns));
        for (size_t i = 0; i < l.n; i++) {
                const Device *d = &l.devices[i];
                size_t first, end;

                if (device_is_vf(d) && list_has(&l, d->physfn))
                        continue;       /* under its PF */
                print_row(d, false);
                if (!device_is_pf(d))
                        continue;
                end = vf_index_range(&vfs, d->address, &first);
                for (size_t k = first; k < end; k++)
                        print_row(vfs.vfs[k], true);
        }
        out_table_end();
        out_close();
        if (l.n == 0)
                print_string(PRINT_TEXT, NULL, "%s", nothing_found(kind));
        return EXIT_OK;
}

/* The PF of a VF, for its driver and interfaces; best effort. */
static void print_physfn(Ctl *c, const Device *vf) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(device_done) Device pf = {};

        if (isempty(vf->physfn) ||
            bus_call_manager(c, "GetDevice", false, NULL, &reply, "s", vf->physfn) < 0 ||
            device_read(reply, &pf) < 0)
                return;
        print_string(PRINT_ANY, "physfn_driver", NULL, pf.driver);
        print_strv(PRINT_ANY, "physfn_netdevs", NULL, pf.netdevs, ",");
}

/* GetVFConfig: the settings in *ret point into *ret_reply */
static int get_vf_config(Ctl *c, const char *vf, sd_bus_error *error, sd_bus_message **ret_reply, VFConfig *ret) {
        int r;

        r = bus_call_manager(c, "GetVFConfig", false, error, ret_reply, "s", vf);
        if (r < 0)
                return r;
        return vf_config_read(*ret_reply, ret);
}

/* The settings of a VF as the kernel reports them, and those its PF's
 * driver does not report (set cannot be checked for them, assign refuses
 * them); "-" (null) and why when they cannot be read, for example when the
 * PF has no network interface. */
static void print_vf_settings(Ctl *c, const Device *vf) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(vf_config_done) VFConfig cfg = {};
        const char *missing[VF_SETTINGS_NAMES_MAX + 1];
        int r;

        r = get_vf_config(c, vf->address, &error, &reply, &cfg);
        if (r < 0) {
                vf_settings_print(NULL, true);
                print_string(PRINT_JSON, "settings_not_reported", NULL, NULL);
                print_string(PRINT_ANY, "settings_error", NULL,
                             sd_bus_error_is_set(&error) ? error.message : strerror(-r));
                return;
        }
        vf_settings_print(&cfg.settings, true);
        vf_settings_missing(&cfg.settings, missing);
        print_strv(missing[0] ? PRINT_ANY : PRINT_JSON, "settings_not_reported", NULL, (char * const *) missing, ", ");
        print_string(PRINT_JSON, "settings_error", NULL, NULL);
}

/* The VFs of a PF with their drivers: one ListDevices, not one call a VF. */
static int print_vfs(Ctl *c, const Device *pf) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(device_list_done) DeviceList l = {};
        _cleanup_(vf_index_done) VFIndex vfs = {};
        size_t first, end;
        int r;

        r = bus_call_manager(c, "ListDevices", false, &error, &reply, "s", "vf");
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot list the VFs of %s", pf->address);
        r = device_list_read(reply, &l);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the VFs of %s: %s", pf->address, strerror(-r));
        r = vf_index_build(&l, &vfs);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the VFs of %s: %s", pf->address, strerror(-r));
        out_table_begin("vfs", "VFs", OUT_ROWS, vf_columns, ELEMENTSOF(vf_columns));
        end = vf_index_range(&vfs, pf->address, &first);
        for (size_t k = first; k < end; k++) {
                out_row_begin();
                device_print(vfs.vfs[k], NULL);
                out_row_end();
        }
        out_table_end();
        return EXIT_OK;
}

int verb_show(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(device_done) Device d = {};
        int r;

        r = bus_call_manager(c, "GetDevice", false, &error, &reply, "s", args[0]);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot show %s", args[0]);
        r = device_read(reply, &d);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the properties of %s: %s", args[0], strerror(-r));

        out_open_object(NULL);
        out_table_begin(NULL, NULL, OUT_RECORD, show_columns, ELEMENTSOF(show_columns));
        out_row_begin();
        device_print(&d, NULL);
        if (device_is_vf(&d)) {
                print_physfn(c, &d);
                print_vf_settings(c, &d);
        }
        out_table_end();
        r = device_is_pf(&d) ? print_vfs(c, &d) : EXIT_OK;
        out_close();
        return r;
}
