/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "conffile.h"
#include "journal.h"
#include "lanes.h"
#include "metrics.h"
#include "apply.h"
#include "plan.h"
#include "reconcile.h"
#include "reestablish.h"
#include "state.h"

struct ApplyBatch {
        Daemon *daemon;
        bool dry_run;
        unsigned outstanding;
        bool submitted;                 /* all jobs queued: done may fire */
        Plan plan;                      /* every PF's steps, in completion order */
        apply_done_t done;
        void *userdata;
};

/* A NULL batch is one that could not even be allocated: it failed. */
size_t apply_batch_n_steps(const ApplyBatch *b) {
        return b ? b->plan.n_steps : 0;
}

const PlanStep *apply_batch_step(const ApplyBatch *b, size_t i) {
        return b && i < b->plan.n_steps ? &b->plan.steps[i] : NULL;
}

unsigned apply_batch_n_failed(const ApplyBatch *b) {
        return b ? b->plan.n_failed : 1;
}

/* The configuration files, checked against the host as it is. */
static int load_checked(Daemon *d, Config **c, ConfigErrors *e) {
        int r;

        r = config_load(d->config.config_file, d->config.config_dir, c, e);
        if (r < 0)
                return r;
        (void) config_check_host(*c, d->host, e);
        return r;
}

int daemon_load_config(Daemon *d) {
        Config *c = NULL;
        ConfigErrors e = {};
        int r;

        d->dry_run_cache_usec = 0;      /* what a dry run found was of the configuration before */
        d->dry_run_epoch++;
        r = load_checked(d, &c, &e);
        strv_free(d->config_errors);
        strv_free(d->config_warnings);
        d->config_errors = TAKE_PTR(e.messages);
        d->config_warnings = TAKE_PTR(e.warnings);
        STRV_FOREACH(w, d->config_warnings)
                log_warning("%s", *w);
        STRV_FOREACH(m, d->config_errors)
                log_error("%s", *m);
        /* ConfigErrors changes either way; ConfigFiles only with a new configuration */
        daemon_emit_manager_changed(d, "ConfigErrors", NULL);
        if (r < 0 || d->config_errors) {
                config_free(c);
                config_errors_done(&e);
                if (r == -ENOMEM)
                        return r;
                log_error("The configuration has errors; %s", d->declared ? "keeping the previous one" : "nothing is declared");
                return -EBADMSG;
        }
        config_free(d->declared);
        d->declared = c;
        log_info("Configuration loaded: %zu PF rule(s), %zu pool(s)", c->n_pfs, c->n_pools);
        daemon_emit_manager_changed(d, "ConfigFiles", NULL);
        return 0;
}

static void batch_maybe_done(ApplyBatch *b) {
        if (!b->submitted || b->outstanding > 0)
                return;
        b->done(b->daemon, b, b->userdata);
        plan_done(&b->plan);
        free(b);
}

static void log_step(const PlanStep *s, const char *pf, bool dry_run) {
        static const LogEventKind events[] = { [STEP_NUMVFS] = EVENT_NUMVFS, [STEP_DRIVER] = EVENT_BIND };
        LogFields f = { .device = s->has_addr ? s->bdf : NULL, .pf = pf };

        if (s->kind == STEP_ERROR)
                log_error("%s: %s", s->bdf, s->detail);
        else if (dry_run)
                log_debug("Plan: %s: %s", s->bdf, s->detail);
        else if (s->result < 0)
                log_error("Applying the configuration: %s: %s failed: %s", s->bdf, s->detail, strna(s->error));
        else if (s->kind == STEP_NUMVFS || s->kind == STEP_DRIVER)
                log_event(events[s->kind], 6, &f, "Applied: %s: %s", s->bdf, s->detail);
        else
                log_info("Applied: %s: %s", s->bdf, s->detail);
}

static int submit_apply(Daemon *d, const sriov_device *pf, const ConfigPF *rule, bool dry_run, bool retry,
                        ApplyBatch *b);

