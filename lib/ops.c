/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <sys/stat.h>

#include "ctx-internal.h"
#include "ops.h"
#include "util.h"

static const char *bdf_of(const pci_addr *a, char buf[static PCI_ADDR_STRLEN]) {
        return pci_addr_format(a, buf);
}

static double secs(uint64_t usec) {
        return (double) usec / 1e6;
}

bool sriov_driver_loaded(sriov_ctx *ctx, const char *driver) {
        _cleanup_free_ char *p = sysfs_driver_path(ctx, driver, NULL);
        struct stat st;

        return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

bool driver_is_dma_managed(const char *driver) {
        size_t n;

        if (!driver)
                return false;
        if (streq(driver, "vfio-pci") || streq(driver, "pci-stub") || streq(driver, "pcieport") ||
            streq(driver, "pci-pf-stub"))
                return true;
        /* vendor variants: mlx5_vfio_pci, hisi_acc_vfio_pci, ... */
        n = strlen(driver);
        return n > 8 && (streq(driver + n - 8, "vfio-pci") || streq(driver + n - 8, "vfio_pci"));
}

bool driver_is_vfio(const char *driver) {
        size_t n;

        if (!driver)
                return false;
        n = strlen(driver);
        return streq(driver, "vfio-pci") || (n > 8 && (streq(driver + n - 8, "vfio-pci") || streq(driver + n - 8, "vfio_pci")));
}

static int read_driver(sriov_ctx *ctx, const pci_addr *a, char **ret) {
        int r;

        r = sysfs_dev_link_name(ctx, a, "driver", ret);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

static int read_override(sriov_ctx *ctx, const pci_addr *a, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = sysfs_dev_read(ctx, a, "driver_override", &s);
        if (r < 0)
                return r;
        strstrip(s);
        *ret = isempty(s) || streq(s, "(null)") ? NULL : TAKE_PTR(s);
        return 0;
}

static int check_device(sriov_ctx *ctx, const pci_addr *a, sriov_error *err) {
        char bdf[PCI_ADDR_STRLEN];

        if (!sysfs_dev_exists(ctx, a, NULL))
                return sriov_error_set(err, -ENODEV, "No PCI function %s", bdf_of(a, bdf));
        return 0;
}

/* Wait, bounded, until VFs 0..n-1 of the PF are visible: each virtfnN link
 * resolves to a device directory. */
static int wait_for_vfs(sriov_ctx *ctx, const pci_addr *pf, unsigned n, sriov_error *err) {
        uint64_t deadline = now_usec() + sriov_ctx_timeout(ctx), delay = 500;
        unsigned seen = 0;
        char bdf[PCI_ADDR_STRLEN];

        for (;;) {
                for (; seen < n; seen++) {
                        char link[32];

                        (void) snprintf(link, sizeof(link), "virtfn%u", seen);
                        if (!sysfs_dev_exists(ctx, pf, link))
                                break;
                }
                if (seen == n)
                        return 0;
                if (now_usec() >= deadline)
                        return sriov_error_set(err, -ETIMEDOUT,
                                               "Timed out after %.1fs waiting for the VFs of %s: %u of %u appeared",
                                               secs(sriov_ctx_timeout(ctx)), bdf_of(pf, bdf), seen, n);
                sleep_usec(delay);
                delay = MIN(delay * 2, 20000u);
        }
}

static int numvfs_write(sriov_ctx *ctx, const pci_addr *pf, unsigned count, unsigned total, sriov_error *err) {
        _cleanup_free_ char *p = sysfs_dev_path(ctx, pf, "sriov_numvfs");
        char bdf[PCI_ADDR_STRLEN], val[16];
        int r;

        if (!p)
                return -ENOMEM;
        (void) snprintf(val, sizeof(val), "%u", count);
        bdf_of(pf, bdf);
        r = sysfs_write_bounded(ctx, pf, p, val);
        switch (r) {
        case 0:
                return 0;
        case -ETIMEDOUT:
                return sriov_error_set(err, r,
                                       count == 0
                                       ? "Disabling the VFs of %s did not finish within %.1fs: a VF is still held by its user (a VFIO device fd); the kernel completes it once released"
                                       : "Enabling VFs on %s did not finish within %.1fs; the kernel is still working on it",
                                       bdf, secs(sriov_ctx_timeout(ctx)));
        case -EBUSY:
                return sriov_error_set(err, r, "The kernel refused to change the VF count of %s: VFs are enabled or in use (EBUSY)", bdf);
        case -ERANGE:
                return sriov_error_set(err, r, "%u VFs exceed the %u that %s supports", count, total, bdf);
        case -ENOENT:
                return sriov_error_set(err, r, "No driver bound to %s, or its driver cannot configure SR-IOV; bind the PF driver first", bdf);
        case -EPERM:
                return sriov_error_set(err, r, "The driver of %s refuses: VFs are assigned to guests; release them first", bdf);
        case -EINVAL:
                /* The count is valid (checked above): this is the driver
                 * talking. i40e, ixgbe and others answer EINVAL when asked to
                 * disable VFs that are assigned. */
                if (count == 0)
                        return sriov_error_set(err, -EPERM,
                                               "The driver of %s refuses to disable its VFs (EINVAL): VFs are probably assigned to guests; release them first",
                                               bdf);
                return sriov_error_set(err, -EIO, "The driver of %s failed to enable %u VFs (EINVAL)", bdf, count);
        default:
                return sriov_error_set(err, r, "The driver of %s failed to %s VFs: %s", bdf, count ? "enable" : "disable", strerror(-r));
        }
}

/* The VFs a count change destroys (all of them: a non-zero count goes
 * through 0) let go of their drivers first, in parallel: the kernel's
 * sriov_disable() removes them one after another, each driver's remove()
 * (a netdev's unregistering) in turn, where separate unbinds run at once
 * (the kernel locks per device). At most this many at a time. */
#define RELEASE_PARALLEL 8U

typedef struct vf_release {
        sriov_ctx *ctx;
        pci_addr vf;
        char *prior_driver;             /* what it had; NULL: nothing unbound */
        char *prior_override;
        int r;
        sriov_error err;
        unsigned abandoned;             /* bounded writes the kernel still holds */
        bool threaded;                  /* unbound by a thread of its own */
} vf_release;

static void *release_one(void *p) {
        vf_release *v = p;

        unsigned before = sysfs_writes_abandoned();

        (void) read_override(v->ctx, &v->vf, &v->prior_override);
        v->r = sriov_unbind(v->ctx, &v->vf, &v->prior_driver, &v->err);
        v->abandoned = sysfs_writes_abandoned() - before;
        return NULL;
}

static void release_done(vf_release *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].prior_driver);
                free(v[i].prior_override);
        }
        free(v);
}

