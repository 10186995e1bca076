/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <sys/stat.h>

#include "ops.h"
#include "vfio.h"
#include "auth.h"
#include "bus-util.h"
#include "sriovd-api.h"
#include "device.h"
#include "lanes.h"
#include "state.h"
#include "vfio-bus.h"

static const char *backend_name(vfio_backend b) {
        return b == VFIO_BACKEND_IOMMUFD ? "iommufd" : "container";
}

static int append_kv_u64(sd_bus_message *m, const char *key, uint64_t v) {
        return sd_bus_message_append(m, "{sv}", key, "t", v);
}

static int append_ranges(sd_bus_message *m, const char *key, const vfio_range *r, size_t n) {
        int k;

        k = sd_bus_message_open_container(m, 'e', "sv");
        if (k >= 0)
                k = sd_bus_message_append(m, "s", key);
        if (k >= 0)
                k = sd_bus_message_open_container(m, 'v', "a(tts)");
        if (k >= 0)
                k = sd_bus_message_open_container(m, 'a', "(tts)");
        for (size_t i = 0; k >= 0 && i < n; i++)
                k = sd_bus_message_append(m, "(tts)", r[i].start, r[i].last, r[i].type);
        if (k >= 0)
                k = sd_bus_message_close_container(m);
        if (k >= 0)
                k = sd_bus_message_close_container(m);
        if (k >= 0)
                k = sd_bus_message_close_container(m);
        return k;
}

/* The work of OpenDevice and DmaCheck: a VFIO session (DMA remapping set
 * up), and for DmaCheck its self-test. */
typedef struct VfioWork {
        unsigned flags;                 /* VFIO_OPEN_* */
        vfio_session *session;          /* OpenDevice: handed over */
        vfio_self_test self_test;       /* DmaCheck */
        vfio_range *valid, *reserved;   /* DmaCheck: the session's ranges */
        size_t n_valid, n_reserved;
} VfioWork;

static void vfio_work_free(void *p) {
        VfioWork *w = p;

        vfio_session_free(w->session);
        free(w->valid);
        free(w->reserved);
        free(w);
}

static void open_execute(Job *j) {
        VfioWork *w = j->payload;

        j->r = vfio_session_open(j->daemon->ctx, &j->addr, w->flags, &w->session, &j->error);
}

static void dma_check_execute(Job *j) {
        _cleanup_(vfio_session_freep) vfio_session *s = NULL;
        VfioWork *w = j->payload;

        j->r = vfio_session_open(j->daemon->ctx, &j->addr, w->flags, &s, &j->error);
        if (j->r < 0)
                return;
        j->r = vfio_session_self_test(s, &w->self_test, &j->error);
        /* no IOVA space, a mapping the kernel lost: the IOMMU failed the
         * test — not a pool or a driver (what those errno name) */
        if (j->r == -ENOSPC || j->r == -ENOENT)
                j->r = -EIO;
        /* the reply reports the session's ranges; the session itself is
         * closed here, before the reply: the group is free when it arrives */
        w->valid = TAKE_PTR(s->valid);
        w->n_valid = s->n_valid;
        s->n_valid = 0;
        w->reserved = TAKE_PTR(s->reserved);
        w->n_reserved = s->n_reserved;
        s->n_reserved = 0;
}

static const JobType open_device_job_type = { .name = "open-device", .execute = open_execute, .free = vfio_work_free };
static const JobType dma_check_job_type = { .name = "dma-check", .execute = dma_check_execute, .free = vfio_work_free };

static void open_done(Job *j) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        vfio_session *s = ((VfioWork *) j->payload)->session;
        int r;

        if (j->r < 0) {
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        r = sd_bus_message_new_method_return(j->request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sh}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sh}", "device", s->device_fd);
        if (r >= 0 && s->backend == VFIO_BACKEND_CONTAINER)
                r = sd_bus_message_append(reply, "{sh}{sh}", "group", s->group_fd, "container", s->iommu_fd);
        if (r >= 0 && s->backend == VFIO_BACKEND_IOMMUFD)
                r = sd_bus_message_append(reply, "{sh}", "iommufd", s->iommu_fd);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}", "backend", "s", backend_name(s->backend), "group", "i", s->group);
        if (r >= 0)
                r = append_kv_u64(reply, "page_sizes", s->page_sizes);
        if (r >= 0 && s->backend == VFIO_BACKEND_IOMMUFD)
                r = sd_bus_message_append(reply, "{sv}{sv}", "ioas_id", "u", s->ioas_id, "devid", "u", s->devid);
        if (r >= 0)
                r = append_ranges(reply, "iova_ranges", s->valid, s->n_valid);
        if (r >= 0)
                r = append_ranges(reply, "reserved_regions", s->reserved, s->n_reserved);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        /* the message holds duplicates of the fds; ours close with the job */
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot hand the VFIO fds over: %m");
        else {
                char bdf[PCI_ADDR_STRLEN];

                log_info("Handed the VFIO fds of %s (%s) to %s", pci_addr_format(&j->addr, bdf),
                         backend_name(s->backend), strna(sd_bus_message_get_sender(j->request)));
        }
}

