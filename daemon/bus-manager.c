/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* org.sriovd.Manager1 at /org/sriovd/Manager1: the host, its devices and
 * their bindings (the rest of the interface comes from the feature's bus
 * files: bus-assign.c, bus-pools.c, bus-config.c, bus-vfio.c,
 * bus-vfconfig.c); and the bus itself: connecting, the name, what the core
 * tells (DaemonEvents). */

#include "bus-assign.h"
#include "bus-device.h"
#include "bus-limits.h"
#include "conffile.h"
#include "lanes.h"
#include "model.h"

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

/* About what a listing of the devices of kind weighs (a device's entry is
 * 400-600 bytes in either form), and whether its caller may have it. */
#define DEVICE_ENTRY_BYTES 768
static int admit_listing(Daemon *d, sd_bus_message *m, const char *kind, sd_bus_error *error) {
        size_t n = 0, bytes;
        int r;

        for (size_t i = 0; i < d->host->n_devices; i++)
                n += kind_matches(kind, d->host->devices[i]);
        bytes = n * DEVICE_ENTRY_BYTES;
        r = bus_check_reply_size(bytes, "ask for one kind of functions (\"pf\", \"vf\"), or for one with GetDevice",
                                 error);
        if (r < 0)
                return r;
        return bus_admit(d, m, bus_cost_of(bytes), error);
}

/* Every device of kind, the VFs of a listed PF right after it, by VF number. */
static int describe_all(JsonW *w, Daemon *d, const char *kind) {
        int r;

        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *dev = d->host->devices[i];

                if (!kind_matches(kind, dev) || listed_under_pf(kind, dev))
                        continue;
                r = bus_device_describe(w, d, dev);
                if (r < 0)
                        return r;
                for (size_t k = 0; dev->is_pf && k < dev->n_vfs; k++) {
                        if (!dev->vfs[k] || !listed_under_pf(kind, dev->vfs[k]))
                                continue;
                        r = bus_device_describe(w, d, dev->vfs[k]);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
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
        r = admit_listing(d, m, kind, error);
        if (r != 0)
                return r;
        jsonw_begin_object(&w, NULL);
        jsonw_begin_array(&w, "devices");
        r = describe_all(&w, d, kind);
        jsonw_end_array(&w);
        jsonw_end_object(&w);
        if (r < 0) {
                jsonw_done(&w);
                return r;
        }
        r = jsonw_finish(&w, &json, &len);
        if (r < 0)
                return r;
        r = bus_check_reply_size(len, "ask for one kind of functions (\"pf\", \"vf\")", error);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(m, "s", json);
        if (len >= LARGE_REPLY)
                d->trim_due = true;     /* the reply's copy took free heap pages */
        return r;
}

/* (soa{sv}): address, object path, properties */
static int append_device(sd_bus_message *reply, Daemon *d, const sriov_device *dev) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = sd_bus_message_open_container(reply, 'r', "soa{sv}");
        if (r < 0)
                return r;
        r = bus_device_path(dev, &path);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "so", dev->bdf, path);
        if (r < 0)
                return r;
        r = bus_device_append_properties(reply, d, dev);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
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
        r = admit_listing(d, m, kind, error);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(soa{sv})");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *dev = d->host->devices[i];

                if (!kind_matches(kind, dev))
                        continue;
                n++;
                r = append_device(reply, d, dev);
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
        int r;

        r = bus_read_device(d, m, &dev, error);
        if (r < 0)
                return r;
        r = bus_device_path(dev, &path);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "o", path);
        if (r < 0)
                return r;
        r = bus_device_append_properties(reply, d, dev);
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
        r = bus_resolve_device(userdata, ref, &dev, error);
        if (r < 0)
                return r;
        return bus_device_set_numvfs(userdata, m, dev, count, error);
}

static int method_bind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        const char *ref, *driver;
        int r;

        r = sd_bus_message_read(m, "ss", &ref, &driver);
        if (r < 0)
                return r;
        r = bus_resolve_device(userdata, ref, &dev, error);
        if (r < 0)
                return r;
        return bus_device_bind(userdata, m, dev, driver, error);
}

