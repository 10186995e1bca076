/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libpci (pciutils) for what it does best: names from pci.ids and parsed
 * config space. Everything else is read from sysfs directly. */

#include <pci/pci.h>
#include <stdarg.h>

#include "ctx-internal.h"
#include "host.h"
#include "util.h"

/* libpci calls error() for conditions it cannot continue from (out of memory,
 * paths too long) and expects it not to return. */
_noreturn_ _printf_(1, 2) static void pci_error_cb(char *msg, ...) {
        va_list ap;

        va_start(ap, msg);
        (void) vfprintf(stderr, msg, ap);
        va_end(ap);
        (void) fputc('\n', stderr);
        abort();
}

/* The library does not log: libpci's warnings become silence. */
static void pci_quiet_cb(char *msg, ...) {
}

static struct pci_access *ctx_pci_locked(sriov_ctx *c) {
        _cleanup_free_ char *path = NULL;
        struct pci_access *a;

        if (c->pacc || c->pacc_error)
                return c->pacc;

        path = sysfs_path(c, "bus/pci");
        a = pci_alloc();
        if (!path || !a) {
                c->pacc_error = -ENOMEM;
                if (a)
                        pci_cleanup(a);
                return NULL;
        }
        a->error = pci_error_cb;
        a->warning = pci_quiet_cb;
        a->debug = pci_quiet_cb;
        a->method = PCI_ACCESS_SYS_BUS_PCI;
        if (pci_set_param(a, (char *) "sysfs.path", path) < 0) {
                c->pacc_error = -EINVAL;
                pci_cleanup(a);
                return NULL;
        }
#ifdef SRIOV_PCI_IDS
        pci_set_name_list_path(a, (char *) SRIOV_PCI_IDS, 0);
#endif
        pci_init(a);
        c->pacc = a;
        return a;
}

/* One lookup's answer. Every name a host needs is looked up in libpci once;
 * then libpci's copy of pci.ids can go (sriov_ctx_drop_pci_ids()). */
typedef struct pci_name_entry {
        uint16_t vendor, device;
        uint32_t class;                 /* base class, subclass: class >> 8 */
        char *vendor_name, *device_name, *class_name;
} pci_name_entry;

/* A host with more distinct ids than this looks the rest up in libpci each time. */
#define PCI_NAMES_MAX 512

static void pci_name_entry_done(pci_name_entry *e) {
        free(e->vendor_name);
        free(e->device_name);
        free(e->class_name);
}

static void pci_names_free(sriov_ctx *c) {
        for (size_t i = 0; i < c->n_names; i++)
                pci_name_entry_done(&c->names[i]);
        c->names = mfree(c->names);
        c->n_names = 0;
}

void pci_access_release(sriov_ctx *c) {
        if (c->pacc)
                pci_cleanup(c->pacc);
        c->pacc = NULL;
        pci_names_free(c);
}

void sriov_ctx_drop_pci_ids(sriov_ctx *c) {
        pthread_mutex_lock(&c->pci_lock);
        if (c->pacc)
                pci_free_name_list(c->pacc);    /* loaded again by the next lookup that needs it */
        pthread_mutex_unlock(&c->pci_lock);
}

