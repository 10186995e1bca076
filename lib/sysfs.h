/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stdint.h>

#include "bdf.h"
#include "basics.h"

/* The one place sysfs paths are built. Everything is rooted at a configurable
 * directory ("/sys" on a real host, a simulator mount in tests) and every
 * variable component is validated before it joins a path. */

typedef struct sriov_ctx sriov_ctx;

/* A human-readable explanation of a failure, filled in by operations next to
 * the negative errno they return. Optional everywhere (NULL is fine). */
typedef struct sriov_error {
        int error;              /* negative errno, 0 if unset */
        char message[512];
} sriov_error;

int sriov_error_set(sriov_error *e, int error, const char *fmt, ...) _printf_(3, 4);

#define SRIOV_DEFAULT_TIMEOUT_USEC (10ULL * 1000000ULL)

int sriov_ctx_new(const char *sysfs_root, sriov_ctx **ret);
sriov_ctx *sriov_ctx_free(sriov_ctx *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(sriov_ctx *, sriov_ctx_free);

const char *sriov_ctx_root(const sriov_ctx *c);
/* Where device nodes live (default "/dev"); /dev/vfio, /dev/iommu. */
int sriov_ctx_set_dev_root(sriov_ctx *c, const char *dev_root);
const char *sriov_ctx_dev_root(const sriov_ctx *c);
/* Where processes are listed (default "/proc"); for VFIO holders. */
int sriov_ctx_set_proc_root(sriov_ctx *c, const char *proc_root);
const char *sriov_ctx_proc_root(const sriov_ctx *c);
/* Upper bound for every wait on the kernel made by this context. */
void sriov_ctx_set_timeout(sriov_ctx *c, uint64_t usec);
uint64_t sriov_ctx_timeout(const sriov_ctx *c);

/* Path builders: return a fresh string or NULL (ENOMEM, or -EINVAL for an
 * invalid component, reported through errno). attr may be NULL for the
 * directory itself. */
char *sysfs_dev_path(const sriov_ctx *c, const pci_addr *a, const char *attr);

/* A device scope: until sysfs_dev_scope_end(), this thread's paths to a's
 * attributes (sysfs_dev_path() and the helpers below) go through one open
 * directory of the device, /proc/self/fd/N/ATTR, instead of resolving
 * bus/pci/devices/BDF (a symlink into devices/pci.../) once per attribute.
 * On a kernel that walk is cheap (dcache); over FUSE (tests/sim) each
 * component is a round trip. Scopes nest (end them in reverse order); a
 * device that cannot be opened gets no scope (plain paths). Never for a
 * path that outlives the scope (sysfs_write_bounded()'s late report). */
typedef struct sysfs_dev_scope {
        pci_addr addr;
        int fd;
        struct sysfs_dev_scope *prev;
} sysfs_dev_scope;
void sysfs_dev_scope_begin(const sriov_ctx *c, const pci_addr *a, sysfs_dev_scope *s);
void sysfs_dev_scope_end(sysfs_dev_scope *s);
char *sysfs_driver_path(const sriov_ctx *c, const char *driver, const char *attr);
char *sysfs_net_path(const sriov_ctx *c, const char *ifname, const char *attr);
char *sysfs_group_path(const sriov_ctx *c, int group, const char *attr);
/* A constant path relative to the root ("bus/pci/drivers_probe"). Never pass
 * input from outside the program. */
char *sysfs_path(const sriov_ctx *c, const char *relative);
char *dev_path(const sriov_ctx *c, const char *relative);

/* Attribute helpers on a device. */
int sysfs_dev_read(const sriov_ctx *c, const pci_addr *a, const char *attr, char **ret);
int sysfs_dev_read_uint(const sriov_ctx *c, const pci_addr *a, const char *attr, int base, unsigned *ret);
int sysfs_dev_write(const sriov_ctx *c, const pci_addr *a, const char *attr, const char *value);
int sysfs_dev_link_name(const sriov_ctx *c, const pci_addr *a, const char *link, char **ret);
bool sysfs_dev_exists(const sriov_ctx *c, const pci_addr *a, const char *attr);

/* Called from a helper thread when a bounded write that timed out finally
 * returns from the kernel (result: 0 or negative errno). dev: the device the
 * write was about (its sysfs_write_bounded() argument). */
typedef void (*sriov_late_cb)(const pci_addr *dev, const char *path, int result, void *userdata);
void sriov_ctx_set_late_callback(sriov_ctx *c, sriov_late_cb cb, void *userdata);

/* Write value to path (a write about the device dev) in a helper thread and wait at most the context's
 * timeout for the kernel to return. A write that is still blocked in the
 * kernel when the time is up returns -ETIMEDOUT; it completes (or not) on its
 * own later, and the context's late callback reports the outcome then.
 * Used for writes that the kernel may block indefinitely (unbind of a device
 * whose user holds it open, sriov_numvfs while a VF is held). */
int sysfs_write_bounded(const sriov_ctx *c, const pci_addr *dev, const char *path, const char *value);
/* How many bounded writes this thread has abandoned to the kernel so far:
 * a change across a call tells an -ETIMEDOUT of a write the kernel still
 * holds from one of a bounded wait that is over. */
unsigned sysfs_writes_abandoned(void);
/* Count n writes another thread abandoned (it did them on this one's behalf). */
void sysfs_writes_abandoned_add(unsigned n);

/* The kernel's uevent sequence number (kernel/uevent_seqnum), 0 if unknown.
 * A snapshot taken after reading N reflects every uevent numbered <= N. */
uint64_t sysfs_uevent_seqnum(const sriov_ctx *c);
