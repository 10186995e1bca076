/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "metrics.h"
#include "observe.h"
#include "pools.h"
#include "state.h"

/* seconds; what sriovd's operations take, from a sysfs read to a VF count
 * change on a big PF */
static const double bucket_le[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60 };
#define N_BUCKETS ELEMENTSOF(bucket_le)

typedef struct ErrorCount {
        int r;
        uint64_t count;
} ErrorCount;

typedef struct OpStats {
        const char *name;               /* the job type's (static) */
        uint64_t count, retries;
        uint64_t buckets[N_BUCKETS];    /* not cumulative: the bucket each fell in; the rest is +Inf */
        uint64_t usec_sum;
        ErrorCount *errors;
        size_t n_errors;
} OpStats;

struct Metrics {
        OpStats *ops;
        size_t n_ops;
};

int metrics_new(Metrics **ret) {
        *ret = calloc(1, sizeof(Metrics));
        return *ret ? 0 : -ENOMEM;
}

Metrics *metrics_free(Metrics *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_ops; i++)
                free(m->ops[i].errors);
        free(m->ops);
        return mfree(m);
}

static OpStats *op_get(Metrics *m, const char *name) {
        OpStats *a;

        for (size_t i = 0; i < m->n_ops; i++)
                if (streq(m->ops[i].name, name))
                        return &m->ops[i];
        a = realloc(m->ops, (m->n_ops + 1) * sizeof(*a));
        if (!a)
                return NULL;
        m->ops = a;
        a[m->n_ops] = (OpStats) { .name = name };
        return &a[m->n_ops++];
}

static void count_error(OpStats *o, int r) {
        ErrorCount *a;

        for (size_t i = 0; i < o->n_errors; i++)
                if (o->errors[i].r == r) {
                        o->errors[i].count++;
                        return;
                }
        a = realloc(o->errors, (o->n_errors + 1) * sizeof(*a));
        if (!a)
                return;
        o->errors = a;
        a[o->n_errors++] = (ErrorCount) { .r = r, .count = 1 };
}

void metrics_job_finished(Daemon *d, const char *operation, int r, uint64_t usec) {
        OpStats *o = d->observe && operation ? op_get(d->observe->metrics, operation) : NULL;
        double sec = (double) usec / 1e6;

        if (!o)
                return;
        o->count++;
        o->usec_sum += usec;
        for (size_t i = 0; i < N_BUCKETS; i++)
                if (sec <= bucket_le[i]) {
                        o->buckets[i]++;
                        break;
                }
        if (r < 0)
                count_error(o, r);
}

void metrics_retry(Daemon *d, const char *operation) {
        OpStats *o = d->observe ? op_get(d->observe->metrics, operation) : NULL;

        if (o)
                o->retries++;
}

/* ---- the text ---- */

typedef struct Out {
        FILE *f;
        bool om;                        /* OpenMetrics */
        metrics_error_name_t error_name;
} Out;

/* A metric family's HELP and TYPE. A counter's samples end in _total; in
 * OpenMetrics the family's name does not. */
static void family(Out *o, const char *name, const char *type, const char *help) {
        size_t len = strlen(name);

        if (o->om && streq(type, "counter") && len > 6 && streq(name + len - 6, "_total"))
                len -= 6;
        fprintf(o->f, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int) len, name, help, (int) len, name, type);
}

/* a label value: backslash, double quote and newline escaped */
static void label(FILE *f, const char *key, const char *value, bool first) {
        fprintf(f, "%s%s=\"", first ? "" : ",", key);
        for (const char *c = strempty(value); *c; c++) {
                if (*c == '\\' || *c == '"')
                        fputc('\\', f);
                if (*c == '\n') {
                        fputs("\\n", f);
                        continue;
                }
                fputc(*c, f);
        }
        fputc('"', f);
}

