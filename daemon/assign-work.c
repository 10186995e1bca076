/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The worker side of assignments: what an assignment finds (prepare), what
 * it changes (apply), and putting that back (release); each runs on the VF's
 * lane, off the event loop. Every precondition is checked before the first
 * change: a refused step changes nothing. */

#include <net/if.h>
#include <stdio.h>
#include <sys/stat.h>

#include "assign.h"
#include "linkstate.h"
#include "netuse.h"
#include "ops.h"
#include "passthrough.h"
#include "reset.h"
#include "safety.h"
#include "test-hooks.h"
#include "vfconfig.h"
#include "vfio.h"

void assign_work_free(AssignWork *w) {
        if (!w)
                return;
        free(w->prior_driver);
        free(w->prior_override);
        free(w->pf_ifname);
        free(w->reset_method);
        free(w);
}

static int read_binding(sriov_ctx *ctx, const pci_addr *vf, char **ret_driver, char **ret_override,
                        sriov_error *err) {
        _cleanup_free_ char *drv = NULL, *ovr = NULL;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        r = sysfs_dev_link_name(ctx, vf, "driver", &drv);
        if (r < 0 && r != -ENOENT)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", pci_addr_format(vf, bdf),
                                       strerror(-r));
        if (sysfs_dev_read(ctx, vf, "driver_override", &ovr) >= 0) {
                strstrip(ovr);
                if (streq(ovr, "(null)") || isempty(ovr))
                        ovr = mfree(ovr);
        }
        *ret_driver = TAKE_PTR(drv);
        *ret_override = TAKE_PTR(ovr);
        return 0;
}

static const char *missing_attr(unsigned missing) {
        for (unsigned b = 1; b <= VF_ATTR_QUERY_RSS; b <<= 1)
                if (missing & b)
                        return vf_attr_name(b);
        return "?";
}

/* The VF's current settings (what release puts back) and the PF's link. */
static int read_settings(sriov_ctx *ctx, const pci_addr *vf, const pci_addr *pf, int idx, AssignWork *w,
                         sriov_error *err) {
        _cleanup_(sriov_link_done) sriov_link link = {};
        const sriov_vf_config *cur = NULL;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        r = pf_interface(ctx, pf, &w->pf_ifname);
        if (r < 0)
                return sriov_error_set(err, -EPROTONOSUPPORT,
                                       "The PF of %s has no network interface: VF settings (MAC, VLAN, ...) need one",
                                       pci_addr_format(vf, bdf));
        r = sriov_link_get(w->pf_ifname, &link, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < link.n_vfs; i++)
                if (link.vfs[i].vf == (uint32_t) idx)
                        cur = &link.vfs[i];
        if (!cur)
                return sriov_error_set(err, -ENODEV, "%s does not report VF %d", w->pf_ifname, idx);
        /* what cannot be read back cannot be put back: refuse it */
        if ((w->want.mask & cur->mask) != w->want.mask)
                return sriov_error_set(err, -EPROTONOSUPPORT,
                                       "The driver of %s does not report the VF's %s, so it could not be restored on release",
                                       w->pf_ifname, missing_attr(w->want.mask & ~cur->mask));
        w->prior = (sriov_vf_config) { .vf = (uint32_t) idx };
        vf_config_copy(&w->prior, cur, w->want.mask);
        /* setting them brings the PF's link up: release takes it down again */
        w->pf_link_was_down = !(link.flags & IFF_UP);
        return 0;
}

/* What the reset between tenants will be: the policy against the device. */
static int check_reset(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
        char bdf[PCI_ADDR_STRLEN];

        free(w->reset_method);
        w->will_reset = sriov_reset_supported(ctx, vf, &w->reset_method) && w->reset != RESET_NEVER;
        if (!w->will_reset && w->reset == RESET_ALWAYS)
                return sriov_error_set(err, -EOPNOTSUPP,
                                       "%s has no reset method, and its pool resets VFs always (reset: always)",
                                       pci_addr_format(vf, bdf));
        return 0;
}