/* Failed steps of a PF's apply are tried again, after config.retry_usec, then
 * twice, four times ... as long (RETRY_MAX tries, each delay at most
 * RETRY_DELAY_MAX): some refusals pass on their own (igb refuses a tx rate
 * while the PF's link is still coming up after a driver bind or a VF count
 * change; a PF's interface appears after its VFs). An apply that is not a
 * retry (a call, a reload, hot-plug, a driver bind) starts the count again.
 * The timer exists only while a try is due: nothing runs on an idle host. */
#define RETRY_MAX 6U
#define RETRY_DELAY_MAX (60 * 1000000ULL)

/* A failure that trying again cannot fix: the driver does not do it, or we may not. */
static bool step_may_pass(const PlanStep *s) {
        if (s->kind != STEP_ERROR && s->result >= 0)
                return false;
        return s->result != -EOPNOTSUPP && s->result != -EPROTONOSUPPORT && s->result != -EPERM &&
               s->result != -EACCES;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Lane *l = userdata;
        Daemon *d = l->daemon;
        const sriov_device *pf = sriov_host_find(d->host, &l->key);
        const ConfigPF *rule = pf && pf->is_pf && d->declared ? config_rule_for(d->declared, d->host, pf) : NULL;
        int r;

        l->retry_attempt++;
        metrics_retry(d, "apply");
        if (!rule)
                return 0;               /* gone, or no longer declared */
        log_info("Applying the declared configuration to %s again (try %u of %u)", pf->bdf, l->retry_attempt,
                 RETRY_MAX);
        r = submit_apply(d, pf, rule, false, true, NULL);
        if (r < 0)
                /* a pending lane runs its intent when the kernel is done; that is not ours to queue */
                log_warning_errno(r, "Cannot apply the configuration to %s again: %m", pf->bdf);
        return 0;
}

/* The timer of l's next try, delay from now. */
static int arm_retry(Daemon *d, Lane *l, uint64_t delay) {
        int r;

        if (!l->retry_source)
                return sd_event_add_time_relative(d->event, &l->retry_source, CLOCK_MONOTONIC, delay, 0, on_retry, l);
        r = sd_event_source_set_time_relative(l->retry_source, delay);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(l->retry_source, SD_EVENT_ONESHOT);
}

static void schedule_retry(Daemon *d, const ApplyResult *res) {
        Lane *l = daemon_lane_for(d, &res->pf);
        char bdf[PCI_ADDR_STRLEN];
        uint64_t delay;
        unsigned n = 0;
        int r;

        if (!l)
                return;
        (void) pci_addr_format(&res->pf, bdf);
        for (size_t i = 0; i < res->steps.n_steps; i++)
                n += step_may_pass(&res->steps.steps[i]);
        if (!res->retry)
                l->retry_attempt = 0;
        if (n == 0 || d->config.retry_usec == 0 || d->shutting_down || l->retry_attempt >= RETRY_MAX) {
                if (n > 0 && l->retry_attempt >= RETRY_MAX)
                        log_warning("%s: %u step(s) of the declared configuration still fail after %u tries; "
                                    "the next apply, reload, hot-plug or driver bind tries again",
                                    bdf, n, l->retry_attempt);
                else if (n == 0 && res->retry)
                        log_info("%s: the declared configuration is in place (after %u %s)", bdf,
                                 l->retry_attempt, l->retry_attempt == 1 ? "try" : "tries");
                (void) sd_event_source_set_enabled(l->retry_source, SD_EVENT_OFF);
                return;
        }
        delay = d->config.retry_usec << MIN(l->retry_attempt, 20U);
        delay = MIN(delay, RETRY_DELAY_MAX);
        r = arm_retry(d, l, delay);
        if (r < 0) {
                log_warning_errno(r, "%s: cannot schedule another try of the failed steps: %m", bdf);
                return;
        }
        log_info("%s: %u step(s) failed; trying again in %.1f s", bdf, n, (double) delay / 1e6);
}

