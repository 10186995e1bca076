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

/* The writes of one job that the kernel held past their timeout. The lane
 * is pending while it has any. */
struct HeldWrite {
        HeldWrite *next;
        pci_addr addr;                  /* the job's device */
        unsigned n;                     /* of its writes still in the kernel */
        const Job *job;                 /* until its completion ran (identity only) */
        char *what;                     /* the pending write, for people */
};

static LateWrite *late_write_free(LateWrite *w) {
        free(w->path);
        return mfree(w);
}

static HeldWrite *held_write_free(HeldWrite *h) {
        free(h->what);
        return mfree(h);
}

void lane_hold_locked(Lane *l, const Job *j, unsigned n) {
        HeldWrite *h = calloc(1, sizeof(*h));

        /* without memory the lane stays pending until the kernel is done
         * with something of it: a late write with no record ends it */
        l->pending = true;
        if (!h)
                return;
        *h = (HeldWrite) { .addr = j->addr, .n = MAX(n, 1U), .job = j };
        h->next = l->held;
        l->held = h;
}

/* On the event loop: j's write is held by the kernel. Its lane stays pending
 * (the worker marked it) until the kernel answers; what runs then is the
 * job's intent (its type's copy of it, or a re-read of the lane). */
void lanes_pending_start(Daemon *d, Job *j) {
        Lane *l = j->lane;
        Job *intent = j->type->clone_intent ? j->type->clone_intent(j) : NULL;
        char *what = strdup(j->error.error ? j->error.message : "a kernel write");

        pthread_mutex_lock(&d->lock);
        for (HeldWrite *h = l->held; h; h = h->next)
                if (h->job == j) {
                        h->job = NULL;
                        free(h->what);
                        h->what = TAKE_PTR(what);
                }
        pthread_mutex_unlock(&d->lock);
        free(what);
        log_warning("%s", j->error.error ? j->error.message : "A kernel write is still pending");
        if (intent) {
                intent->lane = l;
                (void) lane_set_intent(d, intent);
        }
}

int lane_set_intent(Daemon *d, Job *j) {
        Lane *l = j->lane ?: daemon_lane_for(d, &j->addr);
        Job **p;

        if (!l)
                return -ENOMEM;
        if (!lane_is_pending(d, l))
                return -ESRCH;
        j->lane = l;
        j->next = NULL;
        for (p = &l->intents; *p; p = &(*p)->next)
                ;
        *p = j;
        return 0;
}

const char *lane_pending_what(Daemon *d, const pci_addr *dev) {
        pci_addr key = daemon_lane_key(d, dev);
        Lane *l = lane_find(d, &key);
        const char *what = NULL;

        if (!l)
                return NULL;
        pthread_mutex_lock(&d->lock);
        for (const HeldWrite *h = l->held; h && !what; h = h->next)
                if (h->what && (pci_addr_equal(&h->addr, dev) || pci_addr_equal(&l->key, dev)))
                        what = h->what;
        pthread_mutex_unlock(&d->lock);
        return what;
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

/* The record of w's job (under daemon->lock): the one of its device, or,
 * when nothing else runs in the lane, any (a group peer's write is the
 * whole-group job's). *ret_wait: the job that abandoned it has not been
 * reported yet. */
static HeldWrite **held_of_locked(Lane *l, const LateWrite *w, bool *ret_wait) {
        HeldWrite **found = NULL;

        for (HeldWrite **p = &l->held; *p && !found; p = &(*p)->next)
                if (pci_addr_equal(&(*p)->addr, &w->addr))
                        found = p;
        if (!found && !l->running && l->held)
                found = &l->held;
        /* its worker or its completion has still to report it */
        *ret_wait = found ? (*found)->job != NULL : l->running != NULL;
        return *ret_wait ? NULL : found;
}

/* The lane's writes are all done: its intents run, in order (or a re-read). */
static void run_intents(Daemon *d, Lane *l) {
        Job *intents = TAKE_PTR(l->intents);

        if (!intents)
                intents = daemon_refresh_job_new(d, &l->key);
        while (intents) {
                Job *j = intents;
                int r;

                intents = j->next;
                j->next = NULL;
                j->lane = l;
                r = lane_submit(d, j);
                if (r < 0) {
                        log_warning_errno(r, "Cannot finish the pending operation: %m");
                        job_free(j);
                }
        }
}

/* The kernel answered a write its lane waits for: once all of the lane's
 * are done, the lane is free again, and its intents run (or a re-read of
 * it). Returns false if the job that abandoned the write has not been
 * reported yet (ask again later). */
static bool late_write_finish(Daemon *d, LateWrite *w) {
        pci_addr key = daemon_lane_key(d, &w->addr);
        Lane *l = lane_find(d, &key);
        bool was_pending, pending, wait;
        HeldWrite **p;

        if (!l)
                return true;
        pthread_mutex_lock(&d->lock);
        was_pending = l->pending;
        p = held_of_locked(l, w, &wait);
        if (wait) {
                pthread_mutex_unlock(&d->lock);
                return false;
        }
        if (p && --(*p)->n == 0) {
                HeldWrite *h = *p;

                *p = h->next;
                held_write_free(h);
        }
        l->pending = l->held != NULL;
        pending = l->pending;
        pthread_mutex_unlock(&d->lock);
        if (w->result < 0)
                log_warning_errno(w->result, "The pending kernel write to %s finished late and failed: %m", w->path);
        else
                log_notice("The pending kernel write to %s finished late", w->path);
        if (was_pending && !pending)
                run_intents(d, l);
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

void lane_pending_free(Lane *l) {
        while (l->held) {
                HeldWrite *h = l->held;

                l->held = h->next;
                held_write_free(h);
        }
        while (l->intents) {
                Job *j = l->intents;

                l->intents = j->next;
                job_free(j);
        }
}

void lanes_pending_done(Daemon *d) {
        while (d->late_head) {
                LateWrite *w = d->late_head;

                d->late_head = w->next;
                late_write_free(w);
        }
}
