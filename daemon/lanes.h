/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "apply.h"
#include "daemon.h"
#include "ops.h"
#include "vfio.h"

/* Kernel work runs off the event loop, on worker threads, in lanes: one lane
 * per PF (its VFs share it) or per stand-alone function. A lane runs its jobs
 * one after another; different lanes run in parallel. A job whose kernel
 * write outlives the timeout leaves its lane "pending": the lane refuses new
 * work until the kernel finishes, then the job's intent is run again. */

typedef enum JobType {
        JOB_SET_NUMVFS,
        JOB_BIND,
        JOB_UNBIND,
        JOB_RESTORE,
        JOB_REPROBE,
        JOB_REFRESH,
        JOB_GROUPS,                     /* read the IOMMU groups */
        JOB_APPLY,                      /* plan (and carry out) a PF's declared configuration */
        JOB_OPEN_DEVICE,                /* set up DMA remapping and hand the fds over */
        JOB_DMA_CHECK,                  /* DMA self-test */
        JOB_ASSIGN_PREPARE,             /* read what an assignment will change */
        JOB_ASSIGN_APPLY,               /* VF settings, binding, node ownership */
        JOB_RELEASE,                    /* put back what an assignment changed */
        JOB_VF_GET,                     /* read a VF's settings (rtnetlink) */
        JOB_VF_SET,                     /* set them */
} JobType;

struct Job {
        Job *next;
        Daemon *daemon;
        Lane *lane;
        JobType type;
        pci_addr addr;

        /* arguments */
        unsigned count;
        int autoprobe;
        char *driver;
        unsigned bind_flags;
        char *prior_driver;             /* JOB_RESTORE: what to restore; JOB_BIND, JOB_UNBIND: what the
                                         * function had before the first attempt (an intent's re-run) */
        char *prior_override;
        bool retry;                     /* re-run of an intent after a pending write finished */
        bool journaled;                 /* JOB_BIND, JOB_UNBIND: the state record was made for this job */
        bool force;                     /* skip the host-use and VFIO-user checks */
        unsigned pt_flags;              /* JOB_BIND to a user-space driver: PASSTHROUGH_* */
        unsigned vfio_flags;            /* JOB_OPEN_DEVICE, JOB_DMA_CHECK: VFIO_OPEN_* */
        struct GroupPeer *peers;        /* JOB_BIND whole group: the peers bound along, their prior drivers;
                                         * JOB_RESTORE: the peers to restore with it */
        size_t n_peers;
        vfio_session *session;          /* JOB_OPEN_DEVICE */
        vfio_self_test self_test;       /* JOB_DMA_CHECK */
        vfio_range *dma_valid, *dma_reserved;   /* JOB_DMA_CHECK: the session's ranges */
        size_t n_dma_valid, n_dma_reserved;
        struct AssignWork *assign;      /* JOB_ASSIGN_*, JOB_RELEASE */
        struct VFConfigWork *vfconfig;  /* JOB_VF_GET, JOB_VF_SET */
        uint64_t trigger_seqnum;        /* JOB_REFRESH: newest uevent that asked for it */
        bool then_apply;                /* JOB_REFRESH: apply the declared configuration afterwards */
        Config *config;                 /* JOB_APPLY: the configuration (a reference) */
        const ConfigPF *rule;           /* JOB_APPLY: the PF's rule in it */
        bool dry_run;                   /* JOB_APPLY */
        bool apply_retry;               /* JOB_APPLY: a retry of failed steps (keeps the lane's retry count) */
        char **assigned;                /* JOB_APPLY: the PF's VFs that guests hold, (VF, guest) pairs */
        Plan plan;                      /* JOB_APPLY: result */

        /* results, written by the worker */
        int r;
        bool held;                      /* r is -ETIMEDOUT and the kernel still holds a write of the job
                                         * (not only a wait that ran out): the lane is pending */
        sriov_error error;
        unsigned enabled;
        char *found_driver;             /* what sriov_bind()/sriov_unbind() found before */
        char *found_override;
        sriov_family *family;           /* fresh read of the device (family) after the work */
        iommu_host *groups;             /* JOB_GROUPS */

        /* completion, on the event loop */
        void (*complete)(Job *j);
        void *userdata;
        sd_bus_message *request;        /* the call to answer, if any */
};

struct Lane {
        Lane *next;
        Daemon *daemon;
        pci_addr key;
        Job *head, *tail;               /* queued; under daemon->lock */
        bool running;                   /* a worker drains it; under daemon->lock */
        bool pending;                   /* a write outlived its timeout; under daemon->lock */
        Job *intent;                    /* event loop only: what to run again */
        char *pending_what;             /* event loop only: the pending write, for people */
        uint64_t covered_seqnum;        /* a read of the whole lane reflects uevents up to this; under daemon->lock */
        sd_event_source *retry_source;  /* event loop only: the next try of failed apply steps, when due */
        unsigned retry_attempt;         /* event loop only: tries since the last apply that was not one */
};

typedef struct GroupPeer {
        pci_addr addr;
        char *prior_driver;
        char *prior_override;
} GroupPeer;

typedef struct LateWrite {
        struct LateWrite *next;
        pci_addr addr;
        int result;
        char *path;
} LateWrite;

/* JOB_GROUPS and other host-wide reads run in a lane of their own. */
#define LANE_HOST_KEY ((pci_addr) { .domain = 0xffffffff, .bus = 0xff, .dev = 0x1f, .func = 7 })

Job *job_new(Daemon *d, JobType type, const pci_addr *a);
Job *job_free(Job *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);
Job *job_clone_intent(const Job *j);

/* The lane a device's work belongs to: its PF's for a VF (also for a VF the
 * model does not know yet, found by the PFs' routing-id ranges), else its own. */
Lane *daemon_lane_for(Daemon *d, const pci_addr *a);
pci_addr daemon_lane_key(Daemon *d, const pci_addr *a);
/* Queue a re-read of a device (or of the whole lane when a is the lane's
 * key), unless one is queued already. */
int lane_submit_refresh(Daemon *d, const pci_addr *a, uint64_t seqnum, bool then_apply);
uint64_t lane_covered_seqnum(Daemon *d, Lane *l);
bool lane_is_pending(Daemon *d, Lane *l);
bool lane_is_busy(Daemon *d, Lane *l);

/* Queue a job. Fails with -EINPROGRESS if the lane is pending; the job is
 * then not consumed. */
int lane_submit(Daemon *d, Job *j);

/* Make j what runs once the lane's pending kernel write is done, in place
 * of a re-run of the job that timed out. Called on the event loop, from
 * that job's completion. -ESRCH if the lane is not pending (j is not
 * consumed then). */
int lane_set_intent(Daemon *d, Job *j);

int lanes_setup(Daemon *d);
void lanes_done(Daemon *d);
/* Wait (bounded) for running workers to finish. Returns the number still running. */
unsigned lanes_wait_idle(Daemon *d, uint64_t timeout_usec);
/* The sriov_ctx late-write callback. */
void lanes_late_write(const char *path, const char *value, int result, void *userdata);
