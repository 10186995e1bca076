/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "apply.h"
#include "ledger.h"
#include "state.h"

/* at most this many plan and execute rounds (each VF count change makes one more) */
#define ROUNDS_MAX 3U

typedef enum ApplyPhase {
        PHASE_PLAN,
        PHASE_EXECUTE,
} ApplyPhase;

typedef struct ApplyWork {
        Config *config;                 /* a reference: the rule lives in it */
        const ConfigPF *rule;
        bool dry_run;
        bool retry;
        char **assigned;                /* the PF's VFs that guests hold, (VF, guest) pairs */
        ApplyPhase phase;
        unsigned round;
        Plan plan;                      /* this round's */
        Plan next;                      /* the next round's, planned by this round's count change */
        bool next_planned;
        bool *journaled;                /* per step of plan: its record was made for it */
        char **released_made;           /* the VFs' binding records for its count change (ledger_record_vfs_release()) */
        char **released_marked;
        bool replan;                    /* execute: a VF count changed */
        bool vfs_due;                   /* execute: the VFs' steps of the round are to run */
        unsigned outstanding;           /* the VFs' jobs of the round not finished */
        bool held;                      /* the kernel holds a write of one of them */
        Plan all;                       /* the steps of the rounds before */
        apply_pf_done_t done;
        void *userdata;
} ApplyWork;

static void apply_work_free(void *p) {
        ApplyWork *w = p;

        plan_done(&w->plan);
        plan_done(&w->next);
        plan_done(&w->all);
        free(w->journaled);
        strv_free(w->released_made);
        strv_free(w->released_marked);
        config_free(w->config);
        strv_free(w->assigned);
        free(w);
}

static bool pf_step_executed(const Plan *p) {
        return p->n_steps > 0 && p->steps[0].kind == STEP_NUMVFS && p->steps[0].executed;
}

/* A driver step for a VF that has none yet, on a PF whose new VFs the
 * kernel probes by itself: their driver may still come (a module udev is
 * loading), so the step is better planned once that settled. */
static bool awaits_probe(const Plan *p, const sriov_family *f) {
        if (!f || !f->dev || f->dev->sriov.autoprobe != 1)
                return false;
        for (size_t i = 0; i < p->n_steps; i++)
                if (p->steps[i].kind == STEP_DRIVER && !p->steps[i].prior_driver)
                        return true;
        return false;
}

/* On the PF's lane: the plan (from a fresh read of the family, which the
 * model gets too), or the PF's own step of it. A VF count change is
 * followed by the next round's plan, in the same job: its one read of the
 * family after the change is the model's too and covers the uevents the
 * change sent (lanes.c), so that neither a separate plan nor the refreshes
 * those events asked for read the family again. */
static void apply_execute(Job *j) {
        ApplyWork *w = j->payload;

        if (w->phase == PHASE_PLAN) {
                /* a dry run reads on the host's lane, beside the PF's
                 * changes: its read may be older than theirs, and is not
                 * the model's */
                j->r = plan_pf(j->daemon->ctx, w->rule, &j->addr, w->assigned, &w->plan,
                               w->dry_run ? NULL : &j->family);
                j->no_read_back = true;
                return;
        }
        w->vfs_due = plan_execute_pf(j->daemon->ctx, &w->plan, &w->replan);
        /* a write the kernel still holds makes the lane pending (lanes.c) */
        j->r = pf_step_executed(&w->plan) && w->plan.steps[0].result == -ETIMEDOUT ? -ETIMEDOUT : 0;
        if (w->replan && w->round + 1 < ROUNDS_MAX) {
                w->next_planned = plan_pf(j->daemon->ctx, w->rule, &j->addr, w->assigned, &w->next, &j->family) >= 0;
                /* its read stays the model's; the plan is made again, in a job of its own */
                if (w->next_planned && awaits_probe(&w->next, j->family)) {
                        plan_done(&w->next);
                        w->next_planned = false;
                }
        }
        /* nothing changed the family; or the next round's plan reads it */
        j->no_read_back = !pf_step_executed(&w->plan) || (w->replan && w->round + 1 < ROUNDS_MAX);
}

static void apply_complete(Job *j);
static Job *apply_clone_intent(const Job *j);

static const JobType apply_job_type = {
        .name = "apply", .execute = apply_execute, .free = apply_work_free, .clone_intent = apply_clone_intent,
        .read_back = true,
};

