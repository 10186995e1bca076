/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sys/eventfd.h>
#include <time.h>

#include "lanes.h"
#include "metrics.h"

Job *job_new(Daemon *d, const JobType *type, const pci_addr *a, void *payload) {
        Job *j = calloc(1, sizeof(*j));

        if (!j) {
                if (payload && type->free)
                        type->free(payload);
                return NULL;
        }
        j->daemon = d;
        j->type = type;
        j->addr = *a;
        j->payload = payload;
        return j;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        if (j->payload && j->type->free)
                j->type->free(j->payload);
        sriov_family_free(j->family);
        sd_bus_message_unref(j->request);
        return mfree(j);
}

/* On the worker: the job's work, then (unless the kernel still holds one
 * of its writes) a fresh read of its device. */
static void job_execute(Job *j) {
        Lane *l = j->lane;
        unsigned abandoned = sysfs_writes_abandoned();
        uint64_t start = now_usec();
        int r;

        j->type->execute(j);
        j->usec = now_usec() - start;
        /* Never read a device whose write is still blocked in the kernel:
         * reads may block too, and what they show is not the final state.
         * A wait that ran out (VFs that did not appear in time) holds
         * nothing: the device is read, and the lane goes on. */
        j->abandoned = sysfs_writes_abandoned() - abandoned;
        j->held = j->r == -ETIMEDOUT && j->abandoned > 0;
        if (j->held)
                return;
        /* a job that read its device (family) itself hands that read on */
        if (!j->family && j->type->read_back && !j->no_read_back) {
                r = sriov_family_load(j->daemon->ctx, &j->addr, &j->family);
                if (r < 0) {
                        if (j->r >= 0)
                                j->r = sriov_error_set(&j->error, r, "Cannot read the device back: %s", strerror(-r));
                        return;
                }
        }
        if (j->family && pci_addr_equal(&j->addr, &l->key))
                lane_cover_seqnum(j->daemon, l, j->family->seqnum);
}

static void wake_loop(Daemon *d) {
        uint64_t one = 1;

        (void) !write(d->done_fd, &one, sizeof(one));
}

static void push_done_locked(Daemon *d, Job *j) {
        j->next = NULL;
        if (d->done_tail)
                d->done_tail->next = j;
        else
                d->done_head = j;
        d->done_tail = j;
}

/* Two jobs that must not run at the same time. */
static bool jobs_conflict(const Job *a, const Job *b) {
        return a->exclusive || b->exclusive || a->order_key == b->order_key;
}

/* May j (queued) start now: nothing running or queued before it is in its way? */
static bool runnable_locked(const Lane *l, const Job *j) {
        for (const Job *r = l->running; r; r = r->next)
                if (jobs_conflict(j, r))
                        return false;
        for (const Job *q = l->head; q && q != j; q = q->next)
                if (jobs_conflict(j, q))
                        return false;
        return true;
}

/* Take the first job that may start now off the queue. */
static Job *pick_locked(Lane *l) {
        Job *prev = NULL;

        for (Job *j = l->head; j; prev = j, j = j->next) {
                if (runnable_locked(l, j)) {
                        if (prev)
                                prev->next = j->next;
                        else
                                l->head = j->next;
                        if (l->tail == j)
                                l->tail = prev;
                        j->next = NULL;
                        return j;
                }
                if (j->exclusive)
                        break;          /* everything after it waits for it */
        }
        return NULL;
}

static unsigned n_runnable_locked(const Lane *l, unsigned max) {
        unsigned n = 0;

        for (const Job *j = l->head; j && n < max; j = j->next) {
                if (runnable_locked(l, j))
                        n++;
                else if (j->exclusive)
                        break;
        }
        return n;
}

static unsigned lane_workers_max(const Daemon *d) {
        return d->config.lane_workers > 0 ? MIN(d->config.lane_workers, LANE_WORKERS_MAX) : LANE_WORKERS_DEFAULT;
}

