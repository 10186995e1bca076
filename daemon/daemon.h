/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "groups.h"
#include "host.h"
#include "util.h"

typedef struct Daemon Daemon;
typedef struct Lane Lane;
typedef struct Job Job;
typedef struct State State;
typedef struct Config Config;
typedef struct StateAssignment StateAssignment;
typedef struct Observe Observe;
typedef struct DriftRecord DriftRecord;

typedef enum UeventSource {
        UEVENT_SOURCE_AUTO,
        UEVENT_SOURCE_UDEV,
        UEVENT_SOURCE_KERNEL,
        UEVENT_SOURCE_NONE,
} UeventSource;

typedef struct DaemonConfig {
        const char *sysfs_root;
        const char *dev_root;
        const char *state_dir;
        const char *config_file;
        const char *config_dir;
        const char *cdi_dir;            /* CDI specs of assigned VFs (cdi.h); NULL or "": none */
        uint64_t op_timeout_usec;       /* bound on every kernel wait */
        uint64_t coalesce_usec;         /* uevent storm window */
        uint64_t retry_usec;            /* first delay before failed apply steps are tried again; 0: never */
        unsigned lane_workers;          /* jobs of one lane run at once (its VFs in parallel); 0: the default */
        UeventSource uevent_source;
} DaemonConfig;

/* What the core tells the outside (the bus glue: signals and property
 * changes); every member may be NULL, and so may the table (unit tests). */
typedef struct DaemonEvents {
        void (*device_changed)(Daemon *d, sriov_change change, const sriov_device *dev);
        /* properties of the manager that changed (NULL-terminated names) */
        void (*manager_changed)(Daemon *d, char **properties);
        /* an assignment's state, readiness or device nodes changed; gone: it was released */
        void (*assignment_changed)(Daemon *d, const StateAssignment *a, bool gone);
        /* a declared or assigned VF's settings were changed by hand (observe.h) */
        void (*drift_detected)(Daemon *d, const DriftRecord *r);
} DaemonEvents;

struct Daemon {
        DaemonConfig config;
        sd_event *event;
        sd_bus *bus;                    /* the bus glue's; NULL without a bus */
        const DaemonEvents *events;
        struct AuthQuery *auth_queries; /* the bus glue's questions to polkit (bus-auth.c) */
        struct BusCallers *callers;     /* the bus glue's account of each caller's share (bus-limits.c) */
        struct DryRunWaiter *dry_run_waiters; /* the bus glue's: the callers of the dry run under way (bus-config.c) */
        size_t n_dry_run_waiters;
        char **dry_run_cache;           /* the bus glue's: the last dry run's steps, 4 strings each (bus-config.c) */
        uint64_t dry_run_cache_usec;    /* when it was made; 0: none, or the host or configuration changed since */
        uint64_t dry_run_epoch;         /* moves on with every change: a plan begun before one is not kept */
        uint64_t dry_run_started_epoch; /* of the dry run under way */
        uint64_t rescan_unprivileged_usec; /* the bus glue's: the last Rescan an unprivileged caller made run */
        sriov_ctx *ctx;
        sriov_host *host;
        iommu_host *iommu;
        State *state;
        char *state_saved;              /* the state as it is on disk (ledger.c goes back to it) */
        char **reestablishing;          /* VFs whose assignment is being set up again (reestablish.c) */

        /* uevents */
        struct udev *udev;
        struct udev_monitor *monitor;
        sd_event_source *monitor_source;
        sd_event_source *coalesce_source;       /* armed only while events wait */
        struct Dirty *dirty;
        size_t n_dirty, n_dirty_alloc;
        bool rescan_all_dirty;
        bool dirty_wait_changes;                /* some wait for their lanes' changes to end */

        /* lanes and the completion queue from the workers */
        pthread_mutex_t lock;
        Lane *lanes;
        Job *done_head, *done_tail;
        int done_fd;
        sd_event_source *done_source;
        unsigned workers;                       /* running worker threads */
        pthread_cond_t workers_cond;

        /* PF links, VF health, drift, metrics (observe.h) */
        Observe *observe;

        /* kernel writes that outlived their timeout and finished later (lanes-pending.c) */
        struct LateWrite *late_head;

        /* declared configuration; NULL when none or when the files were invalid at start */
        Config *declared;
        char **config_errors;           /* from the last load */
        char **config_warnings;
        bool ready_sent;

        bool trim_due;                  /* the host, a large family was read, a large reply sent: daemon_trim_when_idle() */
        bool iommu_dirty;
        bool shutting_down;
        unsigned long long n_uevents, n_uevents_skipped, n_refreshes;
};

/* The core, without a bus: the host read, uevents, workers, the state. */
int daemon_new(const DaemonConfig *config, Daemon **ret);
Daemon *daemon_free(Daemon *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Daemon *, daemon_free);
/* Recover what a crash left half done, apply the declared configuration,
 * then serve until SIGTERM. */
int daemon_run(Daemon *d);

/* Tell the outside that these manager properties changed (NULL-terminated). */
void daemon_emit_manager_changed(Daemon *d, const char *property, ...) _sentinel_;
/* "starting", "running" or "stopping". */
const char *daemon_state_name(const Daemon *d);
/* How many PFs and VFs the model has. */
void daemon_count_sriov(const Daemon *d, unsigned *ret_pfs, unsigned *ret_vfs);

/* Apply a fresh read of a device family to the model, emitting signals. */
int daemon_merge_family(Daemon *d, sriov_family *f);
/* Mark a device for a coalesced re-read (seqnum: of the uevent, 0 if none);
 * with reapply, its declared configuration is applied again after the read
 * (a PF that was hot-plugged or whose driver was reloaded). */
void daemon_mark_dirty_full(Daemon *d, const pci_addr *a, uint64_t seqnum, bool reapply);
static inline void daemon_mark_dirty(Daemon *d, const pci_addr *a, uint64_t seqnum) {
        daemon_mark_dirty_full(d, a, seqnum, false);
}
void daemon_mark_rescan_all(Daemon *d);
/* A change (not a background read) finished on a lane: the events kept
 * until their lanes' changes end are looked at again. */
void daemon_dirty_change_done(Daemon *d);
/* A job that re-reads a device (or its lane's family), for lanes that
 * have nothing else to run once a held write finished (model.c). */
Job *daemon_refresh_job_new(Daemon *d, const pci_addr *a);
/* Give memory back (libpci's pci.ids, the heap's free pages) if a large
 * read happened and no work is running or waiting (lanes.c). */
void daemon_trim_when_idle(Daemon *d);

#include "log.h"