static int assign_execute_prepare(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
        _cleanup_free_ char *drv = NULL, *ovr = NULL;
        bool checked;
        pci_addr pf;
        int idx, r;

        idx = vf_index_of(ctx, vf, &pf, err);
        if (idx < 0)
                return idx;
        w->vf_index = idx;
        r = read_binding(ctx, vf, &drv, &ovr, err);
        if (r < 0)
                return r;
        if (w->want.mask) {
                r = read_settings(ctx, vf, &pf, idx, w, err);
                if (r < 0)
                        return r;
        }
        checked = !drv || !streq(drv, w->driver);
        if (checked) {
                r = safety_before_unbind(ctx, vf, w->force, err);
                if (r < 0)
                        return r;
        }
        if (driver_is_dma_managed(w->driver)) {
                _cleanup_free_ pci_addr *peers = NULL;
                size_t n_peers = 0;
                int group;

                r = passthrough_check(ctx, vf, (w->force ? PASSTHROUGH_FORCE : 0) | (checked ? PASSTHROUGH_DEVICE_CHECKED : 0),
                                      &peers, &n_peers, &group, err);
                if (r < 0)
                        return r;
        }
        r = check_reset(ctx, vf, w, err);
        if (r < 0)
                return r;
        (void) sysfs_dev_read_uint(ctx, &pf, "sriov_numvfs", 10, &w->pf_numvfs);
        w->prior_driver = TAKE_PTR(drv);
        w->prior_override = TAKE_PTR(ovr);
        return 0;
}

static int apply_settings(const AssignWork *w, int idx, sriov_error *err) {
        sriov_vf_config want = w->want;
        unsigned ignored = 0;
        int r;

        want.vf = (uint32_t) idx;
        r = sriov_vf_set(w->pf_ifname, &want, SRIOV_VF_BRING_PF_UP, NULL, &ignored, NULL, err);
        if (r < 0)
                return r;
        if (ignored)
                return sriov_error_set(err, -EPROTONOSUPPORT, "The driver of %s accepted the VF's %s but did not apply it",
                                       w->pf_ifname, missing_attr(ignored));
        return r;
}

/* The group node (and cdev) to the guest's user; devtmpfs makes the group
 * node at bind: wait for it, bounded. */