/* Unbind the cur VFs of pf, RELEASE_PARALLEL at a time; *ret (n = cur) says
 * what each had, for release_undo(). The first failure is returned, after
 * every unbind started has ended. */
static int release_vfs(sriov_ctx *ctx, const pci_addr *pf, unsigned cur, vf_release **ret, sriov_error *err) {
        vf_release *v = calloc(cur, sizeof(*v));
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (unsigned i = 0; i < cur; i++) {
                _cleanup_free_ char *name = NULL;
                char link[32];

                v[i] = (vf_release) { .ctx = ctx, .r = 1 };
                (void) snprintf(link, sizeof(link), "virtfn%u", i);
                if (sysfs_dev_link_name(ctx, pf, link, &name) < 0 || pci_addr_parse(name, &v[i].vf) < 0)
                        v[i].r = 0;     /* not there: nothing to unbind */
        }
        for (unsigned first = 0; first < cur; first += RELEASE_PARALLEL) {
                unsigned end = MIN(first + RELEASE_PARALLEL, cur);
                pthread_t t[RELEASE_PARALLEL];
                bool started[RELEASE_PARALLEL] = {};

                for (unsigned i = first; i < end; i++)
                        if (v[i].r == 1)
                                v[i].threaded = started[i - first] =
                                        pthread_create(&t[i - first], NULL, release_one, &v[i]) == 0;
                for (unsigned i = first; i < end; i++) {
                        if (started[i - first])
                                (void) pthread_join(t[i - first], NULL);
                        else if (v[i].r == 1)
                                release_one(&v[i]);     /* no thread: here */
                }
        }
        /* a held unbind is the caller's (its lane waits for the kernel) */
        for (unsigned i = 0; i < cur; i++)
                if (v[i].threaded)
                        sysfs_writes_abandoned_add(v[i].abandoned);
        for (unsigned i = 0; i < cur && r >= 0; i++)
                if (v[i].r < 0) {
                        r = v[i].r;
                        if (err)
                                *err = v[i].err;
                }
        *ret = v;
        return r;
}

