/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The host model, read from sysfs:
 *   bus/pci/devices/BDF/uevent            DRIVER, PCI_CLASS, PCI_ID, PCI_SUBSYS_ID in one read
 *   bus/pci/devices/BDF/numa_node, driver_override, iommu_group ->, physfn ->
 *   bus/pci/devices/BDF/sriov_*           PF facts, virtfnN -> links
 *   bus/pci/devices/BDF/net/              netdevs of the function
 * Names come from pci.ids and the SR-IOV capability from config space, both
 * through libpci (pcilib.c). */

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "host.h"
#include "util.h"

sriov_device *sriov_device_free(sriov_device *d) {
        if (!d)
                return NULL;
        free(d->vendor_name);
        free(d->device_name);
        free(d->class_name);
        free(d->driver);
        free(d->driver_override);
        free(d->parent);
        free(d->sriov.cap_mismatch);
        strv_free(d->netdevs);
        free(d->vfs);
        return mfree(d);
}

static int parse_id_pair(const char *s, uint16_t *ret_a, uint16_t *ret_b) {
        unsigned a, b;
        char tail;

        if (sscanf(s, "%x:%x%c", &a, &b, &tail) != 2 || a > 0xffff || b > 0xffff)
                return -EINVAL;
        *ret_a = (uint16_t) a;
        *ret_b = (uint16_t) b;
        return 0;
}

/* The kernel's PCI uevent (pci_uevent() in drivers/pci/pci-driver.c) carries
 * the ids, the class and (from the driver core) the bound driver. */
static int load_uevent(sriov_ctx *ctx, sriov_device *d) {
        _cleanup_free_ char *buf = NULL, *p = NULL;
        bool have_id = false, have_class = false;
        int r;

        p = sysfs_dev_path(ctx, &d->addr, "uevent");
        if (!p)
                return -ENOMEM;
        r = read_full_file(p, &buf, NULL, 16 * 1024);
        if (r < 0)
                return r;

        for (char *line = buf, *next; line && *line; line = next) {
                char *eq;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq++ = 0;
                if (streq(line, "DRIVER")) {
                        if (!driver_name_is_valid(eq))
                                return -EBADMSG;
                        free(d->driver);
                        d->driver = strdup(eq);
                        if (!d->driver)
                                return -ENOMEM;
                } else if (streq(line, "PCI_CLASS")) {
                        unsigned k;

                        if (safe_atou(eq, 16, &k) < 0 || k > 0xffffff)
                                return -EBADMSG;
                        d->class = k;
                        have_class = true;
                } else if (streq(line, "PCI_ID")) {
                        if (parse_id_pair(eq, &d->vendor, &d->device) < 0)
                                return -EBADMSG;
                        have_id = true;
                } else if (streq(line, "PCI_SUBSYS_ID")) {
                        if (parse_id_pair(eq, &d->subsystem_vendor, &d->subsystem_device) < 0)
                                return -EBADMSG;
                }
        }
        return have_id && have_class ? 0 : -EBADMSG;
}

/* Fallback when uevent is unreadable: the individual attributes. */
static int load_id_files(sriov_ctx *ctx, sriov_device *d) {
        unsigned v, dev, k, sv = 0, sd = 0;
        int r;

        r = sysfs_dev_read_uint(ctx, &d->addr, "vendor", 0, &v);
        if (r < 0)
                return r;
        r = sysfs_dev_read_uint(ctx, &d->addr, "device", 0, &dev);
        if (r < 0)
                return r;
        r = sysfs_dev_read_uint(ctx, &d->addr, "class", 0, &k);
        if (r < 0)
                return r;
        (void) sysfs_dev_read_uint(ctx, &d->addr, "subsystem_vendor", 0, &sv);
        (void) sysfs_dev_read_uint(ctx, &d->addr, "subsystem_device", 0, &sd);
        if (v > 0xffff || dev > 0xffff || k > 0xffffff || sv > 0xffff || sd > 0xffff)
                return -EBADMSG;
        d->vendor = (uint16_t) v;
        d->device = (uint16_t) dev;
        d->class = k;
        d->subsystem_vendor = (uint16_t) sv;
        d->subsystem_device = (uint16_t) sd;

        r = sysfs_dev_link_name(ctx, &d->addr, "driver", &d->driver);
        if (r == -ENOENT)
                d->driver = NULL;
        else if (r < 0)
                return r;
        return 0;
}

