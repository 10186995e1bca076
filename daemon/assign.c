/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "ops.h"
#include "assign.h"
#include "auth.h"
#include "bus-util.h"
#include "sriovd-api.h"
#include "conffile.h"
#include "device.h"
#include "binding.h"
#include "lanes.h"
#include "passthrough.h"
#include "pool.h"
#include "safety.h"
#include "test-hooks.h"
#include "vfconfig.h"

bool guest_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        /* libvirt domain names and UUIDs, nothing that could be a path */
        if (n == 0 || n > GUEST_NAME_MAX || !isalnum((unsigned char) s[0]))
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("_.:-", *c))
                        return false;
        return true;
}

void assign_work_free(AssignWork *w) {
        if (!w)
                return;
        free(w->prior_driver);
        free(w->prior_override);
        free(w->pf_ifname);
        free(w);
}

/* ---- worker side ---- */

int assign_execute_prepare(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
        _cleanup_free_ char *drv = NULL, *ovr = NULL;
        char bdf[PCI_ADDR_STRLEN];
        pci_addr pf;
        int idx, r;

        pci_addr_format(vf, bdf);
        idx = vf_index_of(ctx, vf, &pf, err);
        if (idx < 0)
                return idx;
        r = sysfs_dev_link_name(ctx, vf, "driver", &drv);
        if (r < 0 && r != -ENOENT)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
        if (sysfs_dev_read(ctx, vf, "driver_override", &ovr) >= 0) {
                strstrip(ovr);
                if (streq(ovr, "(null)") || isempty(ovr))
                        ovr = mfree(ovr);
        }

        if (w->want.mask) {
                sriov_link link = {};
                const sriov_vf_config *cur = NULL;

                r = pf_interface(ctx, &pf, &w->pf_ifname);
                if (r < 0)
                        return sriov_error_set(err, -EPROTONOSUPPORT,
                                               "The PF of %s has no network interface: VF settings (MAC, VLAN, ...) need one", bdf);
                r = sriov_link_get(w->pf_ifname, &link, err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < link.n_vfs; i++)
                        if (link.vfs[i].vf == (uint32_t) idx)
                                cur = &link.vfs[i];
                if (!cur) {
                        sriov_link_done(&link);
                        return sriov_error_set(err, -ENODEV, "%s does not report VF %d", w->pf_ifname, idx);
                }
                /* what cannot be read back cannot be put back: refuse it */
                if ((w->want.mask & cur->mask) != w->want.mask) {
                        unsigned missing = w->want.mask & ~cur->mask;

                        sriov_link_done(&link);
                        for (unsigned b = 1; b <= VF_ATTR_QUERY_RSS; b <<= 1)
                                if (missing & b)
                                        return sriov_error_set(err, -EPROTONOSUPPORT,
                                                               "The driver of %s does not report the VF's %s, so it could not be restored on release",
                                                               w->pf_ifname, vf_attr_name(b));
                }
                w->prior = (sriov_vf_config) { .vf = (uint32_t) idx };
                vf_config_copy(&w->prior, cur, w->want.mask);
                sriov_link_done(&link);
        }

        if (!drv || !streq(drv, w->driver)) {
                r = safety_before_unbind(ctx, vf, w->force, err);
                if (r < 0)
                        return r;
        }
        if (driver_is_dma_managed(w->driver)) {
                pci_addr *peers = NULL;
                size_t n_peers = 0;
                int group;

                r = passthrough_check(ctx, vf, w->force ? PASSTHROUGH_FORCE : 0, &peers, &n_peers, &group, err);
                free(peers);
                if (r < 0)
                        return r;
        }
        w->prior_driver = TAKE_PTR(drv);
        w->prior_override = TAKE_PTR(ovr);
        return 0;
}

