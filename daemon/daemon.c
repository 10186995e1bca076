/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <systemd/sd-daemon.h>

#include "cdi.h"
#include "conffile.h"
#include "lanes.h"
#include "ledger.h"
#include "model.h"
#include "monitor.h"
#include "observe.h"
#include "reconcile.h"
#include "recovery.h"
#include "reestablish.h"
#include "state.h"

void daemon_emit_manager_changed(Daemon *d, const char *property, ...) {
        const char *names[16];
        size_t n = 0;
        va_list ap;

        if (!d->events || !d->events->manager_changed)
                return;
        va_start(ap, property);
        for (const char *p = property; p && n < ELEMENTSOF(names) - 1; p = va_arg(ap, const char *))
                names[n++] = p;
        va_end(ap);
        names[n] = NULL;
        d->events->manager_changed(d, (char **) names);
}

const char *daemon_state_name(const Daemon *d) {
        return d->shutting_down ? "stopping" : d->ready_sent ? "running" : "starting";
}

void daemon_count_sriov(const Daemon *d, unsigned *ret_pfs, unsigned *ret_vfs) {
        unsigned pfs = 0, vfs = 0;

        for (size_t i = 0; i < d->host->n_devices; i++) {
                pfs += d->host->devices[i]->is_pf;
                vfs += d->host->devices[i]->is_vf;
        }
        *ret_pfs = pfs;
        *ret_vfs = vfs;
}

static void notify_status(Daemon *d) {
        unsigned pfs, vfs;

        daemon_count_sriov(d, &pfs, &vfs);
        (void) sd_notifyf(0, "STATUS=Managing %u SR-IOV PFs with %u VFs", pfs, vfs);
}

static void on_model_change(sriov_host *h, sriov_change change, const sriov_device *dev, const sriov_device *old,
                            void *userdata) {
        Daemon *d = userdata;

        if (d->events && d->events->device_changed)
                d->events->device_changed(d, change, dev);
        observe_device_changed(d, change, dev);
        /* hot-plugged, or its driver (re)bound: the declared configuration comes back */
        if (dev->is_pf && ((change == SRIOV_DEVICE_ADDED && d->ready_sent) ||
                           (change == SRIOV_DEVICE_CHANGED && old && !old->driver && dev->driver)))
                daemon_reapply(d, &dev->addr, change == SRIOV_DEVICE_ADDED ? "it appeared" : "its driver was bound");
        /* A VF appeared that its PF does not list yet: the PF changed too. */
        if (change == SRIOV_DEVICE_ADDED && dev->is_vf && (!dev->pf || dev->vf_index < 0 ||
                                                           (size_t) dev->vf_index >= dev->pf->n_vfs))
                daemon_mark_dirty(d, &dev->physfn, 0);
}

/* What a PF was before a read, to tell whether its VFs are new after it. */
typedef struct PFBefore {
        bool was_pf;
        bool had_driver;
        unsigned num_vfs;
        char bdf[PCI_ADDR_STRLEN];
} PFBefore;

static PFBefore pf_before(Daemon *d, const pci_addr *a) {
        const sriov_device *dev = sriov_host_find(d->host, a);
        PFBefore b = { .was_pf = dev && dev->is_pf };

        pci_addr_format(a, b.bdf);
        if (b.was_pf) {
                b.num_vfs = dev->sriov.num_vfs;
                b.had_driver = dev->driver;
        }
        return b;
}

/* The PF's VFs were re-created (its VF count changed, it went away): the
 * ledger's records of the old ones never act on the new ones. The
 * assignments on it are set up again once it has VFs, or a driver again
 * (it appeared, its driver was reloaded: the VFs are made again when
 * nothing else makes them). */
static void pf_after(Daemon *d, const PFBefore *b) {
        const sriov_device *pf;
        bool vfs_changed;
        char why[96];
        pci_addr a;

        (void) pci_addr_parse(b->bdf, &a);
        pf = sriov_host_find(d->host, &a);
        vfs_changed = b->was_pf && !(pf && pf->is_pf && pf->sriov.num_vfs == b->num_vfs);
        if (vfs_changed) {
                if (pf && pf->is_pf)
                        (void) snprintf(why, sizeof(why), "its VF count went from %u to %u", b->num_vfs,
                                        pf->sriov.num_vfs);
                else
                        (void) snprintf(why, sizeof(why), "it is gone from the host");
                if (ledger_new_generation(d, b->bdf, why))
                        ledger_save(d);
        }
        if (!d->ready_sent || !pf || !pf->is_pf || !pf->driver)
                return;
        if ((vfs_changed && pf->sriov.num_vfs > 0) || !b->had_driver)
                reestablish_pf(d, b->bdf);
}

