/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "groups.h"
#include "json-util.h"
#include "ops.h"
#include "util.h"

static void group_done(iommu_group *g) {
        free(g->type);
        strv_free(g->members);
        for (size_t i = 0; i < g->n_regions; i++)
                free(g->regions[i].type);
        free(g->regions);
        free(g->reason);
}

iommu_host *iommu_host_free(iommu_host *h) {
        if (!h)
                return NULL;
        for (size_t i = 0; i < h->n_groups; i++)
                group_done(&h->groups[i]);
        free(h->groups);
        return mfree(h);
}

/* reserved_regions: one "0x%016llx 0x%016llx %s\n" line per region
 * (iommu_group_show_resv_regions() in drivers/iommu/iommu.c). */
int iommu_parse_reserved_regions(const char *text, iommu_region **ret, size_t *ret_n) {
        iommu_region *v = NULL;
        size_t n = 0;
        const char *line = text;

        while (line && *line) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                char buf[256], type[64];
                unsigned long long s, e;
                iommu_region *nv;

                if (len == 0) {
                        line = nl ? nl + 1 : NULL;
                        continue;
                }
                if (len >= sizeof(buf))
                        goto fail;
                memcpy(buf, line, len);
                buf[len] = 0;
                if (sscanf(buf, "0x%llx 0x%llx %63s", &s, &e, type) != 3 || e < s)
                        goto fail;
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        goto fail_nomem;
                v = nv;
                v[n].start = s;
                v[n].end = e;
                v[n].type = strdup(type);
                if (!v[n].type)
                        goto fail_nomem;
                n++;
                line = nl ? nl + 1 : NULL;
        }
        *ret = v;
        *ret_n = n;
        return 0;

fail_nomem:
        for (size_t i = 0; i < n; i++)
                free(v[i].type);
        free(v);
        return -ENOMEM;
fail:
        for (size_t i = 0; i < n; i++)
                free(v[i].type);
        free(v);
        return -EBADMSG;
}

static int load_group(sriov_ctx *ctx, iommu_group *g) {
        _cleanup_free_ char *p = NULL, *text = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int r;

        p = sysfs_group_path(ctx, g->id, "type");
        if (!p)
                return -ENOMEM;
        if (read_one_line_file(p, &g->type) < 0)
                g->type = NULL;
        free(p);

        p = sysfs_group_path(ctx, g->id, "reserved_regions");
        if (!p)
                return -ENOMEM;
        if (read_full_file(p, &text, NULL, 64 * 1024) >= 0) {
                r = iommu_parse_reserved_regions(text, &g->regions, &g->n_regions);
                if (r == -ENOMEM)
                        return r;
        }
        free(p);

        p = sysfs_group_path(ctx, g->id, "devices");
        if (!p)
                return -ENOMEM;
        dir = opendir(p);
        if (!dir)
                return negative_errno();
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.')
                        continue;
                r = strv_extend(&g->members, de->d_name);
                if (r < 0)
                        return r;
        }
        strv_sort(g->members);
        return 0;
}

static int cmp_group(const void *a, const void *b) {
        const iommu_group *x = a, *y = b;

        return (x->id > y->id) - (x->id < y->id);
}

static bool dev_node_exists(sriov_ctx *ctx, const char *rel, bool want_dir) {
        _cleanup_free_ char *p = dev_path(ctx, rel);
        struct stat st;

        if (!p || stat(p, &st) < 0)
                return false;
        return want_dir ? S_ISDIR(st.st_mode) : S_ISCHR(st.st_mode);
}

bool iommu_group_viable(const iommu_group *g, const sriov_host *host, const char *assume_vfio, char **ret_reason) {
        STRV_FOREACH(m, g->members) {
                const sriov_device *d;
                char *why = NULL;
                pci_addr a;

                if (pci_addr_parse(*m, &a) < 0)
                        why = strdup_printf("%s is not a PCI function and its binding is unknown", *m);
                else if (assume_vfio && streq(*m, assume_vfio))
                        continue;
                else if (!(d = sriov_host_find(host, &a)))
                        why = strdup_printf("%s is not in the host model (it appeared or vanished meanwhile)", *m);
                else if (d->is_bridge || !d->driver || driver_is_dma_managed(d->driver))
                        continue;
                else
                        why = strdup_printf("%s is bound to %s, a host driver; bind it to vfio-pci or unbind it",
                                            d->bdf, d->driver);
                if (ret_reason)
                        *ret_reason = why;
                else
                        free(why);
                return false;
        }
        if (ret_reason)
                *ret_reason = NULL;
        return true;
}

static int scan_facts(sriov_ctx *ctx, iommu_host *h) {
        _cleanup_free_ char *p = NULL, *noiommu = NULL;

        h->vfio_container = dev_node_exists(ctx, "vfio/vfio", false);
        h->vfio_cdev = dev_node_exists(ctx, "vfio/devices", true);
        h->iommufd = dev_node_exists(ctx, "iommu", false);
        p = sysfs_path(ctx, "module/vfio/parameters/enable_unsafe_noiommu_mode");
        if (!p)
                return -ENOMEM;
        if (read_one_line_file(p, &noiommu) >= 0)
                h->noiommu_mode = parse_boolean(strstrip(noiommu)) > 0 || streq(noiommu, "Y");
        return 0;
}

