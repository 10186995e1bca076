/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"
#include "stats.h"

/* The daemon's own measurements (every job's kind, result and duration,
 * the configuration's retries) and the text `sriovctl metrics` prints:
 * Prometheus' text format 0.0.4 (what node_exporter's textfile collector
 * and promtool read) or OpenMetrics 1.0. Every metric is described in
 * docs/metrics.md. */

typedef struct Metrics Metrics;

int metrics_new(Metrics **ret);
Metrics *metrics_free(Metrics *m);

/* A job came back (lanes.c): its kind, result, time on the worker. */
void metrics_job_finished(Daemon *d, const char *operation, int r, uint64_t usec);
/* Failed steps of the configuration tried again (reconcile.c). */
void metrics_retry(Daemon *d, const char *operation);

/* The name of an error, as the bus names it ("org.sriovd.Error.DeviceBusy"). */
typedef const char *(*metrics_error_name_t)(int r);

/* The whole exposition, with the VF counters of vfs (NULL: none). */
int metrics_render(Daemon *d, const VFStatsSet *vfs, bool openmetrics, metrics_error_name_t error_name, char **ret);