static int submit(Daemon *d, const pci_addr *pf, ApplyWork *w) {
        Job *j = job_new(d, &apply_job_type, pf, w);
        int r;

        if (!j)
                return -ENOMEM;
        j->complete = apply_complete;
        /* a dry run changes nothing: it reads on the host's lane, never in
         * the way of a PF's changes, and after the other reads queued there */
        if (w->dry_run) {
                /* a PF whose lane waits on the kernel: its reads would wait too */
                Lane *own = daemon_lane_for(d, pf);

                if (own && lane_is_pending(d, own)) {
                        j->payload = NULL;      /* the caller keeps it */
                        job_free(j);
                        return -EINPROGRESS;
                }
                j->lane = daemon_lane_for(d, &LANE_HOST_KEY);
                j->background = true;
        }
        r = lane_submit(d, j);
        if (r < 0) {
                j->payload = NULL;      /* the caller keeps it */
                job_free(j);
        }
        return r;
}

/* A held write's re-run, once the kernel is done: the configuration applied anew. */
static Job *apply_clone_intent(const Job *j) {
        const ApplyWork *w = j->payload;
        ApplyWork *c = calloc(1, sizeof(*c));
        Job *k;

        if (!c)
                return NULL;
        *c = (ApplyWork) { .config = config_ref(w->config), .rule = w->rule, .assigned = strv_copy(w->assigned) };
        k = job_new(j->daemon, &apply_job_type, &j->addr, c);
        if (!k)
                return NULL;
        k->retry = true;
        k->complete = apply_complete;
        return k;
}

/* The steps of this round join those of the rounds before. */
static void collect(ApplyWork *w) {
        PlanStep *n;

        free(w->journaled);
        w->journaled = NULL;
        if (w->plan.n_steps == 0)
                return;
        n = realloc(w->all.steps, (w->all.n_steps + w->plan.n_steps) * sizeof(*n));
        if (!n) {
                w->all.n_failed++;
                plan_done(&w->plan);
                return;
        }
        w->all.steps = n;
        memcpy(n + w->all.n_steps, w->plan.steps, w->plan.n_steps * sizeof(*n));
        w->all.n_steps += w->plan.n_steps;
        w->all.n_failed += w->plan.n_failed;
        free(w->plan.steps);
        w->plan = (Plan) {};
}

static void finish(Daemon *d, const pci_addr *pf, ApplyWork *w, bool held) {
        ApplyResult res = { .pf = *pf, .dry_run = w->dry_run, .retry = w->retry, .held = held };

        collect(w);
        res.steps = w->all;
        w->all = (Plan) {};
        if (w->done)
                w->done(d, &res, w->userdata);
        else
                plan_done(&res.steps);
        apply_work_free(w);
}

static bool executable(const PlanStep *s) {
        return s->kind != STEP_ERROR && s->result >= 0 && s->has_addr;
}

/* What the PF has before its VF count changes, and what the VFs it
 * destroys are bound to: a restart puts them back. */
static int journal_numvfs(Daemon *d, ApplyWork *w, const PlanStep *s) {
        const sriov_device *pf = sriov_host_find(d->host, &s->addr);
        StatePF *rec;
        int r;

        if (!pf || pf->sriov.num_vfs == s->count)
                return 0;       /* only the autoprobe setting: a config step a new apply repeats */
        r = ledger_record_vfs_release(d, pf, &w->released_made, &w->released_marked);
        if (r < 0)
                return r;
        rec = state_find_pf(d->state, pf->bdf, true);
        if (!rec)
                return -ENOMEM;
        rec->numvfs_pending = true;
        rec->prior_numvfs = pf->sriov.num_vfs;
        rec->prior_autoprobe = pf->sriov.autoprobe;
        rec->target_numvfs = s->count;
        return 0;
}

/* Before the first kernel write of the round: what every step changes. */
static int journal_plan(Daemon *d, ApplyWork *w, sriov_error *e) {
        w->journaled = calloc(w->plan.n_steps + 1, sizeof(bool));
        if (!w->journaled)
                return -ENOMEM;
        for (size_t i = 0; i < w->plan.n_steps; i++) {
                const PlanStep *s = &w->plan.steps[i];
                int r = 0;

                if (!executable(s))
                        continue;
                if (s->kind == STEP_NUMVFS)
                        r = journal_numvfs(d, w, s);
                else if (s->kind == STEP_DRIVER) {
                        r = ledger_record_binding(d, &s->addr, s->prior_driver, s->prior_override, ORIGIN_CONFIG);
                        w->journaled[i] = r > 0;
                }
                if (r < 0)
                        return r;
        }
        return ledger_commit(d, e);
}

/* The round is over: its records are settled (a change that did not happen
 * leaves no record it made; one the kernel still holds stays under way),
 * and so are those an earlier round left under way (the configuration is
 * in force now as far as it goes), the PF's count no longer under way. */
