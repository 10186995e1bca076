/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The VFIO side of org.sriovd.Manager1 (docs/dbus-api.md):
 *   OpenDevice(s device, a{sv} options) -> (a{sh} fds, a{sv} info)
 *       DMA remapping set up (VFIO container with type1v2, or iommufd IOAS)
 *       and the fds passed to the caller: "device", and "group" + "container"
 *       or "iommufd". Polkit action org.sriovd.open-device.
 *   DmaCheck(s device, a{sv} options) -> a{sv} report
 *       map a buffer, see that the kernel has it, unmap; the IOMMU's facts.
 *   SetDeviceOwner(s device, u uid, u gid) -> as nodes
 *   ResetDeviceOwner(s device) -> as nodes
 *       hand /dev/vfio/GROUP (and the device's cdev) to a VMM's user, and back. */

#include "bus-util.h"
#include "ops.h"
#include "state.h"
#include "vfio-session.h"

static const char *backend_name(vfio_backend b) {
        return b == VFIO_BACKEND_IOMMUFD ? "iommufd" : "container";
}

static int append_ranges(sd_bus_message *m, const char *key, const vfio_range *ranges, size_t n) {
        int r;

        r = bus_open_kv_array(m, key, "(tts)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append(m, "(tts)", ranges[i].start, ranges[i].last, ranges[i].type);
                if (r < 0)
                        return r;
        }
        return bus_close_kv_array(m);
}

/* The IOMMU's ranges, and the end of the a{sv} */
static int append_ranges_and_close(sd_bus_message *m, const vfio_range *valid, size_t n_valid,
                                   const vfio_range *reserved, size_t n_reserved) {
        int r;

        r = append_ranges(m, "iova_ranges", valid, n_valid);
        if (r < 0)
                return r;
        r = append_ranges(m, "reserved_regions", reserved, n_reserved);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* An a{sv} opened, "backend" and "group" in it */
static int open_info(sd_bus_message *reply, vfio_backend backend, int group) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "{sv}{sv}", "backend", "s", backend_name(backend), "group", "i", group);
}

/* a{sv}: the backend, the group, what the IOMMU offers */
static int append_info(sd_bus_message *reply, const vfio_session *s) {
        int r;

        r = open_info(reply, s->backend, s->group);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "{sv}", "page_sizes", "t", s->page_sizes);
        if (r < 0)
                return r;
        if (s->backend == VFIO_BACKEND_IOMMUFD) {
                r = sd_bus_message_append(reply, "{sv}{sv}", "ioas_id", "u", s->ioas_id, "devid", "u", s->devid);
                if (r < 0)
                        return r;
        }
        return append_ranges_and_close(reply, s->valid, s->n_valid, s->reserved, s->n_reserved);
}

/* (a{sh} fds, a{sv} info): "device", and "group" + "container" or "iommufd";
 * the message holds duplicates of the fds, ours close with the job */
static int append_opened(sd_bus_message *reply, const void *userdata) {
        const vfio_session *s = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sh}");
        if (r < 0)
                return r;
        if (s->backend == VFIO_BACKEND_CONTAINER)
                r = sd_bus_message_append(reply, "{sh}{sh}{sh}", "device", s->device_fd, "group", s->group_fd,
                                          "container", s->iommu_fd);
        else
                r = sd_bus_message_append(reply, "{sh}{sh}", "device", s->device_fd, "iommufd", s->iommu_fd);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return append_info(reply, s);
}

static void open_done(Job *j) {
        vfio_session *s = ((VfioWork *) j->payload)->session;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        if (j->r < 0) {
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        r = bus_send_reply(j->request, append_opened, s);
        if (r < 0) {
                log_warning_errno(r, "Cannot hand the VFIO fds over: %m");
                return;
        }
        log_info("Handed the VFIO fds of %s (%s) to %s", pci_addr_format(&j->addr, bdf), backend_name(s->backend),
                 strna(sd_bus_message_get_sender(j->request)));
}

/* a{sv}: what the self test found */
static int append_report(sd_bus_message *reply, const void *userdata) {
        const VfioWork *w = userdata;
        const vfio_self_test *t = &w->self_test;
        int r;

        r = open_info(reply, t->backend, t->group);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}", "remap_refused", "b", t->remap_refused, "page_sizes",
                                  "t", t->page_sizes, "iova", "t", t->iova, "size", "t", t->size, "unmapped", "t",
                                  t->unmapped);
        if (r < 0)
                return r;
        if (t->dma_avail != UINT32_MAX) {
                r = sd_bus_message_append(reply, "{sv}", "dma_avail", "u", t->dma_avail);
                if (r < 0)
                        return r;
        }
        return append_ranges_and_close(reply, w->valid, w->n_valid, w->reserved, w->n_reserved);
}

