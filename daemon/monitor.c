/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <libudev.h>
#include <sys/stat.h>

#include "ops.h"
#include "lanes.h"
#include "model.h"
#include "monitor.h"

typedef struct Dirty {
        pci_addr addr;
        uint64_t seqnum;                /* newest uevent for it; 0 = unconditional */
        bool reapply;
        bool created;                   /* a uevent for a function the model did not know (a VF being created) */
        uint64_t last_usec;             /* of its newest uevent (CLOCK_MONOTONIC) */
        uint64_t first_usec;
} Dirty;

/* A PF whose VFs are being created (their uevents came, the PF's own
 * "change" that ends sriov_enable() did not) is read once it is done: a
 * storm of thousands of VFs costs one read per PF. Unless its events stop
 * coming for this long (the creation failed half-way) or it takes longer
 * than STORM_MAX_USEC. */
#define STORM_QUIET_USEC (1000 * 1000ULL)
#define STORM_MAX_USEC (60 * 1000 * 1000ULL)

int devpath_to_pci_addr(const char *devpath, pci_addr *ret) {
        const char *p = devpath;
        pci_addr found;
        bool have = false;

        if (!devpath)
                return -EINVAL;
        while (*p) {
                char buf[PCI_ADDR_STRLEN];
                pci_addr a;
                size_t n;

                p += strspn(p, "/");
                n = strcspn(p, "/");
                /* only the long form: "pci0000:00" and friends must not match */
                if (n >= 12 && n < sizeof(buf)) {
                        memcpy(buf, p, n);
                        buf[n] = 0;
                        if (strchr(buf, ':') != strrchr(buf, ':') && pci_addr_parse(buf, &a) >= 0) {
                                found = a;
                                have = true;
                        }
                }
                p += n;
        }
        if (!have)
                return -ENOENT;
        *ret = found;
        return 0;
}