int iommu_host_scan_facts(sriov_ctx *ctx, iommu_host **ret) {
        _cleanup_(iommu_host_freep) iommu_host *h = NULL;
        _cleanup_free_ char *p = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        p = sysfs_path(ctx, "kernel/iommu_groups");
        if (!p)
                return -ENOMEM;
        dir = opendir(p);
        if (!dir && errno != ENOENT)
                return negative_errno();
        while (dir && (de = readdir(dir)))
                if (de->d_name[0] != '.') {
                        h->present = true;
                        break;
                }
        r = scan_facts(ctx, h);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

int iommu_host_scan(sriov_ctx *ctx, const sriov_host *host, iommu_host **ret) {
        _cleanup_(iommu_host_freep) iommu_host *h = NULL;
        _cleanup_free_ char *p = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        size_t alloc = 0;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;

        p = sysfs_path(ctx, "kernel/iommu_groups");
        if (!p)
                return -ENOMEM;
        dir = opendir(p);
        if (!dir && errno != ENOENT)
                return negative_errno();
        while (dir && (de = readdir(dir))) {
                iommu_group *g;
                int id;

                if (safe_atoi(de->d_name, 10, &id) < 0 || id < 0)
                        continue;
                if (h->n_groups == alloc) {
                        size_t na = alloc ? alloc * 2 : 32;
                        iommu_group *n = realloc(h->groups, na * sizeof(*n));
                        if (!n)
                                return -ENOMEM;
                        h->groups = n;
                        alloc = na;
                }
                g = &h->groups[h->n_groups++];
                *g = (iommu_group) { .id = id };
                r = load_group(ctx, g);
                if (r == -ENOENT) {     /* vanished meanwhile */
                        group_done(g);
                        h->n_groups--;
                        continue;
                }
                if (r < 0)
                        return r;
        }
        if (h->n_groups > 1)
                qsort(h->groups, h->n_groups, sizeof(*h->groups), cmp_group);
        h->present = h->n_groups > 0;
        r = scan_facts(ctx, h);
        if (r < 0)
                return r;
        if (host) {
                r = iommu_host_update_viability(h, host);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(h);
        return 0;
}

int iommu_host_update_viability(iommu_host *h, const sriov_host *host) {
        for (size_t i = 0; i < h->n_groups; i++) {
                iommu_group *g = &h->groups[i];

                g->reason = mfree(g->reason);
                g->viable = iommu_group_viable(g, host, NULL, &g->reason);
                if (!g->viable && !g->reason)
                        return -ENOMEM;
        }
        return 0;
}

const iommu_group *iommu_host_find_group(const iommu_host *h, int id) {
        size_t lo = 0, hi = h->n_groups;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (h->groups[mid].id < id)
                        lo = mid + 1;
                else if (h->groups[mid].id > id)
                        hi = mid;
                else
                        return &h->groups[mid];
        }
        return NULL;
}

static int region_to_json(const iommu_region *reg, json_object **ret) {
        _cleanup_json_ json_object *x = json_object_new_object();
        char buf[32];
        int r;

        if (!x)
                return -ENOMEM;
        (void) snprintf(buf, sizeof(buf), "0x%016" PRIx64, reg->start);
        r = json_add_string(x, "start", buf);
        if (r < 0)
                return r;
        (void) snprintf(buf, sizeof(buf), "0x%016" PRIx64, reg->end);
        r = json_add_string(x, "end", buf);
        if (r < 0)
                return r;
        r = json_add_string(x, "type", reg->type);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(x);
        return 0;
}

int iommu_group_to_json(const iommu_group *g, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *regions = json_object_new_array();
        int r;

        if (!o || !regions)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_regions; i++) {
                json_object *x = NULL;

                r = region_to_json(&g->regions[i], &x);
                if (r < 0)
                        return r;
                r = json_append(regions, x);
                if (r < 0)
                        return r;
        }
        r = json_add_int(o, "id", g->id);
        if (r < 0)
                return r;
        r = json_add_string(o, "type", g->type);
        if (r < 0)
                return r;
        r = json_add_strv(o, "devices", g->members);
        if (r < 0)
                return r;
        r = json_add(o, "reserved_regions", TAKE_PTR(regions));
        if (r < 0)
                return r;
        r = json_add_bool(o, "viable", g->viable);
        if (r < 0)
                return r;
        r = json_add_string(o, "reason", g->reason);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* What the host offers for passthrough: an IOMMU, and the VFIO interfaces */
static int add_host_facts(json_object *o, const iommu_host *h) {
        int r;

        r = json_add_bool(o, "present", h->present);
        if (r < 0)
                return r;
        r = json_add_string(o, "hint", h->present ? NULL : IOMMU_NO_GROUPS_HINT);
        if (r < 0)
                return r;
        r = json_add_bool(o, "vfio_container", h->vfio_container);
        if (r < 0)
                return r;
        r = json_add_bool(o, "vfio_cdev", h->vfio_cdev);
        if (r < 0)
                return r;
        r = json_add_bool(o, "iommufd", h->iommufd);
        if (r < 0)
                return r;
        return json_add_bool(o, "unsafe_noiommu_mode", h->noiommu_mode);
}

int iommu_host_to_json(const iommu_host *h, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *groups = json_object_new_array();
        int r;

        if (!o || !groups)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_groups; i++) {
                json_object *g = NULL;

                r = iommu_group_to_json(&h->groups[i], &g);
                if (r < 0)
                        return r;
                r = json_append(groups, g);
                if (r < 0)
                        return r;
        }
        r = add_host_facts(o, h);
        if (r < 0)
                return r;
        r = json_add(o, "groups", TAKE_PTR(groups));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}