static void vf_labels(FILE *f, const VFStatsEntry *e) {
        char index[16];

        (void) snprintf(index, sizeof(index), "%d", e->index);
        fputc('{', f);
        label(f, "pf", e->pf, true);
        label(f, "pf_interface", e->pf_ifname, false);
        label(f, "vf", index, false);
        label(f, "address", e->vf, false);
        label(f, "pool", e->pool, false);
        label(f, "guest", e->guest, false);
        label(f, "owner", e->owner, false);
        fputc('}', f);
}

static const struct {
        const char *metric, *help;
} vf_counters[_VF_STAT_MAX] = {
        [VF_STAT_RX_PACKETS] = { "sriovd_vf_rx_packets_total", "Packets the VF received (IFLA_VF_STATS_RX_PACKETS)." },
        [VF_STAT_TX_PACKETS] = { "sriovd_vf_tx_packets_total", "Packets the VF sent (IFLA_VF_STATS_TX_PACKETS)." },
        [VF_STAT_RX_BYTES] = { "sriovd_vf_rx_bytes_total", "Bytes the VF received (IFLA_VF_STATS_RX_BYTES)." },
        [VF_STAT_TX_BYTES] = { "sriovd_vf_tx_bytes_total", "Bytes the VF sent (IFLA_VF_STATS_TX_BYTES)." },
        [VF_STAT_BROADCAST] = { "sriovd_vf_broadcast_packets_total",
                                "Broadcast packets the VF received (IFLA_VF_STATS_BROADCAST)." },
        [VF_STAT_MULTICAST] = { "sriovd_vf_multicast_packets_total",
                                "Multicast packets the VF received (IFLA_VF_STATS_MULTICAST)." },
        [VF_STAT_RX_DROPPED] = { "sriovd_vf_rx_dropped_packets_total",
                                 "Received packets of the VF that were dropped (IFLA_VF_STATS_RX_DROPPED)." },
        [VF_STAT_TX_DROPPED] = { "sriovd_vf_tx_dropped_packets_total",
                                 "Packets the VF sent that were dropped (IFLA_VF_STATS_TX_DROPPED)." },
};

static void render_vfs(Out *o, const VFStatsSet *vfs) {
        family(o, "sriovd_vf_stats_reported", "gauge",
               "1 when the VF's PF driver reports its traffic counters, 0 when it does not (no sriovd_vf_*_total then).");
        for (size_t i = 0; vfs && i < vfs->n; i++) {
                fputs("sriovd_vf_stats_reported", o->f);
                vf_labels(o->f, &vfs->v[i]);
                fprintf(o->f, " %d\n", vfs->v[i].reported);
        }
        for (size_t k = 0; k < _VF_STAT_MAX; k++) {
                family(o, vf_counters[k].metric, "counter", vf_counters[k].help);
                for (size_t i = 0; vfs && i < vfs->n; i++) {
                        if (!vfs->v[i].reported || !(vfs->v[i].stats.mask & (1u << k)))
                                continue;
                        fputs(vf_counters[k].metric, o->f);
                        vf_labels(o->f, &vfs->v[i]);
                        fprintf(o->f, " %llu\n", (unsigned long long) vfs->v[i].stats.v[k]);
                }
        }
}

static void render_health(Out *o, Daemon *d, const VFStatsSet *vfs) {
        family(o, "sriovd_vf_healthy", "gauge",
               "1 when the VF is fit for its use, 0 when not (quarantined, assignment not ready, wrong driver, PF link down).");
        for (size_t i = 0; vfs && i < vfs->n; i++) {
                _cleanup_free_ char *reason = NULL;
                const sriov_device *vf;
                pci_addr a;

                if (pci_addr_parse(vfs->v[i].vf, &a) < 0 || !(vf = sriov_host_find(d->host, &a)))
                        continue;
                reason = vf_health_reason(d, vf);
                fputs("sriovd_vf_healthy", o->f);
                vf_labels(o->f, &vfs->v[i]);
                fprintf(o->f, " %d\n", isempty(reason));
        }
}

static void pf_labels(FILE *f, const PFLink *l) {
        fputc('{', f);
        label(f, "pf", l->pf, true);
        label(f, "pf_interface", l->ifname, false);
        fputc('}', f);
}

