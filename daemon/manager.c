/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "ops.h"
#include "assign.h"
#include "bus-util.h"
#include "sriovd-api.h"
#include "device.h"
#include "lanes.h"
#include "conffile.h"
#include "manager.h"
#include "model.h"
#include "reconcile.h"
#include "vfio-bus.h"
#include "vfconfig.h"

/* A reply this large is built in free heap pages (large enough holes are
 * used before a fresh mapping): give them back once it is sent. */
#define LARGE_REPLY (256 * 1024)

/* The kind argument of ListDevices and DescribeDevices. */
static int read_kind(sd_bus_message *m, const char **ret, sd_bus_error *error) {
        const char *kind;
        int r;

        r = sd_bus_message_read(m, "s", &kind);
        if (r < 0)
                return r;
        if (!isempty(kind) && !streq(kind, "pf") && !streq(kind, "vf") && !streq(kind, "sriov"))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "Unknown kind \"%.32s\": expected \"\", \"pf\", \"vf\" or \"sriov\"", kind);
        *ret = kind;
        return 0;
}

static bool kind_matches(const char *kind, const sriov_device *dev) {
        return !((streq(kind, "pf") && !dev->is_pf) || (streq(kind, "vf") && !dev->is_vf) ||
                 (streq(kind, "sriov") && !dev->is_pf && !dev->is_vf));
}

/* A VF listed under its PF (rather than at its own place): its PF is listed too and knows it. */
static bool listed_under_pf(const char *kind, const sriov_device *dev) {
        const sriov_device *pf = dev->pf;

        return dev->is_vf && pf && kind_matches(kind, dev) && kind_matches(kind, pf) && dev->vf_index >= 0 &&
               (size_t) dev->vf_index < pf->n_vfs && pf->vfs[dev->vf_index] == dev;
}

/* The whole listing as one JSON document, written in one pass from the
 * model: at thousands of functions, ListDevices' a(soa{sv}) costs its
 * caller more to decode (two containers and a variant per property) than
 * the daemon to build; this is `sriovctl list --json` as it prints it, the
 * VFs of a listed PF right after it, by VF number. Built per call and
 * freed after the reply: no copy of it stays in the daemon's memory. */
static int method_describe_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *json = NULL;
        Daemon *d = userdata;
        const char *kind;
        JsonW w = {};
        size_t len;
        int r;

        r = read_kind(m, &kind, error);
        if (r < 0)
                return r;
        jsonw_begin_object(&w, NULL);
        jsonw_begin_array(&w, "devices");
        for (size_t i = 0; r >= 0 && i < d->host->n_devices; i++) {
                const sriov_device *dev = d->host->devices[i];

                if (!kind_matches(kind, dev) || listed_under_pf(kind, dev))
                        continue;
                r = device_describe(&w, d, dev);
                for (size_t k = 0; r >= 0 && dev->is_pf && k < dev->n_vfs; k++)
                        if (dev->vfs[k] && listed_under_pf(kind, dev->vfs[k]))
                                r = device_describe(&w, d, dev->vfs[k]);
        }
        jsonw_end_array(&w);
        jsonw_end_object(&w);
        if (r < 0) {
                jsonw_done(&w);
                return r;
        }
        r = jsonw_finish(&w, &json, &len);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(m, "s", json);
        if (len >= LARGE_REPLY)
                d->trim_due = true;     /* the reply's copy took free heap pages */
        return r;
}

static int method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        const char *kind;
        size_t n = 0;
        int r;

        r = read_kind(m, &kind, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(soa{sv})");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *dev = d->host->devices[i];
                _cleanup_free_ char *path = NULL;

                if (!kind_matches(kind, dev))
                        continue;
                n++;
                r = device_object_path(dev, &path);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'r', "soa{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "so", dev->bdf, path);
                if (r >= 0)
                        r = device_append_properties(reply, d, dev);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        r = sd_bus_send(NULL, reply, NULL);
        if (n >= LARGE_REPLY / 512)
                d->trim_due = true;     /* ~500 bytes a device */
        return r;
}

static int method_get_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const sriov_device *dev;
        Daemon *d = userdata;
        const char *ref;
        int r;

        r = sd_bus_message_read(m, "s", &ref);
        if (r < 0)
                return r;
        r = daemon_resolve_device(d, ref, &dev, error);
        if (r < 0)
                return r;
        r = device_object_path(dev, &path);
        if (r >= 0)
                r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "o", path);
        if (r >= 0)
                r = device_append_properties(reply, d, dev);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_set_numvfs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        const char *ref;
        uint32_t count;
        int r;

        r = sd_bus_message_read(m, "su", &ref, &count);
        if (r < 0)
                return r;
        r = daemon_resolve_device(userdata, ref, &dev, error);
        if (r < 0)
                return r;
        return device_start_set_numvfs(userdata, m, dev, count, error);
}