static void dma_check_done(Job *j) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const VfioWork *w = j->payload;
        const vfio_self_test *t = &w->self_test;
        int r;

        if (j->r < 0) {
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        r = sd_bus_message_new_method_return(j->request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}", "backend", "s", backend_name(t->backend), "group", "i",
                                          t->group, "remap_refused", "b", t->remap_refused);
        if (r >= 0)
                r = append_kv_u64(reply, "page_sizes", t->page_sizes);
        if (r >= 0)
                r = append_kv_u64(reply, "iova", t->iova);
        if (r >= 0)
                r = append_kv_u64(reply, "size", t->size);
        if (r >= 0)
                r = append_kv_u64(reply, "unmapped", t->unmapped);
        if (r >= 0 && t->dma_avail != UINT32_MAX)
                r = sd_bus_message_append(reply, "{sv}", "dma_avail", "u", t->dma_avail);
        if (r >= 0)
                r = append_ranges(reply, "iova_ranges", w->valid, w->n_valid);
        if (r >= 0)
                r = append_ranges(reply, "reserved_regions", w->reserved, w->n_reserved);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot reply to DmaCheck: %m");
}

static void vfio_job_authorized(Daemon *d, sd_bus_message *m, int r, const char *message, void *userdata) {
        Job *j = userdata;

        if (r < 0) {
                bus_reply_errno(m, r, message);
                job_free(j);
                return;
        }
        r = lane_submit(d, j);
        if (r < 0) {
                bus_reply_errno(m, r, r == -EINPROGRESS ? "An earlier operation on this device is still pending in the kernel" : NULL);
                job_free(j);
        }
}

static int start_vfio_job(sd_bus_message *m, Daemon *d, const JobType *type, const char *action, sd_bus_error *error) {
        const sriov_device *dev;
        const char *ref, *backend = NULL;
        const BusOption opts[] = {
                { "backend", 's', &backend },
                {}
        };
        VfioWork *w;
        Job *j;
        int r;

        r = sd_bus_message_read(m, "s", &ref);
        if (r < 0)
                return r;
        r = daemon_resolve_device(d, ref, &dev, error);
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
        w = calloc(1, sizeof(*w));
        j = w ? job_new(d, type, &dev->addr, w) : NULL;
        if (!j)
                return -ENOMEM;
        w->flags = !backend || streq(backend, "auto") ? VFIO_OPEN_PREFER_IOMMUFD
                        : streq(backend, "iommufd") ? VFIO_OPEN_REQUIRE_IOMMUFD : VFIO_OPEN_REQUIRE_CONTAINER;
        j->request = sd_bus_message_ref(m);
        j->complete = type == &open_device_job_type ? open_done : dma_check_done;
        r = auth_check(d, m, action, vfio_job_authorized, j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        return 1;
}

int vfio_method_open_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_vfio_job(m, userdata, &open_device_job_type, SRIOVD_ACTION_OPEN_DEVICE, error);
}

int vfio_method_dma_check(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_vfio_job(m, userdata, &dma_check_job_type, SRIOVD_ACTION_MANAGE, error);
}

/* ---- ownership of the VFIO nodes ---- */

/* The nodes a VMM needs for the function: /dev/vfio/GROUP and, when the
 * kernel has it, /dev/vfio/devices/vfioN. */