static int vfio_node_paths(sriov_ctx *ctx, const pci_addr *vf, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *group = NULL, *vdir = sysfs_dev_path(ctx, vf, "vfio-dev");
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char rel[64];
        int r;

        if (sysfs_dev_link_name(ctx, vf, "iommu_group", &group) >= 0 && strlen(group) < 16) {
                (void) snprintf(rel, sizeof(rel), "vfio/%s", group);
                r = strv_push(&l, dev_path(ctx, rel));
                if (r < 0)
                        return r;
        }
        d = vdir ? opendir(vdir) : NULL;
        while (d && (de = readdir(d)))
                if (strneq(de->d_name, "vfio", 4) && strlen(de->d_name) < 32) {
                        (void) snprintf(rel, sizeof(rel), "vfio/devices/%s", de->d_name);
                        r = strv_push(&l, dev_path(ctx, rel));
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

int assign_execute_apply(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
        char bdf[PCI_ADDR_STRLEN];
        pci_addr pf;
        int idx, r;

        pci_addr_format(vf, bdf);
        idx = vf_index_of(ctx, vf, &pf, err);
        if (idx < 0)
                return idx;
        if (w->want.mask) {
                sriov_vf_config want = w->want;
                unsigned ignored = 0;

                want.vf = (uint32_t) idx;
                r = sriov_vf_set(w->pf_ifname, &want, SRIOV_VF_BRING_PF_UP, NULL, &ignored, NULL, err);
                if (r >= 0 && ignored) {
                        for (unsigned b = 1; b <= VF_ATTR_QUERY_RSS; b <<= 1)
                                if (ignored & b)
                                        return sriov_error_set(err, -EPROTONOSUPPORT,
                                                               "The driver of %s accepted the VF's %s but did not apply it",
                                                               w->pf_ifname, vf_attr_name(b));
                }
                if (r < 0)
                        return r;
        }
        crash_point("assign-attrs");

        r = sriov_bind(ctx, vf, w->driver, driver_is_dma_managed(w->driver) ? SRIOV_BIND_KEEP_OVERRIDE : 0, NULL, NULL,
                       err);
        if (r < 0)
                return r;
        crash_point("assign-bind");

        if (w->set_owner) {
                _cleanup_strv_free_ char **nodes = NULL;
                uint64_t deadline = now_usec() + sriov_ctx_timeout(ctx);
                bool any = false;

                r = vfio_node_paths(ctx, vf, &nodes);
                if (r < 0)
                        return r;
                STRV_FOREACH(n, nodes) {
                        struct stat st;

                        /* devtmpfs makes the group node at bind; wait for it, bounded */
                        while (stat(*n, &st) < 0 && errno == ENOENT && now_usec() < deadline && !any)
                                sleep_usec(10000);
                        if (stat(*n, &st) < 0)
                                continue;       /* no cdev on this kernel */
                        if (chown(*n, w->uid, w->gid) < 0 || chmod(*n, 0660) < 0)
                                return sriov_error_set(err, negative_errno(), "Cannot hand %s to %u:%u: %m", *n,
                                                       (unsigned) w->uid, (unsigned) w->gid);
                        any = true;
                }
                if (!any)
                        return sriov_error_set(err, -ENOENT, "%s has no VFIO device node to hand over", bdf);
        }
        crash_point("assign-owner");
        return 0;
}

int assign_execute_release(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
        _cleanup_free_ char *drv = NULL;
        _cleanup_strv_free_ char **nodes = NULL;
        char bdf[PCI_ADDR_STRLEN];
        pci_addr pf;
        int idx, r;

        pci_addr_format(vf, bdf);
        if (!sysfs_dev_exists(ctx, vf, NULL))
                return 0;       /* the VF is gone, and everything it had with it */
        idx = vf_index_of(ctx, vf, &pf, NULL);

        /* the settings first, while the device is still away from the host
         * driver, so that the host driver sees them when it probes */
        if (w->prior.mask && idx >= 0 && w->pf_ifname) {
                sriov_vf_config prior = w->prior;

                prior.vf = (uint32_t) idx;
                r = sriov_vf_set(w->pf_ifname, &prior, SRIOV_VF_BRING_PF_UP, NULL, NULL, NULL, err);
                if (r < 0 && r != -ENODEV)
                        return r;
        }
        crash_point("release-attrs");

        r = sysfs_dev_link_name(ctx, vf, "driver", &drv);
        if (!(r >= 0 && w->prior_driver && streq(drv, w->prior_driver)) && !(r == -ENOENT && !w->prior_driver)) {
                r = safety_before_unbind(ctx, vf, w->force, err);
                if (r < 0)
                        return r;
        }
        /* the nodes handed to the guest, found while the VF is still on vfio-pci */
        if (w->set_owner && vfio_node_paths(ctx, vf, &nodes) < 0)
                return sriov_error_set(err, -ENOMEM, "Out of memory");
        r = sriov_restore_driver(ctx, vf, w->prior_driver, w->prior_override, err);
        if (r < 0)
                return r;
        crash_point("release-driver");

        /* A node that outlives the binding (the VF stays on vfio-pci, or the
         * group keeps another member) must not stay the guest's: back to
         * what the kernel makes, root only. */
        STRV_FOREACH(n, nodes) {
                struct stat st;

                if (stat(*n, &st) < 0)
                        continue;       /* gone with the binding */
                if ((st.st_uid != 0 || st.st_gid != 0) && chown(*n, 0, 0) < 0)
                        return sriov_error_set(err, negative_errno(), "Cannot take %s back from the guest: %m", *n);
                if ((st.st_mode & 07777) != 0600 && chmod(*n, 0600) < 0)
                        return sriov_error_set(err, negative_errno(), "Cannot take %s back from the guest: %m", *n);
        }
        return 0;
}

static void assign_work_free_void(void *p) {
        assign_work_free(p);
}

static void prepare_execute(Job *j) {
        j->r = assign_execute_prepare(j->daemon->ctx, &j->addr, j->payload, &j->error);
}

static void apply_execute(Job *j) {
        j->r = assign_execute_apply(j->daemon->ctx, &j->addr, j->payload, &j->error);
}

static void release_execute(Job *j) {
        j->r = assign_execute_release(j->daemon->ctx, &j->addr, j->payload, &j->error);
}

/* An assignment's work is not simply run again once a held write finished:
 * its completion decides what follows (lane_set_intent()). */
static const JobType prepare_job_type = {
        .name = "assign-prepare", .execute = prepare_execute, .free = assign_work_free_void,
};
static const JobType apply_job_type = {
        .name = "assign-apply", .execute = apply_execute, .free = assign_work_free_void, .read_back = true,
};
static const JobType release_job_type = {
        .name = "release", .execute = release_execute, .free = assign_work_free_void, .read_back = true,
};

/* ---- event loop side ---- */

static void save(Daemon *d) {
        int r = state_save(d->state);

        if (r < 0)
                log_error_errno(r, "Failed to write %s: %m", d->state->path);
}

typedef struct PoolView {
        const char *name;
        char * const *selectors;
        DriverWant driver_want;
        const char *driver;
        const sriov_vf_config *attrs;
        bool mac_is_base;
        bool runtime;
} PoolView;

static bool find_pool(Daemon *d, const char *name, PoolView *ret) {
        for (size_t i = 0; d->declared && i < d->declared->n_pools; i++) {
                const ConfigPool *p = &d->declared->pools[i];

                if (p->name && streq(p->name, name)) {
                        *ret = (PoolView) { p->name, p->selectors, p->driver_want, p->driver, &p->attrs, p->mac_is_base,
                                            false };
                        return true;
                }
        }
        {
                const StatePool *p = state_find_pool(d->state, name);

                if (p) {
                        *ret = (PoolView) { p->name, p->selectors, p->driver ? DRIVER_NAMED : DRIVER_UNSET, p->driver,
                                            &p->attrs, p->mac_is_base, true };
                        return true;
                }
        }
        return false;
}

static const char *pool_driver(const PoolView *p) {
        return p && p->driver_want == DRIVER_NAMED && p->driver ? p->driver : "vfio-pci";
}

/* XML attribute values here are digits and names we validated: no escaping needed */
static char *libvirt_hostdev(const sriov_device *vf) {
        return strdup_printf("<hostdev mode='subsystem' type='pci' managed='no'>\n"
                             "  <driver name='vfio'/>\n"
                             "  <source>\n"
                             "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                             "  </source>\n"
                             "</hostdev>",
                             vf->addr.domain, vf->addr.bus, vf->addr.dev, vf->addr.func);
}

static char *libvirt_interface(const sriov_device *vf, const StateAssignment *a) {
        char mac[18], vlan[96] = "", macl[64] = "";

        if (a->want.mask & VF_ATTR_MAC)
                (void) snprintf(macl, sizeof(macl), "  <mac address='%s'/>\n", vf_mac_format(a->want.mac, mac));
        if ((a->want.mask & VF_ATTR_VLAN) && a->want.vlan)
                (void) snprintf(vlan, sizeof(vlan), "  <vlan>\n    <tag id='%u'/>\n  </vlan>\n", a->want.vlan);
        return strdup_printf("<interface type='hostdev' managed='no'>\n"
                             "  <driver name='vfio'/>\n"
                             "  <source>\n"
                             "    <address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                             "  </source>\n"
                             "%s%s"
                             "</interface>",
                             vf->addr.domain, vf->addr.bus, vf->addr.dev, vf->addr.func, macl, vlan);
}

static int append_kv_strv(sd_bus_message *m, const char *key, char * const *l) {
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **) l);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* What a VMM needs: address, group, nodes, libvirt XML, QEMU arguments. */
static int append_result(Daemon *d, sd_bus_message *m, const StateAssignment *a) {
        _cleanup_free_ char *hostdev = NULL, *iface = NULL, *devarg = NULL, *id = NULL;
        _cleanup_strv_free_ char **nodes = NULL, **qemu = NULL;
        const sriov_device *vf;
        pci_addr addr;
        int r;

        if (pci_addr_parse(a->vf, &addr) < 0 || !(vf = sriov_host_find(d->host, &addr)))
                return -ENODEV;
        hostdev = libvirt_hostdev(vf);
        iface = libvirt_interface(vf, a);
        /* a QEMU id: letters, digits, '-', '.', '_', starting with a letter */
        id = strdup_printf("sriovd-%s", vf->bdf);
        if (!hostdev || !iface || !id)
                return -ENOMEM;
        for (char *c = id; *c; c++)
                if (*c == ':')
                        *c = '-';
        devarg = strdup_printf("vfio-pci,host=%s,id=%s", vf->bdf, id);
        if (!devarg || strv_extend(&qemu, "-device") < 0 || strv_push(&qemu, TAKE_PTR(devarg)) < 0)
                return -ENOMEM;
        r = vfio_node_paths(d->ctx, &addr, &nodes);
        if (r < 0)
                return r;
        /* a kernel without the VFIO cdev (6.1) still has vfio-dev/vfioN in
         * sysfs: of the cdev nodes, only those that exist are a VMM's to open */
        if (nodes) {
                size_t k = 0;

                for (size_t i = 0; nodes[i]; i++) {
                        if (strstr(nodes[i], "/vfio/devices/") && access(nodes[i], F_OK) < 0) {
                                free(nodes[i]);
                                continue;
                        }
                        nodes[k++] = nodes[i];
                }
                nodes[k] = NULL;
        }

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "guest", "s", a->guest, "vf", "s", a->vf, "pf", "s",
                                          a->pf, "pool", "s", strempty(a->pool));
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}", "vf_index", "i", vf->vf_index, "iommu_group", "i",
                                          vf->iommu_group, "numa_node", "i", vf->numa_node, "driver", "s",
                                          strempty(a->driver), "state", "s", assign_phase_name(a->phase));
        if (r >= 0)
                r = append_kv_strv(m, "device_nodes", nodes);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}", "libvirt_hostdev", "s", hostdev, "libvirt_interface", "s", iface);
        if (r >= 0)
                r = append_kv_strv(m, "qemu_args", qemu);
        if (r >= 0)
                r = bus_append_vf_config(m, &a->want);
        if (r >= 0 && a->set_owner)
                r = sd_bus_message_append(m, "{sv}{sv}", "uid", "u", (uint32_t) a->uid, "gid", "u", (uint32_t) a->gid);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static void reply_result(Daemon *d, sd_bus_message *request, const StateAssignment *a) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (!request)
                return;
        r = sd_bus_message_new_method_return(request, &reply);
        if (r >= 0)
                r = append_result(d, reply, a);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0) {
                log_debug_errno(r, "Cannot reply to Assign: %m");
                bus_reply_errno(request, r, NULL);
        }
}