static void running_remove_locked(Lane *l, Job *j) {
        for (Job **p = &l->running; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        j->next = NULL;
}

/* The kernel still holds a write of j: fail what waits behind it in the
 * lane rather than block on it too (what runs already finishes). */
static void hold_locked(Daemon *d, Lane *l, Job *j) {
        lane_hold_locked(l, j, j->abandoned);
        while (l->head) {
                Job *k = l->head;

                l->head = k->next;
                k->r = sriov_error_set(&k->error, -EINPROGRESS,
                                       "An earlier operation on this device is still pending in the kernel");
                push_done_locked(d, k);
        }
        l->tail = NULL;
}

static int spawn_locked(Daemon *d, Lane *l);

static void *worker(void *userdata) {
        Lane *l = userdata;
        Daemon *d = l->daemon;

        pthread_mutex_lock(&d->lock);
        for (;;) {
                Job *j = pick_locked(l);

                if (!j)
                        break;
                j->next = l->running;
                l->running = j;
                pthread_mutex_unlock(&d->lock);

                job_execute(j);

                pthread_mutex_lock(&d->lock);
                running_remove_locked(l, j);
                push_done_locked(d, j);
                if (j->held)
                        hold_locked(d, l, j);
                /* what this job kept waiting may start now, beside the next one here */
                (void) spawn_locked(d, l);
                wake_loop(d);
        }
        l->n_workers--;
        d->workers--;
        pthread_cond_broadcast(&d->workers_cond);
        pthread_mutex_unlock(&d->lock);
        return NULL;
}

/* Enough workers for the jobs that may start now, within the lane's bound.
 * A worker that is not running a job is about to pick one. */
static int spawn_locked(Daemon *d, Lane *l) {
        unsigned max = lane_workers_max(d), busy = 0, free_workers, want;

        for (const Job *r = l->running; r; r = r->next)
                busy++;
        free_workers = l->n_workers - busy;
        if (l->n_workers >= max)
                return 0;
        want = n_runnable_locked(l, max);
        while (free_workers < want && l->n_workers < max) {
                pthread_attr_t attr;
                pthread_t t;
                int r;

                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                r = -pthread_create(&t, &attr, worker, l);
                pthread_attr_destroy(&attr);
                if (r < 0)
                        return r;
                l->n_workers++;
                d->workers++;
                free_workers++;
        }
        return 0;
}

/* The key of a's jobs' order: its IOMMU group (viability is the group's),
 * else the function. */
static uint64_t order_key(Daemon *d, const pci_addr *a) {
        const sriov_device *dev = sriov_host_find(d->host, a);

        if (dev && dev->iommu_group >= 0)
                return (UINT64_C(1) << 48) | (uint64_t) dev->iommu_group;
        return ((uint64_t) a->domain << 16) | pci_addr_rid(a);
}

pci_addr daemon_lane_key(Daemon *d, const pci_addr *a) {
        const sriov_device *dev = sriov_host_find(d->host, a);
        uint32_t rid = pci_addr_rid(a);

        if (dev && dev->is_vf)
                return dev->physfn;
        if (dev)
                return *a;
        /* not known yet: a VF being created belongs to the PF whose VF
         * routing-id range holds it */
        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *pf = d->host->devices[i];
                uint32_t first, last;

                if (!pf->is_pf || pf->addr.domain != a->domain || pf->sriov.total_vfs == 0)
                        continue;
                first = pci_addr_rid(&pf->addr) + pf->sriov.offset;
                last = first + pf->sriov.stride * (pf->sriov.total_vfs - 1);
                if (rid >= first && rid <= last && pf->sriov.stride > 0 && (rid - first) % pf->sriov.stride == 0)
                        return pf->addr;
        }
        return *a;
}

Lane *lane_find(Daemon *d, const pci_addr *key) {
        for (Lane *l = d->lanes; l; l = l->next)
                if (pci_addr_equal(&l->key, key))
                        return l;
        return NULL;
}

Lane *daemon_lane_for(Daemon *d, const pci_addr *a) {
        pci_addr key = daemon_lane_key(d, a);
        Lane *l = lane_find(d, &key);

        if (l)
                return l;
        l = calloc(1, sizeof(*l));
        if (!l)
                return NULL;
        l->key = key;
        l->daemon = d;
        pthread_mutex_lock(&d->lock);
        l->next = d->lanes;
        d->lanes = l;
        pthread_mutex_unlock(&d->lock);
        return l;
}

uint64_t lane_covered_seqnum(Daemon *d, Lane *l) {
        uint64_t s;

        pthread_mutex_lock(&d->lock);
        s = l->covered_seqnum;
        pthread_mutex_unlock(&d->lock);
        return s;
}

void lane_cover_seqnum(Daemon *d, Lane *l, uint64_t seqnum) {
        pthread_mutex_lock(&d->lock);
        l->covered_seqnum = MAX(l->covered_seqnum, seqnum);
        pthread_mutex_unlock(&d->lock);
}

bool lane_is_pending(Daemon *d, Lane *l) {
        bool p;

        pthread_mutex_lock(&d->lock);
        p = l->pending;
        pthread_mutex_unlock(&d->lock);
        return p;
}

bool lane_is_busy(Daemon *d, Lane *l) {
        bool b;

        pthread_mutex_lock(&d->lock);
        b = l->pending || l->n_workers > 0 || l->head;
        pthread_mutex_unlock(&d->lock);
        return b;
}

bool lane_has_changes(Daemon *d, Lane *l) {
        bool b = false;

        pthread_mutex_lock(&d->lock);
        for (const Job *j = l->running; j && !b; j = j->next)
                b = !j->background;
        for (const Job *j = l->head; j && !b; j = j->next)
                b = !j->background;
        pthread_mutex_unlock(&d->lock);
        return b;
}

/* After the other jobs of its kind: a change (or a read it waits for) goes
 * before the background reads queued, which keep their order. */
static void enqueue_locked(Lane *l, Job *j) {
        Job **p = &l->head;

        j->next = NULL;
        if (!j->background)
                while (*p && !(*p)->background)
                        p = &(*p)->next;
        else
                while (*p)
                        p = &(*p)->next;
        j->next = *p;
        *p = j;
        if (!j->next)
                l->tail = j;
}

