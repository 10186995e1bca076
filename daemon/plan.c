/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>

#include "plan.h"
#include "passthrough.h"
#include "safety.h"
#include "util.h"

void plan_done(Plan *p) {
        for (size_t i = 0; i < p->n_steps; i++) {
                PlanStep *s = &p->steps[i];

                free(s->driver);
                free(s->pf_ifname);
                free(s->detail);
                free(s->error);
                free(s->prior_driver);
                free(s->prior_override);
        }
        free(p->steps);
        *p = (Plan) {};
}

const char *step_kind_name(StepKind k) {
        static const char *const n[] = { "numvfs", "driver", "attributes", "error" };
        return k <= STEP_ERROR ? n[k] : "?";
}

_printf_(4, 5) static PlanStep *add_step(Plan *p, StepKind kind, const char *bdf, const char *fmt, ...) {
        PlanStep *n, *s;
        va_list ap;

        n = realloc(p->steps, (p->n_steps + 1) * sizeof(*n));
        if (!n)
                return NULL;
        p->steps = n;
        s = &p->steps[p->n_steps];
        *s = (PlanStep) { .kind = kind };
        (void) snprintf(s->bdf, sizeof(s->bdf), "%s", bdf);
        va_start(ap, fmt);
        if (vasprintf(&s->detail, fmt, ap) < 0)
                s->detail = NULL;
        va_end(ap);
        if (!s->detail)
                return NULL;
        p->n_steps++;
        return s;
}

/* A step that failed; its plan counts it (planning). */
static void step_mark_failed(PlanStep *s, int r, const sriov_error *e) {
        s->result = r;
        free(s->error);
        s->error = strdup(e && e->error ? e->message : strerror(-r));
}

static void step_failed(Plan *p, PlanStep *s, int r, const sriov_error *e) {
        step_mark_failed(s, r, e);
        p->n_failed++;
}

static bool driver_satisfies(DriverWant want, const char *wanted, const sriov_device *vf) {
        switch (want) {
        case DRIVER_UNSET:
                return true;
        case DRIVER_NAMED:
                return vf->driver && streq(vf->driver, wanted);
        case DRIVER_HOST:
                /* the kernel's own choice: bound, no override, not a user-space driver */
                return vf->driver && !vf->driver_override && !driver_is_dma_managed(vf->driver);
        }
        return true;
}

static char *attrs_describe(const sriov_vf_config *want, const sriov_vf_config *have, unsigned mask) {
        char buf[512] = "", a[18], b[18];
        size_t n = 0;

#define ADD(...) (n += (size_t) snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, __VA_ARGS__))
        if (mask & VF_ATTR_MAC)
                ADD("%smac %s -> %s", n ? ", " : "", have->mask & VF_ATTR_MAC ? vf_mac_format(have->mac, a) : "?",
                    vf_mac_format(want->mac, b));
        if (mask & VF_ATTR_VLAN)
                ADD("%svlan %u/%u/%s -> %u/%u/%s", n ? ", " : "", have->vlan, have->qos,
                    vf_vlan_proto_name(have->vlan_proto ?: VF_VLAN_PROTO_8021Q), want->vlan, want->qos,
                    vf_vlan_proto_name(want->vlan_proto));
        if (mask & VF_ATTR_RATE)
                ADD("%stx rate %u-%u -> %u-%u Mbit/s", n ? ", " : "", have->min_tx_rate, have->max_tx_rate,
                    want->min_tx_rate, want->max_tx_rate);
        if (mask & VF_ATTR_SPOOFCHK)
                ADD("%sspoofchk %s -> %s", n ? ", " : "", have->spoofchk ? "on" : "off", want->spoofchk ? "on" : "off");
        if (mask & VF_ATTR_TRUST)
                ADD("%strust %s -> %s", n ? ", " : "", have->trust ? "on" : "off", want->trust ? "on" : "off");
        if (mask & VF_ATTR_LINK_STATE)
                ADD("%slink state %s -> %s", n ? ", " : "", vf_link_state_name(have->link_state),
                    vf_link_state_name(want->link_state));
        if (mask & VF_ATTR_QUERY_RSS)
                ADD("%squery_rss %s -> %s", n ? ", " : "", have->query_rss ? "on" : "off", want->query_rss ? "on" : "off");
#undef ADD
        return strdup(buf);
}