static AssignWork *work_from(const StateAssignment *a, bool force) {
        AssignWork *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        memcpy(w->guest, a->guest, sizeof(w->guest));
        (void) snprintf(w->driver, sizeof(w->driver), "%s", a->driver ?: "vfio-pci");
        w->want = a->want;
        w->set_owner = a->set_owner;
        w->uid = a->uid;
        w->gid = a->gid;
        w->force = force;
        w->prior = a->prior;
        if ((a->prior_driver && !(w->prior_driver = strdup(a->prior_driver))) ||
            (a->prior_override && !(w->prior_override = strdup(a->prior_override))) ||
            (a->pf_ifname && !(w->pf_ifname = strdup(a->pf_ifname)))) {
                assign_work_free(w);
                return NULL;
        }
        return w;
}

static int submit(Daemon *d, const JobType *type, const char *vf, AssignWork *w, sd_bus_message *request,
                  void (*complete)(Job *), void *userdata) {
        Job *j;
        pci_addr a;
        int r;

        if (pci_addr_parse(vf, &a) < 0) {
                assign_work_free(w);
                return -EINVAL;
        }
        j = job_new(d, type, &a, w);
        if (!j)
                return -ENOMEM;
        j->request = request ? sd_bus_message_ref(request) : NULL;
        j->complete = complete;
        j->userdata = userdata;
        r = lane_submit(d, j);
        if (r < 0) {
                j->request = sd_bus_message_unref(j->request);
                job_free(j);
        }
        return r;
}

static void rollback_done(Job *j);
static void release_done(Job *j);

/* The kernel holds a write of this assignment's work past the timeout: the
 * release (or the rollback) runs once it is done, as the lane's intent —
 * the way a held SetNumVFs or Bind is finished. Until then the assignment
 * stays RELEASING and the VF shows as Pending; a Release or a restart
 * finishes it as well. */
static void release_when_kernel_done(Daemon *d, Job *j, bool rollback) {
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;
        AssignWork *w;
        Job *k;

        a = state_find_assignment_by_vf(d->state, pci_addr_format(&j->addr, bdf));
        if (!a)
                return;
        w = work_from(a, j->payload && ((AssignWork *) j->payload)->force);
        if (w)
                w->rollback = rollback;
        k = w ? job_new(d, &release_job_type, &j->addr, w) : NULL;
        if (!k) {
                log_error("Out of memory: %s stays releasing until Release or a restart", bdf);
                return;
        }
        k->complete = rollback ? rollback_done : release_done;
        k->lane = j->lane;
        if (lane_set_intent(d, k) < 0) {
                job_free(k);
                log_warning("%s stays releasing until Release or a restart", bdf);
        }
}

/* A failed or interrupted assignment: put back what it may have changed,
 * then answer the caller with the original failure. */
static void start_rollback(Daemon *d, StateAssignment *a, sd_bus_message *request, int error, const char *message) {
        AssignWork *w = work_from(a, false);
        int r;

        a->phase = ASSIGN_RELEASING;
        save(d);
        if (!w) {
                bus_reply_errno(request, -ENOMEM, NULL);
                return;
        }
        w->rollback = true;
        w->failure = error;
        (void) snprintf(w->failure_message, sizeof(w->failure_message), "%s", strempty(message));
        r = submit(d, &release_job_type, a->vf, w, request, rollback_done, NULL);
        if (r < 0) {
                log_error_errno(r, "Cannot roll back the assignment of %s now (Release retries): %m", a->vf);
                bus_reply_errno(request, error, message);
        }
}