static void render_pfs(Out *o, Daemon *d) {
        const Observe *ob = d->observe;

        family(o, "sriovd_pf_carrier", "gauge", "1 when the PF's interface is up and has a carrier, else 0.");
        for (size_t i = 0; i < ob->n_links; i++)
                if (ob->links[i].known && ob->links[i].ifname[0]) {
                        fputs("sriovd_pf_carrier", o->f);
                        pf_labels(o->f, &ob->links[i]);
                        fprintf(o->f, " %d\n", ob->links[i].admin_up && ob->links[i].carrier == 1);
                }
        family(o, "sriovd_pf_link_speed_bytes_per_second", "gauge", "The speed of the PF's link in bytes per second (Mbit/s x 125000; absent when unknown).");
        for (size_t i = 0; i < ob->n_links; i++)
                if (ob->links[i].known && ob->links[i].speed > 0) {
                        fputs("sriovd_pf_link_speed_bytes_per_second", o->f);
                        pf_labels(o->f, &ob->links[i]);
                        fprintf(o->f, " %lld\n", (long long) ob->links[i].speed * 125000LL);
                }
        family(o, "sriovd_pf_rdma_capable", "gauge", "1 when an RDMA device exists for the PF.");
        for (size_t i = 0; i < ob->n_links; i++)
                if (ob->links[i].known) {
                        fputs("sriovd_pf_rdma_capable", o->f);
                        pf_labels(o->f, &ob->links[i]);
                        fprintf(o->f, " %d\n", ob->links[i].rdma != NULL);
                }
}

static void render_pools(Out *o, Daemon *d) {
        static const char *const names[] = { "sriovd_pool_size", "sriovd_pool_free", "sriovd_pool_assigned",
                                              "sriovd_pool_quarantined" };
        static const char *const helps[] = { "VFs of the host the pool holds.", "VFs of the pool free to assign.",
                                             "VFs of the pool held by guests.",
                                             "VFs of the pool quarantined (their reset between tenants failed)." };
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                family(o, names[k], "gauge", helps[k]);
                for (size_t i = 0; i < pools_count(d); i++) {
                        unsigned v[4];
                        PoolView p;

                        if (!pools_get(d, i, &p))
                                continue;
                        pools_usage(d, &p, &v[0], &v[2], &v[3]);
                        v[1] = v[0] >= v[2] + v[3] ? v[0] - v[2] - v[3] : 0;
                        fprintf(o->f, "%s{", names[k]);
                        label(o->f, "pool", p.name, true);
                        fprintf(o->f, "} %u\n", v[k]);
                }
        }
}

static void render_assignments(Out *o, Daemon *d) {
        static const char *const states[] = { "reserved", "prepared", "ready", "not_ready", "broken", "releasing" };
        unsigned n[ELEMENTSOF(states)] = {};

        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                if (a->phase == ASSIGN_RESERVED)
                        n[0]++;
                else if (a->phase == ASSIGN_PREPARED)
                        n[1]++;
                else if (a->phase == ASSIGN_RELEASING)
                        n[5]++;
                else
                        n[2 + (a->readiness == NOT_READY) + 2 * (a->readiness == BROKEN)]++;
        }
        family(o, "sriovd_assignments", "gauge", "Assignments of VFs to guests, by state.");
        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                fprintf(o->f, "sriovd_assignments{state=\"%s\"} %u\n", states[i], n[i]);
}

static void op_label(FILE *f, const OpStats *s) {
        label(f, "operation", s->name, true);
}