static void settle(Daemon *d, ApplyWork *w, const pci_addr *pf) {
        char bdf[PCI_ADDR_STRLEN];
        bool changed = false;
        StatePF *rec;

        pci_addr_format(pf, bdf);
        for (size_t i = 0; i < d->state->n_devices; i++) {
                StateDevice *r = &d->state->devices[i];

                if (r->origin == ORIGIN_CONFIG && streq(r->pf, bdf) && r->pending) {
                        r->pending = false;
                        changed = true;
                }
        }
        for (size_t i = 0; i < w->plan.n_steps; i++) {
                const PlanStep *s = &w->plan.steps[i];

                if (s->kind != STEP_DRIVER || !s->has_addr)
                        continue;
                if (s->executed && s->result == -ETIMEDOUT)
                        changed = state_set_pending(d->state, s->bdf, true) > 0 || changed;
                else if (w->journaled && w->journaled[i] && (!s->executed || s->result < 0))
                        changed = state_forget_device(d->state, s->bdf) > 0 || changed;
                else
                        changed = state_set_pending(d->state, s->bdf, false) > 0 || changed;
        }
        changed = ledger_end_vfs_release(d, w->released_made, w->released_marked) || changed;
        w->released_made = strv_free(w->released_made);
        w->released_marked = strv_free(w->released_marked);
        rec = state_find_pf(d->state, bdf, false);
        if (rec && rec->numvfs_pending) {
                rec->numvfs_pending = false;
                if (rec->generation == 0)
                        (void) state_forget_pf(d->state, bdf);
                changed = true;
        }
        if (changed)
                ledger_save(d);
}

/* The journal could not be written: no step of the round is carried out. */
static void refuse_round(ApplyWork *w, const sriov_error *e) {
        plan_refuse_steps(&w->plan, 0, w->plan.n_steps, e->error, e->message);
}

static bool any_executable(const Plan *p) {
        for (size_t i = 0; i < p->n_steps; i++)
                if (executable(&p->steps[i]))
                        return true;
        return false;
}

/* The next phase of w (taken) on the PF's lane, or the end. */
static void next(Daemon *d, const pci_addr *pf, ApplyWork *w, ApplyPhase phase) {
        int r;

        w->phase = phase;
        r = submit(d, pf, w);
        if (r < 0) {
                char bdf[PCI_ADDR_STRLEN];

                log_warning_errno(r, "Cannot go on applying the configuration to %s: %m", pci_addr_format(pf, bdf));
                finish(d, pf, w, false);
        }
}

static void planned(Daemon *d, const pci_addr *pf, ApplyWork *w) {
        sriov_error e = {};

        if (w->dry_run) {
                finish(d, pf, w, false);
                return;
        }
        if (!any_executable(&w->plan)) {
                /* in place: what an earlier round left under way is settled */
                settle(d, w, pf);
                finish(d, pf, w, false);
                return;
        }
        if (journal_plan(d, w, &e) < 0) {
                (void) ledger_end_vfs_release(d, w->released_made, w->released_marked);
                refuse_round(w, e.error ? &e : &(sriov_error) { -ENOMEM, "Out of memory" });
                free(w->journaled);
                w->journaled = NULL;
                finish(d, pf, w, false);
                return;
        }
        next(d, pf, w, PHASE_EXECUTE);
}

static void executed(Daemon *d, const pci_addr *pf, ApplyWork *w) {
        bool again = w->replan && ++w->round < ROUNDS_MAX;

        settle(d, w, pf);
        collect(w);
        if (again) {
                w->replan = false;
                if (w->next_planned) {
                        w->next_planned = false;
                        w->plan = w->next;
                        w->next = (Plan) {};
                        planned(d, pf, w);
                } else
                        next(d, pf, w, PHASE_PLAN);
        } else
                finish(d, pf, w, false);
}

/* ---- the VFs' steps, each VF's on its own job: in parallel in the PF's lane ---- */

typedef struct ApplyVFWork {
        ApplyWork *w;                   /* not owned: the round's, until its last VF job is done */
        pci_addr pf;
        size_t first, end;              /* the VF's steps in w->plan */
} ApplyVFWork;

static void apply_vf_execute(Job *j) {
        ApplyVFWork *v = j->payload;
        bool any = false;

        plan_execute_device(j->daemon->ctx, &v->w->plan, v->first, v->end);
        j->r = 0;
        for (size_t i = v->first; i < v->end; i++) {
                const PlanStep *s = &v->w->plan.steps[i];

                any = any || s->executed;
                if (s->executed && s->result == -ETIMEDOUT)
                        j->r = -ETIMEDOUT;
        }
        j->no_read_back = !any;
}

/* The kernel held a write of a VF's step: once it is done, the
 * configuration is applied anew (once for the round). */
static Job *apply_vf_clone_intent(const Job *j) {
        const ApplyVFWork *v = j->payload;
        Job k = { .daemon = j->daemon, .addr = v->pf, .payload = v->w };

        if (v->w->held)
                return NULL;
        v->w->held = true;
        return apply_clone_intent(&k);
}