static void rollback_done(Job *j) {
        const AssignWork *w = j->payload;
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (j->r < 0) {
                log_error("Rolling back the assignment of %s failed: %s (it stays recorded; Release retries)", bdf,
                          j->error.error ? j->error.message : strerror(-j->r));
                if (j->held)
                        release_when_kernel_done(d, j, true);
        } else if (a) {
                log_info("Rolled back the assignment of %s to %s", bdf, a->guest);
                state_remove_assignment(d->state, a);
                save(d);
        }
        if (j->request && w)
                bus_reply_errno(j->request, w->failure ?: -EIO, w->failure_message[0] ? w->failure_message : NULL);
}

static void apply_done(Job *j) {
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (!a) {
                bus_reply_errno(j->request, -ESTALE, "The assignment vanished while it was made");
                return;
        }
        if (j->held) {
                /* nothing can be undone while the kernel holds the write */
                log_warning("Assigning %s to %s did not finish in time: %s; rolling back once the kernel is done",
                            bdf, a->guest, j->error.message);
                a->phase = ASSIGN_RELEASING;
                save(d);
                release_when_kernel_done(d, j, true);
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        if (j->r < 0) {
                log_warning("Assigning %s to %s failed: %s; rolling back", bdf, a->guest,
                            j->error.error ? j->error.message : strerror(-j->r));
                start_rollback(d, a, j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        a->phase = ASSIGN_DONE;
        save(d);
        crash_point("assign-done");
        log_info("Assigned %s to %s%s%s", bdf, a->guest, a->pool ? " from pool " : "", strempty(a->pool));
        reply_result(d, j->request, a);
}

static void prepare_done(Job *j) {
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;
        AssignWork *w = j->payload;
        int r;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (!a) {
                bus_reply_errno(j->request, -ESTALE, "The assignment vanished while it was prepared");
                return;
        }
        if (j->r < 0) {
                /* nothing was changed: just let the VF go */
                log_info("Not assigning %s to %s: %s", bdf, a->guest, j->error.error ? j->error.message : strerror(-j->r));
                state_remove_assignment(d->state, a);
                save(d);
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        /* everything needed to undo it is on disk before anything changes */
        a->prior = w->prior;
        free(a->prior_driver);
        free(a->prior_override);
        free(a->pf_ifname);
        a->prior_driver = w->prior_driver ? strdup(w->prior_driver) : NULL;
        a->prior_override = w->prior_override ? strdup(w->prior_override) : NULL;
        a->pf_ifname = w->pf_ifname ? strdup(w->pf_ifname) : NULL;
        a->phase = ASSIGN_PREPARED;
        save(d);
        crash_point("assign-prepared");

        r = submit(d, &apply_job_type, bdf, TAKE_PTR(j->payload), j->request, apply_done, NULL);
        if (r < 0)
                start_rollback(d, a, j->request, r, "Cannot start the assignment");
}

/* ---- Assign ---- */

typedef enum NumaPolicy {
        NUMA_ANY,
        NUMA_PREFERRED,
        NUMA_REQUIRED,
} NumaPolicy;

typedef struct AssignRequest {
        char guest[GUEST_NAME_MAX + 1];
        char *target;
        char *token;
        sriov_vf_config want;
        bool set_owner;
        uint32_t uid, gid;
        int numa;                       /* -1: none named */
        NumaPolicy numa_policy;
        char *driver;                   /* NULL: the pool's, else vfio-pci */
        bool force;
} AssignRequest;

static void assign_request_free(AssignRequest *q) {
        if (!q)
                return;
        free(q->target);
        free(q->token);
        free(q->driver);
        free(q);
}

static bool vf_is_free(Daemon *d, const sriov_device *vf) {
        Lane *l;

        if (state_find_assignment_by_vf(d->state, vf->bdf))
                return false;
        l = daemon_lane_for(d, &vf->addr);
        return !l || !lane_is_pending(d, l);
}

static bool settings_equal(const sriov_vf_config *a, const sriov_vf_config *b) {
        return a->mask == b->mask && vf_config_diff(a, b) == 0;
}

/* The VF for a pool request: free, in the pool, NUMA as asked; on equal
 * terms the lowest address. *ret_position: its place among the pool's
 * members in address order (what a MAC base is offset by). */
static const sriov_device *pick_from_pool(Daemon *d, const PoolView *p, const AssignRequest *q, size_t *ret_position,
                                          sriov_error *e) {
        const sriov_device *best = NULL;
        size_t members = 0, free_members = 0;

        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *vf = d->host->devices[i];
                bool on_node;

                if (!pool_contains(p->selectors, vf))
                        continue;
                members++;
                if (!vf_is_free(d, vf))
                        continue;
                free_members++;
                on_node = q->numa < 0 || vf->numa_node == q->numa;
                if (q->numa_policy == NUMA_REQUIRED && !on_node)
                        continue;
                if (!best || (q->numa_policy == NUMA_PREFERRED && on_node &&
                              !(q->numa < 0 || best->numa_node == q->numa))) {
                        best = vf;
                        *ret_position = members - 1;
                }
        }
        if (!best) {
                if (members == 0)
                        sriov_error_set(e, -ENOSPC, "Pool %s has no VFs on this host (are VFs enabled?)", p->name);
                else if (free_members == 0)
                        sriov_error_set(e, -ENOSPC, "Pool %s is exhausted: all %zu VFs are assigned", p->name, members);
                else
                        sriov_error_set(e, -ENOSPC, "Pool %s has %zu free VFs, none on NUMA node %d (policy: required)",
                                        p->name, free_members, q->numa);
        }
        return best;
}

static void assign_authorized(Daemon *d, sd_bus_message *m, int r, const char *message, void *userdata) {
        AssignRequest *q = userdata;
        const sriov_device *pick = NULL;
        PoolView pool = {};
        bool by_pool, derived_mac;
        size_t position = 0;
        StateAssignment *a;
        AssignWork *w;
        sriov_error e = {};

        if (r < 0) {
                bus_reply_errno(m, r, message);
                goto finish;
        }
        by_pool = find_pool(d, q->target, &pool);
        /* the pool's MAC base gives the MAC unless the request names one */
        derived_mac = by_pool && pool.mac_is_base && (pool.attrs->mask & VF_ATTR_MAC) && !(q->want.mask & VF_ATTR_MAC);
        if (by_pool) {
                /* pool defaults, the request's settings on top */
                sriov_vf_config want = *pool.attrs;

                vf_config_copy(&want, &q->want, q->want.mask);
                q->want = want;
                if (!q->driver) {
                        q->driver = strdup(pool_driver(&pool));
                        if (!q->driver) {
                                bus_reply_errno(m, -ENOMEM, NULL);
                                goto finish;
                        }
                }
        }
        if (!q->driver && !(q->driver = strdup("vfio-pci"))) {
                bus_reply_errno(m, -ENOMEM, NULL);
                goto finish;
        }

        /* idempotent: the same guest asking again for what it holds */
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                StateAssignment *x = &d->state->assignments[i];
                sriov_device *dev = NULL;
                bool same;

                if (!streq(x->guest, q->guest))
                        continue;
                if (by_pool)
                        same = x->pool && streq(x->pool, q->target) && q->token && x->token && streq(x->token, q->token);
                else
                        same = sriov_host_resolve(d->host, q->target, &dev, NULL) >= 0 && streq(dev->bdf, x->vf);
                if (!same)
                        continue;
                if (x->phase != ASSIGN_DONE) {
                        bus_reply_errno(m, -EINPROGRESS, "This assignment is still being made or undone");
                        goto finish;
                }
                sriov_vf_config asked = q->want;
                if (derived_mac)
                        /* the MAC the VF got from the base is what this request would get */
                        vf_config_copy(&asked, &x->want, VF_ATTR_MAC);
                if (!settings_equal(&x->want, &asked) || !streq(strempty(x->driver), q->driver)) {
                        bus_reply_errno(m, -EBUSY, "The guest holds this VF with other settings; release it first");
                        goto finish;
                }
                reply_result(d, m, x);
                goto finish;
        }

        if (by_pool) {
                /* a pool-wide MAC base: each VF gets base + its index in the pool's order */
                pick = pick_from_pool(d, &pool, q, &position, &e);
                if (!pick) {
                        bus_reply_errno(m, e.error, e.message);
                        goto finish;
                }
        } else {
                sriov_device *dev;

                r = sriov_host_resolve(d->host, q->target, &dev, &e);
                if (r < 0) {
                        _cleanup_free_ char *msg = strdup_printf("No pool or VF named \"%.64s\"", q->target);

                        bus_reply_errno(m, r == -EINVAL || r == -ENODEV ? -ESRCH : r,
                                    r == -EINVAL || r == -ENODEV ? msg : e.message);
                        goto finish;
                }
                if (!dev->is_vf) {
                        bus_reply_errno(m, -EINVAL, "Only VFs are assigned to guests; this is not a VF");
                        goto finish;
                }
                a = state_find_assignment_by_vf(d->state, dev->bdf);
                if (a) {
                        _cleanup_free_ char *msg = strdup_printf("%s is assigned to guest %s", dev->bdf, a->guest);
                        bus_reply_errno(m, -EBUSY, msg);
                        goto finish;
                }
                if (q->numa_policy == NUMA_REQUIRED && q->numa >= 0 && dev->numa_node != q->numa) {
                        bus_reply_errno(m, -ENOSPC, "The VF is not on the required NUMA node");
                        goto finish;
                }
                pick = dev;
        }
        if (derived_mac) {
                size_t carry = position;

                for (int k = 5; k >= 1 && carry; k--) {
                        unsigned sum = q->want.mac[k] + (carry & 0xff);
                        q->want.mac[k] = (uint8_t) sum;
                        carry = (carry >> 8) + (sum >> 8);
                }
        }

        /* reserve it: from now on no one else gets it */
        a = state_add_assignment(d->state);
        if (!a) {
                bus_reply_errno(m, -ENOMEM, NULL);
                goto finish;
        }
        memcpy(a->guest, q->guest, sizeof(a->guest));
        (void) snprintf(a->vf, sizeof(a->vf), "%s", pick->bdf);
        pci_addr_format(&pick->physfn, a->pf);
        a->pool = by_pool ? strdup(pool.name) : NULL;
        a->token = q->token ? strdup(q->token) : NULL;
        a->driver = strdup(q->driver);
        a->want = q->want;
        a->set_owner = q->set_owner;
        a->uid = q->uid;
        a->gid = q->gid;
        a->phase = ASSIGN_RESERVED;
        {
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                a->since = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
        }
        save(d);
        crash_point("assign-reserved");

        w = work_from(a, q->force);
        if (!w) {
                state_remove_assignment(d->state, a);
                save(d);
                bus_reply_errno(m, -ENOMEM, NULL);
                goto finish;
        }
        r = submit(d, &prepare_job_type, a->vf, w, m, prepare_done, NULL);
        if (r < 0) {
                state_remove_assignment(d->state, state_find_assignment_by_vf(d->state, pick->bdf));
                save(d);
                bus_reply_errno(m, r, r == -EINPROGRESS ? "An earlier operation on this VF's PF is still pending in the kernel" : NULL);
        }
finish:
        assign_request_free(q);
}

/* The options of Assign, or (pool) the settings of CreatePool: the same VF
 * settings, with "mac_base" instead of "mac" and no per-request keys. */
static int read_vf_options(sd_bus_message *m, bool pool, AssignRequest *q, bool *ret_mac_is_base, sd_bus_error *error) {
        const char *numa_policy = NULL, *driver = NULL, *token = NULL;
        uint32_t uid = 0, gid = 0;
        int32_t numa = -1;
        int force = 0;
        bool have_uid = false, have_gid = false;
        VFSettingsArgs a = {};
        const BusOption opts[] = {
                VF_SETTINGS_OPTIONS(&a, pool ? "mac_base" : "mac"), { "driver", 's', &driver },
                /* per request only (for pools the NULL name ends the table: these keys are refused) */
                { pool ? NULL : "uid", 'u', &uid, &have_uid }, { "gid", 'u', &gid, &have_gid },
                { "numa_node", 'i', &numa }, { "numa_policy", 's', &numa_policy },
                { "token", 's', &token }, { "force", 'b', &force },
                {}
        };
        int r;

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (ret_mac_is_base)
                *ret_mac_is_base = pool && a.mac;
        r = vf_settings_args_finish(&a, false, &q->want, error);
        if (r < 0)
                return r;
#define BAD(...) sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, __VA_ARGS__)
        if (have_uid != have_gid)
                return BAD("uid and gid go together");
        if (have_uid && (uid == UINT32_MAX || gid == UINT32_MAX))
                return BAD("Invalid uid or gid");
        q->set_owner = have_uid;
        q->uid = uid;
        q->gid = gid;
        if (numa < -1 || numa > 1023)
                return BAD("Invalid NUMA node %d", numa);
        q->numa = numa;
        q->numa_policy = numa >= 0 ? NUMA_PREFERRED : NUMA_ANY;
        if (numa_policy) {
                if (streq(numa_policy, "required"))
                        q->numa_policy = NUMA_REQUIRED;
                else if (streq(numa_policy, "preferred"))
                        q->numa_policy = NUMA_PREFERRED;
                else if (streq(numa_policy, "any"))
                        q->numa_policy = NUMA_ANY;
                else
                        return BAD("Invalid NUMA policy \"%.16s\": required, preferred or any", numa_policy);
                if (q->numa_policy != NUMA_ANY && numa < 0)
                        return BAD("A NUMA policy needs numa_node");
        }
        if (driver) {
                if (!driver_name_is_valid(driver))
                        return BAD("Invalid driver name \"%.64s\"", driver);
                q->driver = strdup(driver);
                if (!q->driver)
                        return -ENOMEM;
        }
        if (token) {
                if (strlen(token) == 0 || strlen(token) > 128 || !string_is_printable(token, 128))
                        return BAD("Invalid token: 1-128 printable characters");
                q->token = strdup(token);
                if (!q->token)
                        return -ENOMEM;
        }
        q->force = force;
#undef BAD
        return 0;
}

int assign_method_assign(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        AssignRequest *q;
        const char *guest, *target;
        int r;

        r = sd_bus_message_read(m, "ss", &guest, &target);
        if (r < 0)
                return r;
        if (!guest_name_is_valid(guest))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "Invalid guest name \"%.64s\": 1-%d letters, digits, '_', '.', ':' or '-', starting with a letter or digit",
                                         guest, GUEST_NAME_MAX);
        if (isempty(target) || strlen(target) > 64 || !string_is_printable(target, 64))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid pool or VF name");
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        memcpy(q->guest, guest, strlen(guest) + 1);
        q->target = strdup(target);
        if (!q->target) {
                assign_request_free(q);
                return -ENOMEM;
        }
        r = read_vf_options(m, false, q, NULL, error);
        if (r < 0) {
                assign_request_free(q);
                return r;
        }
        r = auth_check(d, m, SRIOVD_ACTION_MANAGE, assign_authorized, q);
        if (r < 0) {
                assign_request_free(q);
                return r;
        }
        return 1;
}

/* ---- Release ---- */

typedef struct ReleaseBatch {
        Daemon *daemon;
        sd_bus_message *request;
        unsigned outstanding;
        char **released;
        int error;
        char message[600];
} ReleaseBatch;

static void release_batch_maybe_done(ReleaseBatch *b) {
        if (b->outstanding > 0)
                return;
        if (b->request) {
                if (b->error < 0)
                        bus_reply_errno(b->request, b->error, b->message[0] ? b->message : NULL);
                else {
                        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                        int r = sd_bus_message_new_method_return(b->request, &reply);

                        if (r >= 0)
                                r = sd_bus_message_append_strv(reply, b->released);
                        if (r >= 0)
                                r = sd_bus_send(NULL, reply, NULL);
                        if (r < 0)
                                log_debug_errno(r, "Cannot reply to Release: %m");
                }
        }
        sd_bus_message_unref(b->request);
        strv_free(b->released);
        free(b);
}

static void release_done(Job *j) {
        Daemon *d = j->daemon;
        ReleaseBatch *b = j->userdata;
        char bdf[PCI_ADDR_STRLEN];
        StateAssignment *a;

        pci_addr_format(&j->addr, bdf);
        a = state_find_assignment_by_vf(d->state, bdf);
        if (j->r < 0) {
                /* stays RELEASING: the next Release (or a restart) finishes it */
                log_warning("Releasing %s failed: %s", bdf, j->error.error ? j->error.message : strerror(-j->r));
                if (j->held)
                        release_when_kernel_done(d, j, false);
                if (b && b->error >= 0) {
                        b->error = j->r;
                        (void) snprintf(b->message, sizeof(b->message), "%s: %.480s", bdf,
                                        j->error.error ? j->error.message : strerror(-j->r));
                }
        } else {
                if (a) {
                        log_info("Released %s from %s", bdf, a->guest);
                        state_remove_assignment(d->state, a);
                        save(d);
                }
                crash_point("release-done");
                if (b)
                        (void) strv_extend(&b->released, bdf);
        }
        if (b) {
                b->outstanding--;
                release_batch_maybe_done(b);
        }
}

static int start_release(Daemon *d, StateAssignment *a, bool force, ReleaseBatch *b) {
        AssignWork *w;
        int r;

        a->phase = ASSIGN_RELEASING;
        save(d);
        crash_point("release-marked");
        w = work_from(a, force);
        if (!w)
                return -ENOMEM;
        r = submit(d, &release_job_type, a->vf, w, NULL, release_done, b);
        if (r >= 0 && b)
                b->outstanding++;
        return r;
}

typedef struct ReleaseRequest {
        char guest[GUEST_NAME_MAX + 1];
        char vf[PCI_ADDR_STRLEN];       /* "" = all the guest's VFs */
        bool force;
} ReleaseRequest;

static void release_authorized(Daemon *d, sd_bus_message *m, int r, const char *message, void *userdata) {
        _cleanup_free_ ReleaseRequest *q = userdata;
        ReleaseBatch *b;
        bool any = false;

        if (r < 0) {
                bus_reply_errno(m, r, message);
                return;
        }
        b = calloc(1, sizeof(*b));
        if (!b) {
                bus_reply_errno(m, -ENOMEM, NULL);
                return;
        }
        b->daemon = d;
        b->request = sd_bus_message_ref(m);
        b->outstanding = 1;     /* held until every release is queued */
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                StateAssignment *a = &d->state->assignments[i];

                if (!streq(a->guest, q->guest) || (q->vf[0] && !streq(a->vf, q->vf)))
                        continue;
                any = true;
                if (a->phase == ASSIGN_RESERVED || a->phase == ASSIGN_PREPARED) {
                        if (b->error >= 0) {
                                b->error = -EINPROGRESS;
                                (void) snprintf(b->message, sizeof(b->message),
                                                "%s is still being assigned; release it once Assign has answered", a->vf);
                        }
                        continue;
                }
                r = start_release(d, a, q->force, b);
                if (r < 0 && b->error >= 0) {
                        b->error = r;
                        (void) snprintf(b->message, sizeof(b->message), "%s: %s", a->vf,
                                        r == -EINPROGRESS ? "an earlier operation on its PF is still pending in the kernel"
                                                          : strerror(-r));
                }
        }
        if (!any && b->error >= 0) {
                b->error = -ESRCH;
                (void) snprintf(b->message, sizeof(b->message), "Guest %s holds %s", q->guest,
                                q->vf[0] ? "no such VF" : "no VFs");
        }
        b->outstanding--;
        release_batch_maybe_done(b);
}