static void render_histogram(Out *o, const OpStats *s) {
        uint64_t cum = 0;

        for (size_t b = 0; b < N_BUCKETS; b++) {
                cum += s->buckets[b];
                fputs("sriovd_operation_duration_seconds_bucket{", o->f);
                op_label(o->f, s);
                fprintf(o->f, ",le=\"%g\"} %llu\n", bucket_le[b], (unsigned long long) cum);
        }
        fputs("sriovd_operation_duration_seconds_bucket{", o->f);
        op_label(o->f, s);
        fprintf(o->f, ",le=\"+Inf\"} %llu\n", (unsigned long long) s->count);
        fputs("sriovd_operation_duration_seconds_sum{", o->f);
        op_label(o->f, s);
        fprintf(o->f, "} %.6f\n", (double) s->usec_sum / 1e6);
        fputs("sriovd_operation_duration_seconds_count{", o->f);
        op_label(o->f, s);
        fprintf(o->f, "} %llu\n", (unsigned long long) s->count);
}

static void render_operations(Out *o, const Metrics *m) {
        family(o, "sriovd_operations_total", "counter", "Operations sriovd ran (jobs on its workers), by kind.");
        for (size_t i = 0; i < m->n_ops; i++) {
                fputs("sriovd_operations_total{", o->f);
                op_label(o->f, &m->ops[i]);
                fprintf(o->f, "} %llu\n", (unsigned long long) m->ops[i].count);
        }
        family(o, "sriovd_operation_failures_total", "counter", "Operations that failed, by kind and error name.");
        for (size_t i = 0; i < m->n_ops; i++)
                for (size_t k = 0; k < m->ops[i].n_errors; k++) {
                        fputs("sriovd_operation_failures_total{", o->f);
                        op_label(o->f, &m->ops[i]);
                        label(o->f, "error", o->error_name(m->ops[i].errors[k].r), false);
                        fprintf(o->f, "} %llu\n", (unsigned long long) m->ops[i].errors[k].count);
                }
        family(o, "sriovd_retries_total", "counter",
               "Failed steps of the declared configuration tried again, by kind of operation.");
        for (size_t i = 0; i < m->n_ops; i++)
                if (m->ops[i].retries > 0) {
                        fputs("sriovd_retries_total{", o->f);
                        op_label(o->f, &m->ops[i]);
                        fprintf(o->f, "} %llu\n", (unsigned long long) m->ops[i].retries);
                }
        family(o, "sriovd_operation_duration_seconds", "histogram",
               "How long operations took on sriovd's workers, by kind.");
        for (size_t i = 0; i < m->n_ops; i++)
                render_histogram(o, &m->ops[i]);
}

static void render_watch(Out *o, const Observe *ob) {
        family(o, "sriovd_drift_vfs", "gauge", "VFs whose settings differ now from what sriovd declared or assigned.");
        fprintf(o->f, "sriovd_drift_vfs %zu\n", ob->n_drift);
        family(o, "sriovd_drift_detected_total", "counter", "Changes of VF settings made behind sriovd's back.");
        fprintf(o->f, "sriovd_drift_detected_total %llu\n", ob->n_drift_detected);
        family(o, "sriovd_drift_enforced_total", "counter", "Such changes that sriovd put back (enforce).");
        fprintf(o->f, "sriovd_drift_enforced_total %llu\n", ob->n_drift_enforced);
        family(o, "sriovd_link_notifications_total", "counter", "rtnetlink link notifications received.");
        fprintf(o->f, "sriovd_link_notifications_total %llu\n", ob->n_notifications);
}

int metrics_render(Daemon *d, const VFStatsSet *vfs, bool openmetrics, metrics_error_name_t error_name, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        Out o = { .om = openmetrics, .error_name = error_name };

        if (!d->observe)
                return -ENODATA;
        o.f = open_memstream(&buf, &len);
        if (!o.f)
                return -ENOMEM;
        family(&o, o.om ? "sriovd_build" : "sriovd_build_info", o.om ? "info" : "gauge", "sriovd's version.");
        fprintf(o.f, "sriovd_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
        render_vfs(&o, vfs);
        render_health(&o, d, vfs);
        render_pfs(&o, d);
        render_pools(&o, d);
        render_assignments(&o, d);
        render_operations(&o, d->observe->metrics);
        render_watch(&o, d->observe);
        if (o.om)
                fputs("# EOF\n", o.f);
        if (fclose(o.f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