static int method_bind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        const char *ref, *driver;
        int r;

        r = sd_bus_message_read(m, "ss", &ref, &driver);
        if (r < 0)
                return r;
        r = daemon_resolve_device(userdata, ref, &dev, error);
        if (r < 0)
                return r;
        return device_start_bind(userdata, m, dev, driver, error);
}

static int method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        const char *ref;
        int r;

        r = sd_bus_message_read(m, "s", &ref);
        if (r < 0)
                return r;
        r = daemon_resolve_device(userdata, ref, &dev, error);
        if (r < 0)
                return r;
        return device_start_unbind(userdata, m, dev, error);
}

static int method_restore(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        const char *ref;
        int r;

        r = sd_bus_message_read(m, "s", &ref);
        if (r < 0)
                return r;
        r = daemon_resolve_device(userdata, ref, &dev, error);
        if (r < 0)
                return r;
        return device_start_restore(userdata, m, dev, error);
}

static int method_rescan(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        /* Coalesced like uevents; replies once the re-read is queued. */
        daemon_mark_rescan_all(d);
        manager_update_host_facts(d);
        return sd_bus_reply_method_return(m, NULL);
}

static void groups_done(Job *j) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        iommu_host *groups = ((GroupsWork *) j->payload)->groups;
        Daemon *d = j->daemon;
        int r;

        if (j->r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                (void) bus_error_from_errno(&e, j->r, NULL);
                (void) sd_bus_reply_method_error(j->request, &e);
                return;
        }
        /* viability against the model as it is now */
        r = iommu_host_update_viability(groups, d->host);
        if (r >= 0)
                r = sd_bus_message_new_method_return(j->request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(isasbsa(tts))");
        for (size_t i = 0; r >= 0 && i < groups->n_groups; i++) {
                const iommu_group *g = &groups->groups[i];

                r = sd_bus_message_open_container(reply, 'r', "isasbsa(tts)");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "is", g->id, strempty(g->type));
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, g->members);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "bs", g->viable, strempty(g->reason));
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "(tts)");
                for (size_t k = 0; r >= 0 && k < g->n_regions; k++)
                        r = sd_bus_message_append(reply, "(tts)", g->regions[k].start, g->regions[k].end,
                                                  g->regions[k].type);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot reply to ListGroups: %m");
}

