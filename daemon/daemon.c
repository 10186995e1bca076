/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <systemd/sd-daemon.h>

#include "ops.h"
#include "assign.h"
#include "bus-util.h"
#include "sriovd-api.h"
#include "device.h"
#include "lanes.h"
#include "manager.h"
#include "conffile.h"
#include "monitor.h"
#include "reconcile.h"
#include "state.h"

int log_max_level = 6;

void log_full(int level, const char *fmt, ...) {
        static int journal = -1;
        va_list ap;
        int saved = errno;

        if (level > log_max_level)
                return;
        if (journal < 0)
                journal = getenv("JOURNAL_STREAM") != NULL;
        if (journal)
                fprintf(stderr, "<%d>", level);
        va_start(ap, fmt);
        errno = saved;
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        errno = saved;
}

int log_errno(int level, int r, const char *fmt, ...) {
        static int journal = -1;
        va_list ap;

        if (level > log_max_level)
                return r;
        if (journal < 0)
                journal = getenv("JOURNAL_STREAM") != NULL;
        if (journal)
                fprintf(stderr, "<%d>", level);
        va_start(ap, fmt);
        errno = r < 0 ? -r : r;         /* for %m */
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return r;
}

static void count_sriov(const sriov_host *h, unsigned *pfs, unsigned *vfs) {
        *pfs = *vfs = 0;
        for (size_t i = 0; i < h->n_devices; i++) {
                *pfs += h->devices[i]->is_pf;
                *vfs += h->devices[i]->is_vf;
        }
}

static void notify_status(Daemon *d) {
        unsigned pfs, vfs;

        count_sriov(d->host, &pfs, &vfs);
        (void) sd_notifyf(0, "STATUS=Managing %u SR-IOV PFs with %u VFs", pfs, vfs);
}

static void on_model_change(sriov_host *h, sriov_change change, const sriov_device *dev, const sriov_device *old,
                            void *userdata) {
        Daemon *d = userdata;

        device_emit_change(d, change, dev);
        /* hot-plugged, or its driver (re)bound: the declared configuration comes back */
        if (dev->is_pf && ((change == SRIOV_DEVICE_ADDED && d->ready_sent) ||
                           (change == SRIOV_DEVICE_CHANGED && old && !old->driver && dev->driver)))
                daemon_reapply(d, &dev->addr, change == SRIOV_DEVICE_ADDED ? "it appeared" : "its driver was bound");
        /* A VF appeared that its PF does not list yet: the PF changed too. */
        if (change == SRIOV_DEVICE_ADDED && dev->is_vf && (!dev->pf || dev->vf_index < 0 ||
                                                           (size_t) dev->vf_index >= dev->pf->n_vfs))
                daemon_mark_dirty(d, &dev->physfn, 0);
}

int daemon_merge_family(Daemon *d, sriov_family *f) {
        unsigned pfs0, vfs0, pfs1, vfs1;
        int r;

        /* a large family read again leaves garbage behind: daemon_trim_when_idle() */
        if (f->n_vfs >= 64)
                d->trim_due = true;
        count_sriov(d->host, &pfs0, &vfs0);
        r = sriov_host_merge(d->host, f, on_model_change, d);   /* takes f */
        if (r < 0)
                return r;
        count_sriov(d->host, &pfs1, &vfs1);
        if (pfs0 != pfs1 || vfs0 != vfs1) {
                if (d->bus)
                        (void) sd_bus_emit_properties_changed(d->bus, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE,
                                                              "NumPFs", "NumVFs", NULL);
                notify_status(d);
        }
        if (pfs0 != pfs1)
                manager_update_host_facts(d);
        return 0;
}

static void applied_quietly(Daemon *d, ApplyBatch *b, void *userdata) {
        if (apply_batch_n_failed(b) > 0)
                log_warning("The configuration was applied with %u failed step(s)", apply_batch_n_failed(b));
}

static void initial_apply_done(Daemon *d, ApplyBatch *b, void *userdata) {
        unsigned pfs, vfs;

        count_sriov(d->host, &pfs, &vfs);
        if (apply_batch_n_failed(b) > 0)
                log_warning("The configuration was applied with %u failed step(s)", apply_batch_n_failed(b));
        else if (apply_batch_n_steps(b) > 0)
                log_info("The configuration was applied: %zu change(s)", apply_batch_n_steps(b));
        log_info("sriovd %s ready on %s: %u SR-IOV PFs, %u VFs, IOMMU %s", PACKAGE_VERSION, sriov_ctx_root(d->ctx),
                 pfs, vfs, d->iommu->present ? "present" : "absent");
        d->ready_sent = true;
        (void) sd_notify(0, "READY=1");
        (void) sd_bus_emit_properties_changed(d->bus, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, "State", NULL);
        notify_status(d);
        /* the host is read: what only reading it needed can go */
        d->trim_due = true;
}

static void recovered(Daemon *d, void *userdata) {
        int r;

        r = daemon_apply_all(d, false, initial_apply_done, NULL);
        if (r < 0)
                log_warning_errno(r, "Applying the configuration could not start everywhere: %m");
}

/* After the host was read or large families were read again (a uevent
 * storm: every PF with its thousands of VFs, read while the old model is
 * still in use), once the work is done and nothing waits: drop libpci's
 * parsed pci.ids (~2 MB; the names found are remembered per ids, lib/
 * pcilib.c) and give the heap's free pages back. With 2048 VFs this was
 * 8.4 MiB RSS after the storm, 1.5 MiB more than when started on the same
 * host (docs/benchmarks.md); and after a large reply (DescribeDevices,
 * ListDevices of thousands) has left. Checked after every event loop
 * iteration (a post source, which never wakes the loop up); the work is
 * done only when it is due. */