/* The guest holding a VF, from the (VF, guest) pairs; NULL if none. */
static const char *assigned_to(char *const *assigned, const char *vf) {
        for (size_t i = 0; assigned && assigned[i] && assigned[i + 1]; i += 2)
                if (streq(assigned[i], vf))
                        return assigned[i + 1];
        return NULL;
}

/* The first VF of the family that a guest holds (it exists now: a guest
 * whose VF is gone is set up again on the VFs the change makes). */
static const sriov_device *first_assigned(const sriov_family *f, char *const *assigned) {
        for (size_t i = 0; i < f->n_vfs; i++)
                if (f->vfs[i] && assigned_to(assigned, f->vfs[i]->bdf))
                        return f->vfs[i];
        return NULL;
}

/* ---- planning: reads only ---- */

static int plan_numvfs(const ConfigPF *rule, const sriov_family *f, char *const *assigned, Plan *p) {
        const sriov_device *pf = f->dev, *held = first_assigned(f, assigned);
        unsigned want = config_wanted_vfs(rule, pf);
        bool count = want != pf->sriov.num_vfs;
        bool ap = rule->autoprobe >= 0 && pf->sriov.autoprobe >= 0 && (rule->autoprobe != 0) != (pf->sriov.autoprobe != 0);
        PlanStep *s;

        if (!count && !ap)
                return 0;
        if (count)
                s = add_step(p, STEP_NUMVFS, pf->bdf, "VFs %u -> %u%s%s", pf->sriov.num_vfs, want,
                             rule->autoprobe >= 0 ? ", driver autoprobe " : "",
                             rule->autoprobe >= 0 ? (rule->autoprobe ? "on" : "off") : "");
        else
                s = add_step(p, STEP_NUMVFS, pf->bdf, "driver autoprobe %s -> %s", pf->sriov.autoprobe ? "on" : "off",
                             rule->autoprobe ? "on" : "off");
        if (!s)
                return -ENOMEM;
        s->addr = pf->addr;
        s->has_addr = true;
        s->count = want;
        s->autoprobe = rule->autoprobe;
        if (count && held) {
                /* in a dry run too: this step cannot be carried out */
                step_failed(p, s, -EPERM, &(sriov_error) { -EPERM, "" });
                free(s->error);
                if (asprintf(&s->error, "VF %s is assigned to guest %s, and changing the VF count would destroy it: "
                             "release the PF's VFs first", held->bdf, assigned_to(assigned, held->bdf)) < 0)
                        s->error = NULL;
                return s->error ? 0 : -ENOMEM;
        }
        return 0;
}

static int plan_driver(const sriov_device *vf, DriverWant want, const char *driver, Plan *p) {
        PlanStep *s;

        if (driver_satisfies(want, driver, vf))
                return 0;
        s = add_step(p, STEP_DRIVER, vf->bdf, "driver %s -> %s", vf->driver ?: "(none)",
                     want == DRIVER_HOST ? "the host driver" : driver);
        if (!s)
                return -ENOMEM;
        s->addr = vf->addr;
        s->has_addr = true;
        s->want = want;
        /* what it has now: what RestoreDriver puts back (journaled before the bind) */
        if ((driver && !(s->driver = strdup(driver))) || (vf->driver && !(s->prior_driver = strdup(vf->driver))) ||
            (vf->driver_override && !(s->prior_override = strdup(vf->driver_override))))
                return -ENOMEM;
        return 0;
}

static int plan_attrs(const sriov_device *vf, unsigned n, const sriov_vf_config *attrs, const sriov_link *link,
                      const char *ifname, Plan *p) {
        _cleanup_free_ char *d = NULL;
        const sriov_vf_config *have = NULL;
        unsigned diff;
        PlanStep *s;

        for (size_t k = 0; k < link->n_vfs; k++)
                if (link->vfs[k].vf == n)
                        have = &link->vfs[k];
        if (!have) {
                s = add_step(p, STEP_ERROR, vf->bdf, "%s does not report VF %u", ifname, n);
                if (!s)
                        return -ENOMEM;
                p->n_failed++;
                return 0;
        }
        diff = vf_config_diff(attrs, have);
        if (!diff)
                return 0;
        d = attrs_describe(attrs, have, diff);
        s = add_step(p, STEP_VF_ATTRS, vf->bdf, "%s", strna(d));
        if (!s)
                return -ENOMEM;
        s->addr = vf->addr;
        s->has_addr = true;
        s->attrs = *attrs;
        s->attrs.vf = n;
        s->attrs.mask = diff;
        s->pf_ifname = strdup(ifname);
        return s->pf_ifname ? 0 : -ENOMEM;
}