static int dup_name(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static const pci_name_entry *names_find(const sriov_ctx *c, uint16_t vendor, uint16_t device, uint32_t class) {
        for (size_t i = 0; i < c->n_names; i++)
                if (c->names[i].vendor == vendor && c->names[i].device == device && c->names[i].class == class)
                        return &c->names[i];
        return NULL;
}

/* libpci's answers for the ids */
static int names_lookup_locked(sriov_ctx *c, uint16_t vendor, uint16_t device, uint32_t class,
                               pci_name_entry *ret) {
        _cleanup_free_ char *v = NULL, *d = NULL, *k = NULL;
        struct pci_access *a = ctx_pci_locked(c);
        const char *s;
        char buf[256];
        int r;

        if (!a)
                return c->pacc_error;
        s = pci_lookup_name(a, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, vendor);
        r = dup_name(s, &v);
        if (r < 0)
                return r;
        s = pci_lookup_name(a, buf, sizeof(buf), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, vendor, device);
        r = dup_name(s, &d);
        if (r < 0)
                return r;
        s = pci_lookup_name(a, buf, sizeof(buf), PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_NUMBERS, class);
        r = dup_name(s, &k);
        if (r < 0)
                return r;
        *ret = (pci_name_entry) { vendor, device, class, TAKE_PTR(v), TAKE_PTR(d), TAKE_PTR(k) };
        return 0;
}

/* Remembers *e, best effort: not when the cache is full or out of memory.
 * Returns the cache's entry (which took the names of *e), or e. */
static const pci_name_entry *names_remember_locked(sriov_ctx *c, pci_name_entry *e) {
        pci_name_entry *n = c->n_names < PCI_NAMES_MAX ? realloc(c->names, (c->n_names + 1) * sizeof(*n)) : NULL;

        if (!n)
                return e;
        c->names = n;
        n[c->n_names] = *e;
        *e = (pci_name_entry) {};       /* the cache has it */
        return &n[c->n_names++];
}

/* Copies of the names of the ids (NULL where there is none), from the cache
 * or from libpci, for the names asked (non-NULL); on failure the caller
 * frees what was copied. */
static int names_dup_locked(sriov_ctx *c, uint16_t vendor, uint16_t device, uint32_t class,
                            char **vendor_name, char **device_name, char **class_name) {
        _cleanup_(pci_name_entry_done) pci_name_entry fresh = {};
        const pci_name_entry *e;
        int r;

        e = names_find(c, vendor, device, class);
        if (!e) {
                r = names_lookup_locked(c, vendor, device, class, &fresh);
                if (r < 0)
                        return r;
                e = names_remember_locked(c, &fresh);
        }
        if ((vendor_name && e->vendor_name && !(*vendor_name = strdup(e->vendor_name))) ||
            (device_name && e->device_name && !(*device_name = strdup(e->device_name))) ||
            (class_name && e->class_name && !(*class_name = strdup(e->class_name))))
                return -ENOMEM;
        return 0;
}

int pci_names_lookup(sriov_ctx *c, uint16_t vendor, uint16_t device, uint32_t class,
                     char **ret_vendor, char **ret_device, char **ret_class) {
        _cleanup_free_ char *v = NULL, *d = NULL, *k = NULL;
        int r;

        pthread_mutex_lock(&c->pci_lock);
        r = names_dup_locked(c, vendor, device, class >> 8, ret_vendor ? &v : NULL, ret_device ? &d : NULL,
                             ret_class ? &k : NULL);
        pthread_mutex_unlock(&c->pci_lock);
        if (r < 0)
                return r;
        if (ret_vendor)
                *ret_vendor = TAKE_PTR(v);
        if (ret_device)
                *ret_device = TAKE_PTR(d);
        if (ret_class)
                *ret_class = TAKE_PTR(k);
        return 0;
}

bool pci_names_remembered(sriov_ctx *c, uint16_t vendor, uint16_t device, uint32_t class) {
        bool found;

        pthread_mutex_lock(&c->pci_lock);
        found = names_find(c, vendor, device, class >> 8);
        pthread_mutex_unlock(&c->pci_lock);
        return found;
}

/* SR-IOV extended capability layout (PCIe base spec, 9.3.3). */
#define SRIOV_CTRL        0x08
#define SRIOV_CTRL_VFE    0x0001
#define SRIOV_TOTAL_VF    0x0e
#define SRIOV_NUM_VF      0x10
#define SRIOV_VF_OFFSET   0x14
#define SRIOV_VF_STRIDE   0x16
#define SRIOV_VF_DID      0x1a

int pci_read_sriov_cap(sriov_ctx *c, const pci_addr *addr, sriov_pf_info *info) {
        struct pci_access *a;
        struct pci_dev *d;
        struct pci_cap *cap;
        int r = 0;

        info->cap_read = false;
        info->cap_present = false;

        pthread_mutex_lock(&c->pci_lock);
        a = ctx_pci_locked(c);
        if (!a) {
                r = c->pacc_error;
                goto out;
        }
        d = pci_get_dev(a, (int) addr->domain, addr->bus, addr->dev, addr->func);
        if (!d) {
                r = -ENOMEM;
                goto out;
        }
        /* Extended capabilities live above 0x100; an unprivileged reader only
         * sees 64 bytes, so check that the extended space is readable at all. */
        {
                uint8_t probe[4];

                if (!pci_read_block(d, 0x100, probe, sizeof(probe))) {
                        pci_free_dev(d);
                        goto out;
                }
        }
        info->cap_read = true;
        pci_fill_info(d, PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
        cap = pci_find_cap(d, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED);
        if (cap) {
                unsigned pos = (unsigned) cap->addr;

                info->cap_present = true;
                info->cap_vf_enable = pci_read_word(d, (int) (pos + SRIOV_CTRL)) & SRIOV_CTRL_VFE;
                info->cap_total_vfs = pci_read_word(d, (int) (pos + SRIOV_TOTAL_VF));
                info->cap_num_vfs = pci_read_word(d, (int) (pos + SRIOV_NUM_VF));
                info->cap_offset = pci_read_word(d, (int) (pos + SRIOV_VF_OFFSET));
                info->cap_stride = pci_read_word(d, (int) (pos + SRIOV_VF_STRIDE));
                info->cap_vf_device = pci_read_word(d, (int) (pos + SRIOV_VF_DID));
        }
        pci_free_dev(d);
out:
        pthread_mutex_unlock(&c->pci_lock);
        return r;
}