void daemon_trim_when_idle(Daemon *d) {
        uint64_t queued = 0;

        if (!d->trim_due || d->n_dirty > 0 ||
            (d->bus && sd_bus_get_n_queued_write(d->bus, &queued) >= 0 && queued > 0))
                return;
        if (!lanes_idle(d))
                return;
        d->trim_due = false;
        sriov_ctx_drop_pci_ids(d->ctx);
        (void) malloc_trim(0);
}

/* After each event loop iteration that did something. */
static int on_post(sd_event_source *s, void *userdata) {
        daemon_trim_when_idle(userdata);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;

        if (si->ssi_signo == SIGHUP) {
                log_info("SIGHUP: reloading the configuration and rescanning");
                daemon_mark_rescan_all(d);
                manager_update_host_facts(d);
                if (daemon_load_config(d) >= 0)
                        (void) daemon_apply_all(d, false, applied_quietly, NULL);
                return 0;
        }
        log_info("Received %s, shutting down", si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        (void) sd_notify(0, "STOPPING=1");
        d->shutting_down = true;
        return sd_event_exit(d->event, 0);
}

/* Without its bus sriovd can neither be asked nor answer: exit with an
 * error, so that systemd restarts it and it finds its state again. */
static int on_bus_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        (void) m;
        (void) error;
        log_error("Lost the connection to the system bus, exiting");
        return sd_event_exit(d->event, -ECONNRESET);
}

static int setup_bus(Daemon *d) {
        int r;

        r = sriovd_errors_register();
        if (r < 0)
                return log_error_errno(r, "Failed to register D-Bus errors: %m");
        r = sd_bus_open_system(&d->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        (void) sd_bus_set_description(d->bus, "sriovd");
        r = manager_bus_register(d);
        if (r >= 0)
                r = device_bus_register(d);
        if (r < 0)
                return log_error_errno(r, "Failed to register D-Bus objects: %m");
        r = sd_bus_match_signal(d->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the bus connection: %m");
        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        /* Objects are in place: now take the name, so that no call finds us half-ready. */
        r = sd_bus_request_name(d->bus, SRIOVD_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s: %m", SRIOVD_BUS_NAME);
        return 0;
}

int daemon_new(const DaemonConfig *config, Daemon **ret) {
        _cleanup_(daemon_freep) Daemon *d = NULL;
        sigset_t mask;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->config = *config;
        d->done_fd = -EBADF;

        r = sriov_ctx_new(config->sysfs_root, &d->ctx);
        if (r < 0)
                return log_error_errno(r, "Cannot use %s as the sysfs root: %m", config->sysfs_root ?: "/sys");
        if (config->dev_root) {
                r = sriov_ctx_set_dev_root(d->ctx, config->dev_root);
                if (r < 0)
                        return log_error_errno(r, "Invalid device root %s: %m", config->dev_root);
        }
        sriov_ctx_set_timeout(d->ctx, config->op_timeout_usec);

        r = state_load(config->state_dir, &d->state);
        if (r < 0)
                return log_error_errno(r, "Cannot load the state in %s: %m", config->state_dir);
        if (d->state->corrupt_saved_as)
                log_error("The state file was corrupt; kept as %s, starting from the host as it is",
                          d->state->corrupt_saved_as);

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        if (sd_event_add_signal(d->event, NULL, SIGTERM, on_signal, d) < 0 ||
            sd_event_add_signal(d->event, NULL, SIGINT, on_signal, d) < 0 ||
            sd_event_add_signal(d->event, NULL, SIGHUP, on_signal, d) < 0)
                return log_error_errno(-EIO, "Failed to set up signal handling");
        (void) sd_event_set_watchdog(d->event, true);
        if (sd_event_add_post(d->event, NULL, on_post, d) < 0)
                return log_error_errno(-ENOMEM, "Failed to set up the event loop");

        r = lanes_setup(d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up workers: %m");
        /* Listen before the first read, so that nothing that changes in
         * between goes unnoticed. */
        r = monitor_setup(d);
        if (r < 0)
                return log_error_errno(r, "Failed to listen to uevents: %m");

        r = sriov_host_scan(d->ctx, &d->host);
        if (r < 0)
                return log_error_errno(r, "Failed to scan PCI devices under %s: %m", sriov_ctx_root(d->ctx));
        manager_update_host_facts(d);
        if (!d->iommu)
                return log_error_errno(-EIO, "Cannot read the IOMMU facts");

        r = setup_bus(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        if (d->done_source && lanes_wait_idle(d, 5 * 1000000ULL) > 0) {
                /* a worker is stuck in the kernel; its memory stays valid */
                log_warning("Exiting with kernel operations still running");
                return NULL;
        }
        if (d->bus) {
                (void) sd_bus_flush(d->bus);
                d->bus = sd_bus_flush_close_unref(d->bus);
        }
        monitor_done(d);
        if (d->done_source || d->done_fd >= 0)
                lanes_done(d);
        sriov_host_free(d->host);
        iommu_host_free(d->iommu);
        state_free(d->state);
        config_free(d->declared);
        strv_free(d->config_errors);
        strv_free(d->config_warnings);
        sriov_ctx_free(d->ctx);
        sd_event_unref(d->event);
        return mfree(d);
}

int daemon_run(Daemon *d) {
        int r;

        /* First what a crash may have left half done (assignments rolled back
         * or finished), then the declared configuration: at boot the VFs,
         * their bindings and attributes are in place before READY=1 releases
         * network-pre.target. A broken configuration does not stop the
         * daemon: it serves the bus and reports the errors. */
        (void) sd_notify(0, "STATUS=Recovering and applying the configuration");
        (void) daemon_load_config(d);
        r = assign_recover(d, recovered, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot recover the recorded assignments: %m");
        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