static void coalesce_arm(Daemon *d) {
        int enabled = SD_EVENT_OFF;
        uint64_t now;

        if (sd_event_source_get_enabled(d->coalesce_source, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return;         /* the window is open already */
        if (sd_event_now(d->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        (void) sd_event_source_set_time(d->coalesce_source, now + d->config.coalesce_usec);
        (void) sd_event_source_set_enabled(d->coalesce_source, SD_EVENT_ONESHOT);
}

static uint64_t now_monotonic(Daemon *d) {
        uint64_t now = 0;

        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        return now;
}

/* With arm, the window opens (if it is not open already); without, x waits
 * for a change on its lane to end (daemon_dirty_change_done()). */
static void mark_dirty(Daemon *d, const pci_addr *a, uint64_t seqnum, bool reapply, bool arm) {
        bool created = seqnum > 0 && !sriov_host_find(d->host, a);
        uint64_t now = now_monotonic(d);

        for (size_t i = 0; i < d->n_dirty; i++)
                if (pci_addr_equal(&d->dirty[i].addr, a)) {
                        Dirty *x = &d->dirty[i];
                        x->seqnum = x->seqnum && seqnum ? MAX(x->seqnum, seqnum) : 0;
                        x->reapply = x->reapply || reapply;
                        x->created = x->created || created;
                        x->last_usec = now;
                        if (arm)
                                coalesce_arm(d);
                        return;
                }
        if (d->n_dirty == d->n_dirty_alloc) {
                size_t na = d->n_dirty_alloc ? d->n_dirty_alloc * 2 : 64;
                Dirty *n = realloc(d->dirty, na * sizeof(*n));

                if (!n) {
                        d->rescan_all_dirty = true;
                        coalesce_arm(d);
                        return;
                }
                d->dirty = n;
                d->n_dirty_alloc = na;
        }
        d->dirty[d->n_dirty++] = (Dirty) { .addr = *a, .seqnum = seqnum, .reapply = reapply, .created = created,
                                           .last_usec = now, .first_usec = now };
        if (arm)
                coalesce_arm(d);
}

void daemon_mark_dirty_full(Daemon *d, const pci_addr *a, uint64_t seqnum, bool reapply) {
        mark_dirty(d, a, seqnum, reapply, true);
}

/* Keep x for the next window, or (without arm) until a change on its lane
 * ends (on_coalesce: the list is empty or being rebuilt). */
static void keep_dirty(Daemon *d, const Dirty *x, bool arm) {
        mark_dirty(d, &x->addr, x->seqnum, x->reapply, arm);
        for (size_t i = 0; i < d->n_dirty; i++)
                if (pci_addr_equal(&d->dirty[i].addr, &x->addr)) {
                        d->dirty[i].created = x->created;
                        d->dirty[i].last_usec = x->last_usec;
                        d->dirty[i].first_usec = x->first_usec;
                }
}

void daemon_dirty_change_done(Daemon *d) {
        if (!d->dirty_wait_changes)
                return;
        d->dirty_wait_changes = false;
        coalesce_arm(d);
}

void daemon_mark_rescan_all(Daemon *d) {
        d->rescan_all_dirty = true;
        coalesce_arm(d);
}

/* Every device listed in sysfs and every device in the model. */
static void mark_everything(Daemon *d) {
        _cleanup_free_ char *p = sysfs_path(d->ctx, "bus/pci/devices");
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;

        for (size_t i = 0; i < d->host->n_devices; i++)
                if (!d->host->devices[i]->is_vf)
                        daemon_mark_dirty(d, &d->host->devices[i]->addr, 0);
        if (!p)
                return;
        dir = opendir(p);
        if (!dir) {
                log_warning_errno(-errno, "Cannot list %s: %m", p);
                return;
        }
        while ((de = readdir(dir))) {
                pci_addr a;

                if (pci_addr_parse(de->d_name, &a) >= 0 && !sriov_host_find(d->host, &a))
                        daemon_mark_dirty(d, &a, 0);
        }
}

typedef struct Grouped {
        pci_addr key;
        size_t index;
} Grouped;

static int cmp_grouped(const void *a, const void *b) {
        const Grouped *x = a, *y = b;
        int c = pci_addr_compare(&x->key, &y->key);

        return c ? c : (x->index > y->index) - (x->index < y->index);
}

static uint64_t seq_merge(uint64_t a, uint64_t b) {
        /* 0 means "unconditional" and wins */
        return a && b ? MAX(a, b) : 0;
}

/* What a read since reflects already: the device's own (a job on it read it
 * back), or its lane's whole family. */
static bool covered(Daemon *d, const Dirty *x) {
        const sriov_device *dev = sriov_host_find(d->host, &x->addr);
        pci_addr key;
        Lane *l;

        if (x->seqnum == 0)
                return false;
        /* a function's add or bind may bring back a PF's configuration;
         * not a VF's (refresh_group), whose add, when the VF was not known
         * yet, a read since covers like any other event */
        if (x->reapply && !(dev && dev->is_vf))
                return false;
        if (dev && dev->seqnum >= x->seqnum)
                return true;
        key = daemon_lane_key(d, &x->addr);
        l = lane_find(d, &key);
        return l && lane_covered_seqnum(d, l) >= x->seqnum;
}

/* The group [i, end) of g is a PF whose VFs are still being created: wait for it. */
static bool still_creating(Daemon *d, const Dirty *dirty, const Grouped *g, size_t i, size_t end) {
        uint64_t now = now_monotonic(d), last = 0, first = UINT64_MAX;
        bool created = false;

        for (size_t k = i; k < end; k++) {
                const Dirty *x = &dirty[g[k].index];

                if (pci_addr_equal(&x->addr, &g[i].key))
                        return false;   /* the PF's own event: sriov_enable() is over */
                created = created || x->created;
                last = MAX(last, x->last_usec);
                first = MIN(first, x->first_usec);
        }
        return created && now < last + STORM_QUIET_USEC && now < first + STORM_MAX_USEC;
}

/* The group [i, end)'s lane has sriovd's own changes on it (not reads):
 * their jobs read back what they change, which covers these events; wait
 * for them rather than read the family beside them (a lane waiting on the
 * kernel aside, and STORM_MAX_USEC at most). The group is looked at again
 * when one of those changes ends, not on a timer. */
static bool own_work_running(Daemon *d, const Dirty *dirty, const Grouped *g, size_t i, size_t end) {
        Lane *l = lane_find(d, &g[i].key);
        uint64_t first = UINT64_MAX;

        if (!l || !lane_has_changes(d, l) || lane_is_pending(d, l))
                return false;
        for (size_t k = i; k < end; k++)
                first = MIN(first, dirty[g[k].index].first_usec);
        return now_monotonic(d) < first + STORM_MAX_USEC;
}

/* One group's re-read: a PF is read with its VFs when it, a VF not known
 * yet, or several of its VFs are dirty; a single known VF on its own. */
static void refresh_group(Daemon *d, const Dirty *dirty, const Grouped *g, size_t i, size_t end) {
        bool family = false, reapply = false;
        uint64_t seq = dirty[g[i].index].seqnum;

        for (size_t k = i; k < end; k++) {
                const pci_addr *a = &dirty[g[k].index].addr;
                const sriov_device *dev = sriov_host_find(d->host, a);

                seq = seq_merge(seq, dirty[g[k].index].seqnum);
                /* only the PF's own add/bind brings its configuration back,
                 * not the VFs that appear while it is being configured */
                reapply = reapply || (dirty[g[k].index].reapply && pci_addr_equal(a, &g[i].key));
                if (pci_addr_equal(a, &g[i].key) || !dev)
                        family = true;
        }
        if (family || end - i > 1)
                (void) model_refresh(d, &g[i].key, seq, reapply);
        else
                (void) model_refresh(d, &dirty[g[i].index].addr, seq, reapply);
        d->n_refreshes++;
}

/* The burst is over: re-read each dirty family once, leaving out what a
 * read since (the daemon's own jobs read their devices back) reflects. */
static int on_coalesce(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        _cleanup_free_ Dirty *dirty = NULL;
        _cleanup_free_ Grouped *g = NULL;
        size_t n, m = 0;

        if (d->rescan_all_dirty) {
                d->rescan_all_dirty = false;
                mark_everything(d);
                (void) sd_event_source_set_enabled(d->coalesce_source, SD_EVENT_OFF);
        }
        dirty = TAKE_PTR(d->dirty);
        n = d->n_dirty;
        d->n_dirty = d->n_dirty_alloc = 0;
        if (n == 0)
                return 0;

        g = calloc(n, sizeof(*g));
        if (!g) {
                daemon_mark_rescan_all(d);
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                if (covered(d, &dirty[i])) {
                        d->n_uevents_skipped++;
                        continue;
                }
                g[m++] = (Grouped) { .key = daemon_lane_key(d, &dirty[i].addr), .index = i };
        }
        qsort(g, m, sizeof(*g), cmp_grouped);

        for (size_t i = 0; i < m;) {
                size_t end = i + 1;

                while (end < m && pci_addr_equal(&g[end].key, &g[i].key))
                        end++;
                if (still_creating(d, dirty, g, i, end))
                        for (size_t k = i; k < end; k++)
                                keep_dirty(d, &dirty[g[k].index], true);
                else if (own_work_running(d, dirty, g, i, end)) {
                        /* looked at again when one of those changes ends */
                        for (size_t k = i; k < end; k++)
                                keep_dirty(d, &dirty[g[k].index], false);
                        d->dirty_wait_changes = true;
                } else
                        refresh_group(d, dirty, g, i, end);
                i = end;
        }
        return 0;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;

        for (;;) {
                struct udev_device *dev = udev_monitor_receive_device(d->monitor);
                const char *devpath, *subsystem, *action;
                unsigned long long seqnum;
                pci_addr a;

                if (!dev) {
                        if (errno == ENOBUFS) {
                                /* the socket overflowed: we lost events */
                                log_warning("uevent socket overflowed; rescanning everything");
                                daemon_mark_rescan_all(d);
                                continue;
                        }
                        break;
                }
                d->n_uevents++;
                devpath = udev_device_get_devpath(dev);
                subsystem = udev_device_get_subsystem(dev);
                seqnum = udev_device_get_seqnum(dev);
                action = udev_device_get_action(dev);
                if (subsystem && (streq(subsystem, "pci") || streq(subsystem, "net")) &&
                    devpath_to_pci_addr(devpath, &a) >= 0) {
                        Lane *l = daemon_lane_for(d, &a);
                        const sriov_device *known = sriov_host_find(d->host, &a);
                        /* a function that is (again) bound or added and is not a
                         * known VF: may be a PF whose configuration must come back */
                        bool reapply = streq(subsystem, "pci") && action &&
                                (streq(action, "add") || streq(action, "bind")) && !(known && known->is_vf);

                        /* A read of the whole family, or of the device itself,
                         * started after this event was sent reflects it already. */
                        if (seqnum > 0 && !reapply &&
                            ((l && lane_covered_seqnum(d, l) >= seqnum) || (known && known->seqnum >= seqnum)))
                                d->n_uevents_skipped++;
                        else
                                daemon_mark_dirty_full(d, &a, seqnum, reapply);
                        if (streq(subsystem, "pci"))
                                d->iommu_dirty = true;
                }
                udev_device_unref(dev);
        }
        return 0;
}

static UeventSource pick_source(UeventSource want) {
        struct stat st;

        if (want != UEVENT_SOURCE_AUTO)
                return want;
        /* With udevd running, listen to it (its events follow its rules);
         * without (initramfs, containers), to the kernel. */
        return stat("/run/udev/control", &st) >= 0 ? UEVENT_SOURCE_UDEV : UEVENT_SOURCE_KERNEL;
}

int monitor_setup(Daemon *d) {
        UeventSource src;
        int r;

        r = sd_event_add_time(d->event, &d->coalesce_source, CLOCK_MONOTONIC, UINT64_MAX, 0, on_coalesce, d);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(d->coalesce_source, SD_EVENT_OFF);
        (void) sd_event_source_set_description(d->coalesce_source, "uevent-coalesce");

        src = pick_source(d->config.uevent_source);
        if (src == UEVENT_SOURCE_NONE) {
                log_notice("Not listening to uevents; devices are re-read after each operation and on Rescan()");
                return 0;
        }
        d->udev = udev_new();
        if (!d->udev)
                return -ENOMEM;
        d->monitor = udev_monitor_new_from_netlink(d->udev, src == UEVENT_SOURCE_UDEV ? "udev" : "kernel");
        if (!d->monitor)
                return -errno ?: -EIO;
        r = udev_monitor_filter_add_match_subsystem_devtype(d->monitor, "pci", NULL);
        if (r < 0)
                return r;
        r = udev_monitor_filter_add_match_subsystem_devtype(d->monitor, "net", NULL);
        if (r < 0)
                return r;
        /* absorb storms (thousands of VFs appearing) without overflowing */
        (void) udev_monitor_set_receive_buffer_size(d->monitor, 64 * 1024 * 1024);
        r = udev_monitor_enable_receiving(d->monitor);
        if (r < 0)
                return r;
        r = sd_event_add_io(d->event, &d->monitor_source, udev_monitor_get_fd(d->monitor), EPOLLIN, on_uevent, d);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(d->monitor_source, "uevents");
        log_debug("Listening to %s uevents", src == UEVENT_SOURCE_UDEV ? "udev" : "kernel");
        return 0;
}

void monitor_done(Daemon *d) {
        d->monitor_source = sd_event_source_disable_unref(d->monitor_source);
        d->coalesce_source = sd_event_source_disable_unref(d->coalesce_source);
        d->monitor = udev_monitor_unref(d->monitor);
        d->udev = udev_unref(d->udev);
        free(d->dirty);
        d->dirty = NULL;
        d->n_dirty = d->n_dirty_alloc = 0;
}
