/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* stats, metrics, and what status tells of health and caught drift: what
 * sriovd watches (docs/metrics.md, sriovctl(8)). */

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "bus.h"
#include "output.h"
#include "sriovctl.h"
#include "util.h"

/* ---- stats ---- */

#define N_COUNTERS 8
static const char *const counter_names[N_COUNTERS] = {
        "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "broadcast", "multicast", "rx_dropped", "tx_dropped",
};

typedef struct VFSample {
        char *address, *pf, *pf_interface, *pool, *guest, *owner, *note;
        int32_t index;
        bool reported;
        uint64_t v[N_COUNTERS];
        unsigned mask;                  /* 1 << i: counter i was there */
        uint64_t timestamp;             /* µs, CLOCK_MONOTONIC of sriovd's read */
} VFSample;

typedef struct Sample {
        VFSample *vfs;
        size_t n;
} Sample;

static void sample_done(Sample *s) {
        for (size_t i = 0; i < s->n; i++) {
                VFSample *v = &s->vfs[i];

                free(v->address), free(v->pf), free(v->pf_interface), free(v->pool), free(v->guest), free(v->owner);
                free(v->note);
        }
        free(s->vfs);
        *s = (Sample) {};
}

static int read_counters(sd_bus_message *m, VFSample *v) {
        const char *key;
        uint64_t value;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{st}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "{st}", &key, &value)) > 0)
                for (size_t i = 0; i < N_COUNTERS; i++)
                        if (streq(key, counter_names[i])) {
                                v->v[i] = value;
                                v->mask |= 1u << i;
                        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_vf(sd_bus_message *m, void *userdata) {
        Sample *s = userdata;
        const char *addr, *pf, *pfi, *pool, *guest, *owner, *note;
        VFSample *n, v = {};
        int reported, r;

        r = sd_bus_message_read(m, "sisssssbs", &addr, &v.index, &pf, &pfi, &pool, &guest, &owner, &reported, &note);
        if (r < 0)
                return r;
        r = read_counters(m, &v);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "t", &v.timestamp);
        if (r < 0)
                return r;
        n = realloc(s->vfs, (s->n + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        s->vfs = n;
        v.reported = reported;
        v.address = strdup(addr), v.pf = strdup(pf), v.pf_interface = strdup(pfi), v.pool = strdup(pool);
        v.guest = strdup(guest), v.owner = strdup(owner), v.note = strdup(note);
        s->vfs[s->n++] = v;
        return v.address && v.pf && v.pf_interface && v.pool && v.guest && v.owner && v.note ? 0 : -ENOMEM;
}

/* The scope and name GetVFStats takes, from the arguments. */
static void stats_scope(const Ctl *c, char **args, size_t n_args, const char **ret_scope, const char **ret_name) {
        static const struct {
                OptId id;
                const char *scope;
        } map[] = { { OPT_PF, "pf" }, { OPT_POOL, "pool" }, { OPT_GUEST, "guest" } };

        *ret_scope = n_args > 0 ? "vf" : "";
        *ret_name = n_args > 0 ? args[0] : "";
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (ctl_has(c, map[i].id)) {
                        *ret_scope = map[i].scope;
                        *ret_name = c->opt[map[i].id].s;
                }
}

int verb_stats_check(const Ctl *c, char **args, size_t n_args) {
        unsigned given = (n_args > 0) + ctl_has(c, OPT_PF) + ctl_has(c, OPT_POOL) + ctl_has(c, OPT_GUEST);

        if (given > 1)
                return usage_error("stats: give one of VF, --pf, --pool and --guest, or none (every VF).");
        if (ctl_has(c, OPT_SAMPLES) && !ctl_has(c, OPT_WATCH))
                return usage_error("stats: --samples goes with --watch.");
        return 0;
}

static int get_sample(Ctl *c, const char *scope, const char *name, Sample *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = bus_call_manager(c, "GetVFStats", false, &error, &reply, "ss", scope, name);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot read the VF counters");
        r = bus_read_array(reply, "sisssssbsa{st}t", read_vf, ret);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the VF counters: %s", strerror(-r));
        return EXIT_OK;
}

static const OutColumn stats_columns[] = {
        { "address", "ADDRESS" },
        { "vf_index", "VF", OUT_COLUMN_RIGHT },
        { "pf_text", "PF" },
        { "pool", "POOL" },
        { "guest", "GUEST" },
        { "rx_packets", "RX-PKTS", OUT_COLUMN_RIGHT },
        { "rx_bytes", "RX-BYTES", OUT_COLUMN_RIGHT },
        { "tx_packets", "TX-PKTS", OUT_COLUMN_RIGHT },
        { "tx_bytes", "TX-BYTES", OUT_COLUMN_RIGHT },
        { "broadcast", "BCAST", OUT_COLUMN_RIGHT },
        { "multicast", "MCAST", OUT_COLUMN_RIGHT },
        { "rx_dropped", "RX-DROP", OUT_COLUMN_RIGHT },
        { "tx_dropped", "TX-DROP", OUT_COLUMN_RIGHT },
        { "rx_pps", "RX-PKT/S", OUT_COLUMN_RIGHT },
        { "rx_bps", "RX-BIT/S", OUT_COLUMN_RIGHT },
        { "tx_pps", "TX-PKT/S", OUT_COLUMN_RIGHT },
        { "tx_bps", "TX-BIT/S", OUT_COLUMN_RIGHT },
        { "note", "counters", OUT_COLUMN_BELOW },
};

static const VFSample *find_prev(const Sample *prev, const char *address) {
        for (size_t i = 0; prev && i < prev->n; i++)
                if (streq(prev->vfs[i].address, address))
                        return &prev->vfs[i];
        return NULL;
}

/* per second from the earlier sample; < 0 when there is none (the first
 * sample, a VF made anew, a counter that went back) */
static double rate(const VFSample *v, const VFSample *p, unsigned i, double factor) {
        double dt;

        if (!p || !v->reported || !p->reported || !(v->mask & p->mask & (1u << i)) || v->timestamp <= p->timestamp ||
            v->v[i] < p->v[i])
                return -1;
        dt = (double) (v->timestamp - p->timestamp) / 1e6;
        return (double) (v->v[i] - p->v[i]) * factor / dt;
}

static void print_rate(const char *key, double r) {
        if (r < 0) {
                print_string(PRINT_ANY, key, NULL, NULL);
                return;
        }
        print_text_take(key, strdup_printf("%.0f", r));
        if (out_is_json())
                print_uint(PRINT_JSON, key, NULL, (uint64_t) (r + 0.5));
}

static void print_rates(const VFSample *v, const VFSample *p) {
        out_open_object("rates");
        print_rate("rx_pps", rate(v, p, 0, 1));
        print_rate("rx_bps", rate(v, p, 2, 8));
        print_rate("tx_pps", rate(v, p, 1, 1));
        print_rate("tx_bps", rate(v, p, 3, 8));
        out_close();
}

static void print_vf_sample(const VFSample *v, const Sample *prev, bool watching) {
        out_row_begin();
        print_string(PRINT_ANY, "address", NULL, v->address);
        print_int(PRINT_ANY, "vf_index", NULL, v->index);
        print_string(PRINT_JSON, "pf", NULL, v->pf);
        print_string(PRINT_JSON, "pf_interface", NULL, v->pf_interface);
        print_string(PRINT_TEXT, "pf_text", NULL, isempty(v->pf_interface) ? v->pf : v->pf_interface);
        print_string(PRINT_ANY, "pool", NULL, v->pool);
        print_string(PRINT_ANY, "guest", NULL, v->guest);
        print_string(PRINT_JSON, "owner", NULL, v->owner);
        print_bool(PRINT_JSON, "reported", NULL, v->reported);
        print_string(PRINT_ANY, "note", v->reported ? NULL : "not reported: %s", v->reported ? NULL : v->note);
        out_open_object("counters");
        for (size_t i = 0; i < N_COUNTERS; i++)
                if (v->reported && (v->mask & (1u << i)))
                        print_uint(PRINT_ANY, counter_names[i], NULL, v->v[i]);
                else
                        print_string(PRINT_ANY, counter_names[i], NULL, NULL);
        out_close();
        if (watching)
                print_rates(v, find_prev(prev, v->address));
        print_uint(PRINT_JSON, "timestamp_usec", NULL, v->timestamp);
        out_row_end();
}

static void print_sample(const Sample *s, const Sample *prev, bool watching) {
        size_t n_columns = ELEMENTSOF(stats_columns);
        OutColumn cols[ELEMENTSOF(stats_columns)];
        size_t k = 0;

        /* rates only when watching: the counters' columns make way for them after the first */
        for (size_t i = 0; i < n_columns; i++) {
                bool rate_col = strstr(stats_columns[i].key, "_pps") || strstr(stats_columns[i].key, "_bps");

                if (rate_col && !watching)
                        continue;
                cols[k++] = stats_columns[i];
        }
        out_open_object(NULL);
        out_table_begin("vfs", NULL, OUT_ROWS, cols, k);
        for (size_t i = 0; i < s->n; i++)
                print_vf_sample(&s->vfs[i], prev, watching);
        out_table_end();
        out_close();
        if (s->n == 0)
                print_string(PRINT_TEXT, NULL, "%s", "No VFs.\n");
}

int verb_stats(Ctl *c, char **args, size_t n_args) {
        const char *scope, *name;
        bool watching = ctl_has(c, OPT_WATCH);
        uint32_t samples = ctl_has(c, OPT_SAMPLES) ? c->opt[OPT_SAMPLES].u : UINT32_MAX;
        Sample prev = {};
        int status = EXIT_OK;

        stats_scope(c, args, n_args, &scope, &name);
        for (uint32_t k = 0; k < samples; k++) {
                Sample s = {};

                if (k > 0)
                        sleep_usec((uint64_t) c->opt[OPT_WATCH].u * 1000000ULL);     /* the interval asked for */
                status = get_sample(c, scope, name, &s);
                if (status != EXIT_OK)
                        break;
                print_sample(&s, k > 0 ? &prev : NULL, watching);
                sample_done(&prev);
                prev = s;
                if (!watching)
                        break;
                if (out_flush() < 0)
                        break;
                if (!out_is_json())
                        print_nl();
        }
        sample_done(&prev);
        return status;
}

/* ---- metrics ---- */

int verb_metrics(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *format = ctl_has(c, OPT_OPENMETRICS) ? "openmetrics" : "prometheus";
        const char *text;
        int r;

        r = bus_call_manager(c, "GetMetrics", false, &error, &reply, "a{sv}", 1, "format", "s", format);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot get the metrics");
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the metrics: %s", strerror(-r));
        if (!ctl_has(c, OPT_OUTPUT)) {
                if (fputs(text, stdout) < 0)
                        return error_exit(EXIT_FAIL, "Cannot write the metrics: %s", strerror(errno));
                return EXIT_OK;
        }
        /* whole or not at all, for node_exporter's textfile collector */
        r = write_file_atomic(c->opt[OPT_OUTPUT].s, text, strlen(text), 0644);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot write %s: %s", c->opt[OPT_OUTPUT].s, strerror(-r));
        return EXIT_OK;
}

/* ---- status: health and caught drift ---- */

static const OutColumn health_columns[] = {
        { "address", "ADDRESS" },
        { "kind", "KIND" },
        { "guest", "GUEST" },
        { "reason", "WHY NOT HEALTHY" },
};

static int print_unhealthy(sd_bus_message *m, void *userdata) {
        const char *address, *kind, *guest, *reason;
        int healthy, r;

        r = sd_bus_message_read(m, "sssbs", &address, &kind, &guest, &healthy, &reason);
        if (r < 0)
                return r;
        if (healthy)
                return 0;
        (*(unsigned *) userdata)++;
        out_row_begin();
        print_string(PRINT_ANY, "address", NULL, address);
        print_string(PRINT_ANY, "kind", NULL, kind);
        print_string(PRINT_ANY, "guest", NULL, guest);
        print_string(PRINT_ANY, "reason", NULL, reason);
        out_row_end();
        return 0;
}

void status_print_health(Ctl *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        unsigned n = 0;

        /* best effort: an older daemon has no GetHealth */
        if (bus_call_manager(c, "GetHealth", false, NULL, &reply, NULL) < 0)
                return;
        out_table_begin("unhealthy", "Not healthy", OUT_ROWS, health_columns, ELEMENTSOF(health_columns));
        (void) bus_read_array(reply, "sssbs", print_unhealthy, &n);
        out_table_end();
}

/* "mac 02:00:00:00:00:01, vlan 100, ..." of an a{sv} of settings */
static char *settings_text(sd_bus_message *m) {
        _cleanup_free_ char *acc = strdup("");
        const char *key, *contents, *s;
        uint32_t u;
        int b, r;

        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return NULL;
        while (acc && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                char *n = NULL;

                if (sd_bus_message_read(m, "s", &key) < 0 || sd_bus_message_peek_type(m, NULL, &contents) < 0)
                        return NULL;
                if (streq(contents, "s") && sd_bus_message_read(m, "v", "s", &s) >= 0)
                        n = strdup_printf("%s%s%s %s", acc, *acc ? ", " : "", key, s);
                else if (streq(contents, "u") && sd_bus_message_read(m, "v", "u", &u) >= 0)
                        n = strdup_printf("%s%s%s %u", acc, *acc ? ", " : "", key, u);
                else if (streq(contents, "b") && sd_bus_message_read(m, "v", "b", &b) >= 0)
                        n = strdup_printf("%s%s%s %s", acc, *acc ? ", " : "", key, b ? "on" : "off");
                else if (sd_bus_message_skip(m, "v") < 0)
                        return NULL;
                if (n) {
                        free(acc);
                        acc = n;
                }
                if (sd_bus_message_exit_container(m) < 0)
                        return NULL;
        }
        if (sd_bus_message_exit_container(m) < 0)
                return NULL;
        return TAKE_PTR(acc);
}

static const OutColumn drift_columns[] = {
        { "address", "ADDRESS" },
        { "where", "VF" },
        { "guest", "GUEST" },
        { "change", "CHANGED BY HAND" },
        { "since", "SINCE" },
        { "enforce", "PUT BACK" },
};

static char *time_text(uint64_t usec) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        char buf[32];

        if (!localtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0)
                return NULL;
        return strdup(buf);
}

static int print_drift(sd_bus_message *m, void *userdata) {
        _cleanup_free_ char *want = NULL, *found = NULL;
        const char *address, *pf, *source, *guest;
        uint64_t since;
        uint32_t enforced;
        int32_t index;
        int enforce, r;

        r = sd_bus_message_read(m, "ssiss", &address, &pf, &index, &source, &guest);
        if (r < 0)
                return r;
        want = settings_text(m);
        found = settings_text(m);
        if (!want || !found)
                return -EBADMSG;
        r = sd_bus_message_read(m, "tbu", &since, &enforce, &enforced);
        if (r < 0)
                return r;
        out_row_begin();
        print_string(PRINT_ANY, "address", NULL, address);
        print_string(PRINT_JSON, "pf", NULL, pf);
        print_int(PRINT_JSON, "vf_index", NULL, index);
        print_text_take("where", strdup_printf("VF %d of %s", index, pf));
        print_string(PRINT_ANY, "source", NULL, source);
        print_string(PRINT_ANY, "guest", NULL, guest);
        print_string(PRINT_JSON, "found", NULL, found);
        print_string(PRINT_JSON, "expected", NULL, want);
        print_text_take("change", strdup_printf("%s, %s %s", found, streq(source, "config") ? "declared" : "assigned",
                                                want));
        print_uint(PRINT_JSON, "since_usec", NULL, since);
        print_text_take("since", time_text(since));
        print_bool(PRINT_JSON, "enforce", NULL, enforce);
        print_uint(PRINT_JSON, "enforced", NULL, enforced);
        print_string(PRINT_TEXT, "enforce", NULL, enforce ? "yes (enforce)" : "no");
        out_row_end();
        return 0;
}

void status_print_caught_drift(Ctl *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        if (bus_call_manager(c, "ListDrift", false, NULL, &reply, NULL) < 0)
                return;
        out_table_begin("caught_drift", "VF settings changed behind sriovd's back", OUT_ROWS, drift_columns,
                        ELEMENTSOF(drift_columns));
        (void) bus_read_array(reply, "ssissa{sv}a{sv}tbu", print_drift, NULL);
        out_table_end();
}