static void dequeue_locked(Lane *l, Job *j) {
        Job *prev = NULL;

        for (Job *q = l->head; q; prev = q, q = q->next)
                if (q == j) {
                        if (prev)
                                prev->next = j->next;
                        else
                                l->head = j->next;
                        if (l->tail == j)
                                l->tail = prev;
                        break;
                }
        j->next = NULL;
}

int lane_submit(Daemon *d, Job *j) {
        Lane *l = j->lane ?: daemon_lane_for(d, &j->addr);
        int r;

        if (!l)
                return -ENOMEM;
        j->lane = l;
        j->order_key = order_key(d, &j->addr);
        /* the lane's own function: its VF count, its whole family */
        if (pci_addr_equal(&j->addr, &l->key))
                j->exclusive = true;
        pthread_mutex_lock(&d->lock);
        if (l->pending) {
                pthread_mutex_unlock(&d->lock);
                return -EINPROGRESS;
        }
        enqueue_locked(l, j);
        r = spawn_locked(d, l);
        if (r < 0 && l->n_workers == 0)
                /* no one would run it: take it back out */
                dequeue_locked(l, j);
        else
                r = 0;
        pthread_mutex_unlock(&d->lock);
        return r;
}

int lane_submit_coalesced(Daemon *d, Job *j, void (*merge)(Job *queued, const Job *j)) {
        Lane *l = j->lane ?: daemon_lane_for(d, &j->addr);
        int r;

        if (!l) {
                job_free(j);
                return -ENOMEM;
        }
        pthread_mutex_lock(&d->lock);
        for (Job *q = l->head; q; q = q->next)
                if (q->type == j->type && pci_addr_equal(&q->addr, &j->addr)) {
                        merge(q, j);
                        pthread_mutex_unlock(&d->lock);
                        job_free(j);
                        return 0;
                }
        pthread_mutex_unlock(&d->lock);
        j->lane = l;
        r = lane_submit(d, j);
        if (r < 0)
                job_free(j);
        return r;
}

unsigned lanes_wait_idle(Daemon *d, uint64_t timeout_usec) {
        struct timespec deadline;
        unsigned n;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += (time_t) (timeout_usec / 1000000ULL);
        deadline.tv_nsec += (long) (timeout_usec % 1000000ULL) * 1000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&d->lock);
        while (d->workers > 0)
                if (pthread_cond_timedwait(&d->workers_cond, &d->lock, &deadline) != 0)
                        break;
        n = d->workers;
        pthread_mutex_unlock(&d->lock);
        return n;
}

bool lanes_idle(Daemon *d) {
        bool idle;

        pthread_mutex_lock(&d->lock);
        idle = d->workers == 0 && !d->done_head;
        pthread_mutex_unlock(&d->lock);
        return idle;
}

/* On the event loop: a job came back. */
static void job_finished(Daemon *d, Job *j) {
        metrics_job_finished(d, j->type->name, j->r, j->usec);
        if (j->family) {
                int r = daemon_merge_family(d, TAKE_PTR(j->family));
                if (r < 0)
                        log_warning_errno(r, "Failed to update the device model: %m");
        }
        if (j->held)
                lanes_pending_start(d, j);
        if (j->complete)
                j->complete(j);
        if (!j->background)
                daemon_dirty_change_done(d);
        job_free(j);
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;
        uint64_t v;
        Job *jobs;

        (void) !read(fd, &v, sizeof(v));

        pthread_mutex_lock(&d->lock);
        jobs = d->done_head;
        d->done_head = d->done_tail = NULL;
        pthread_mutex_unlock(&d->lock);

        while (jobs) {
                Job *j = jobs;

                jobs = j->next;
                job_finished(d, j);
        }
        lanes_pending_process(d);
        return 0;
}

int lanes_setup(Daemon *d) {
        int r;

        pthread_mutex_init(&d->lock, NULL);
        pthread_cond_init(&d->workers_cond, NULL);
        d->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d->done_fd < 0)
                return negative_errno();
        r = sd_event_add_io(d->event, &d->done_source, d->done_fd, EPOLLIN, on_done, d);
        if (r < 0)
                return r;
        sriov_ctx_set_late_callback(d->ctx, lanes_late_write, d);
        return 0;
}

void lanes_wake(Daemon *d) {
        wake_loop(d);
}

void lanes_done(Daemon *d) {
        while (d->lanes) {
                Lane *l = d->lanes;

                d->lanes = l->next;
                lane_pending_free(l);
                sd_event_source_unref(l->retry_source);
                while (l->head) {
                        Job *j = l->head;
                        l->head = j->next;
                        job_free(j);
                }
                free(l);
        }
        while (d->done_head) {
                Job *j = d->done_head;
                d->done_head = j->next;
                job_free(j);
        }
        lanes_pending_done(d);
        d->done_source = sd_event_source_disable_unref(d->done_source);
        d->done_fd = safe_close(d->done_fd);
        pthread_cond_destroy(&d->workers_cond);
        pthread_mutex_destroy(&d->lock);
}