static int load_netdevs(sriov_ctx *ctx, sriov_device *d) {
        _cleanup_free_ char *p = sysfs_dev_path(ctx, &d->addr, "net");
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int r;

        if (!p)
                return -ENOMEM;
        dir = opendir(p);
        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.' || !ifname_is_valid(de->d_name))
                        continue;
                r = strv_extend(&d->netdevs, de->d_name);
                if (r < 0)
                        return r;
        }
        strv_sort(d->netdevs);
        return 0;
}

static int load_parent(sriov_ctx *ctx, sriov_device *d) {
        _cleanup_free_ char *p = sysfs_path(ctx, "bus/pci/devices"), *link = NULL;
        char buf[PATH_MAX], *slash;
        ssize_t n;
        pci_addr up;

        if (!p)
                return -ENOMEM;
        /* bus/pci/devices/BDF links to ../../../devices/pci0000:00/[BRIDGE/...]BDF:
         * one readlink, where realpath() would read a link per component */
        link = strdup_printf("%s/%s", p, d->bdf);
        if (!link)
                return -ENOMEM;
        n = readlink(link, buf, sizeof(buf) - 1);
        if (n >= 0)
                buf[n] = 0;
        else if (errno != EINVAL || !realpath(link, buf))       /* EINVAL: a directory (test trees) */
                return negative_errno();
        slash = strrchr(buf, '/');
        if (!slash)
                return 0;
        *slash = 0;
        slash = strrchr(buf, '/');
        if (slash && pci_addr_parse(slash + 1, &up) >= 0) {
                d->parent = strdup(slash + 1);
                if (!d->parent)
                        return -ENOMEM;
        }
        return 0;
}