/* Each VF unbound gets its driver back (a count change that did not happen). */
static void release_undo(sriov_ctx *ctx, const vf_release *v, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                if (v[i].prior_driver)
                        (void) sriov_restore_driver(ctx, &v[i].vf, v[i].prior_driver, v[i].prior_override, NULL);
}

/* Order: validate (an SR-IOV PF; count ≤ sriov_totalvfs) → nothing to do when
 * the count is already right → sriov_drivers_autoprobe as asked → the VFs
 * it destroys unbound, in parallel (put back if the change fails) → 0 first
 * when changing a non-zero count (the kernel answers EBUSY otherwise) → the
 * new count → read back what the driver enabled → wait (bounded) until every
 * virtfnN exists. */
int sriov_set_numvfs(sriov_ctx *ctx, const pci_addr *pf, unsigned count, int autoprobe,
                     unsigned *ret_enabled, sriov_error *err) {
        char bdf[PCI_ADDR_STRLEN];
        unsigned total, cur, enabled;
        int r;

        bdf_of(pf, bdf);
        r = check_device(ctx, pf, err);
        if (r < 0)
                return r;
        r = sysfs_dev_read_uint(ctx, pf, "sriov_totalvfs", 10, &total);
        if (r == -ENOENT)
                return sriov_error_set(err, -EOPNOTSUPP, "%s is not an SR-IOV physical function", bdf);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read sriov_totalvfs of %s: %s", bdf, strerror(-r));
        if (count > total)
                return sriov_error_set(err, -ERANGE, "%u VFs exceed the %u that %s supports", count, total, bdf);
        r = sysfs_dev_read_uint(ctx, pf, "sriov_numvfs", 10, &cur);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read sriov_numvfs of %s: %s", bdf, strerror(-r));

        if (autoprobe >= 0) {
                unsigned ap = 0;

                r = sysfs_dev_read_uint(ctx, pf, "sriov_drivers_autoprobe", 10, &ap);
                if (r < 0)
                        return sriov_error_set(err, r, "Cannot read sriov_drivers_autoprobe of %s: %s", bdf, strerror(-r));
                if ((ap != 0) != (autoprobe != 0)) {
                        r = sysfs_dev_write(ctx, pf, "sriov_drivers_autoprobe", autoprobe ? "1" : "0");
                        if (r < 0)
                                return sriov_error_set(err, r, "Cannot set sriov_drivers_autoprobe of %s: %s", bdf, strerror(-r));
                }
        }

        if (cur != count) {
                vf_release *released = NULL;

                if (cur > 0) {
                        r = release_vfs(ctx, pf, cur, &released, err);
                        if (r < 0 && r != -ETIMEDOUT)
                                release_undo(ctx, released, cur);
                        if (r < 0) {
                                release_done(released, cur);
                                return r;
                        }
                }
                if (cur != 0 && count != 0)
                        r = numvfs_write(ctx, pf, 0, total, err);
                if (r >= 0)
                        r = numvfs_write(ctx, pf, count, total, err);
                /* not changed: the VFs are still there, with their drivers back */
                if (r < 0 && r != -ETIMEDOUT && released &&
                    sysfs_dev_read_uint(ctx, pf, "sriov_numvfs", 10, &enabled) >= 0 && enabled == cur)
                        release_undo(ctx, released, cur);
                release_done(released, cur);
                if (r < 0)
                        return r;
        }

        r = sysfs_dev_read_uint(ctx, pf, "sriov_numvfs", 10, &enabled);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read back sriov_numvfs of %s: %s", bdf, strerror(-r));
        r = wait_for_vfs(ctx, pf, enabled, err);
        if (r < 0)
                return r;
        if (ret_enabled)
                *ret_enabled = enabled;
        return 0;
}

static int write_override(sriov_ctx *ctx, const pci_addr *dev, const char *driver, sriov_error *err) {
        char bdf[PCI_ADDR_STRLEN];
        int r;

        /* A lone newline clears the override (driver_set_override()). */
        r = sysfs_dev_write(ctx, dev, "driver_override", driver ?: "\n");
        if (r < 0)
                return sriov_error_set(err, r, "Cannot %s driver_override of %s: %s", driver ? "set" : "clear",
                                       bdf_of(dev, bdf), strerror(-r));
        return 0;
}

