/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bus-util.h"
#include "lanes.h"

/* Fairness between callers, and sizes the bus allows (docs/security.md,
 * "Limits"). Root (as the bus vouches for it) is served whatever others do;
 * every other caller (by bus connection) has a share:
 *   - expensive reads (listings, Verify, dry runs, Rescan) cost tokens from
 *     a bucket per caller, by the size of what they answer: a caller that
 *     sends faster than its share, or never reads its answers, gets
 *     LimitsExceeded instead of more megabytes;
 *   - at most BUS_CALLER_INFLIGHT_MAX of its calls that run on the workers
 *     at a time.
 * And no answer is built larger than BUS_REPLY_MAX, under the bus's own
 * message limit (32 MiB on the system bus): a caller asks for less instead. */

#define BUS_CALLER_TOKENS_MAX   64.0    /* a burst: a user's scripts and interactive use never meet it */
#define BUS_CALLER_REFILL       16.0    /* tokens a second */
#define BUS_TOKEN_BYTES         (256U * 1024U)  /* each token buys this much answer, beyond the first */
#define BUS_CALLER_INFLIGHT_MAX 2
#define BUS_REPLY_MAX           (24U * 1024U * 1024U)

/* What an answer of about reply_bytes costs (1 + a token per BUS_TOKEN_BYTES). */
unsigned bus_cost_of(size_t reply_bytes);

/* Charge the sender of m cost tokens. 0: go on; 1: the caller is over its
 * share, and is answered LimitsExceeded a quarter of a second later (the
 * handler returns 1); < 0: error set. Root is never charged. */
int bus_admit(Daemon *d, sd_bus_message *m, unsigned cost, sd_bus_error *error);

/* A call that runs on the workers: 1 when the sender of m may start one
 * more (then bus_inflight_done() when it answered), < 0 (error set) when it
 * has BUS_CALLER_INFLIGHT_MAX under way. Root: always, and nothing counted. */
int bus_inflight_begin(Daemon *d, sd_bus_message *m, sd_bus_error *error);
void bus_inflight_done(Daemon *d, sd_bus_message *m);

/* A read that runs on the workers for the sender of m: admitted (cost
 * tokens), counted under way, and the job make(d) queued with complete as
 * its completion, which must call bus_inflight_done(). Returns 1 (the
 * answer comes from complete), or what bus_admit() says, or < 0. */
int bus_start_read_job(Daemon *d, sd_bus_message *m, unsigned cost, Job *(*make)(Daemon *d),
                       void (*complete)(Job *j), sd_bus_error *error);

/* An answer of about reply_bytes may be built: 0, or LimitsExceeded with
 * what to ask for instead (hint). */
int bus_check_reply_size(size_t reply_bytes, const char *hint, sd_bus_error *error);

/* A caller of a dry run, and the epoch it asked in (bus-config.c). */
typedef struct DryRunWaiter {
        sd_bus_message *m;
        uint64_t epoch;
} DryRunWaiter;

/* Whether the bus vouches for the sender of m as root (asked once per sender). */
bool bus_caller_is_root(Daemon *d, sd_bus_message *m);

/* The host or the configuration changed: a dry run made before is stale. */
void bus_dry_run_cache_drop(Daemon *d);

void bus_callers_free(Daemon *d);
