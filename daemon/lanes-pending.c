/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "lanes.h"

/* A kernel write that outlived its timeout and finished later, reported by
 * lib's late callback on the writer's helper thread. */
typedef struct LateWrite {
        struct LateWrite *next;
        pci_addr addr;
        int result;
        char *path;
} LateWrite;

static LateWrite *late_write_free(LateWrite *w) {
        free(w->path);
        return mfree(w);
}

/* On the event loop: j's write is held by the kernel. Its lane stays pending
 * (the worker marked it) until the kernel answers; what runs then is the
 * job's intent (its type's copy of it, or a re-read of the lane). */
void lanes_pending_start(Daemon *d, Job *j) {
        Lane *l = j->lane;

        job_free(l->intent);
        l->intent = j->type->clone_intent ? j->type->clone_intent(j) : NULL;
        if (l->intent)
                l->intent->lane = l;
        free(l->pending_what);
        l->pending_what = strdup(j->error.error ? j->error.message : "a kernel write");
        log_warning("%s", strna(l->pending_what));
}

int lane_set_intent(Daemon *d, Job *j) {
        Lane *l = j->lane ?: daemon_lane_for(d, &j->addr);

        if (!l)
                return -ENOMEM;
        if (!lane_is_pending(d, l))
                return -ESRCH;
        j->lane = l;
        job_free(l->intent);
        l->intent = j;
        return 0;
}

void lanes_late_write(const pci_addr *dev, const char *path, int result, void *userdata) {
        Daemon *d = userdata;
        LateWrite *w;

        w = calloc(1, sizeof(*w));
        if (!w)
                return;
        w->addr = *dev;
        w->result = result;
        w->path = strdup(path);
        pthread_mutex_lock(&d->lock);
        w->next = d->late_head;
        d->late_head = w;
        pthread_mutex_unlock(&d->lock);
        lanes_wake(d);
}

/* The kernel answered a write its lane waits for: the lane is free again,
 * and its intent runs (or a re-read of it). Returns false if the worker has
 * not reported the timeout yet (ask again later). */
static bool late_write_finish(Daemon *d, LateWrite *w) {
        const sriov_device *dev = sriov_host_find(d->host, &w->addr);
        pci_addr key = dev && dev->is_vf ? dev->physfn : w->addr;
        Lane *l = lane_find(d, &key);
        bool pending, running;
        Job *intent;
        int r;

        if (!l)
                return true;
        pthread_mutex_lock(&d->lock);
        pending = l->pending;
        running = l->running;
        if (pending)
                l->pending = false;
        pthread_mutex_unlock(&d->lock);
        if (!pending && running)
                return false;
        if (pending)
                l->pending_what = mfree(l->pending_what);
        if (w->result < 0)
                log_warning_errno(w->result, "The pending kernel write to %s finished late and failed: %m", w->path);
        else
                log_notice("The pending kernel write to %s finished late", w->path);
        if (pending) {
                intent = TAKE_PTR(l->intent);
                if (!intent)
                        intent = daemon_refresh_job_new(d, &key);
                if (intent) {
                        intent->lane = l;
                        r = lane_submit(d, intent);
                        if (r < 0) {
                                log_warning_errno(r, "Cannot finish the pending operation: %m");
                                job_free(intent);
                        }
                }
        }
        daemon_mark_dirty(d, &w->addr, 0);
        return true;
}

void lanes_pending_process(Daemon *d) {
        LateWrite *late, *keep = NULL;

        pthread_mutex_lock(&d->lock);
        late = d->late_head;
        d->late_head = NULL;
        pthread_mutex_unlock(&d->lock);

        while (late) {
                LateWrite *w = late;

                late = w->next;
                if (late_write_finish(d, w))
                        late_write_free(w);
                else {
                        w->next = keep;
                        keep = w;
                }
        }
        if (!keep)
                return;
        pthread_mutex_lock(&d->lock);
        for (LateWrite *w = keep, *n; w; w = n) {
                n = w->next;
                w->next = d->late_head;
                d->late_head = w;
        }
        pthread_mutex_unlock(&d->lock);
}

void lanes_pending_done(Daemon *d) {
        while (d->late_head) {
                LateWrite *w = d->late_head;

                d->late_head = w->next;
                late_write_free(w);
        }
}
