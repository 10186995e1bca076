/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"

/* Kernel work runs off the event loop, on worker threads, in lanes: one lane
 * per PF (its VFs share it) or per stand-alone function. Inside a lane,
 * jobs on different devices run in parallel (at most config.lane_workers at
 * a time: the kernel locks per device), and the jobs of one device one
 * after another, in the order they were queued. The device is its IOMMU
 * group when it has one (a group's viability is one thing, checked and
 * changed by one job at a time). A job on the lane's own function (the PF:
 * its VF count, its whole family) runs alone: what was queued before it
 * finishes first, and nothing queued after it starts before it is done.
 * Different lanes run in parallel. A job whose kernel write outlives the
 * timeout leaves its lane "pending": the lane refuses new work until the
 * kernel finishes, then the job's intent is run (lanes-pending.c).
 *
 * Lanes know nothing of what a job does. Each feature brings its job types,
 * as a JobType table of operations, and owns the payload of its jobs:
 *
 *   static void my_execute(Job *j) { MyWork *w = j->payload; j->r = ...; }
 *   static void my_free(void *p) { ... }
 *   const JobType my_job_type = { "my", my_execute, my_free, .read_back = true };
 *
 *   Job *j = job_new(d, &my_job_type, &addr, work);   // takes work
 *   j->complete = my_done;                              // on the event loop
 *   r = lane_submit(d, j);
 */

typedef struct JobType {
        const char *name;
        /* On a worker thread: the kernel work. Sets j->r (and j->error). */
        void (*execute)(Job *j);
        /* Frees the payload (may be NULL when the payload needs no freeing). */
        void (*free)(void *payload);
        /* What to run once the kernel finished a write of this job that it
         * held past the timeout: a copy of the job (retry set), or NULL to
         * only re-read the device. NULL: re-read. */
        Job *(*clone_intent)(const Job *j);
        /* After execute, read the device (its PF family) back into the model,
         * unless a write of the job is still held by the kernel. */
        bool read_back;
} JobType;

struct Job {
        Job *next;
        Daemon *daemon;
        Lane *lane;
        const JobType *type;
        pci_addr addr;
        void *payload;                  /* the feature's, freed by type->free */
        bool retry;                     /* a lane's intent, run once a held write finished */
        bool background;                /* a read nobody waits on to change the host (a dry run): the
                                         * lane runs the other jobs first */
        bool exclusive;                 /* runs alone in its lane (lane_submit(): a job on the lane's own
                                         * function, the PF; a feature may ask for it too) */
        uint64_t order_key;             /* lane_submit(): jobs of one key run in order, one at a time */
        bool no_read_back;              /* execute: nothing to read back this time */

        /* results, written by the worker */
        int r;
        unsigned abandoned;             /* writes of the job the kernel still held when their time was up */
        uint64_t usec;                  /* time execute took (metrics) */
        bool held;                      /* r is -ETIMEDOUT and the kernel still holds a write of the job
                                         * (not only a wait that ran out): the lane is pending */
        sriov_error error;
        sriov_family *family;           /* fresh read of the device (family) after the work */

        /* completion, on the event loop: the feature's own (complete), then
         * the requester's (done, when the feature calls it) */
        void (*complete)(Job *j);
        void (*done)(Job *j);
        void *userdata;
        sd_bus_message *request;        /* the call to answer, if any */
};

/* A kernel write of a lane's job that the kernel still holds. */
typedef struct HeldWrite HeldWrite;

struct Lane {
        Lane *next;
        Daemon *daemon;
        pci_addr key;
        Job *head, *tail;               /* queued, not started; under daemon->lock */
        Job *running;                   /* started, not finished (linked by next); under daemon->lock */
        unsigned n_workers;             /* threads draining it; under daemon->lock */
        bool pending;                   /* a write outlived its timeout (held is not empty); under daemon->lock */
        HeldWrite *held;                /* the writes the kernel holds; under daemon->lock */
        Job *intents;                   /* event loop only: what to run once the kernel is done (linked by next) */
        uint64_t covered_seqnum;        /* a read of the whole lane reflects uevents up to this; under daemon->lock */
        sd_event_source *retry_source;  /* event loop only: the next try of failed apply steps, when due */
        unsigned retry_attempt;         /* event loop only: tries since the last apply that was not one */
};

/* JOB_GROUPS and other host-wide reads run in a lane of their own. */
#define LANE_HOST_KEY ((pci_addr) { .domain = 0xffffffff, .bus = 0xff, .dev = 0x1f, .func = 7 })

/* A job of type on the device a, carrying payload (taken, also on failure). */
Job *job_new(Daemon *d, const JobType *type, const pci_addr *a, void *payload);
Job *job_free(Job *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);

/* Worker threads per lane (config.lane_workers: 0 means the default). */
#define LANE_WORKERS_DEFAULT 4U
#define LANE_WORKERS_MAX 64U

/* The lane a device's work belongs to: its PF's for a VF (also for a VF the
 * model does not know yet, found by the PFs' routing-id ranges), else its own. */
Lane *daemon_lane_for(Daemon *d, const pci_addr *a);
pci_addr daemon_lane_key(Daemon *d, const pci_addr *a);
Lane *lane_find(Daemon *d, const pci_addr *key);
uint64_t lane_covered_seqnum(Daemon *d, Lane *l);
/* Record that a read of the whole lane reflects uevents up to seqnum (a worker). */
void lane_cover_seqnum(Daemon *d, Lane *l, uint64_t seqnum);
bool lane_is_pending(Daemon *d, Lane *l);
bool lane_is_busy(Daemon *d, Lane *l);
/* A change (not a background read) runs or waits on the lane. */
bool lane_has_changes(Daemon *d, Lane *l);
/* What kernel write the device waits for, NULL if none (event loop). */
const char *lane_pending_what(Daemon *d, const pci_addr *dev);

/* Queue a job. Fails with -EINPROGRESS if the lane is pending; the job is
 * then not consumed. */
int lane_submit(Daemon *d, Job *j);
/* Queue j unless a job of its type on its device waits in the lane already:
 * then merge(queued, j) folds j into it and j is freed. */
int lane_submit_coalesced(Daemon *d, Job *j, void (*merge)(Job *queued, const Job *j));

/* Make j what runs once the lane's pending kernel writes are done, in place
 * of a re-run of the job that timed out. Called on the event loop, from
 * that job's completion. -ESRCH if the lane is not pending (j is not
 * consumed then). */
int lane_set_intent(Daemon *d, Job *j);

int lanes_setup(Daemon *d);
void lanes_done(Daemon *d);
/* Wait (bounded) for running workers to finish. Returns the number still running. */
unsigned lanes_wait_idle(Daemon *d, uint64_t timeout_usec);
/* No worker runs and no finished job waits for the event loop. */
bool lanes_idle(Daemon *d);

/* Wake the event loop up to look at finished work (any thread). */
void lanes_wake(Daemon *d);

/* lanes-pending.c: a job whose write the kernel holds leaves its lane
 * pending with the job's intent; the kernel's late answer (from lib's late
 * callback, on a helper thread) ends it and runs the intent. */
/* A worker (under daemon->lock): j abandoned n writes to the kernel. */
void lane_hold_locked(Lane *l, const Job *j, unsigned n);
void lanes_pending_start(Daemon *d, Job *j);
void lanes_late_write(const pci_addr *dev, const char *path, int result, void *userdata);
void lanes_pending_process(Daemon *d);
void lanes_pending_done(Daemon *d);
/* A lane's held writes and intents, when it goes. */
void lane_pending_free(Lane *l);