static void vfs_done(Daemon *d, const pci_addr *pf, ApplyWork *w);

static void apply_vf_complete(Job *j) {
        ApplyVFWork *v = j->payload;
        ApplyWork *w = v->w;
        bool started = false;

        for (size_t i = v->first; i < v->end; i++)
                started = started || w->plan.steps[i].executed;
        /* refused by the lane (an earlier write is pending): not done */
        if (j->r < 0 && !started)
                plan_refuse_steps(&w->plan, v->first, v->end, j->r, j->error.error ? j->error.message : strerror(-j->r));
        w->held = w->held || j->held;
        if (--w->outstanding == 0)
                vfs_done(j->daemon, &v->pf, w);
}

static const JobType apply_vf_job_type = {
        .name = "apply-vf", .execute = apply_vf_execute, .free = free, .clone_intent = apply_vf_clone_intent,
        .read_back = true,
};

static bool any_executable_in(const Plan *p, size_t first, size_t end) {
        for (size_t i = first; i < end; i++)
                if (executable(&p->steps[i]))
                        return true;
        return false;
}

static int submit_vf(Daemon *d, const pci_addr *pf, ApplyWork *w, size_t first, size_t end) {
        ApplyVFWork *v = calloc(1, sizeof(*v));
        Job *j;
        int r;

        if (!v)
                return -ENOMEM;
        *v = (ApplyVFWork) { .w = w, .pf = *pf, .first = first, .end = end };
        j = job_new(d, &apply_vf_job_type, &w->plan.steps[first].addr, v);
        if (!j)
                return -ENOMEM;
        j->complete = apply_vf_complete;
        r = lane_submit(d, j);
        if (r < 0)
                job_free(j);
        return r;
}

/* Every VF's steps on a job of its own; the round goes on when the last is done. */
static void start_vfs(Daemon *d, const pci_addr *pf, ApplyWork *w) {
        w->outstanding = 1;     /* until all are queued */
        for (size_t i = 0, end; i < w->plan.n_steps; i = end) {
                int r;

                end = plan_device_end(&w->plan, i);
                if (w->plan.steps[i].kind == STEP_NUMVFS || !any_executable_in(&w->plan, i, end))
                        continue;
                r = submit_vf(d, pf, w, i, end);
                if (r < 0)
                        plan_refuse_steps(&w->plan, i, end, r,
                                          r == -EINPROGRESS ? "An earlier operation on this PF is still pending in the kernel"
                                                            : strerror(-r));
                else
                        w->outstanding++;
        }
        if (--w->outstanding == 0)
                vfs_done(d, pf, w);
}

static void vfs_done(Daemon *d, const pci_addr *pf, ApplyWork *w) {
        plan_count_failed(&w->plan);
        if (w->held) {
                /* as for the PF's step: the records stay under way */
                collect(w);
                finish(d, pf, w, true);
                return;
        }
        executed(d, pf, w);
}

static void apply_complete(Job *j) {
        ApplyWork *w = TAKE_PTR(j->payload);
        Daemon *d = j->daemon;

        if (j->held) {
                /* the kernel still holds a write: the records stay under way;
                 * the lane's intent applies the configuration again */
                collect(w);
                finish(d, &j->addr, w, true);
                return;
        }
        if (j->r < 0) {
                char bdf[PCI_ADDR_STRLEN];

                log_error_errno(j->r, "Applying the configuration to %s failed: %s", pci_addr_format(&j->addr, bdf),
                                j->error.error ? j->error.message : strerror(-j->r));
                w->all.n_failed++;
                finish(d, &j->addr, w, false);
                return;
        }
        if (w->phase == PHASE_PLAN)
                planned(d, &j->addr, w);
        else if (w->vfs_due)
                start_vfs(d, &j->addr, w);
        else
                executed(d, &j->addr, w);
}

int apply_pf(Daemon *d, const sriov_device *pf, const ConfigPF *rule, bool dry_run, bool retry, apply_pf_done_t done,
             void *userdata) {
        _cleanup_strv_free_ char **assigned = NULL;
        ApplyWork *w;
        int r;

        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                if (streq(a->pf, pf->bdf) &&
                    (strv_extend(&assigned, a->vf) < 0 || strv_extend(&assigned, a->guest) < 0))
                        return -ENOMEM;
        }
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (ApplyWork) { .config = config_ref(d->declared), .rule = rule, .dry_run = dry_run, .retry = retry,
                           .assigned = TAKE_PTR(assigned), .done = done, .userdata = userdata };
        r = submit(d, &pf->addr, w);
        if (r < 0)
                apply_work_free(w);
        return r;
}