int assign_method_release(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *guest, *vf;
        int force = 0, r;
        const BusOption opts[] = {
                { "force", 'b', &force },
                {}
        };
        ReleaseRequest *q;

        r = sd_bus_message_read(m, "ss", &guest, &vf);
        if (r < 0)
                return r;
        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (!guest_name_is_valid(guest))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid guest name \"%.64s\"", guest);
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        memcpy(q->guest, guest, strlen(guest) + 1);
        q->force = force;
        if (!isempty(vf)) {
                sriov_device *dev;
                sriov_error e = {};

                r = sriov_host_resolve(d->host, vf, &dev, &e);
                if (r < 0) {
                        free(q);
                        return bus_error_from_errno(error, r, e.message);
                }
                (void) snprintf(q->vf, sizeof(q->vf), "%s", dev->bdf);
        }
        r = auth_check(d, m, SRIOVD_ACTION_MANAGE, release_authorized, q);
        if (r < 0) {
                free(q);
                return r;
        }
        return 1;
}

/* ---- listing ---- */

int assign_method_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssa{sv})");
        for (size_t i = 0; r >= 0 && i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                r = sd_bus_message_open_container(reply, 'r', "ssssa{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ssss", a->guest, a->vf, strempty(a->pool),
                                                  assign_phase_name(a->phase));
                if (r >= 0) {
                        if (append_result(d, reply, a) < 0) {
                                /* the VF is gone: what is known */
                                r = sd_bus_message_open_container(reply, 'a', "{sv}");
                                if (r >= 0)
                                        r = sd_bus_message_append(reply, "{sv}{sv}", "pf", "s", a->pf, "missing", "b", 1);
                                if (r >= 0)
                                        r = sd_bus_message_close_container(reply);
                        }
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- runtime pools ---- */

static bool pool_name_ok(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("-_.", *c))
                        return false;
        /* a pool name must not look like a VF */
        return !strchr(s, ':');
}

typedef struct PoolRequest {
        StatePool pool;
        bool delete;
} PoolRequest;

static void pool_request_free(PoolRequest *q) {
        if (!q)
                return;
        free(q->pool.name);
        strv_free(q->pool.selectors);
        free(q->pool.driver);
        free(q);
}

static void pool_authorized(Daemon *d, sd_bus_message *m, int r, const char *message, void *userdata) {
        PoolRequest *q = userdata;
        PoolView existing;

        if (r < 0) {
                bus_reply_errno(m, r, message);
                goto finish;
        }
        if (q->delete) {
                StatePool *p = state_find_pool(d->state, q->pool.name);

                if (!p) {
                        bus_reply_errno(m, find_pool(d, q->pool.name, &existing) ? -EROFS : -ESRCH,
                                    find_pool(d, q->pool.name, &existing)
                                    ? "The pool comes from the configuration files; change them instead"
                                    : "No such pool");
                        goto finish;
                }
                for (size_t i = 0; i < d->state->n_assignments; i++)
                        if (d->state->assignments[i].pool && streq(d->state->assignments[i].pool, p->name)) {
                                bus_reply_errno(m, -EBUSY, "VFs of the pool are assigned; release them first");
                                goto finish;
                        }
                log_info("Deleted pool %s", p->name);
                state_remove_pool(d->state, p);
        } else {
                StatePool *p;

                if (find_pool(d, q->pool.name, &existing)) {
                        bus_reply_errno(m, -EEXIST, existing.runtime ? "A pool of that name exists"
                                                                 : "A pool of that name is in the configuration files");
                        goto finish;
                }
                p = state_add_pool(d->state);
                if (!p) {
                        bus_reply_errno(m, -ENOMEM, NULL);
                        goto finish;
                }
                *p = q->pool;
                q->pool = (StatePool) {};
                log_info("Created pool %s", p->name);
        }
        save(d);
        (void) sd_bus_reply_method_return(m, NULL);
finish:
        pool_request_free(q);
}

int assign_method_create_pool(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_strv_free_ char **selectors = NULL;
        AssignRequest tmp = { .numa = -1 };
        const char *name;
        PoolRequest *q;
        bool mac_is_base = false;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &selectors);
        if (r < 0)
                return r;
        if (!pool_name_ok(name))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "Invalid pool name \"%.64s\": 1-64 letters, digits, '-', '_' or '.'", name);
        if (!selectors)
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "A pool needs at least one selector");
        STRV_FOREACH(sel, selectors) {
                Selector x;

                if (selector_parse(*sel, &x) < 0)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                                 "Invalid selector \"%.64s\": IFNAME#N-M, DDDD:BB:DD.F#N-M, vvvv:dddd or numa:N",
                                                 *sel);
        }
        r = read_vf_options(m, true, &tmp, &mac_is_base, error);
        if (r < 0) {
                free(tmp.driver);
                return r;
        }
        q = calloc(1, sizeof(*q));
        if (!q) {
                free(tmp.driver);
                return -ENOMEM;
        }
        q->pool = (StatePool) {
                .name = strdup(name),
                .selectors = TAKE_PTR(selectors),
                .driver = TAKE_PTR(tmp.driver),
                .attrs = tmp.want,
                .mac_is_base = mac_is_base,
        };
        if (!q->pool.name) {
                pool_request_free(q);
                return -ENOMEM;
        }
        r = auth_check(d, m, SRIOVD_ACTION_MANAGE, pool_authorized, q);
        if (r < 0) {
                pool_request_free(q);
                return r;
        }
        return 1;
}

