/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The worker side of assignments: what an assignment finds (prepare), what
 * it changes (apply), and putting that back (release); each runs on the VF's
 * lane, off the event loop. */

#include <stdio.h>
#include <sys/stat.h>

#include "assign.h"
#include "ops.h"
#include "passthrough.h"
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
        free(w);
}

/* ---- worker side ---- */

static int assign_execute_prepare(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
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

static int assign_execute_apply(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
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

                r = vfio_device_nodes(ctx, vf, &nodes);
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

static int assign_execute_release(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err) {
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
        if (w->set_owner && vfio_device_nodes(ctx, vf, &nodes) < 0)
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