static void dma_check_done(Job *j) {
        int r;

        if (j->r < 0) {
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        r = bus_send_reply(j->request, append_report, j->payload);
        if (r < 0)
                log_debug_errno(r, "Cannot reply to DmaCheck: %m");
}

static int start_vfio_job(sd_bus_message *m, Daemon *d, const JobType *type, const char *action, sd_bus_error *error) {
        const sriov_device *dev;
        const char *backend = NULL;
        const BusOption opts[] = {
                { "backend", 's', &backend },
                {}
        };
        VfioWork *w;
        Job *j;
        int r;

        r = bus_read_device(d, m, &dev, error);
        if (r < 0)
                return r;
        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (backend && !streq(backend, "auto") && !streq(backend, "container") && !streq(backend, "iommufd"))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "Unknown backend \"%.32s\": \"auto\", \"container\" or \"iommufd\"", backend);
        if (!driver_is_vfio(dev->driver))
                return sd_bus_error_setf(error, SRIOVD_ERROR_NOT_VFIO, "%s is bound to %s, not to vfio-pci", dev->bdf,
                                         dev->driver ?: "no driver");
        r = bus_verify_polkit(d, m, action, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        w = calloc(1, sizeof(*w));
        j = w ? job_new(d, type, &dev->addr, w) : NULL;
        if (!j)
                return -ENOMEM;
        w->flags = !backend || streq(backend, "auto") ? VFIO_OPEN_PREFER_IOMMUFD
                        : streq(backend, "iommufd") ? VFIO_OPEN_REQUIRE_IOMMUFD : VFIO_OPEN_REQUIRE_CONTAINER;
        j->request = sd_bus_message_ref(m);
        j->complete = type == &open_device_job_type ? open_done : dma_check_done;
        r = lane_submit(d, j);
        if (r < 0) {
                job_free(j);
                return bus_error_from_errno(error, r, r == -EINPROGRESS
                                            ? "An earlier operation on this device is still pending in the kernel" : NULL);
        }
        return 1;
}

static int method_open_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_vfio_job(m, userdata, &open_device_job_type, SRIOVD_ACTION_OPEN_DEVICE, error);
}

static int method_dma_check(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_vfio_job(m, userdata, &dma_check_job_type, SRIOVD_ACTION_MANAGE, error);
}

/* ---- ownership of the VFIO nodes ---- */

static int start_owner(sd_bus_message *m, Daemon *d, bool reset, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **changed = NULL;
        const sriov_device *dev;
        const char *ref;
        uint32_t uid = 0, gid = 0;
        sriov_error e = {};
        int r;

        r = sd_bus_message_read(m, "s", &ref);
        if (r < 0)
                return r;
        if (!reset) {
                r = sd_bus_message_read(m, "uu", &uid, &gid);
                if (r < 0)
                        return r;
        }
        r = bus_resolve_device(d, ref, &dev, error);
        if (r < 0)
                return r;
        if (!reset && (uid == UINT32_MAX || gid == UINT32_MAX))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid uid or gid");
        if (!reset && !driver_is_vfio(dev->driver))
                return sd_bus_error_setf(error, SRIOVD_ERROR_NOT_VFIO, "%s is bound to %s, not to vfio-pci", dev->bdf,
                                         dev->driver ?: "no driver");
        /* an assigned VF's nodes are the guest's: Assign and Release hand them over and back */
        if (state_find_assignment_by_vf(d->state, dev->bdf))
                return sd_bus_error_setf(error, SRIOVD_ERROR_VFS_ASSIGNED,
                                         "%s is assigned to guest %s: its nodes go with the assignment", dev->bdf,
                                         state_find_assignment_by_vf(d->state, dev->bdf)->guest);
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        r = vfio_nodes_owner(d, dev, reset, uid, gid, &changed, &e);
        if (r < 0)
                return bus_error_from_errno(error, r, e.error ? e.message : NULL);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(reply, changed);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_set_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_owner(m, userdata, false, error);
}

static int method_reset_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_owner(m, userdata, true, error);
}

static const sd_bus_vtable vfio_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("OpenDevice", SD_BUS_ARGS("s", device, "a{sv}", options),
                                SD_BUS_RESULT("a{sh}", fds, "a{sv}", info), method_open_device,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DmaCheck", SD_BUS_ARGS("s", device, "a{sv}", options), SD_BUS_RESULT("a{sv}", report),
                                method_dma_check, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetDeviceOwner", SD_BUS_ARGS("s", device, "u", uid, "u", gid),
                                SD_BUS_RESULT("as", nodes), method_set_owner, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResetDeviceOwner", SD_BUS_ARGS("s", device), SD_BUS_RESULT("as", nodes),
                                method_reset_owner, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int bus_vfio_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, vfio_vtable, d);
}
