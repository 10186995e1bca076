/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "json-util.h"
#include "scan.h"
#include "util.h"

int scan_to_json(const sriov_host *host, const iommu_host *iommu, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *j = NULL;
        int r;

        r = sriov_host_to_json(host, &o);
        if (r < 0)
                return r;
        r = iommu_host_to_json(iommu, &j);
        if (r < 0)
                return r;
        r = json_add(o, "iommu", j);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static void print_ids(FILE *f, const sriov_device *d) {
        fprintf(f, "%s %s [%04x:%04x]", d->vendor_name ?: "Unknown vendor", d->device_name ?: "Unknown device",
                d->vendor, d->device);
}

static void print_group(FILE *f, const sriov_device *d) {
        if (d->iommu_group >= 0)
                fprintf(f, "%d", d->iommu_group);
        else
                fputs("-", f);
}

static void print_netdevs(FILE *f, const sriov_device *d) {
        if (!d->netdevs) {
                fputs("-", f);
                return;
        }
        STRV_FOREACH(n, d->netdevs)
                fprintf(f, "%s%s", n == d->netdevs ? "" : ",", *n);
}

static void print_vf(FILE *f, const sriov_device *v) {
        fprintf(f, "    VF %3d  %s  %-12s  ", v->vf_index, v->bdf, v->driver ?: "(unbound)");
        print_netdevs(f, v);
        fputs("  group ", f);
        print_group(f, v);
        if (v->driver_override)
                fprintf(f, "  override %s", v->driver_override);
        fputc('\n', f);
}

static void print_pf(FILE *f, const sriov_device *d) {
        const sriov_pf_info *s = &d->sriov;

        fprintf(f, "PF %s  ", d->bdf);
        print_ids(f, d);
        fprintf(f, "\n    driver %s  netdev ", d->driver ?: "(unbound)");
        print_netdevs(f, d);
        fprintf(f, "  numa %d  group ", d->numa_node);
        print_group(f, d);
        fprintf(f, "\n    VFs %u/%u  offset %u  stride %u  VF device %04x  autoprobe %s\n",
                s->num_vfs, s->total_vfs, s->offset, s->stride, s->vf_device,
                s->autoprobe < 0 ? "n/a" : s->autoprobe ? "on" : "off");
        if (!s->cap_read)
                fputs("    config space: not readable (run as root to cross-check the SR-IOV capability)\n", f);
        else if (s->cap_mismatch)
                fprintf(f, "    config space disagrees with sysfs: %s\n", s->cap_mismatch);
        for (size_t k = 0; k < d->n_vfs; k++)
                if (d->vfs[k])
                        print_vf(f, d->vfs[k]);
}

int scan_print(FILE *f, const sriov_host *host, const iommu_host *iommu) {
        size_t n_pf = 0, n_vf = 0, n_other = 0;

        for (size_t i = 0; i < host->n_devices; i++) {
                const sriov_device *d = host->devices[i];
                if (d->is_pf)
                        n_pf++;
                else if (d->is_vf && d->pf)
                        n_vf++;
                else
                        n_other++;
        }
        fprintf(f, "Host %s: %zu SR-IOV PFs, %zu VFs, %zu other PCI functions\n",
                sriov_ctx_root(host->ctx), n_pf, n_vf, n_other);
        if (iommu->present)
                fprintf(f, "IOMMU: %zu groups; VFIO container %s, VFIO cdev %s, iommufd %s\n", iommu->n_groups,
                        iommu->vfio_container ? "yes" : "no", iommu->vfio_cdev ? "yes" : "no",
                        iommu->iommufd ? "yes" : "no");
        else
                fprintf(f, "IOMMU: none — %s\n", IOMMU_NO_GROUPS_HINT);
        fputc('\n', f);

        for (size_t i = 0; i < host->n_devices; i++)
                if (host->devices[i]->is_pf)
                        print_pf(f, host->devices[i]);

        if (n_other > 0) {
                fputs("\nOther functions:\n", f);
                for (size_t i = 0; i < host->n_devices; i++) {
                        const sriov_device *d = host->devices[i];

                        if (d->is_pf || (d->is_vf && d->pf))
                                continue;
                        fprintf(f, "    %s  ", d->bdf);
                        print_ids(f, d);
                        fprintf(f, "  driver %s  group ", d->driver ?: "(unbound)");
                        print_group(f, d);
                        fputc('\n', f);
                }
        }

        if (iommu->present) {
                size_t not_viable = 0;

                for (size_t i = 0; i < iommu->n_groups; i++)
                        not_viable += !iommu->groups[i].viable;
                fprintf(f, "\nIOMMU groups: %zu viable for VFIO, %zu not\n", iommu->n_groups - not_viable, not_viable);
                for (size_t i = 0; i < iommu->n_groups; i++) {
                        const iommu_group *g = &iommu->groups[i];

                        if (strv_length(g->members) < 2 && g->viable)
                                continue;       /* the common case: one device, viable */
                        fprintf(f, "    group %d:", g->id);
                        STRV_FOREACH(m, g->members)
                                fprintf(f, " %s", *m);
                        fprintf(f, "  %s%s\n", g->viable ? "viable" : "not viable: ", strempty(g->reason));
                }
        }
        return 0;
}

int run_scan(const char *sysfs_root, const char *dev_root, bool json) {
        _cleanup_(sriov_ctx_freep) sriov_ctx *ctx = NULL;
        _cleanup_(sriov_host_freep) sriov_host *host = NULL;
        _cleanup_(iommu_host_freep) iommu_host *iommu = NULL;
        int r;

        r = sriov_ctx_new(sysfs_root, &ctx);
        if (r < 0) {
                fprintf(stderr, "Cannot use %s as the sysfs root: %s\n", sysfs_root ?: "/sys", strerror(-r));
                return r;
        }
        if (dev_root) {
                r = sriov_ctx_set_dev_root(ctx, dev_root);
                if (r < 0) {
                        fprintf(stderr, "Invalid device root %s: %s\n", dev_root, strerror(-r));
                        return r;
                }
        }
        r = sriov_host_scan(ctx, &host);
        if (r < 0) {
                fprintf(stderr, "Failed to scan PCI devices under %s: %s\n", sriov_ctx_root(ctx), strerror(-r));
                return r;
        }
        r = iommu_host_scan(ctx, host, &iommu);
        if (r < 0) {
                fprintf(stderr, "Failed to scan IOMMU groups under %s: %s\n", sriov_ctx_root(ctx), strerror(-r));
                return r;
        }
        if (json) {
                _cleanup_json_ json_object *o = NULL;

                r = scan_to_json(host, iommu, &o);
                if (r < 0) {
                        fprintf(stderr, "Failed to format the scan: %s\n", strerror(-r));
                        return r;
                }
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        } else
                (void) scan_print(stdout, host, iommu);
        if (fflush(stdout) != 0)
                return negative_errno();
        return 0;
}
