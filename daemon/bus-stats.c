/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What sriovd watches, on org.sriovd.Manager1 (docs/dbus-api.md,
 * docs/metrics.md): GetVFStats(s scope, s name), GetMetrics(a{sv}),
 * ListDrift(), GetHealth(), the DriftDetected signal. All read-only: open
 * to every caller. */

#include "bus-device.h"
#include "bus-limits.h"
#include "metrics.h"
#include "observe.h"
#include "state.h"
#include "stats.h"

/* A reply this large is built in free heap pages: give them back once sent. */
#define LARGE_REPLY (256 * 1024)
/* what an answer takes, about, per VF (the counters with their labels) */
#define STATS_BYTES_PER_VF 400U
#define METRICS_BYTES_PER_VF 2600U
#define METRICS_BYTES_BASE (64U * 1024U)

/* An expensive read (docs/security.md, "Limits"): no larger than the bus
 * allows, charged to an unprivileged caller by its size, and at most a
 * few of its calls on the workers at a time (0: go on; 1: over its share,
 * answered later; < 0: refused). */
static int admit_read(Daemon *d, sd_bus_message *m, size_t bytes, const char *hint, sd_bus_error *error) {
        int r;

        r = bus_check_reply_size(bytes, hint, error);
        if (r < 0)
                return r;
        r = bus_admit(d, m, bus_cost_of(bytes), error);
        if (r != 0)
                return r;
        r = bus_inflight_begin(d, m, error);
        if (r < 0)
                return r;
        return 0;
}

static const char *error_name(int r) {
        for (const SriovdError *e = sriovd_errors; e->name; e++)
                if (e->errno_value == -r)
                        return e->name;
        return SRIOVD_ERROR_FAILED;
}

/* ---- GetVFStats ---- */

static int append_entry(sd_bus_message *reply, const VFStatsEntry *e) {
        int r;

        r = sd_bus_message_open_container(reply, 'r', "sisssssbsa{st}t");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "sisssssbs", e->vf, (int32_t) e->index, e->pf, strempty(e->pf_ifname),
                                  strempty(e->pool), strempty(e->guest), strempty(e->owner), e->reported,
                                  strempty(e->note));
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{st}");
        if (r < 0)
                return r;
        for (unsigned k = 0; e->reported && k < _VF_STAT_MAX; k++) {
                if (!(e->stats.mask & (1u << k)))
                        continue;
                r = sd_bus_message_append(reply, "{st}", vf_stat_name(k), e->stats.v[k]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "t", e->timestamp);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int append_stats_row(sd_bus_message *reply, size_t i, const void *userdata) {
        const VFStatsSet *set = userdata;

        return append_entry(reply, &set->v[i]);
}

static int reply_stats(sd_bus_message *m, const VFStatsSet *set) {
        return bus_send_array(m, "(sisssssbsa{st}t)", set->n, append_stats_row, set);
}

static void stats_done(Daemon *d, VFStatsSet *set, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = userdata;
        int r;

        bus_inflight_done(d, m);
        r = reply_stats(m, set);
        if (r < 0) {
                /* every call gets an answer: the error when the reply cannot be built */
                log_debug_errno(r, "Cannot reply to GetVFStats: %m");
                bus_reply_errno(m, r, NULL);
        }
        if (set->n >= LARGE_REPLY / 256)
                d->trim_due = true;
        vf_stats_set_free(set);
}

static int method_get_vf_stats(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *scope_name, *name;
        VFStatsSet *set = NULL;
        sriov_error e = {};
        StatsScope scope;
        int r;

        r = sd_bus_message_read(m, "ss", &scope_name, &name);
        if (r < 0)
                return r;
        if (stats_scope_from_string(scope_name, &scope) < 0)
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "Unknown scope \"%.16s\": expected \"\", \"vf\", \"pf\", \"pool\" or \"guest\"",
                                         scope_name);
        if (scope != STATS_ALL && isempty(name))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Scope \"%s\" needs a name", scope_name);
        r = stats_collect(d, scope, name, &set, &e);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, SRIOVD_ERROR_NOT_FOUND, "%s", e.message);
        if (r < 0)
                return bus_error_from_errno(error, r, e.error ? e.message : NULL);
        r = admit_read(d, m, set->n * STATS_BYTES_PER_VF, "ask for one PF's, pool's or guest's VFs", error);
        if (r != 0) {
                vf_stats_set_free(set);
                return r;
        }
        r = stats_read(d, set, stats_done, sd_bus_message_ref(m));
        if (r < 0) {
                bus_inflight_done(d, m);
                sd_bus_message_unref(m);
                return bus_error_from_errno(error, r, NULL);
        }
        return 1;
}

