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
        uint64_t op_timeout_usec;       /* bound on every kernel wait */
        uint64_t coalesce_usec;         /* uevent storm window */
        uint64_t retry_usec;            /* first delay before failed apply steps are tried again; 0: never */
        UeventSource uevent_source;
} DaemonConfig;

struct Daemon {
        DaemonConfig config;
        sd_event *event;
        sd_bus *bus;
        sriov_ctx *ctx;
        sriov_host *host;
        iommu_host *iommu;
        State *state;

        /* uevents */
        struct udev *udev;
        struct udev_monitor *monitor;
        sd_event_source *monitor_source;
        sd_event_source *coalesce_source;       /* armed only while events wait */
        struct Dirty *dirty;
        size_t n_dirty, n_dirty_alloc;
        bool rescan_all_dirty;

        /* lanes and the completion queue from the workers */
        pthread_mutex_t lock;
        Lane *lanes;
        Job *done_head, *done_tail;
        int done_fd;
        sd_event_source *done_source;
        unsigned workers;                       /* running worker threads */
        pthread_cond_t workers_cond;

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

int daemon_new(const DaemonConfig *config, Daemon **ret);
Daemon *daemon_free(Daemon *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Daemon *, daemon_free);
int daemon_run(Daemon *d);

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
/* A job that re-reads a device (or its lane's family), for lanes that
 * have nothing else to run once a held write finished (model.c). */
Job *daemon_refresh_job_new(Daemon *d, const pci_addr *a);
/* Give memory back (libpci's pci.ids, the heap's free pages) if a large
 * read happened and no work is running or waiting (lanes.c). */
void daemon_trim_when_idle(Daemon *d);

/* logging: stderr with a syslog priority prefix that journald understands */
void log_full(int level, const char *fmt, ...) _printf_(2, 3);
int log_errno(int level, int r, const char *fmt, ...) _printf_(3, 4);
#define log_debug(...) log_full(7, __VA_ARGS__)
#define log_info(...) log_full(6, __VA_ARGS__)
#define log_notice(...) log_full(5, __VA_ARGS__)
#define log_warning(...) log_full(4, __VA_ARGS__)
#define log_error(...) log_full(3, __VA_ARGS__)
#define log_error_errno(r, ...) log_errno(3, r, __VA_ARGS__)
#define log_warning_errno(r, ...) log_errno(4, r, __VA_ARGS__)
#define log_debug_errno(r, ...) log_errno(7, r, __VA_ARGS__)
extern int log_max_level;