static int unbind_from(sriov_ctx *ctx, const pci_addr *dev, const char *driver, sriov_error *err) {
        _cleanup_free_ char *p = sysfs_driver_path(ctx, driver, "unbind");
        char bdf[PCI_ADDR_STRLEN];
        int r;

        if (!p)
                return -ENOMEM;
        bdf_of(dev, bdf);
        r = sysfs_write_bounded(ctx, dev, p, bdf);
        if (r == -ETIMEDOUT)
                return sriov_error_set(err, r,
                                       "Unbinding %s from %s did not finish within %.1fs: the device is still in use by its user; the kernel completes the unbind once it is released",
                                       bdf, driver, secs(sriov_ctx_timeout(ctx)));
        if (r == -ENODEV)
                return 0;       /* no longer bound to it: what we wanted */
        if (r < 0)
                return sriov_error_set(err, r, "Cannot unbind %s from %s: %s", bdf, driver, strerror(-r));
        return 0;
}

static int probe(sriov_ctx *ctx, const pci_addr *dev, sriov_error *err) {
        _cleanup_free_ char *p = sysfs_path(ctx, "bus/pci/drivers_probe");
        char bdf[PCI_ADDR_STRLEN];
        int r;

        if (!p)
                return -ENOMEM;
        bdf_of(dev, bdf);
        r = sysfs_write_bounded(ctx, dev, p, bdf);
        if (r == -ETIMEDOUT)
                return sriov_error_set(err, r, "Probing drivers for %s did not finish within %.1fs", bdf,
                                       secs(sriov_ctx_timeout(ctx)));
        if (r < 0)
                return sriov_error_set(err, r, "Probing drivers for %s failed: %s", bdf, strerror(-r));
        return 0;
}

static int restore_driver(sriov_ctx *ctx, const pci_addr *dev, const char *prior_driver,
                          const char *prior_override, bool undo, sriov_error *err);

/* Order: driver_override = driver → unbind from the current driver →
 * drivers_probe → verify the driver link → clear the override unless asked
 * to keep it. A failure after the override was written puts back the prior
 * override and driver. */
int sriov_bind(sriov_ctx *ctx, const pci_addr *dev, const char *driver, unsigned flags,
               char **ret_prior_driver, char **ret_prior_override, sriov_error *err) {
        _cleanup_free_ char *cur = NULL, *ovr = NULL, *now = NULL;
        const char *ovr_now;            /* what driver_override holds by now */
        char bdf[PCI_ADDR_STRLEN];
        bool changed = false;
        int r;

        bdf_of(dev, bdf);
        if (!driver_name_is_valid(driver))
                return sriov_error_set(err, -EINVAL, "Invalid driver name \"%.64s\"", strempty(driver));
        r = check_device(ctx, dev, err);
        if (r < 0)
                return r;
        if (!sriov_driver_loaded(ctx, driver))
                return sriov_error_set(err, -ENOENT, "Driver %s is not loaded (no bus/pci/drivers/%s); load its module first",
                                       driver, driver);
        r = read_driver(ctx, dev, &cur);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
        r = read_override(ctx, dev, &ovr);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read driver_override of %s: %s", bdf, strerror(-r));

        ovr_now = ovr;
        if (!cur || !streq(cur, driver)) {
                r = write_override(ctx, dev, driver, err);
                if (r < 0)
                        return r;
                ovr_now = driver;
                if (cur) {
                        r = unbind_from(ctx, dev, cur, err);
                        if (r == -ETIMEDOUT)
                                return r;       /* still pending in the kernel: nothing to roll back yet */
                        if (r < 0)
                                goto rollback;
                }
                r = probe(ctx, dev, err);
                if (r == -ETIMEDOUT)
                        return r;       /* the probe holds the device lock: nothing can be rolled back yet */
                if (r < 0)
                        goto rollback;
                r = read_driver(ctx, dev, &now);
                if (r < 0) {
                        sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
                        goto rollback;
                }
                if (!now || !streq(now, driver)) {
                        r = sriov_error_set(err, -ENXIO, "%s did not bind to %s (%s); its probe failed or it does not support the device",
                                            driver, bdf, now ? now : "left unbound");
                        goto rollback;
                }
                changed = true;
        }

        /* a failure here is a failed bind too: put back what was there */
        if (flags & SRIOV_BIND_KEEP_OVERRIDE) {
                if (!ovr_now || !streq(ovr_now, driver)) {
                        r = write_override(ctx, dev, driver, err);
                        if (r < 0)
                                goto rollback;
                }
        } else if (ovr_now) {
                r = write_override(ctx, dev, NULL, err);
                if (r < 0)
                        goto rollback;
        }

        if (ret_prior_driver)
                *ret_prior_driver = TAKE_PTR(cur);
        if (ret_prior_override)
                *ret_prior_override = TAKE_PTR(ovr);
        return changed;

rollback:
        (void) restore_driver(ctx, dev, cur, ovr, false, NULL);
        return r;
}