/* ---- GetMetrics ---- */

typedef struct MetricsCall {
        sd_bus_message *m;
        bool openmetrics;
} MetricsCall;

static void metrics_done(Daemon *d, VFStatsSet *set, void *userdata) {
        MetricsCall *c = userdata;
        _cleanup_free_ char *text = NULL;
        int r;

        bus_inflight_done(d, c->m);
        r = metrics_render(d, set, c->openmetrics, error_name, &text);
        if (r < 0)
                bus_reply_errno(c->m, r, NULL);
        else if ((r = sd_bus_reply_method_return(c->m, "s", text)) < 0)
                log_debug_errno(r, "Cannot reply to GetMetrics: %m");
        if (text && strlen(text) >= LARGE_REPLY)
                d->trim_due = true;
        vf_stats_set_free(set);
        sd_bus_message_unref(c->m);
        free(c);
}

static int method_get_metrics(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *format = NULL;
        VFStatsSet *set = NULL;
        MetricsCall *c;
        const BusOption opts[] = {
                { "format", 's', &format },
                {}
        };
        int r;

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (format && !streq(format, "prometheus") && !streq(format, "openmetrics"))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "Unknown format \"%.32s\": expected \"prometheus\" or \"openmetrics\"", format);
        r = stats_collect(d, STATS_ALL, NULL, &set, NULL);
        if (r < 0)
                return r;
        r = admit_read(d, m, METRICS_BYTES_BASE + set->n * METRICS_BYTES_PER_VF,
                       "ask for the VF counters of a PF, pool or guest with GetVFStats", error);
        if (r != 0) {
                vf_stats_set_free(set);
                return r;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                bus_inflight_done(d, m);
                vf_stats_set_free(set);
                return -ENOMEM;
        }
        *c = (MetricsCall) { .m = sd_bus_message_ref(m), .openmetrics = format && streq(format, "openmetrics") };
        r = stats_read(d, set, metrics_done, c);
        if (r < 0) {
                bus_inflight_done(d, m);
                sd_bus_message_unref(c->m);
                free(c);
                return bus_error_from_errno(error, r, NULL);
        }
        return 1;
}

/* ---- ListDrift, GetHealth ---- */

/* an a{sv} of the settings in c->mask */
static int append_settings(sd_bus_message *m, const sriov_vf_config *c) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = bus_append_vf_config(m, c);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* address, PF, index, source, guest, expected, found */
static int append_drift_fields(sd_bus_message *m, const DriftRecord *r) {
        int k;

        k = sd_bus_message_append(m, "ssiss", r->vf, r->pf, (int32_t) r->vf_index, r->source, strempty(r->guest));
        if (k < 0)
                return k;
        k = append_settings(m, &r->want);
        if (k < 0)
                return k;
        return append_settings(m, &r->found);
}

static int append_drift(sd_bus_message *reply, const DriftRecord *r) {
        int k;

        k = sd_bus_message_open_container(reply, 'r', "ssissa{sv}a{sv}tbu");
        if (k < 0)
                return k;
        k = append_drift_fields(reply, r);
        if (k < 0)
                return k;
        k = sd_bus_message_append(reply, "tbu", r->since, r->enforce, r->enforced);
        if (k < 0)
                return k;
        return sd_bus_message_close_container(reply);
}