static int method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        int r;

        r = bus_read_device(userdata, m, &dev, error);
        if (r < 0)
                return r;
        return bus_device_unbind(userdata, m, dev, error);
}

static int method_restore(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        int r;

        r = bus_read_device(userdata, m, &dev, error);
        if (r < 0)
                return r;
        return bus_device_restore(userdata, m, dev, error);
}

/* A re-read of the whole host: what it costs a caller's share. */
#define RESCAN_COST 4

/* Unprivileged callers' re-reads of the whole host: one this often at most
 * (a host read keeps every PF's lane busy a while); root's always run. */
#define RESCAN_UNPRIVILEGED_USEC (5 * 1000 * 1000ULL)

static int method_rescan(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        uint64_t now = now_usec();
        int r;

        r = bus_admit(d, m, RESCAN_COST, error);
        if (r != 0)
                return r;
        if (!bus_caller_is_root(d, m)) {
                /* the model was re-read moments ago: that read is the answer */
                if (d->rescan_unprivileged_usec > 0 && now - d->rescan_unprivileged_usec < RESCAN_UNPRIVILEGED_USEC)
                        return sd_bus_reply_method_return(m, NULL);
                d->rescan_unprivileged_usec = now;
        }
        /* Coalesced like uevents; replies once the re-read is queued. */
        daemon_mark_rescan_all(d);
        model_update_host_facts(d);
        return sd_bus_reply_method_return(m, NULL);
}

/* a(tts): start, end, type */
static int append_regions(sd_bus_message *reply, const iommu_group *g) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(tts)");
        if (r < 0)
                return r;
        for (size_t k = 0; k < g->n_regions; k++) {
                r = sd_bus_message_append(reply, "(tts)", g->regions[k].start, g->regions[k].end, g->regions[k].type);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* (isasbsa(tts)): id, type, members, viable, why not, reserved regions */
static int append_group(sd_bus_message *reply, size_t i, const void *userdata) {
        const iommu_group *g = &((const iommu_host *) userdata)->groups[i];
        int r;

        r = sd_bus_message_open_container(reply, 'r', "isasbsa(tts)");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "is", g->id, strempty(g->type));
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(reply, g->members);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "bs", g->viable, strempty(g->reason));
        if (r < 0)
                return r;
        r = append_regions(reply, g);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int send_groups(Job *j, iommu_host *groups) {
        int r;

        /* viability against the model as it is now */
        r = iommu_host_update_viability(groups, j->daemon->host);
        if (r < 0) {
                bus_reply_errno(j->request, r, "Cannot tell the groups' viability");
                return r;
        }
        return bus_send_array(j->request, "(isasbsa(tts))", groups->n_groups, append_group, groups);
}

static void groups_done(Job *j) {
        int r;

        bus_inflight_done(j->daemon, j->request);
        if (j->r < 0) {
                bus_reply_errno(j->request, j->r, NULL);
                return;
        }
        r = send_groups(j, ((GroupsWork *) j->payload)->groups);
        if (r < 0)
                log_debug_errno(r, "Cannot reply to ListGroups: %m");
}

/* reading every group is slow on big hosts: off the event loop */
static int method_list_groups(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_start_read_job(userdata, m, 1, model_groups_job_new, groups_done, error);
}

static const char *iommu_hint(const Daemon *d) {
        return d->iommu->present ? "" : IOMMU_NO_GROUPS_HINT;
}

static unsigned count_pfs(const Daemon *d) {
        unsigned pfs, vfs;

        daemon_count_sriov(d, &pfs, &vfs);
        return pfs;
}

static unsigned count_vfs(const Daemon *d) {
        unsigned pfs, vfs;

        daemon_count_sriov(d, &pfs, &vfs);
        return vfs;
}

/* One getter per property, from one list: name, signature, value. */
#define MANAGER_PROPERTY(name, sig, expr)                                                                       \
        static int get_##name(sd_bus *bus, const char *path, const char *interface, const char *property,     \
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {                   \
                _unused_ Daemon *d = userdata;                                                                  \
                return sd_bus_message_append(reply, sig, expr);                                                 \
        }