int sriov_unbind(sriov_ctx *ctx, const pci_addr *dev, char **ret_prior_driver, sriov_error *err) {
        _cleanup_free_ char *cur = NULL, *now = NULL;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        bdf_of(dev, bdf);
        r = check_device(ctx, dev, err);
        if (r < 0)
                return r;
        r = read_driver(ctx, dev, &cur);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
        if (!cur) {
                if (ret_prior_driver)
                        *ret_prior_driver = NULL;
                return 0;
        }
        r = unbind_from(ctx, dev, cur, err);
        if (r < 0)
                return r;
        if (read_driver(ctx, dev, &now) >= 0 && now)
                return sriov_error_set(err, -EBUSY, "%s is still bound to %s after unbinding", bdf, now);
        if (ret_prior_driver)
                *ret_prior_driver = TAKE_PTR(cur);
        return 1;
}

/* Order: driver_override = prior driver (so that exactly that driver takes
 * the device, whatever else matches) → unbind the current driver →
 * drivers_probe → verify → driver_override = prior override (or cleared).
 * A step that fails after the first write puts back the driver and the
 * override the function had (the same sequence towards them, once), unless
 * the kernel still holds a write (ETIMEDOUT): then the caller finishes it. */
static int restore_driver(sriov_ctx *ctx, const pci_addr *dev, const char *prior_driver,
                          const char *prior_override, bool undo, sriov_error *err) {
        _cleanup_free_ char *cur = NULL, *ovr = NULL, *ovr_now = NULL, *now = NULL;
        char bdf[PCI_ADDR_STRLEN];
        bool changed = false;
        int r;

        bdf_of(dev, bdf);
        if (prior_driver && !driver_name_is_valid(prior_driver))
                return sriov_error_set(err, -EINVAL, "Invalid driver name \"%.64s\"", prior_driver);
        if (prior_override && !driver_name_is_valid(prior_override))
                return sriov_error_set(err, -EINVAL, "Invalid driver name \"%.64s\"", prior_override);
        r = check_device(ctx, dev, err);
        if (r < 0)
                return r;
        r = read_driver(ctx, dev, &cur);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
        r = read_override(ctx, dev, &ovr);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read driver_override of %s: %s", bdf, strerror(-r));

        if (!(cur && prior_driver && streq(cur, prior_driver)) && !(!cur && !prior_driver)) {
                if (prior_driver && !sriov_driver_loaded(ctx, prior_driver))
                        return sriov_error_set(err, -ENOENT, "Driver %s is not loaded; cannot give %s back to it",
                                               prior_driver, bdf);
                /* The override makes drivers_probe pick exactly the prior
                 * driver; with none, the function is simply unbound. */
                r = write_override(ctx, dev, prior_driver ?: prior_override, err);
                if (r < 0)
                        return r;
                changed = true;
                if (cur) {
                        r = unbind_from(ctx, dev, cur, err);
                        if (r < 0)
                                goto undo;
                }
                if (prior_driver) {
                        r = probe(ctx, dev, err);
                        if (r < 0)
                                goto undo;
                        r = read_driver(ctx, dev, &now);
                        if (r < 0) {
                                r = sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
                                goto undo;
                        }
                        if (!now || !streq(now, prior_driver)) {
                                r = sriov_error_set(err, -ENXIO, "%s did not bind to %s again (%s)",
                                                    prior_driver, bdf, now ? now : "left unbound");
                                goto undo;
                        }
                }
                r = read_override(ctx, dev, &ovr_now);
                if (r < 0) {
                        r = sriov_error_set(err, r, "Cannot read driver_override of %s: %s", bdf, strerror(-r));
                        goto undo;
                }
        } else if (ovr && !(ovr_now = strdup(ovr)))
                return -ENOMEM;

        if (!(ovr_now && prior_override && streq(ovr_now, prior_override)) && !(!ovr_now && !prior_override)) {
                r = write_override(ctx, dev, prior_override, err);
                if (r < 0)
                        goto undo;
        }
        return 0;

undo:
        if (undo && changed && r != -ETIMEDOUT)
                (void) restore_driver(ctx, dev, cur, ovr, false, NULL);
        return r;
}