static int append_drift_row(sd_bus_message *reply, size_t i, const void *userdata) {
        const Daemon *d = userdata;

        return append_drift(reply, &d->observe->drift[i]);
}

static int method_list_drift(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r;

        r = bus_admit(d, m, bus_cost_of(d->observe ? d->observe->n_drift * 300 : 0), error);
        if (r != 0)
                return r;
        return bus_send_array(m, "(ssissa{sv}a{sv}tbu)", d->observe ? d->observe->n_drift : 0, append_drift_row, d);
}

static int append_health(sd_bus_message *reply, const char *address, const char *kind, const char *guest,
                         const char *reason) {
        return sd_bus_message_append(reply, "(sssbs)", address, kind, strempty(guest), isempty(reason), strempty(reason));
}

/* A VF is listed when sriovd has a say in it (assigned, declared,
 * quarantined) or when it is not healthy. */
static bool vf_listed(Daemon *d, const sriov_device *vf, const char *reason) {
        sriov_vf_config want;
        const char *source;
        bool enforce;

        return !isempty(reason) || state_find_assignment_by_vf(d->state, vf->bdf) ||
               drift_wanted(d, vf, &want, &source, &enforce);
}

static int append_device_health(Daemon *d, sd_bus_message *reply, const sriov_device *dev) {
        const StateAssignment *a = state_find_assignment_by_vf(d->state, dev->bdf);
        _cleanup_free_ char *reason = NULL;

        if (dev->is_pf) {
                reason = pf_health_reason(d, dev);
                return reason ? append_health(reply, dev->bdf, "pf", NULL, reason) : -ENOMEM;
        }
        reason = vf_health_reason(d, dev);
        if (!reason)
                return -ENOMEM;
        if (!vf_listed(d, dev, reason))
                return 0;
        return append_health(reply, dev->bdf, "vf", a ? a->guest : NULL, reason);
}

/* Assignments whose VF is gone have no device to list under. */
static int append_gone(Daemon *d, sd_bus_message *reply) {
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];
                pci_addr addr;
                int r;

                if (pci_addr_parse(a->vf, &addr) >= 0 && sriov_host_find(d->host, &addr))
                        continue;
                r = append_health(reply, a->vf, "vf", a->guest, "VF gone");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int method_get_health(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        int r;

        r = bus_admit(d, m, bus_cost_of(d->host->n_devices * 100), error);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssbs)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *dev = d->host->devices[i];

                if (!dev->is_pf && !dev->is_vf)
                        continue;
                r = append_device_health(d, reply, dev);
                if (r < 0)
                        return r;
        }
        r = append_gone(d, reply);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable stats_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetVFStats", SD_BUS_ARGS("s", scope, "s", name),
                                SD_BUS_RESULT("a(sisssssbsa{st}t)", vfs), method_get_vf_stats,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMetrics", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("s", text),
                                method_get_metrics, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDrift", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssissa{sv}a{sv}tbu)", drift),
                                method_list_drift, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHealth", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssbs)", health), method_get_health,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("DriftDetected",
                                SD_BUS_ARGS("s", address, "s", pf, "i", vf_index, "s", source, "s", guest,
                                            "a{sv}", expected, "a{sv}", found, "b", enforce),
                                0),
        SD_BUS_VTABLE_END
};

int bus_stats_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, stats_vtable, d);
}

static int emit_drift(Daemon *d, const DriftRecord *r) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int k;

        k = sd_bus_message_new_signal(d->bus, &m, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, "DriftDetected");
        if (k < 0)
                return k;
        k = append_drift_fields(m, r);
        if (k < 0)
                return k;
        k = sd_bus_message_append(m, "b", r->enforce);
        if (k < 0)
                return k;
        return sd_bus_send(d->bus, m, NULL);
}

void bus_stats_emit_drift(Daemon *d, const DriftRecord *r) {
        int k;

        if (!d->bus)
                return;
        k = emit_drift(d, r);
        if (k < 0)
                log_debug_errno(k, "Cannot emit DriftDetected: %m");
}
