/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <stdio.h>

#include "ops.h"
#include "vfconfig.h"

/* ---- worker side ---- */

int vf_index_of(sriov_ctx *ctx, const pci_addr *vf, pci_addr *ret_pf, sriov_error *err) {
        _cleanup_free_ char *pfname = NULL;
        char bdf[PCI_ADDR_STRLEN];
        unsigned numvfs = 0;

        pci_addr_format(vf, bdf);
        if (sysfs_dev_link_name(ctx, vf, "physfn", &pfname) < 0 || pci_addr_parse(pfname, ret_pf) < 0)
                return sriov_error_set(err, -ENODEV, "%s is not a VF (any more)", bdf);
        (void) sysfs_dev_read_uint(ctx, ret_pf, "sriov_numvfs", 10, &numvfs);
        for (unsigned i = 0; i < numvfs; i++) {
                _cleanup_free_ char *name = NULL;
                char link[32];
                pci_addr a;

                (void) snprintf(link, sizeof(link), "virtfn%u", i);
                if (sysfs_dev_link_name(ctx, ret_pf, link, &name) >= 0 && pci_addr_parse(name, &a) >= 0 &&
                    pci_addr_equal(&a, vf))
                        return (int) i;
        }
        return sriov_error_set(err, -ENODEV, "%s is not listed by its PF", bdf);
}

int pf_interface(sriov_ctx *ctx, const pci_addr *pf, char **ret) {
        _cleanup_free_ char *p = sysfs_dev_path(ctx, pf, "net");
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!p)
                return -ENOMEM;
        d = opendir(p);
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' && ifname_is_valid(de->d_name)) {
                        *ret = strdup(de->d_name);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

static void vfconfig_work_free(void *p) {
        VFConfigWork *w = p;

        free(w->pf_ifname);
        free(w);
}

int vfconfig_execute(sriov_ctx *ctx, const pci_addr *vf, bool set, VFConfigWork *w, sriov_error *err) {
        char bdf[PCI_ADDR_STRLEN];
        pci_addr pf;
        int r;

        pci_addr_format(vf, bdf);
        w->index = vf_index_of(ctx, vf, &pf, err);
        if (w->index < 0)
                return w->index;
        r = pf_interface(ctx, &pf, &w->pf_ifname);
        if (r < 0)
                return sriov_error_set(err, r == -ENOMEM ? r : -EPROTONOSUPPORT,
                                       "The PF of %s has no network interface: VF settings (MAC, VLAN, ...) need one", bdf);
        if (set) {
                sriov_vf_config want = w->want;

                want.vf = (uint32_t) w->index;
                return sriov_vf_set(w->pf_ifname, &want, w->bring_pf_up ? SRIOV_VF_BRING_PF_UP : 0, &w->after,
                                    &w->ignored, &w->zero_mac_fallback, err);
        }

        sriov_link link = {};
        r = sriov_link_get(w->pf_ifname, &link, err);
        if (r < 0)
                return r;
        r = sriov_error_set(err, -ENODEV, "%s does not report VF %d", w->pf_ifname, w->index);
        for (size_t i = 0; i < link.n_vfs; i++)
                if (link.vfs[i].vf == (uint32_t) w->index) {
                        w->after = link.vfs[i];
                        r = 0;
                }
        sriov_link_done(&link);
        return r;
}

static void vf_get_execute(Job *j) {
        j->r = vfconfig_execute(j->daemon->ctx, &j->addr, false, j->payload, &j->error);
}

static void vf_set_execute(Job *j) {
        j->r = vfconfig_execute(j->daemon->ctx, &j->addr, true, j->payload, &j->error);
}

const JobType vf_get_job_type = { .name = "vf-get", .execute = vf_get_execute, .free = vfconfig_work_free };
const JobType vf_set_job_type = {
        .name = "vf-set", .execute = vf_set_execute, .free = vfconfig_work_free, .read_back = true,
};