static int vfio_nodes(Daemon *d, const sriov_device *dev, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *vdir = sysfs_dev_path(d->ctx, &dev->addr, "vfio-dev");
        _cleanup_closedir_ DIR *vd = NULL;
        struct dirent *de;
        char rel[64];
        int r;

        if (dev->iommu_group >= 0) {
                (void) snprintf(rel, sizeof(rel), "vfio/%d", dev->iommu_group);
                r = strv_push(&l, dev_path(d->ctx, rel));
                if (r < 0)
                        return r;
        }
        vd = vdir ? opendir(vdir) : NULL;
        while (vd && (de = readdir(vd)))
                if (strneq(de->d_name, "vfio", 4) && strlen(de->d_name) < 32) {
                        (void) snprintf(rel, sizeof(rel), "vfio/devices/%s", de->d_name);
                        r = strv_push(&l, dev_path(d->ctx, rel));
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

typedef struct OwnerRequest {
        uid_t uid;
        gid_t gid;
        bool reset;
        pci_addr addr;
} OwnerRequest;

static void owner_authorized(Daemon *d, sd_bus_message *m, int r, const char *message, void *userdata) {
        _cleanup_free_ OwnerRequest *q = userdata;
        _cleanup_strv_free_ char **nodes = NULL, **changed = NULL;
        const sriov_device *dev;
        bool save = false;

        if (r < 0) {
                bus_reply_errno(m, r, message);
                return;
        }
        dev = sriov_host_find(d->host, &q->addr);
        if (!dev) {
                bus_reply_errno(m, -ENODEV, "The device vanished");
                return;
        }
        r = vfio_nodes(d, dev, &nodes);
        if (r < 0) {
                bus_reply_errno(m, r, NULL);
                return;
        }
        if (!nodes) {
                bus_reply_errno(m, -EBADFD, "The device has no VFIO nodes (not bound to vfio-pci, or no IOMMU)");
                return;
        }
        STRV_FOREACH(n, nodes) {
                struct stat st;

                if (q->reset) {
                        const StateNode *sn = state_find_node(d->state, *n);

                        if (!sn)
                                continue;
                        if (chown(*n, sn->uid, sn->gid) < 0 || chmod(*n, sn->mode & 07777) < 0) {
                                if (errno != ENOENT) {
                                        r = negative_errno();
                                        bus_reply_errno(m, r, NULL);
                                        return;
                                }
                        }
                        (void) state_forget_node(d->state, *n);
                        save = true;
                        (void) strv_extend(&changed, *n);
                        continue;
                }
                if (stat(*n, &st) < 0) {
                        if (errno == ENOENT)
                                continue;       /* e.g. no cdev */
                        r = negative_errno();
                        bus_reply_errno(m, r, NULL);
                        return;
                }
                if (state_record_node(d->state, *n, st.st_uid, st.st_gid, st.st_mode & 07777, dev->bdf) > 0)
                        save = true;
                if (chown(*n, q->uid, q->gid) < 0 || chmod(*n, 0660) < 0) {
                        r = negative_errno();
                        bus_reply_errno(m, r, NULL);
                        return;
                }
                (void) strv_extend(&changed, *n);
        }
        if (save && state_save(d->state) < 0)
                log_error("Failed to write the state file");
        if (!changed && !q->reset) {
                bus_reply_errno(m, -EBADFD, "The device's VFIO nodes do not exist");
                return;
        }
        log_info("%s the VFIO nodes of %s%s", q->reset ? "Gave back" : "Handed over", dev->bdf,
                 q->reset ? "" : " to a VMM user");
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                r = sd_bus_message_new_method_return(m, &reply);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, changed);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
                if (r < 0)
                        log_debug_errno(r, "Cannot reply: %m");
        }
}

static int start_owner(sd_bus_message *m, Daemon *d, bool reset, sd_bus_error *error) {
        const sriov_device *dev;
        const char *ref;
        uint32_t uid = 0, gid = 0;
        OwnerRequest *q;
        int r;

        r = sd_bus_message_read(m, "s", &ref);
        if (r >= 0 && !reset)
                r = sd_bus_message_read(m, "uu", &uid, &gid);
        if (r < 0)
                return r;
        r = daemon_resolve_device(d, ref, &dev, error);
        if (r < 0)
                return r;
        if (!reset && (uid == UINT32_MAX || gid == UINT32_MAX))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid uid or gid");
        if (!reset && !driver_is_vfio(dev->driver))
                return sd_bus_error_setf(error, SRIOVD_ERROR_NOT_VFIO, "%s is bound to %s, not to vfio-pci", dev->bdf,
                                         dev->driver ?: "no driver");
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (OwnerRequest) { .uid = uid, .gid = gid, .reset = reset, .addr = dev->addr };
        r = auth_check(d, m, SRIOVD_ACTION_MANAGE, owner_authorized, q);
        if (r < 0) {
                free(q);
                return r;
        }
        return 1;
}

int vfio_method_set_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_owner(m, userdata, false, error);
}

int vfio_method_reset_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start_owner(m, userdata, true, error);
}