/* The PF's link, when VF attributes are declared: its interface and the VFs it reports. */
static int read_link(const ConfigPF *rule, const sriov_family *f, const char *bdf, sriov_link *link,
                     const char **ret_ifname, Plan *p) {
        bool need_attrs = false;
        sriov_error e = {};

        *ret_ifname = NULL;
        for (size_t i = 0; i < rule->n_ranges; i++)
                need_attrs = need_attrs || rule->ranges[i].attrs.mask;
        if (!need_attrs)
                return 0;
        *ret_ifname = f->dev->netdevs ? f->dev->netdevs[0] : NULL;
        if (!*ret_ifname) {
                if (!add_step(p, STEP_ERROR, bdf, "VF attributes are declared, but %s has no network interface", bdf))
                        return -ENOMEM;
        } else if (sriov_link_get(*ret_ifname, link, &e) < 0) {
                *ret_ifname = NULL;
                if (!add_step(p, STEP_ERROR, bdf, "%s", e.message))
                        return -ENOMEM;
        } else
                return 0;
        p->n_failed++;
        return 0;
}

/* A declared VF that does not exist yet: its steps come once it does. */
static int plan_missing_vf(const ConfigPF *rule, unsigned n, const char *bdf, Plan *p) {
        char what[sizeof(p->steps->bdf)];
        DriverWant want = DRIVER_UNSET;
        const char *driver = NULL;
        sriov_vf_config attrs;

        if (!config_vf_settings(rule, n, &want, &driver, &attrs))
                return 0;
        (void) snprintf(what, sizeof(what), "VF %u of %s", n, bdf);
        if (want != DRIVER_UNSET &&
            !add_step(p, STEP_DRIVER, what, "driver -> %s", want == DRIVER_HOST ? "the host driver" : driver))
                return -ENOMEM;
        if (attrs.mask && !add_step(p, STEP_VF_ATTRS, what, "attributes as declared"))
                return -ENOMEM;
        return 0;
}

