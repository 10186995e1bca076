/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "bus-limits.h"
#include "test-hooks.h"

/* A user's share: every connection of one uid draws on it, so that a
 * caller opening more connections gets no more. */
typedef struct Share {
        uid_t uid;
        double tokens;
        uint64_t last_usec;             /* tokens as of then */
        unsigned inflight;              /* its calls on the workers */
} Share;

typedef struct Caller {
        char *name;                     /* the unique bus name */
        uid_t uid;
        unsigned inflight;              /* its calls on the workers (its share counts them too) */
        unsigned deferred;              /* refusals waiting to be sent */
} Caller;

/* A refusal to send later. */
typedef struct Deferred {
        sd_bus_message *m;
        uint64_t due;
} Deferred;

#define REFUSAL_DELAY_USEC (250 * 1000ULL)
#define REFUSALS_DEFERRED_MAX 8

struct BusCallers {
        Caller *callers;                /* connections seen, their uid asked of the bus once */
        size_t n;
        Share *shares;                  /* one per uid that made a call: as many as the host has users at most */
        size_t n_shares;
        Deferred *deferred;             /* in order of due */
        size_t n_deferred;
        sd_event_source *timer;         /* enabled only while refusals wait */
};

static void refill(Share *s, uint64_t now) {
        s->tokens += (double) (now - s->last_usec) / 1e6 * BUS_CALLER_REFILL;
        if (s->tokens > BUS_CALLER_TOKENS_MAX)
                s->tokens = BUS_CALLER_TOKENS_MAX;
        s->last_usec = now;
}

static Share *share_of(struct BusCallers *b, uid_t uid) {
        uint64_t now = now_usec();
        Share *n;

        for (size_t i = 0; i < b->n_shares; i++)
                if (b->shares[i].uid == uid) {
                        refill(&b->shares[i], now);
                        return &b->shares[i];
                }
        n = realloc(b->shares, (b->n_shares + 1) * sizeof(*n));
        if (!n)
                return NULL;
        b->shares = n;
        n[b->n_shares] = (Share) { .uid = uid, .tokens = BUS_CALLER_TOKENS_MAX, .last_usec = now };
        return &n[b->n_shares++];
}

/* Connections with nothing under way and no refusal waiting are forgotten
 * (their uid is asked again should they call again); their user's share
 * stays. */
static void forget_idle(struct BusCallers *b) {
        for (size_t i = 0; i < b->n;) {
                Caller *c = &b->callers[i];

                if (c->deferred == 0 && c->inflight == 0) {
                        free(c->name);
                        b->callers[i] = b->callers[--b->n];
                        continue;
                }
                i++;
        }
}

static Caller *caller_find(struct BusCallers *b, const char *name) {
        for (size_t i = 0; i < b->n; i++)
                if (streq(b->callers[i].name, name))
                        return &b->callers[i];
        return NULL;
}