static int method_list_groups(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        Job *j;
        int r;

        /* reading every group is slow on big hosts: off the event loop */
        j = model_groups_job_new(d);
        if (!j)
                return -ENOMEM;
        j->request = sd_bus_message_ref(m);
        j->complete = groups_done;
        r = lane_submit(d, j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        return 1;
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        unsigned n_pf = 0, n_vf = 0;

        if (streq(property, "Version"))
                return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
        if (streq(property, "SysfsRoot"))
                return sd_bus_message_append(reply, "s", sriov_ctx_root(d->ctx));
        if (streq(property, "IOMMUPresent"))
                return sd_bus_message_append(reply, "b", d->iommu->present);
        if (streq(property, "IOMMUHint"))
                return sd_bus_message_append(reply, "s", d->iommu->present ? "" : IOMMU_NO_GROUPS_HINT);
        if (streq(property, "VFIOContainer"))
                return sd_bus_message_append(reply, "b", d->iommu->vfio_container);
        if (streq(property, "VFIOCdev"))
                return sd_bus_message_append(reply, "b", d->iommu->vfio_cdev);
        if (streq(property, "IOMMUFD"))
                return sd_bus_message_append(reply, "b", d->iommu->iommufd);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", d->shutting_down ? "stopping" : d->ready_sent ? "running" : "starting");
        if (streq(property, "ConfigFiles"))
                return sd_bus_message_append_strv(reply, d->declared ? d->declared->files : NULL);
        if (streq(property, "ConfigErrors"))
                return sd_bus_message_append_strv(reply, d->config_errors);
        for (size_t i = 0; i < d->host->n_devices; i++) {
                n_pf += d->host->devices[i]->is_pf;
                n_vf += d->host->devices[i]->is_vf;
        }
        if (streq(property, "NumPFs"))
                return sd_bus_message_append(reply, "u", n_pf);
        if (streq(property, "NumVFs"))
                return sd_bus_message_append(reply, "u", n_vf);
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "Unknown property %s", property);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SysfsRoot", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IOMMUPresent", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IOMMUHint", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VFIOContainer", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VFIOCdev", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IOMMUFD", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NumPFs", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NumVFs", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ConfigFiles", "as", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ConfigErrors", "as", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("ListDevices", SD_BUS_ARGS("s", kind), SD_BUS_RESULT("a(soa{sv})", devices),
                                method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DescribeDevices", SD_BUS_ARGS("s", kind), SD_BUS_RESULT("s", json),
                                method_describe_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDevice", SD_BUS_ARGS("s", device), SD_BUS_RESULT("o", path, "a{sv}", properties),
                                method_get_device, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListGroups", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(isasbsa(tts))", groups), method_list_groups,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetNumVFs", SD_BUS_ARGS("s", pf, "u", count, "a{sv}", options),
                                SD_BUS_RESULT("u", enabled), method_set_numvfs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Bind", SD_BUS_ARGS("s", device, "s", driver, "a{sv}", options),
                                SD_BUS_RESULT("s", prior_driver), method_bind, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unbind", SD_BUS_ARGS("s", device, "a{sv}", options),
                                SD_BUS_RESULT("s", prior_driver), method_unbind, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestoreDriver", SD_BUS_ARGS("s", device), SD_BUS_RESULT("s", driver),
                                method_restore, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Rescan", NULL, NULL, method_rescan, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenDevice", SD_BUS_ARGS("s", device, "a{sv}", options),
                                SD_BUS_RESULT("a{sh}", fds, "a{sv}", info), vfio_method_open_device,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DmaCheck", SD_BUS_ARGS("s", device, "a{sv}", options), SD_BUS_RESULT("a{sv}", report),
                                vfio_method_dma_check, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetDeviceOwner", SD_BUS_ARGS("s", device, "u", uid, "u", gid),
                                SD_BUS_RESULT("as", nodes), vfio_method_set_owner, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResetDeviceOwner", SD_BUS_ARGS("s", device), SD_BUS_RESULT("as", nodes),
                                vfio_method_reset_owner, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetVFConfig", SD_BUS_ARGS("s", vf), SD_BUS_RESULT("a{sv}", config),
                                vfconfig_method_get, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetVFConfig", SD_BUS_ARGS("s", vf, "a{sv}", settings, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", after), vfconfig_method_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Assign", SD_BUS_ARGS("s", guest, "s", pool_or_vf, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", assignment), assign_method_assign, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Release", SD_BUS_ARGS("s", guest, "s", vf, "a{sv}", options),
                                SD_BUS_RESULT("as", released), assign_method_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAssignments", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssa{sv})", assignments),
                                assign_method_list, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreatePool", SD_BUS_ARGS("s", name, "as", selectors, "a{sv}", settings),
                                SD_BUS_NO_RESULT, assign_method_create_pool, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeletePool", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, assign_method_delete_pool,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListPools", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sasa{sv})", pools),
                                assign_method_list_pools, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Apply", SD_BUS_ARGS("b", dry_run), SD_BUS_RESULT("a(ssss)", steps),
                                reconcile_method_apply, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssss)", steps),
                                reconcile_method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceAdded", SD_BUS_ARGS("s", address, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceRemoved", SD_BUS_ARGS("s", address, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceChanged", SD_BUS_ARGS("s", address, "o", path), 0),
        SD_BUS_VTABLE_END
};

int manager_bus_register(Daemon *d) {
        int r;

        r = sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, manager_vtable, d);
        if (r >= 0)
                r = sd_bus_add_object_manager(d->bus, NULL, SRIOVD_MANAGER_PATH);
        return r;
}

void manager_update_host_facts(Daemon *d) {
        iommu_host *n = NULL;
        bool changed;
        int r;

        /* cheap: one readdir and a few stat()s; groups themselves are read on demand */
        r = iommu_host_scan_facts(d->ctx, &n);
        if (r < 0) {
                log_warning_errno(r, "Cannot read the IOMMU facts: %m");
                return;
        }
        changed = !d->iommu || n->present != d->iommu->present || n->vfio_container != d->iommu->vfio_container ||
                n->vfio_cdev != d->iommu->vfio_cdev || n->iommufd != d->iommu->iommufd;
        iommu_host_free(d->iommu);
        d->iommu = n;
        if (changed && d->bus)
                (void) sd_bus_emit_properties_changed(d->bus, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE,
                                                      "IOMMUPresent", "IOMMUHint", "VFIOContainer", "VFIOCdev",
                                                      "IOMMUFD", NULL);
}