int assign_method_delete_pool(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        PoolRequest *q;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!pool_name_ok(name))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid pool name \"%.64s\"", name);
        q = calloc(1, sizeof(*q));
        if (!q || !(q->pool.name = strdup(name))) {
                pool_request_free(q);
                return -ENOMEM;
        }
        q->delete = true;
        r = auth_check(userdata, m, SRIOVD_ACTION_MANAGE, pool_authorized, q);
        if (r < 0) {
                pool_request_free(q);
                return r;
        }
        return 1;
}

static int append_pool(Daemon *d, sd_bus_message *reply, const PoolView *p) {
        unsigned size = 0, used = 0;
        int r;

        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *vf = d->host->devices[i];

                if (!pool_contains(p->selectors, vf))
                        continue;
                size++;
                used += state_find_assignment_by_vf(d->state, vf->bdf) != NULL;
        }
        r = sd_bus_message_open_container(reply, 'r', "sasa{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", p->name);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, (char **) p->selectors);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}", "source", "s", p->runtime ? "runtime" : "configuration",
                                          "driver", "s", pool_driver(p), "size", "u", size, "assigned", "u", used);
        if (r >= 0) {
                sriov_vf_config c = *p->attrs;
                char mac[18];

                /* a MAC base is not a VF's MAC: under its own name */
                if (p->mac_is_base && (c.mask & VF_ATTR_MAC)) {
                        r = sd_bus_message_append(reply, "{sv}", "mac_base", "s", vf_mac_format(c.mac, mac));
                        c.mask &= ~VF_ATTR_MAC;
                }
                if (r >= 0)
                        r = bus_append_vf_config(reply, &c);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

int assign_method_list_pools(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sasa{sv})");
        for (size_t i = 0; r >= 0 && d->declared && i < d->declared->n_pools; i++) {
                const ConfigPool *p = &d->declared->pools[i];
                PoolView v = { p->name, p->selectors, p->driver_want, p->driver, &p->attrs, p->mac_is_base, false };

                r = append_pool(d, reply, &v);
        }
        for (size_t i = 0; r >= 0 && i < d->state->n_pools; i++) {
                const StatePool *p = &d->state->pools[i];
                PoolView v = { p->name, p->selectors, p->driver ? DRIVER_NAMED : DRIVER_UNSET, p->driver, &p->attrs,
                               p->mac_is_base, true };

                r = append_pool(d, reply, &v);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- recovery after a restart ---- */

typedef struct Recovery {
        Daemon *daemon;
        unsigned outstanding;
        void (*done)(Daemon *d, void *userdata);
        void *userdata;
} Recovery;

static void recovery_maybe_done(Recovery *rc) {
        if (rc->outstanding > 0)
                return;
        rc->done(rc->daemon, rc->userdata);
        free(rc);
}

static void recovery_job_done(Job *j) {
        Recovery *rc = j->userdata;

        j->userdata = NULL;
        release_done(j);
        rc->outstanding--;
        recovery_maybe_done(rc);
}

static void recovery_restore_done(Job *j) {
        Recovery *rc = j->userdata;     /* NULL: the lane's re-run once a held write finished */
        Daemon *d = j->daemon;
        char bdf[PCI_ADDR_STRLEN];

        pci_addr_format(&j->addr, bdf);
        if (j->r >= 0) {
                log_info("Put back the binding of %s after an interrupted change", bdf);
                if (state_forget_device(d->state, bdf) > 0)
                        save(d);
        } else if (j->r == -ETIMEDOUT)
                log_notice("Putting back the binding of %s waits for the kernel; it is finished once the kernel is done", bdf);
        else
                log_warning("Putting back the binding of %s failed: %s (it stays recorded; RestoreDriver retries)", bdf,
                            j->error.error ? j->error.message : strerror(-j->r));
        if (rc) {
                rc->outstanding--;
                recovery_maybe_done(rc);
        }
}

/* A Bind, Unbind or RestoreDriver that a crash interrupted: back to the
 * binding recorded before it started (journal_begin() in device.c). */
static bool recover_binding(Daemon *d, Recovery *rc, StateDevice *s) {
        const sriov_device *dev;
        pci_addr addr;
        Job *j;
        int r;

        if (pci_addr_parse(s->bdf, &addr) < 0 || !(dev = sriov_host_find(d->host, &addr))) {
                log_notice("Forgetting the interrupted binding change of %s: it is not on the host (any more)", s->bdf);
                (void) state_forget_device(d->state, s->bdf);
                return false;
        }
        log_notice("Putting back the binding of %s (%s) after a restart: a change of it was interrupted", s->bdf,
                   s->prior_driver ?: "no driver");
        j = binding_restore_record_job_new(d, &addr, s->prior_driver, s->prior_override);
        if (!j) {
                log_error("Out of memory: the binding of %s stays recorded; RestoreDriver puts it back", s->bdf);
                return true;
        }
        j->complete = recovery_restore_done;
        j->userdata = rc;
        r = lane_submit(d, j);
        if (r < 0) {
                log_error_errno(r, "Cannot put back the binding of %s now (RestoreDriver retries): %m", s->bdf);
                job_free(j);
        } else
                rc->outstanding++;
        return true;
}

int assign_recover(Daemon *d, void (*done)(Daemon *d, void *userdata), void *userdata) {
        Recovery *rc = calloc(1, sizeof(*rc));
        bool changed = false;

        if (!rc)
                return -ENOMEM;
        *rc = (Recovery) { .daemon = d, .outstanding = 1, .done = done, .userdata = userdata };
        for (size_t i = 0; i < d->state->n_devices;) {
                StateDevice *s = &d->state->devices[i];

                if (!s->pending)
                        i++;
                else if (recover_binding(d, rc, s))
                        i++;
                else
                        changed = true;         /* forgotten: the next one moved here */
        }
        for (size_t i = 0; i < d->state->n_assignments;) {
                StateAssignment *a = &d->state->assignments[i];
                AssignWork *w;
                int r;

                switch (a->phase) {
                case ASSIGN_RESERVED:
                        /* nothing had changed yet */
                        log_notice("Dropping the unfinished assignment of %s to %s (nothing was changed yet)", a->vf, a->guest);
                        state_remove_assignment(d->state, a);
                        changed = true;
                        continue;
                case ASSIGN_PREPARED:
                case ASSIGN_RELEASING:
                        log_notice("%s the %s of %s to %s after a restart",
                                   a->phase == ASSIGN_PREPARED ? "Rolling back" : "Finishing", a->phase == ASSIGN_PREPARED
                                   ? "unfinished assignment" : "release", a->vf, a->guest);
                        a->phase = ASSIGN_RELEASING;
                        changed = true;
                        w = work_from(a, false);
                        if (!w)
                                return -ENOMEM;
                        r = submit(d, &release_job_type, a->vf, w, NULL, recovery_job_done, rc);
                        if (r >= 0)
                                rc->outstanding++;
                        else
                                log_error_errno(r, "Cannot finish the release of %s now: %m", a->vf);
                        break;
                case ASSIGN_DONE: {
                        const sriov_device *vf;
                        pci_addr addr;

                        if (pci_addr_parse(a->vf, &addr) < 0 || !(vf = sriov_host_find(d->host, &addr)))
                                log_warning("%s, assigned to %s, is not on the host (any more)", a->vf, a->guest);
                        else if (!vf->driver || !a->driver || !streq(vf->driver, a->driver))
                                log_warning("%s, assigned to %s, is bound to %s instead of %s", a->vf, a->guest,
                                            vf->driver ?: "no driver", strna(a->driver));
                        break;
                }
                default:
                        break;
                }
                i++;
        }
        if (changed)
                save(d);
        rc->outstanding--;
        recovery_maybe_done(rc);
        return 0;
}