/* Main loop: a PF's steps came back. */
static void apply_done(Daemon *d, ApplyResult *res, void *userdata) {
        ApplyBatch *b = userdata;
        char pf[PCI_ADDR_STRLEN];

        pci_addr_format(&res->pf, pf);
        for (size_t i = 0; i < res->steps.n_steps; i++)
                log_step(&res->steps.steps[i], pf, res->dry_run);
        if (!res->dry_run && !res->held)
                schedule_retry(d, res);
        /* the VFs the configuration made: assignments on them come back */
        if (!res->dry_run && d->ready_sent) {
                char bdf[PCI_ADDR_STRLEN];

                reestablish_pf(d, pci_addr_format(&res->pf, bdf));
        }
        if (!b) {
                plan_done(&res->steps);
                return;
        }
        /* move the steps into the batch */
        if (res->steps.n_steps > 0) {
                PlanStep *n = realloc(b->plan.steps, (b->plan.n_steps + res->steps.n_steps) * sizeof(*n));

                if (n) {
                        b->plan.steps = n;
                        memcpy(n + b->plan.n_steps, res->steps.steps, res->steps.n_steps * sizeof(*n));
                        b->plan.n_steps += res->steps.n_steps;
                        b->plan.n_failed += res->steps.n_failed;
                        free(res->steps.steps);
                        res->steps = (Plan) {};
                } else
                        b->plan.n_failed++;
        }
        b->plan.n_failed += res->steps.n_failed;
        plan_done(&res->steps);
        b->outstanding--;
        batch_maybe_done(b);
}

static int submit_apply(Daemon *d, const sriov_device *pf, const ConfigPF *rule, bool dry_run, bool retry,
                        ApplyBatch *b) {
        int r;

        r = apply_pf(d, pf, rule, dry_run, retry, apply_done, b);
        if (r < 0)
                return r;
        if (b)
                b->outstanding++;
        return 0;
}

int daemon_apply_all(Daemon *d, bool dry_run, apply_done_t done, void *userdata) {
        ApplyBatch *b = calloc(1, sizeof(*b));
        int r = 0;

        if (!b) {
                done(d, NULL, userdata);
                return -ENOMEM;
        }
        *b = (ApplyBatch) { .daemon = d, .dry_run = dry_run, .done = done, .userdata = userdata };
        for (size_t i = 0; d->declared && i < d->host->n_devices; i++) {
                const sriov_device *pf = d->host->devices[i];
                const ConfigPF *rule = pf->is_pf ? config_rule_for(d->declared, d->host, pf) : NULL;
                int k;

                if (!rule)
                        continue;
                k = submit_apply(d, pf, rule, dry_run, false, b);
                if (k == -EINPROGRESS) {
                        /* the PF is busy in the kernel: report that as its step */
                        PlanStep *n = realloc(b->plan.steps, (b->plan.n_steps + 1) * sizeof(*n));

                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        b->plan.steps = n;
                        n[b->plan.n_steps] = (PlanStep) { .kind = STEP_ERROR, .result = -EINPROGRESS };
                        (void) snprintf(n[b->plan.n_steps].bdf, PCI_ADDR_STRLEN, "%s", pf->bdf);
                        n[b->plan.n_steps].detail = strdup("an earlier operation on this PF is still pending in the kernel");
                        b->plan.n_steps++;
                        b->plan.n_failed++;
                } else if (k < 0) {
                        r = k;
                        break;
                }
        }
        b->submitted = true;
        batch_maybe_done(b);
        return r;
}

void daemon_reapply(Daemon *d, const pci_addr *addr, const char *why) {
        const sriov_device *pf = sriov_host_find(d->host, addr);
        const ConfigPF *rule;
        int r;

        if (!pf || !pf->is_pf || !d->declared)
                return;
        rule = config_rule_for(d->declared, d->host, pf);
        if (!rule)
                return;
        log_info("Applying the declared configuration to %s: %s", pf->bdf, why);
        r = submit_apply(d, pf, rule, false, false, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot apply the configuration to %s: %m", pf->bdf);
}