int sriov_restore_driver(sriov_ctx *ctx, const pci_addr *dev, const char *prior_driver,
                         const char *prior_override, sriov_error *err) {
        return restore_driver(ctx, dev, prior_driver, prior_override, true, err);
}

/* A reprobe of a VF whose PF has sriov_drivers_autoprobe off turns it on
 * for its probe; parallel reprobes of the PF's VFs share that: the first
 * turns it on, the last turns it off again. Returns 1 when held (release
 * with autoprobe_put()), 0 when the PF has it on by itself. */
struct autoprobe_hold {
        struct autoprobe_hold *next;
        pci_addr pf;
        unsigned n;
};

static int autoprobe_get(sriov_ctx *ctx, const pci_addr *pf) {
        struct autoprobe_hold *h;
        unsigned autoprobe = 1;
        int r = 0;

        pthread_mutex_lock(&ctx->autoprobe_lock);
        for (h = ctx->autoprobe_holds; h; h = h->next)
                if (pci_addr_equal(&h->pf, pf)) {
                        h->n++;
                        pthread_mutex_unlock(&ctx->autoprobe_lock);
                        return 1;
                }
        if (sysfs_dev_read_uint(ctx, pf, "sriov_drivers_autoprobe", 10, &autoprobe) >= 0 && autoprobe == 0) {
                h = calloc(1, sizeof(*h));
                r = h ? sysfs_dev_write(ctx, pf, "sriov_drivers_autoprobe", "1") : -ENOMEM;
                if (r >= 0) {
                        *h = (struct autoprobe_hold) { .next = ctx->autoprobe_holds, .pf = *pf, .n = 1 };
                        ctx->autoprobe_holds = TAKE_PTR(h);
                        r = 1;
                }
                free(h);
        }
        pthread_mutex_unlock(&ctx->autoprobe_lock);
        return r;
}

static void autoprobe_put(sriov_ctx *ctx, const pci_addr *pf) {
        pthread_mutex_lock(&ctx->autoprobe_lock);
        for (struct autoprobe_hold **p = &ctx->autoprobe_holds; *p; p = &(*p)->next)
                if (pci_addr_equal(&(*p)->pf, pf)) {
                        struct autoprobe_hold *h = *p;

                        if (--h->n == 0) {
                                (void) sysfs_dev_write(ctx, pf, "sriov_drivers_autoprobe", "0");
                                *p = h->next;
                                free(h);
                        }
                        break;
                }
        pthread_mutex_unlock(&ctx->autoprobe_lock);
}

/* Order: clear driver_override → unbind the current driver → drivers_probe.
 * The kernel probes a VF without an override only while its PF's
 * sriov_drivers_autoprobe is 1 (pci_device_can_probe()), so for a VF whose
 * PF has it off it is turned on around the probe and off again. */
int sriov_reprobe(sriov_ctx *ctx, const pci_addr *dev, char **ret_driver, sriov_error *err) {
        _cleanup_free_ char *cur = NULL, *now = NULL, *physfn = NULL;
        char bdf[PCI_ADDR_STRLEN];
        pci_addr pf;
        int held = 0, r;

        bdf_of(dev, bdf);
        r = check_device(ctx, dev, err);
        if (r < 0)
                return r;
        r = read_driver(ctx, dev, &cur);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
        r = write_override(ctx, dev, NULL, err);
        if (r < 0)
                return r;
        if (cur) {
                r = unbind_from(ctx, dev, cur, err);
                if (r < 0)
                        return r;
        }
        if (sysfs_dev_link_name(ctx, dev, "physfn", &physfn) >= 0 && pci_addr_parse(physfn, &pf) >= 0) {
                held = autoprobe_get(ctx, &pf);
                if (held < 0)
                        return sriov_error_set(err, held, "Cannot enable driver autoprobe on the PF of %s: %s", bdf,
                                               strerror(-held));
        }
        r = probe(ctx, dev, err);
        if (held > 0)
                autoprobe_put(ctx, &pf);
        if (r < 0)
                return r;
        r = read_driver(ctx, dev, &now);
        if (r < 0)
                return sriov_error_set(err, r, "Cannot read the driver of %s: %s", bdf, strerror(-r));
        if (ret_driver)
                *ret_driver = TAKE_PTR(now);
        return 0;
}