int daemon_merge_family(Daemon *d, sriov_family *f) {
        unsigned pfs0, vfs0, pfs1, vfs1;
        PFBefore before = pf_before(d, &f->addr);
        int r;

        /* a large family read again leaves garbage behind: daemon_trim_when_idle() */
        if (f->n_vfs >= 64)
                d->trim_due = true;
        daemon_count_sriov(d, &pfs0, &vfs0);
        r = sriov_host_merge(d->host, f, on_model_change, d);   /* takes f */
        if (r < 0)
                return r;
        pf_after(d, &before);
        daemon_count_sriov(d, &pfs1, &vfs1);
        if (pfs0 != pfs1 || vfs0 != vfs1) {
                daemon_emit_manager_changed(d, "NumPFs", "NumVFs", NULL);
                notify_status(d);
        }
        if (pfs0 != pfs1)
                model_update_host_facts(d);
        return 0;
}

static void applied_quietly(Daemon *d, ApplyBatch *b, void *userdata) {
        if (apply_batch_n_failed(b) > 0)
                log_warning("The configuration was applied with %u failed step(s)", apply_batch_n_failed(b));
}

/* At start, the last of it: every assignment was tried; ready. */
static void reestablished(Daemon *d, void *userdata) {
        unsigned pfs, vfs;

        daemon_count_sriov(d, &pfs, &vfs);
        log_info("sriovd %s ready on %s: %u SR-IOV PFs, %u VFs, IOMMU %s", PACKAGE_VERSION, sriov_ctx_root(d->ctx),
                 pfs, vfs, d->iommu->present ? "present" : "absent");
        cdi_sync_all(d);
        d->ready_sent = true;
        (void) sd_notify(0, "READY=1");
        daemon_emit_manager_changed(d, "State", NULL);
        /* the configuration is in place: its VFs' settings are compared from now on */
        observe_read_all(d);
        notify_status(d);
        /* the host is read: what only reading it needed can go */
        d->trim_due = true;
}

static void initial_apply_done(Daemon *d, ApplyBatch *b, void *userdata) {
        int r;

        if (apply_batch_n_failed(b) > 0)
                log_warning("The configuration was applied with %u failed step(s)", apply_batch_n_failed(b));
        else if (apply_batch_n_steps(b) > 0)
                log_info("The configuration was applied: %zu change(s)", apply_batch_n_steps(b));
        /* the VFs the configuration makes are there: the assignments on them come back */
        r = reestablish_all(d, reestablished, NULL);
        if (r < 0) {
                log_error_errno(r, "Cannot set the assignments up again: %m");
                reestablished(d, NULL);
        }
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
                model_update_host_facts(d);
                if (daemon_load_config(d) >= 0)
                        (void) daemon_apply_all(d, false, applied_quietly, NULL);
                return 0;
        }
        log_info("Received %s, shutting down", si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        (void) sd_notify(0, "STOPPING=1");
        d->shutting_down = true;
        return sd_event_exit(d->event, 0);
}

static int setup_event_loop(Daemon *d) {
        sigset_t mask;
        int r;

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
        return 0;
}

static int load_state(Daemon *d) {
        _cleanup_free_ char *reason = NULL;
        int r;

        r = state_load(d->config.state_dir, &d->state, &reason);
        if (r < 0)
                return log_error_errno(r, "Cannot use %s as the state directory: %s", d->config.state_dir,
                                       strna(reason));
        if (d->state->corrupt_saved_as)
                log_error("The state file could not be used (%s); kept as %s, starting from the host as it is",
                          strna(d->state->corrupt_reason), d->state->corrupt_saved_as);
        return state_format(d->state, &d->state_saved);
}

int daemon_new(const DaemonConfig *config, Daemon **ret) {
        _cleanup_(daemon_freep) Daemon *d = NULL;
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

        r = load_state(d);
        if (r < 0)
                return r;
        r = setup_event_loop(d);
        if (r < 0)
                return r;
        r = lanes_setup(d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up workers: %m");
        /* Listen before the first read, so that nothing that changes in
         * between goes unnoticed. */
        r = monitor_setup(d);
        if (r < 0)
                return log_error_errno(r, "Failed to listen to uevents: %m");
        r = observe_setup(d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch links: %m");

        r = sriov_host_scan(d->ctx, &d->host);
        if (r < 0)
                return log_error_errno(r, "Failed to scan PCI devices under %s: %m", sriov_ctx_root(d->ctx));
        model_update_host_facts(d);
        if (!d->iommu)
                return log_error_errno(-EIO, "Cannot read the IOMMU facts");
        observe_read_all(d);
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
        observe_done(d);
        sriov_host_free(d->host);
        iommu_host_free(d->iommu);
        state_free(d->state);
        free(d->state_saved);
        strv_free(d->reestablishing);
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
        r = recovery_start(d, recovered, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot recover the recorded assignments: %m");
        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
