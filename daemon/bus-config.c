/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The declared configuration on org.sriovd.Manager1 (docs/dbus-api.md):
 *   Apply(b dry_run) -> a(ssss) steps      (a dry run is open to everyone)
 *   Reload() -> a(ssss) steps */

#include "bus-limits.h"
#include "bus-util.h"
#include "plan.h"
#include "reconcile.h"

/* A plan of every PF: what it costs a caller's share. */
#define DRY_RUN_COST 4

/* (ssss): device, step, what, error */
static int append_step(sd_bus_message *reply, size_t i, const void *userdata) {
        const PlanStep *s = apply_batch_step(userdata, i);

        return sd_bus_message_append(reply, "(ssss)", s->bdf, step_kind_name(s->kind), strempty(s->detail),
                                     s->kind == STEP_ERROR ? strempty(s->detail) : strempty(s->error));
}

static void reply_batch(Daemon *d, ApplyBatch *b, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata;
        int r;

        if (!b) {
                (void) sd_bus_reply_method_errno(request, ENOMEM, NULL);
                return;
        }
        r = bus_send_array(request, "(ssss)", apply_batch_n_steps(b), append_step, b);
        if (r < 0)
                log_debug_errno(r, "Cannot reply to Apply: %m");
}

static void start_apply(Daemon *d, sd_bus_message *m, bool dry_run) {
        int r;

        r = daemon_apply_all(d, dry_run, reply_batch, sd_bus_message_ref(m));
        if (r < 0)
                log_warning_errno(r, "Applying the configuration could not start on every PF: %m");
}

/* What unprivileged callers get without a plan of their own: the last dry
 * run, while nothing changed since and for DRY_RUN_CACHE_USEC at most (a VF
 * setting changed by hand sends no event: drift shows after that long). */
#define DRY_RUN_CACHE_USEC (5 * 1000 * 1000ULL)

static void cache_dry_run(Daemon *d, ApplyBatch *b) {
        _cleanup_strv_free_ char **l = NULL;

        d->dry_run_cache = strv_free(d->dry_run_cache);
        d->dry_run_cache_usec = 0;
        /* nothing kept of a plan that a change overtook while it was made */
        if (!b || d->dry_run_epoch != d->dry_run_started_epoch)
                return;
        for (size_t i = 0; i < apply_batch_n_steps(b); i++) {
                const PlanStep *s = apply_batch_step(b, i);

                if (strv_extend(&l, s->bdf) < 0 || strv_extend(&l, step_kind_name(s->kind)) < 0 ||
                    strv_extend(&l, strempty(s->detail)) < 0 ||
                    strv_extend(&l, s->kind == STEP_ERROR ? strempty(s->detail) : strempty(s->error)) < 0)
                        return;
        }
        d->dry_run_cache = TAKE_PTR(l);
        d->dry_run_cache_usec = now_usec();
}

/* (ssss) from the cache */
static int append_cached_step(sd_bus_message *reply, size_t i, const void *userdata) {
        char *const *l = userdata;

        return sd_bus_message_append(reply, "(ssss)", l[4 * i], l[4 * i + 1], l[4 * i + 2], l[4 * i + 3]);
}

static bool cache_fresh(const Daemon *d) {
        return d->dry_run_cache_usec > 0 && now_usec() - d->dry_run_cache_usec < DRY_RUN_CACHE_USEC;
}

static void reply_dry_runs(Daemon *d, ApplyBatch *b, void *userdata);

static void begin_dry_run(Daemon *d) {
        int r;

        d->dry_run_started_epoch = d->dry_run_epoch;
        r = daemon_apply_all(d, true, reply_dry_runs, NULL);
        if (r < 0)
                log_warning_errno(r, "The dry run could not start on every PF: %m");
}

/* Every caller of the dry run that asked before a change overtook it gets
 * its steps; who asked after a change gets the next dry run. */
static void reply_dry_runs(Daemon *d, ApplyBatch *b, void *userdata) {
        size_t kept = 0;

        cache_dry_run(d, b);
        for (size_t i = 0; i < d->n_dry_run_waiters; i++) {
                DryRunWaiter *w = &d->dry_run_waiters[i];

                if (b && w->epoch > d->dry_run_started_epoch) {
                        d->dry_run_waiters[kept++] = *w;
                        continue;
                }
                bus_inflight_done(d, w->m);
                reply_batch(d, b, w->m);        /* takes the reference */
        }
        d->n_dry_run_waiters = kept;
        if (kept > 0)
                begin_dry_run(d);
}

/* Dry runs are coalesced: one plan at a time, whoever asks meanwhile gets
 * its steps too, so that callers who loop on it cost the workers one. */
static int start_dry_run(Daemon *d, sd_bus_message *m, sd_bus_error *error) {
        bool running = d->n_dry_run_waiters > 0;
        DryRunWaiter *n;
        int r;

        if (cache_fresh(d) && !bus_caller_is_root(d, m)) {
                r = bus_admit(d, m, 1, error);
                if (r != 0)
                        return r;
                r = bus_send_array(m, "(ssss)", strv_length(d->dry_run_cache) / 4, append_cached_step,
                                   d->dry_run_cache);
                if (r < 0)
                        return r;
                return 1;
        }
        r = bus_admit(d, m, DRY_RUN_COST, error);
        if (r != 0)
                return r;
        r = bus_inflight_begin(d, m, error);
        if (r < 0)
                return r;
        n = realloc(d->dry_run_waiters, (d->n_dry_run_waiters + 1) * sizeof(*n));
        if (!n) {
                bus_inflight_done(d, m);
                return -ENOMEM;
        }
        d->dry_run_waiters = n;
        n[d->n_dry_run_waiters++] = (DryRunWaiter) { sd_bus_message_ref(m), d->dry_run_epoch };
        if (!running)
                begin_dry_run(d);
        return 1;
}

static int method_apply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int dry_run, r;

        r = sd_bus_message_read(m, "b", &dry_run);
        if (r < 0)
                return r;
        /* a dry run reads only: open to everyone */
        if (dry_run)
                return start_dry_run(d, m, error);
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        start_apply(d, m, false);
        return 1;
}

/* The configuration's errors, one per line. */
static char *config_errors_text(Daemon *d) {
        _cleanup_free_ char *all = NULL;
        size_t len = 0;
        char *p;

        STRV_FOREACH(e, d->config_errors)
                len += strlen(*e) + 1;
        if (len == 0)
                return NULL;
        all = malloc(len);
        if (!all)
                return NULL;
        p = all;
        STRV_FOREACH(e, d->config_errors) {
                p = stpcpy(p, *e);
                *p++ = '\n';
        }
        p[-1] = 0;      /* the last newline becomes the end */
        return TAKE_PTR(all);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r;

        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        bus_dry_run_cache_drop(d);
        r = daemon_load_config(d);
        if (r < 0) {
                _cleanup_free_ char *all = config_errors_text(d);

                return bus_error_from_errno(error, r, all ?: "The configuration could not be loaded");
        }
        start_apply(d, m, false);
        return 1;
}

static const sd_bus_vtable config_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Apply", SD_BUS_ARGS("b", dry_run), SD_BUS_RESULT("a(ssss)", steps), method_apply,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssss)", steps), method_reload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int bus_config_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, config_vtable, d);
}