/* The account of the sender of m; its uid asked of the bus once. */
static int caller_get(Daemon *d, sd_bus_message *m, Caller **ret) {
        const char *sender = sd_bus_message_get_sender(m);
        struct BusCallers *b;
        Caller *c, *n;
        uid_t uid;
        int r;

        if (!sender)
                return -EACCES;
        if (!d->callers && !(d->callers = calloc(1, sizeof(*d->callers))))
                return -ENOMEM;
        b = d->callers;
        c = caller_find(b, sender);
        if (c) {
                *ret = c;
                return 0;
        }
        r = bus_caller_uid(m, &uid);
        if (r < 0)
                return r;
        if (b->n >= 64)
                forget_idle(b);
        n = realloc(b->callers, (b->n + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        b->callers = n;
        c = &b->callers[b->n];
        *c = (Caller) { .name = strdup(sender), .uid = uid };
        if (!c->name)
                return -ENOMEM;
        b->n++;
        *ret = c;
        return 0;
}

unsigned bus_cost_of(size_t reply_bytes) {
        return 1 + (unsigned) (reply_bytes / BUS_TOKEN_BYTES);
}

#define OVER_SHARE_MESSAGE                                                                                      \
        "Too many requests from this caller: its share is %.0f listings in a burst and %.0f a second, less for "        \
        "large ones; wait for the answers, or follow the signals"

static int send_refusal(sd_bus_message *m) {
        return sd_bus_reply_method_errorf(m, SRIOVD_ERROR_LIMITS_EXCEEDED, OVER_SHARE_MESSAGE, BUS_CALLER_TOKENS_MAX,
                                          BUS_CALLER_REFILL);
}

static int on_refusals_due(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        struct BusCallers *b = d->callers;
        uint64_t now = now_usec();
        size_t i = 0;
        int r;

        for (; i < b->n_deferred && b->deferred[i].due <= now; i++) {
                Caller *c = caller_find(b, strempty(sd_bus_message_get_sender(b->deferred[i].m)));

                (void) send_refusal(b->deferred[i].m);
                sd_bus_message_unref(b->deferred[i].m);
                if (c && c->deferred > 0)
                        c->deferred--;
        }
        memmove(b->deferred, b->deferred + i, (b->n_deferred - i) * sizeof(*b->deferred));
        b->n_deferred -= i;
        if (b->n_deferred == 0)
                return 0;       /* a oneshot: off until the next refusal waits */
        r = sd_event_source_set_time(s, b->deferred[0].due);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* The refusal, REFUSAL_DELAY_USEC later: a caller looping on calls over
 * its share makes a few a second instead of thousands. At most
 * REFUSALS_DEFERRED_MAX wait per caller (memory), the rest go at once. */
static int defer_refusal(Daemon *d, Caller *c, sd_bus_message *m) {
        struct BusCallers *b = d->callers;
        Deferred *n;
        int r;

        if (c->deferred >= REFUSALS_DEFERRED_MAX) {
                (void) send_refusal(m);         /* a caller gone meanwhile reads none */
                return 1;
        }
        n = realloc(b->deferred, (b->n_deferred + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        b->deferred = n;
        n[b->n_deferred++] = (Deferred) { sd_bus_message_ref(m), now_usec() + REFUSAL_DELAY_USEC };
        c->deferred++;
        if (!b->timer) {
                r = sd_event_add_time(d->event, &b->timer, CLOCK_MONOTONIC, n[0].due, 10 * 1000, on_refusals_due, d);
                if (r < 0)
                        return r;
                return 1;
        }
        if (b->n_deferred > 1)
                return 1;               /* armed for the head already */
        r = sd_event_source_set_time(b->timer, n[0].due);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(b->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        return 1;
}

int bus_admit(Daemon *d, sd_bus_message *m, unsigned cost, sd_bus_error *error) {
        Caller *c;
        Share *sh;
        int r;

        r = caller_get(d, m, &c);
        if (r < 0)
                return bus_error_from_errno(error, r, "Cannot tell who the caller is");
        if (c->uid == 0)
                return 0;
        sh = share_of(d->callers, c->uid);
        if (!sh)
                return -ENOMEM;
        if (sh->tokens < (double) cost) {
                r = defer_refusal(d, c, m);
                if (r < 0)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_LIMITS_EXCEEDED, OVER_SHARE_MESSAGE,
                                                 BUS_CALLER_TOKENS_MAX, BUS_CALLER_REFILL);
                return 1;
        }
        sh->tokens -= (double) cost;
        return 0;
}

int bus_inflight_begin(Daemon *d, sd_bus_message *m, sd_bus_error *error) {
        Caller *c;
        Share *sh;
        int r;

        r = caller_get(d, m, &c);
        if (r < 0)
                return bus_error_from_errno(error, r, "Cannot tell who the caller is");
        if (c->uid == 0)
                return 1;
        sh = share_of(d->callers, c->uid);
        if (!sh)
                return -ENOMEM;
        if (sh->inflight >= BUS_CALLER_INFLIGHT_MAX)
                return sd_bus_error_setf(error, SRIOVD_ERROR_LIMITS_EXCEEDED,
                                         "This user has %u calls under way already; wait for their answers",
                                         sh->inflight);
        sh->inflight++;
        c->inflight++;
        return 1;
}

void bus_inflight_done(Daemon *d, sd_bus_message *m) {
        const char *sender = m ? sd_bus_message_get_sender(m) : NULL;
        Caller *c = sender && d->callers ? caller_find(d->callers, sender) : NULL;
        Share *sh = c && c->uid != 0 ? share_of(d->callers, c->uid) : NULL;

        if (!sh || c->inflight == 0)
                return;
        c->inflight--;
        if (sh->inflight > 0)
                sh->inflight--;
}

int bus_start_read_job(Daemon *d, sd_bus_message *m, unsigned cost, Job *(*make)(Daemon *d),
                       void (*complete)(Job *j), sd_bus_error *error) {
        Job *j;
        int r;

        r = bus_admit(d, m, cost, error);
        if (r != 0)
                return r;
        r = bus_inflight_begin(d, m, error);
        if (r < 0)
                return r;
        j = make(d);
        if (!j) {
                bus_inflight_done(d, m);
                return -ENOMEM;
        }
        j->request = sd_bus_message_ref(m);
        j->complete = complete;
        r = lane_submit(d, j);
        if (r < 0) {
                bus_inflight_done(d, m);
                job_free(j);
                return r;
        }
        return 1;
}

int bus_check_reply_size(size_t reply_bytes, const char *hint, sd_bus_error *error) {
        size_t max = test_size_limit("REPLY_MAX", BUS_REPLY_MAX);

        if (reply_bytes <= max)
                return 0;
        return sd_bus_error_setf(error, SRIOVD_ERROR_LIMITS_EXCEEDED,
                                 "The answer would be about %zu KiB, more than the %zu KiB a message may carry here; %s",
                                 reply_bytes >> 10, max >> 10, hint);
}

bool bus_caller_is_root(Daemon *d, sd_bus_message *m) {
        Caller *c;

        return caller_get(d, m, &c) >= 0 && c->uid == 0;
}

void bus_dry_run_cache_drop(Daemon *d) {
        d->dry_run_cache = strv_free(d->dry_run_cache);
        d->dry_run_cache_usec = 0;
        d->dry_run_epoch++;
}

void bus_callers_free(Daemon *d) {
        bus_dry_run_cache_drop(d);
        for (size_t i = 0; i < d->n_dry_run_waiters; i++)
                sd_bus_message_unref(d->dry_run_waiters[i].m);
        d->dry_run_waiters = mfree(d->dry_run_waiters);
        d->n_dry_run_waiters = 0;
        if (!d->callers)
                return;
        for (size_t i = 0; i < d->callers->n; i++)
                free(d->callers->callers[i].name);
        for (size_t i = 0; i < d->callers->n_deferred; i++)
                sd_bus_message_unref(d->callers->deferred[i].m);
        free(d->callers->deferred);
        free(d->callers->shares);
        sd_event_source_disable_unref(d->callers->timer);
        free(d->callers->callers);
        d->callers = mfree(d->callers);
}
