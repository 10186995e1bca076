/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"

/* The declared configuration at work: loading it (at start, Reload, SIGHUP),
 * applying it to every PF it names (in parallel, one job per PF lane) or
 * planning that as a dry run (drift), and re-applying it to a PF that was
 * hot-plugged or whose driver came back. */

/* (Re)load the files. On errors the previous configuration stays in force;
 * the messages are kept for the ConfigErrors property. */
int daemon_load_config(Daemon *d);

typedef struct ApplyBatch ApplyBatch;
typedef void (*apply_done_t)(Daemon *d, ApplyBatch *b, void *userdata);

/* Plan (dry_run) or apply the configuration on every PF it matches. done is
 * called exactly once, when every PF's job finished (possibly before
 * returning); with a NULL batch when not even that could be allocated. */
int daemon_apply_all(Daemon *d, bool dry_run, apply_done_t done, void *userdata);

/* Accessors for a finished batch. */
size_t apply_batch_n_steps(const ApplyBatch *b);
const struct PlanStep *apply_batch_step(const ApplyBatch *b, size_t i);
unsigned apply_batch_n_failed(const ApplyBatch *b);

/* Apply the configuration to one PF in the background (why: for the log). */
void daemon_reapply(Daemon *d, const pci_addr *pf, const char *why);