static int plan_vfs(const ConfigPF *rule, const sriov_family *f, char *const *assigned, const sriov_link *link,
                    const char *ifname, const char *bdf, Plan *p) {
        int r;

        /* when VFs would be created, they cannot be seen yet: each declared
         * VF then needs its driver and attributes */
        for (unsigned n = 0; n < config_wanted_vfs(rule, f->dev); n++) {
                const sriov_device *vf = sriov_family_vf(f, n);
                const char *driver = NULL;
                DriverWant want = DRIVER_UNSET;
                sriov_vf_config attrs;

                if (!vf) {
                        r = plan_missing_vf(rule, n, bdf, p);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!config_vf_settings(rule, n, &want, &driver, &attrs))
                        continue;
                if (assigned_to(assigned, vf->bdf))
                        continue;       /* the guest's settings are in force */
                r = plan_driver(vf, want, driver, p);
                if (r < 0)
                        return r;
                if (!attrs.mask || !ifname)
                        continue;
                r = plan_attrs(vf, n, &attrs, link, ifname, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The declared VFs when they cannot be seen (the count change makes them anew). */
static int plan_missing_vfs(const ConfigPF *rule, const sriov_device *pf, const char *bdf, Plan *p) {
        int r;

        for (unsigned n = 0; n < config_wanted_vfs(rule, pf); n++) {
                r = plan_missing_vf(rule, n, bdf, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plan_pf(sriov_ctx *ctx, const ConfigPF *rule, const pci_addr *addr, char *const *assigned, Plan *ret,
            sriov_family **ret_family) {
        _cleanup_(sriov_family_freep) sriov_family *f = NULL;
        _cleanup_(sriov_link_done) sriov_link link = {};
        _cleanup_(plan_done) Plan p = {};
        const char *ifname = NULL;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        pci_addr_format(addr, bdf);
        r = sriov_family_load(ctx, addr, &f);
        if (r < 0 || !f->dev || !f->dev->is_pf) {
                if (!add_step(&p, STEP_ERROR, bdf, "%s", r < 0 ? strerror(-r) : "not an SR-IOV PF (any more)"))
                        return -ENOMEM;
                p.n_failed++;
                *ret = p;
                p = (Plan) {};
                if (ret_family)
                        *ret_family = TAKE_PTR(f);
                return 0;
        }
        r = plan_numvfs(rule, f, assigned, &p);
        if (r < 0)
                return r;
        r = read_link(rule, f, bdf, &link, &ifname, &p);
        if (r < 0)
                return r;
        /* VFs the count change destroys get no steps of their own */
        if (p.n_steps > 0 && p.steps[0].kind == STEP_NUMVFS && p.steps[0].count != f->dev->sriov.num_vfs)
                r = plan_missing_vfs(rule, f->dev, bdf, &p);
        else
                r = plan_vfs(rule, f, assigned, &link, ifname, bdf, &p);
        if (r < 0)
                return r;
        *ret = p;
        p = (Plan) {};
        if (ret_family)
                *ret_family = TAKE_PTR(f);
        return 0;
}

/* ---- executing ---- */

/* The count as planned, all of the VFs enabled. */
static int set_numvfs(sriov_ctx *ctx, const PlanStep *s, sriov_error *e) {
        unsigned enabled = 0;
        int r;

        r = safety_before_numvfs(ctx, &s->addr, s->count, false, e);
        if (r < 0)
                return r;
        r = sriov_set_numvfs(ctx, &s->addr, s->count, s->autoprobe, &enabled, e);
        if (r < 0)
                return r;
        if (enabled < s->count)
                return sriov_error_set(e, -EIO, "the driver enabled only %u of %u VFs", enabled, s->count);
        return 0;
}

static void execute_numvfs(sriov_ctx *ctx, PlanStep *s, bool *replan) {
        sriov_error e = {};
        unsigned now = 0;
        int r;

        (void) sysfs_dev_read_uint(ctx, &s->addr, "sriov_numvfs", 10, &now);
        if (now == s->count) {
                r = sysfs_dev_write(ctx, &s->addr, "sriov_drivers_autoprobe", s->autoprobe ? "1" : "0");
                if (r < 0)
                        step_mark_failed(s, r, NULL);
                return;
        }
        r = set_numvfs(ctx, s, &e);
        if (r < 0)
                step_mark_failed(s, r, &e);
        *replan = true;
}

/* The device as planned: on the driver the plan found, or the step is not run. */
static int check_unchanged(sriov_ctx *ctx, const PlanStep *s, sriov_error *e) {
        _cleanup_free_ char *drv = NULL;

        (void) sysfs_dev_link_name(ctx, &s->addr, "driver", &drv);
        if ((drv && s->prior_driver && streq(drv, s->prior_driver)) || (!drv && !s->prior_driver))
                return 0;
        return sriov_error_set(e, -ESTALE, "%s changed since the plan (now on %s): not done; applying again plans anew",
                               s->bdf, drv ?: "no driver");
}

/* The driver as planned, after the same checks as an interactive bind: a
 * guest holding the VF, host use, and for vfio-pci the IOMMU group. */
static int change_driver(sriov_ctx *ctx, const PlanStep *s, sriov_error *e) {
        int r;

        r = check_unchanged(ctx, s, e);
        if (r < 0)
                return r;
        r = safety_before_unbind(ctx, &s->addr, false, e);
        if (r < 0)
                return r;
        if (s->want == DRIVER_NAMED && driver_is_dma_managed(s->driver)) {
                _cleanup_free_ pci_addr *peers = NULL;
                size_t n_peers = 0;
                int group;

                r = passthrough_check(ctx, &s->addr, PASSTHROUGH_DEVICE_CHECKED, &peers, &n_peers, &group, e);
                if (r < 0)
                        return r;
        }
        if (s->want == DRIVER_HOST)
                return sriov_reprobe(ctx, &s->addr, NULL, e);
        return sriov_bind(ctx, &s->addr, s->driver, driver_is_dma_managed(s->driver) ? SRIOV_BIND_KEEP_OVERRIDE : 0,
                          NULL, NULL, e);
}

static void execute_driver(sriov_ctx *ctx, PlanStep *s) {
        /* the checks and the bind read and write a dozen of the VF's files */
        _cleanup_(sysfs_dev_scope_end) sysfs_dev_scope scope = { .fd = -EBADF };
        sriov_error e = {};
        int r;

        sysfs_dev_scope_begin(ctx, &s->addr, &scope);
        r = change_driver(ctx, s, &e);
        if (r < 0) {
                step_mark_failed(s, r, &e);
                return;
        }
        if (s->want == DRIVER_HOST) {
                _cleanup_(sriov_device_freep) sriov_device *now = NULL;

                /* the kernel may find no driver for it at all */
                if (sriov_device_load(ctx, &s->addr, &now) >= 0 && !now->driver)
                        step_mark_failed(s, -ENXIO, &(sriov_error) { -ENXIO, "no host driver took the VF" });
        }
}

static void execute_attrs(PlanStep *s) {
        sriov_error e = {};
        unsigned ignored = 0;
        char names[128] = "";
        int r;

        r = sriov_vf_set(s->pf_ifname, &s->attrs, SRIOV_VF_BRING_PF_UP, NULL, &ignored, NULL, &e);
        if (r < 0) {
                step_mark_failed(s, r, &e);
                return;
        }
        if (!ignored)
                return;
        for (unsigned b = 1; b <= VF_ATTR_QUERY_RSS; b <<= 1)
                if (ignored & b)
                        (void) snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                                        names[0] ? ", " : "", vf_attr_name(b));
        r = sriov_error_set(&e, -EPROTONOSUPPORT, "the driver accepted but did not apply: %s", names);
        step_mark_failed(s, r, &e);
}

static bool step_runs(const PlanStep *s) {
        return s->kind != STEP_ERROR && s->result >= 0 && s->has_addr;
}

bool plan_execute_pf(sriov_ctx *ctx, Plan *p, bool *ret_replan) {
        PlanStep *s = p->n_steps > 0 && p->steps[0].kind == STEP_NUMVFS ? &p->steps[0] : NULL;
        bool replan = false;

        if (s && step_runs(s)) {
                s->executed = true;
                execute_numvfs(ctx, s, &replan);
        }
        /* a failed count change leaves the VFs' steps undone, and ends the apply */
        *ret_replan = replan && s->result >= 0;
        return !replan && !(s && s->result < 0);
}

size_t plan_device_end(const Plan *p, size_t first) {
        size_t end = first + 1;

        while (end < p->n_steps && p->steps[end].has_addr == p->steps[first].has_addr &&
               pci_addr_equal(&p->steps[end].addr, &p->steps[first].addr) && streq(p->steps[end].bdf, p->steps[first].bdf))
                end++;
        return end;
}

void plan_execute_device(sriov_ctx *ctx, Plan *p, size_t first, size_t end) {
        /* the checks and the bind read and write a dozen of the VF's files */
        _cleanup_(sysfs_dev_scope_end) sysfs_dev_scope scope = { .fd = -EBADF };
        bool scoped = false;

        for (size_t i = first; i < end && i < p->n_steps; i++) {
                PlanStep *s = &p->steps[i];

                if (!step_runs(s))
                        continue;
                if (!scoped) {
                        sysfs_dev_scope_begin(ctx, &s->addr, &scope);
                        scoped = true;
                }
                s->executed = true;
                if (s->kind == STEP_DRIVER)
                        execute_driver(ctx, s);
                else if (s->kind == STEP_VF_ATTRS)
                        execute_attrs(s);
        }
}

void plan_refuse_steps(Plan *p, size_t first, size_t end, int r, const char *message) {
        for (size_t i = first; i < end && i < p->n_steps; i++) {
                PlanStep *s = &p->steps[i];

                if (!step_runs(s) || s->executed)
                        continue;
                step_failed(p, s, r, &(sriov_error) { .error = r });
                free(s->error);
                s->error = strdup(strempty(message));
        }
}

void plan_count_failed(Plan *p) {
        p->n_failed = 0;
        for (size_t i = 0; i < p->n_steps; i++)
                p->n_failed += p->steps[i].kind == STEP_ERROR || p->steps[i].result < 0;
}