static int hand_over_nodes(sriov_ctx *ctx, const pci_addr *vf, const AssignWork *w, sriov_error *err) {
        _cleanup_strv_free_ char **nodes = NULL;
        uint64_t deadline = now_usec() + sriov_ctx_timeout(ctx);
        char bdf[PCI_ADDR_STRLEN];
        bool any = false;
        int r;

        r = vfio_device_nodes(ctx, vf, &nodes);
        if (r < 0)
                return r;
        STRV_FOREACH(n, nodes) {
                struct stat st;

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
                return sriov_error_set(err, -ENOENT, "%s has no VFIO device node to hand over",
                                       pci_addr_format(vf, bdf));
        return 0;
}

static int assign_execute_apply(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
        pci_addr pf;
        int idx, r;

        idx = vf_index_of(ctx, vf, &pf, err);
        if (idx < 0)
                return idx;
        if (w->want.mask) {
                r = apply_settings(w, idx, err);
                if (r < 0)
                        return r;
        }
        crash_point("assign-attrs");
        r = sriov_bind(ctx, vf, w->driver, driver_is_dma_managed(w->driver) ? SRIOV_BIND_KEEP_OVERRIDE : 0, NULL, NULL,
                       err);
        if (r < 0)
                return r;
        crash_point("assign-bind");
        /* whatever the VF held before (another tenant, the host) is gone before the guest gets it */
        if (w->will_reset) {
                r = sriov_reset(ctx, vf, err);
                if (r < 0) {
                        w->reset_failed = true;
                        (void) snprintf(w->reset_error, sizeof(w->reset_error), "%.500s", err ? err->message : "");
                        return r;
                }
                w->reset_done = true;
        }
        if (w->set_owner) {
                r = hand_over_nodes(ctx, vf, w, err);
                if (r < 0)
                        return r;
        }
        crash_point("assign-owner");
        return 0;
}

/* A node that outlives the binding (the VF stays on vfio-pci, or the group
 * keeps another member) must not stay the guest's: back to what the kernel
 * makes, root only. */
static int take_back_nodes(char **nodes, sriov_error *err) {
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

/* Down, unless the host took to it since sriovd brought it up (an address,
 * a route, a bridge). */
static int pf_link_down(sriov_ctx *ctx, const pci_addr *pf, const char *ifname, sriov_error *e) {
        _cleanup_strv_free_ char **uses = NULL;
        int r;

        r = sriov_device_host_use(ctx, pf, SRIOV_HOST_USE_NOT_UP, &uses, e);
        if (r < 0)
                return r;
        if (uses)
                return sriov_error_set(e, -EADDRINUSE, "the host uses it: %s", uses[0]);
        return sriov_link_set_down(ifname, e);
}

/* The PF's link as it was before Assign brought it up, unless something
 * else needs it (the event loop says what) or the host uses the PF now: then
 * it stays up, and the log says why. */
static void put_pf_link_back(sriov_ctx *ctx, const pci_addr *pf, AssignWork *w) {
        sriov_error e = {};

        if (!w->pf_link_was_down || !w->pf_ifname)
                return;
        if (!w->pf_link_down_ok) {
                if (w->pf_link_needed_by)
                        (void) snprintf(w->pf_link_note, sizeof(w->pf_link_note), "%s stays up: %s", w->pf_ifname,
                                        w->pf_link_needed_by);
                return;
        }
        if (pf_link_down(ctx, pf, w->pf_ifname, &e) < 0) {
                (void) snprintf(w->pf_link_note, sizeof(w->pf_link_note), "%s stays up: %.500s", w->pf_ifname, e.message);
                return;
        }
        (void) snprintf(w->pf_link_note, sizeof(w->pf_link_note), "%s is down again, as before the assignment",
                        w->pf_ifname);
}

/* A released VF is reset (pool policy); one that cannot be, when it must,
 * is not handed out again (quarantine: the event loop records it). */
static void reset_between_tenants(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w) {
        sriov_error e = {};

        if (w->reset == RESET_NEVER)
                return;
        free(w->reset_method);
        if (!sriov_reset_supported(ctx, vf, &w->reset_method)) {
                if (w->reset == RESET_ALWAYS) {
                        w->reset_failed = true;
                        (void) snprintf(w->reset_error, sizeof(w->reset_error), "it has no reset method");
                }
                return;
        }
        if (sriov_reset(ctx, vf, &e) < 0) {
                w->reset_failed = true;
                (void) snprintf(w->reset_error, sizeof(w->reset_error), "%.500s", e.message);
        } else
                w->reset_done = true;
}

/* Before the first change of a release: the VF's user must be gone. */
static int release_precheck(sriov_ctx *ctx, const pci_addr *vf, const AssignWork *w, sriov_error *err) {
        _cleanup_free_ char *drv = NULL;
        int r;

        r = sysfs_dev_link_name(ctx, vf, "driver", &drv);
        if ((r >= 0 && w->prior_driver && streq(drv, w->prior_driver)) || (r == -ENOENT && !w->prior_driver))
                return 0;       /* the driver stays: nothing waits on its user */
        return safety_before_unbind(ctx, vf, w->force, err);
}

static int assign_execute_release(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
        _cleanup_strv_free_ char **nodes = NULL;
        pci_addr pf;
        int idx, r;

        if (!sysfs_dev_exists(ctx, vf, NULL))
                return 0;       /* the VF is gone, and everything it had with it */
        r = release_precheck(ctx, vf, w, err);
        if (r < 0) {
                w->unchanged = true;
                return r;
        }
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
        /* nothing of the guest stays in the VF for the next tenant */
        if (!w->rollback)
                reset_between_tenants(ctx, vf, w);
        /* the nodes handed to the guest, found while the VF is still on vfio-pci */
        if (w->set_owner && vfio_device_nodes(ctx, vf, &nodes) < 0)
                return sriov_error_set(err, -ENOMEM, "Out of memory");
        r = sriov_restore_driver(ctx, vf, w->prior_driver, w->prior_override, err);
        if (r < 0)
                return r;
        crash_point("release-driver");
        r = take_back_nodes(nodes, err);
        if (r < 0)
                return r;
        if (idx >= 0)
                put_pf_link_back(ctx, &pf, w);
        return 0;
}

static void assign_work_free_void(void *p) {
        assign_work_free(p);
}

static void prepare_execute(Job *j) {
        j->r = assign_execute_prepare(j->daemon->ctx, &j->addr, j->payload, &j->error);
}

static void assign_apply_execute(Job *j) {
        j->r = assign_execute_apply(j->daemon->ctx, &j->addr, j->payload, &j->error);
}

static void release_execute(Job *j) {
        j->r = assign_execute_release(j->daemon->ctx, &j->addr, j->payload, &j->error);
}

/* An assignment's work is not simply run again once a held write finished:
 * its completion decides what follows (lane_set_intent()). */
const JobType assign_prepare_job_type = {
        .name = "assign-prepare", .execute = prepare_execute, .free = assign_work_free_void,
};
const JobType assign_apply_job_type = {
        .name = "assign-apply", .execute = assign_apply_execute, .free = assign_work_free_void, .read_back = true,
};
const JobType assign_release_job_type = {
        .name = "release", .execute = release_execute, .free = assign_work_free_void, .read_back = true,
};