static void check_cap_consistency(sriov_device *d) {
        sriov_pf_info *s = &d->sriov;
        char buf[256] = "";
        size_t n = 0;

#define MISMATCH(cond, ...)                                                     \
        do {                                                                    \
                if ((cond) && n < sizeof(buf))                                  \
                        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s", n ? "; " : ""), \
                        n += (size_t) snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__); \
        } while (0)

        if (!s->cap_read)
                return;
        if (!s->cap_present) {
                MISMATCH(true, "sysfs shows SR-IOV attributes but config space has no SR-IOV capability");
        } else {
                /* A driver may lower the limit (pci_sriov_set_totalvfs), never raise it. */
                MISMATCH(s->total_vfs > s->cap_total_vfs, "sriov_totalvfs %u > TotalVFs %u in config space",
                         s->total_vfs, s->cap_total_vfs);
                MISMATCH(s->num_vfs != s->cap_num_vfs, "sriov_numvfs %u != NumVFs %u in config space",
                         s->num_vfs, s->cap_num_vfs);
                MISMATCH(s->vf_device != s->cap_vf_device, "sriov_vf_device %04x != VF Device ID %04x in config space",
                         s->vf_device, s->cap_vf_device);
                MISMATCH((s->num_vfs > 0) != s->cap_vf_enable, "VF Enable is %s with %u VFs",
                         s->cap_vf_enable ? "set" : "clear", s->num_vfs);
                /* Offset and stride may legally change with NumVFs; compare only
                 * while VFs are enabled, when both describe the same setting. */
                MISMATCH(s->num_vfs > 0 && s->offset != s->cap_offset, "sriov_offset %u != First VF Offset %u",
                         s->offset, s->cap_offset);
                MISMATCH(s->num_vfs > 0 && s->stride != s->cap_stride, "sriov_stride %u != VF Stride %u",
                         s->stride, s->cap_stride);
        }
#undef MISMATCH
        if (n > 0)
                s->cap_mismatch = strdup(buf);
}

static int load_sriov(sriov_ctx *ctx, sriov_device *d) {
        sriov_pf_info *s = &d->sriov;
        unsigned v;
        int r;

        r = sysfs_dev_read_uint(ctx, &d->addr, "sriov_totalvfs", 10, &s->total_vfs);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        d->is_pf = true;
        r = sysfs_dev_read_uint(ctx, &d->addr, "sriov_numvfs", 10, &s->num_vfs);
        if (r < 0)
                return r;
        (void) sysfs_dev_read_uint(ctx, &d->addr, "sriov_offset", 10, &s->offset);
        (void) sysfs_dev_read_uint(ctx, &d->addr, "sriov_stride", 10, &s->stride);
        if (sysfs_dev_read_uint(ctx, &d->addr, "sriov_vf_device", 16, &v) >= 0 && v <= 0xffff)
                s->vf_device = (uint16_t) v;
        s->autoprobe = -1;
        if (sysfs_dev_read_uint(ctx, &d->addr, "sriov_drivers_autoprobe", 10, &v) >= 0)
                s->autoprobe = v != 0;

        r = pci_read_sriov_cap(ctx, &d->addr, s);
        if (r < 0)
                return r;
        check_cap_consistency(d);
        return 0;
}

static int device_load(sriov_ctx *ctx, const pci_addr *a, sriov_device **ret) {
        _cleanup_(sriov_device_freep) sriov_device *d = NULL;
        _cleanup_free_ char *s = NULL;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->addr = *a;
        pci_addr_format(a, d->bdf);
        d->numa_node = -1;
        d->iommu_group = -1;
        d->vf_index = -1;

        r = load_uevent(ctx, d);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                free(d->driver);
                d->driver = NULL;
                r = load_id_files(ctx, d);
                if (r < 0)
                        return r;
        }
        d->is_bridge = (d->class >> 8) == 0x0604;

        if (sysfs_dev_read(ctx, a, "numa_node", &s) >= 0) {
                int n;
                if (safe_atoi(strstrip(s), 10, &n) >= 0 && n >= 0)
                        d->numa_node = n;
        }
        s = mfree(s);

        if (sysfs_dev_read(ctx, a, "driver_override", &s) >= 0) {
                strstrip(s);
                if (!isempty(s) && !streq(s, "(null)"))
                        d->driver_override = TAKE_PTR(s);
        }
        s = mfree(s);

        if (sysfs_dev_link_name(ctx, a, "iommu_group", &s) >= 0) {
                int g;
                if (safe_atoi(s, 10, &g) >= 0 && g >= 0)
                        d->iommu_group = g;
        }
        s = mfree(s);

        if (sysfs_dev_link_name(ctx, a, "physfn", &s) >= 0 && pci_addr_parse(s, &d->physfn) >= 0)
                d->is_vf = true;
        s = mfree(s);

        r = load_sriov(ctx, d);
        if (r < 0)
                return r;
        /* the names its VFs will have, remembered while pci.ids is loaded
         * anyway: a VF count change later does not load it again (tens of
         * milliseconds, in the middle of the change) */
        if (d->is_pf && d->sriov.vf_device)
                (void) pci_names_lookup(ctx, d->vendor, d->sriov.vf_device, d->class, NULL, NULL, NULL);
        r = load_netdevs(ctx, d);
        if (r < 0)
                return r;
        r = load_parent(ctx, d);
        if (r < 0 && r != -ENOENT)
                return r;

        (void) pci_names_lookup(ctx, d->vendor, d->device, d->class,
                                &d->vendor_name, &d->device_name, &d->class_name);
        *ret = TAKE_PTR(d);
        return 0;
}

/* A dozen attributes and links of one device: read through one open
 * directory of it (a device scope) */