MANAGER_PROPERTY(Version, "s", PACKAGE_VERSION)
MANAGER_PROPERTY(SysfsRoot, "s", sriov_ctx_root(d->ctx))
MANAGER_PROPERTY(IOMMUPresent, "b", d->iommu->present)
MANAGER_PROPERTY(IOMMUHint, "s", iommu_hint(d))
MANAGER_PROPERTY(VFIOContainer, "b", d->iommu->vfio_container)
MANAGER_PROPERTY(VFIOCdev, "b", d->iommu->vfio_cdev)
MANAGER_PROPERTY(IOMMUFD, "b", d->iommu->iommufd)
MANAGER_PROPERTY(NumPFs, "u", count_pfs(d))
MANAGER_PROPERTY(NumVFs, "u", count_vfs(d))
MANAGER_PROPERTY(State, "s", daemon_state_name(d))

static int get_ConfigFiles(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        return sd_bus_message_append_strv(reply, d->declared ? d->declared->files : NULL);
}

static int get_ConfigErrors(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        return sd_bus_message_append_strv(reply, d->config_errors);
}

#define CONST_PROPERTY(name, sig) SD_BUS_PROPERTY(#name, sig, get_##name, 0, SD_BUS_VTABLE_PROPERTY_CONST)
#define PROPERTY(name, sig) SD_BUS_PROPERTY(#name, sig, get_##name, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        CONST_PROPERTY(Version, "s"),
        CONST_PROPERTY(SysfsRoot, "s"),
        PROPERTY(IOMMUPresent, "b"),
        PROPERTY(IOMMUHint, "s"),
        PROPERTY(VFIOContainer, "b"),
        PROPERTY(VFIOCdev, "b"),
        PROPERTY(IOMMUFD, "b"),
        PROPERTY(NumPFs, "u"),
        PROPERTY(NumVFs, "u"),
        PROPERTY(State, "s"),
        PROPERTY(ConfigFiles, "as"),
        PROPERTY(ConfigErrors, "as"),
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
        SD_BUS_SIGNAL_WITH_ARGS("DeviceAdded", SD_BUS_ARGS("s", address, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceRemoved", SD_BUS_ARGS("s", address, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceChanged", SD_BUS_ARGS("s", address, "o", path), 0),
        SD_BUS_VTABLE_END
};

int bus_manager_register(Daemon *d) {
        int r;

        r = sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, manager_vtable, d);
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(d->bus, NULL, SRIOVD_MANAGER_PATH);
}

/* ---- what the core tells, as signals ---- */

static void on_manager_changed(Daemon *d, char **properties) {
        if (d->bus)
                (void) sd_bus_emit_properties_changed_strv(d->bus, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE,
                                                           properties);
}

static const DaemonEvents bus_events = {
        .device_changed = bus_device_emit_change,
        .manager_changed = on_manager_changed,
        .assignment_changed = bus_assign_emit_change,
        .drift_detected = bus_stats_emit_drift,
};

/* Without its bus sriovd can neither be asked nor answer: exit with an
 * error, so that systemd restarts it and it finds its state again. */
static int on_bus_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        log_error("Lost the connection to the system bus, exiting");
        return sd_event_exit(d->event, -ECONNRESET);
}

static int register_objects(Daemon *d) {
        int (*const parts[])(Daemon *d) = {
                bus_manager_register, bus_device_register, bus_assign_register, bus_pools_register,
                bus_config_register, bus_vfio_register, bus_vfconfig_register, bus_stats_register, bus_batch_register,
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                r = parts[i](d);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_setup(Daemon *d) {
        int r;

        r = sriovd_errors_register();
        if (r < 0)
                return log_error_errno(r, "Failed to register D-Bus errors: %m");
        r = sd_bus_open_system(&d->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        (void) sd_bus_set_description(d->bus, "sriovd");
        r = register_objects(d);
        if (r < 0)
                return log_error_errno(r, "Failed to register D-Bus objects: %m");
        r = sd_bus_match_signal(d->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the bus connection: %m");
        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        d->events = &bus_events;
        /* Objects are in place: now take the name, so that no call finds us half-ready. */
        r = sd_bus_request_name(d->bus, SRIOVD_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s: %m", SRIOVD_BUS_NAME);
        return 0;
}
