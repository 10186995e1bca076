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
        j->held = j->r == -ETIMEDOUT && sysfs_writes_abandoned() != abandoned;
        if (j->held || !j->type->read_back || j->no_read_back)
                return;
        r = sriov_family_load(j->daemon->ctx, &j->addr, &j->family);
        if (r < 0) {
                if (j->r >= 0)
                        j->r = sriov_error_set(&j->error, r, "Cannot read the device back: %s", strerror(-r));
                return;
        }
        if (pci_addr_equal(&j->addr, &l->key))
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

static void *worker(void *userdata) {
        Lane *l = userdata;
        Daemon *d = l->daemon;

        for (;;) {
                Job *j;

                pthread_mutex_lock(&d->lock);
                j = l->head;
                if (!j) {
                        l->running = false;
                        d->workers--;
                        pthread_cond_broadcast(&d->workers_cond);
                        pthread_mutex_unlock(&d->lock);
                        return NULL;
                }
                l->head = j->next;
                if (!l->head)
                        l->tail = NULL;
                pthread_mutex_unlock(&d->lock);

                job_execute(j);

                pthread_mutex_lock(&d->lock);
                push_done_locked(d, j);
                if (j->held) {
                        /* The kernel still holds a write of this lane: fail
                         * what waits behind it rather than block on it too. */
                        l->pending = true;
                        while (l->head) {
                                Job *k = l->head;

                                l->head = k->next;
                                k->r = sriov_error_set(&k->error, -EINPROGRESS,
                                                       "An earlier operation on this device is still pending in the kernel");
                                push_done_locked(d, k);
                        }
                        l->tail = NULL;
                }
                pthread_mutex_unlock(&d->lock);
                wake_loop(d);
        }
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
        b = l->pending || l->running || l->head;
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

int lane_submit(Daemon *d, Job *j) {
        Lane *l = j->lane ?: daemon_lane_for(d, &j->addr);
        pthread_attr_t attr;
        pthread_t t;
        int r = 0;

        if (!l)
                return -ENOMEM;
        j->lane = l;
        pthread_mutex_lock(&d->lock);
        if (l->pending) {
                pthread_mutex_unlock(&d->lock);
                return -EINPROGRESS;
        }
        enqueue_locked(l, j);
        if (!l->running) {
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                r = -pthread_create(&t, &attr, worker, l);
                pthread_attr_destroy(&attr);
                if (r < 0) {
                        /* take the job back out */
                        l->head = l->tail = NULL;
                } else {
                        l->running = true;
                        d->workers++;
                }
        }
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
                job_free(l->intent);
                free(l->pending_what);
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