int sriov_device_load(sriov_ctx *ctx, const pci_addr *a, sriov_device **ret) {
        sysfs_dev_scope scope;
        int r;

        sysfs_dev_scope_begin(ctx, a, &scope);
        r = device_load(ctx, a, ret);
        sysfs_dev_scope_end(&scope);
        return r;
}

sriov_host *sriov_host_free(sriov_host *h) {
        if (!h)
                return NULL;
        for (size_t i = 0; i < h->n_devices; i++)
                sriov_device_free(h->devices[i]);
        free(h->devices);
        return mfree(h);
}

static int cmp_dev(const void *a, const void *b) {
        const sriov_device *x = *(sriov_device * const *) a, *y = *(sriov_device * const *) b;

        return pci_addr_compare(&x->addr, &y->addr);
}

static size_t host_lower_bound(const sriov_host *h, const pci_addr *a) {
        size_t lo = 0, hi = h->n_devices;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (pci_addr_compare(&h->devices[mid]->addr, a) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

sriov_device *sriov_host_find(const sriov_host *h, const pci_addr *a) {
        size_t i = host_lower_bound(h, a);

        if (i < h->n_devices && pci_addr_equal(&h->devices[i]->addr, a))
                return h->devices[i];
        return NULL;
}

sriov_device *sriov_host_find_netdev(const sriov_host *h, const char *ifname) {
        for (size_t i = 0; i < h->n_devices; i++)
                if (strv_contains(h->devices[i]->netdevs, ifname))
                        return h->devices[i];
        return NULL;
}

/* Which VF of its PF is d? The PF's virtfnN links are the kernel's answer;
 * the routing-id arithmetic is used while the links are not (yet) there. */
static int vf_index_of(sriov_ctx *ctx, const sriov_device *pf, const sriov_device *vf) {
        uint32_t pf_rid = pci_addr_rid(&pf->addr), vf_rid = pci_addr_rid(&vf->addr);

        if (pf->sriov.stride == 0 || vf_rid < pf_rid + pf->sriov.offset || pf->addr.domain != vf->addr.domain)
                return -1;
        if ((vf_rid - pf_rid - pf->sriov.offset) % pf->sriov.stride != 0)
                return -1;
        return (int) ((vf_rid - pf_rid - pf->sriov.offset) / pf->sriov.stride);
}

/* Rebuild the PF <-> VF links across the model. */
static int host_link(sriov_host *h) {
        for (size_t i = 0; i < h->n_devices; i++) {
                sriov_device *d = h->devices[i];

                d->pf = NULL;
                d->vf_index = -1;
                if (d->is_pf) {
                        sriov_device **v = realloc(d->vfs, sizeof(*v) * MAX(d->sriov.num_vfs, 1u));
                        if (!v)
                                return -ENOMEM;
                        d->vfs = v;
                        d->n_vfs = d->sriov.num_vfs;
                        memset(v, 0, sizeof(*v) * d->n_vfs);
                }
        }
        for (size_t i = 0; i < h->n_devices; i++) {
                sriov_device *d = h->devices[i], *pf;
                int idx;

                if (!d->is_vf)
                        continue;
                pf = sriov_host_find(h, &d->physfn);
                if (!pf || !pf->is_pf)
                        continue;
                d->pf = pf;
                idx = vf_index_of(h->ctx, pf, d);
                d->vf_index = idx;
                if (idx >= 0 && (size_t) idx < pf->n_vfs)
                        pf->vfs[idx] = d;
        }
        return 0;
}

int sriov_host_scan(sriov_ctx *ctx, sriov_host **ret) {
        _cleanup_(sriov_host_freep) sriov_host *h = NULL;
        _cleanup_free_ char *p = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        size_t alloc = 0;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->ctx = ctx;

        p = sysfs_path(ctx, "bus/pci/devices");
        if (!p)
                return -ENOMEM;
        dir = opendir(p);
        if (!dir)
                return negative_errno();
        while ((de = readdir(dir))) {
                sriov_device *d;
                pci_addr a;

                if (pci_addr_parse(de->d_name, &a) < 0)
                        continue;
                r = sriov_device_load(ctx, &a, &d);
                if (r == -ENOENT)
                        continue;       /* vanished while we looked */
                if (r < 0)
                        return r;
                if (h->n_devices == alloc) {
                        size_t na = alloc ? alloc * 2 : 64;
                        sriov_device **n = realloc(h->devices, na * sizeof(*n));
                        if (!n) {
                                sriov_device_free(d);
                                return -ENOMEM;
                        }
                        h->devices = n;
                        alloc = na;
                }
                h->devices[h->n_devices++] = d;
        }
        if (h->n_devices > 1)
                qsort(h->devices, h->n_devices, sizeof(*h->devices), cmp_dev);
        r = host_link(h);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

/* Insert d; a device it replaces is handed back through ret_old (or freed). */
static int host_insert_keep(sriov_host *h, sriov_device *d, sriov_device **ret_old) {
        size_t i = host_lower_bound(h, &d->addr);
        sriov_device **n;

        if (ret_old)
                *ret_old = NULL;
        if (i < h->n_devices && pci_addr_equal(&h->devices[i]->addr, &d->addr)) {
                if (ret_old)
                        *ret_old = h->devices[i];
                else
                        sriov_device_free(h->devices[i]);
                h->devices[i] = d;
                return 0;
        }
        n = realloc(h->devices, (h->n_devices + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        h->devices = n;
        memmove(n + i + 1, n + i, (h->n_devices - i) * sizeof(*n));
        n[i] = d;
        h->n_devices++;
        return 0;
}

static void host_remove_at(sriov_host *h, size_t i) {
        sriov_device_free(h->devices[i]);
        memmove(h->devices + i, h->devices + i + 1, (h->n_devices - i - 1) * sizeof(*h->devices));
        h->n_devices--;
}

static bool strv_equal(char * const *a, char * const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

static bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

bool sriov_device_equal(const sriov_device *a, const sriov_device *b) {
        return pci_addr_equal(&a->addr, &b->addr) &&
                a->vendor == b->vendor && a->device == b->device && a->class == b->class &&
                a->subsystem_vendor == b->subsystem_vendor && a->subsystem_device == b->subsystem_device &&
                streq_ptr(a->driver, b->driver) && streq_ptr(a->driver_override, b->driver_override) &&
                a->numa_node == b->numa_node && a->iommu_group == b->iommu_group &&
                strv_equal(a->netdevs, b->netdevs) &&
                a->is_pf == b->is_pf && a->is_vf == b->is_vf &&
                (!a->is_vf || pci_addr_equal(&a->physfn, &b->physfn)) &&
                (!a->is_pf || (a->sriov.total_vfs == b->sriov.total_vfs &&
                               a->sriov.num_vfs == b->sriov.num_vfs &&
                               a->sriov.offset == b->sriov.offset &&
                               a->sriov.stride == b->sriov.stride &&
                               a->sriov.vf_device == b->sriov.vf_device &&
                               a->sriov.autoprobe == b->sriov.autoprobe &&
                               streq_ptr(a->sriov.cap_mismatch, b->sriov.cap_mismatch)));
}

sriov_family *sriov_family_free(sriov_family *f) {
        if (!f)
                return NULL;
        sriov_device_free(f->dev);
        for (size_t i = 0; i < f->n_vfs; i++)
                sriov_device_free(f->vfs[i]);
        free(f->vfs);
        return mfree(f);
}

int sriov_family_load(sriov_ctx *ctx, const pci_addr *a, sriov_family **ret) {
        _cleanup_(sriov_family_freep) sriov_family *f = NULL;
        int r;

        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->addr = *a;
        f->seqnum = sysfs_uevent_seqnum(ctx);

        r = sriov_device_load(ctx, a, &f->dev);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(f);
                return 0;
        }
        if (r < 0)
                return r;
        f->dev->seqnum = f->seqnum;

        if (f->dev->is_pf && f->dev->sriov.num_vfs > 0) {
                _cleanup_(sysfs_dev_scope_end) sysfs_dev_scope scope = { .fd = -EBADF };

                f->vfs = calloc(f->dev->sriov.num_vfs, sizeof(*f->vfs));
                if (!f->vfs)
                        return -ENOMEM;
                /* the virtfnN links through one open directory of the PF */
                sysfs_dev_scope_begin(ctx, a, &scope);
                for (unsigned n = 0; n < f->dev->sriov.num_vfs; n++) {
                        _cleanup_free_ char *name = NULL;
                        char link[32];
                        pci_addr va;

                        (void) snprintf(link, sizeof(link), "virtfn%u", n);
                        if (sysfs_dev_link_name(ctx, a, link, &name) < 0 || pci_addr_parse(name, &va) < 0)
                                continue;
                        r = sriov_device_load(ctx, &va, &f->vfs[f->n_vfs]);
                        if (r == -ENOENT)
                                continue;
                        if (r < 0)
                                return r;
                        /* packed: a VF that is missing leaves no hole, its index says which it is */
                        f->vfs[f->n_vfs]->seqnum = f->seqnum;
                        f->vfs[f->n_vfs++]->vf_index = (int) n;
                }
        }
        *ret = TAKE_PTR(f);
        return 0;
}

const sriov_device *sriov_family_vf(const sriov_family *f, unsigned index) {
        for (size_t i = 0; i < f->n_vfs; i++)
                if (f->vfs[i] && f->vfs[i]->vf_index == (int) index)
                        return f->vfs[i];
        return NULL;
}

static void host_remove_where(sriov_host *h, size_t i, sriov_change_cb cb, void *userdata) {
        if (cb)
                cb(h, SRIOV_DEVICE_REMOVED, h->devices[i], NULL, userdata);
        host_remove_at(h, i);
}

/* Insert or replace d; reports whether it was new or different, and keeps
 * the replaced snapshot in *ret_old for the change callback. */
static int host_put(sriov_host *h, sriov_device *d, sriov_device **ret_old) {
        sriov_device *old = sriov_host_find(h, &d->addr);
        bool changed = !old || !sriov_device_equal(old, d);
        sriov_change what = old ? SRIOV_DEVICE_CHANGED : SRIOV_DEVICE_ADDED;
        int r;

        r = host_insert_keep(h, d, ret_old);
        if (r < 0) {
                sriov_device_free(d);
                return r;
        }
        return changed ? (int) what + 1 : 0;
}

/* The function at addr is gone: remove it, and with a PF its VFs. */
static void host_remove_function(sriov_host *h, const pci_addr *addr, sriov_change_cb cb, void *userdata) {
        size_t i = host_lower_bound(h, addr);
        bool was_pf;

        if (i >= h->n_devices || !pci_addr_equal(&h->devices[i]->addr, addr))
                return;
        was_pf = h->devices[i]->is_pf;
        host_remove_where(h, i, cb, userdata);
        if (was_pf)
                for (size_t k = 0; k < h->n_devices;) {
                        sriov_device *v = h->devices[k];
                        if (v->is_vf && pci_addr_equal(&v->physfn, addr))
                                host_remove_where(h, k, cb, userdata);
                        else
                                k++;
                }
}

/* Remove the VFs of the PF of f that f no longer has. */
static void host_remove_stale_vfs(sriov_host *h, const sriov_family *f, sriov_change_cb cb, void *userdata) {
        for (size_t k = 0; k < h->n_devices;) {
                sriov_device *v = h->devices[k];
                bool keep = !v->is_vf || !pci_addr_equal(&v->physfn, &f->addr);

                for (size_t j = 0; !keep && j < f->n_vfs; j++)
                        keep = pci_addr_equal(&f->vfs[j]->addr, &v->addr);
                if (keep)
                        k++;
                else
                        host_remove_where(h, k, cb, userdata);
        }
}

/* What a merge put into the model, for the change callbacks after relinking:
 * the address, host_put()'s answer and the replaced snapshot of each. */
typedef struct merge_log {
        pci_addr *touched;
        int *what;
        sriov_device **olds;
        size_t n;
} merge_log;

static void merge_log_done(merge_log *m) {
        for (size_t i = 0; m->olds && i < m->n; i++)
                sriov_device_free(m->olds[i]);
        free(m->olds);
        free(m->touched);
        free(m->what);
}

static int merge_put(sriov_host *h, merge_log *m, sriov_device *d) {
        int r;

        m->touched[m->n] = d->addr;
        r = host_put(h, d, &m->olds[m->n]);
        if (r < 0)
                return r;
        m->what[m->n++] = r;
        return 0;
}

int sriov_host_merge(sriov_host *h, sriov_family *f, sriov_change_cb cb, void *userdata) {
        _cleanup_(sriov_family_freep) _unused_ sriov_family *family = f; /* frees what the merge did not take */
        _cleanup_(merge_log_done) merge_log m = {};
        int r;

        /* Changes are reported after relinking, so that callbacks see the
         * PF <-> VF links of the new model; removals are reported at once. */
        m.touched = calloc(f->n_vfs + 1, sizeof(*m.touched));
        m.what = calloc(f->n_vfs + 1, sizeof(*m.what));
        m.olds = calloc(f->n_vfs + 1, sizeof(*m.olds));
        if (!m.touched || !m.what || !m.olds)
                return -ENOMEM;

        if (!f->dev)
                host_remove_function(h, &f->addr, cb, userdata);
        else {
                if (f->dev->is_pf)
                        host_remove_stale_vfs(h, f, cb, userdata);
                r = merge_put(h, &m, TAKE_PTR(f->dev));
                if (r < 0)
                        return r;
                for (size_t j = 0; j < f->n_vfs; j++) {
                        r = merge_put(h, &m, TAKE_PTR(f->vfs[j]));
                        if (r < 0)
                                return r;
                }
        }

        r = host_link(h);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m.n; i++) {
                sriov_device *d;

                if (m.what[i] == 0 || !cb)
                        continue;
                d = sriov_host_find(h, &m.touched[i]);
                if (d)
                        cb(h, (sriov_change) (m.what[i] - 1), d, m.olds[i], userdata);
        }
        return 0;
}

static void note_change(sriov_host *h, sriov_change change, const sriov_device *d, const sriov_device *old,
                        void *userdata) {
        *(bool *) userdata = true;
}

int sriov_host_refresh(sriov_host *h, const pci_addr *a, bool *ret_changed) {
        sriov_family *f = NULL;
        bool changed = false;
        int r;

        r = sriov_family_load(h->ctx, a, &f);
        if (r < 0)
                return r;
        r = sriov_host_merge(h, f, note_change, &changed);
        if (r < 0)
                return r;
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

int sriov_host_resolve(const sriov_host *h, const char *ref, sriov_device **ret, sriov_error *err) {
        sriov_device *d;
        pci_addr a;

        if (isempty(ref))
                return sriov_error_set(err, -EINVAL, "Empty device name");
        if (pci_addr_parse(ref, &a) >= 0) {
                d = sriov_host_find(h, &a);
                if (!d) {
                        char bdf[PCI_ADDR_STRLEN];
                        return sriov_error_set(err, -ENODEV, "No PCI function %s", pci_addr_format(&a, bdf));
                }
                *ret = d;
                return 0;
        }
        if (!ifname_is_valid(ref))
                return sriov_error_set(err, -EINVAL,
                                       "Invalid device \"%.64s\": expected a PCI address (DDDD:BB:DD.F or BB:DD.F) or an interface name",
                                       ref);
        d = sriov_host_find_netdev(h, ref);
        if (!d)
                return sriov_error_set(err, -ENODEV, "No PCI function has network interface %s", ref);
        *ret = d;
        return 0;
}
