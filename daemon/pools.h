/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"
#include "pool.h"
#include "state.h"

/* The pools a host has: those of the declared configuration, then those
 * made at run time (CreatePool; kept in the state). */

/* The pool of that name. */
bool pools_find(Daemon *d, const char *name, PoolView *ret);
/* Every pool, configuration first, in order. */
size_t pools_count(Daemon *d);
bool pools_get(Daemon *d, size_t i, PoolView *ret);
/* How many VFs of the host the pool holds, how many are assigned and quarantined. */
void pools_usage(Daemon *d, const PoolView *p, unsigned *ret_size, unsigned *ret_assigned, unsigned *ret_quarantined);

/* 1-64 letters, digits, '-', '_' or '.', and nothing that looks like a VF. */
bool pool_name_is_valid(const char *s);

/* A pool made at run time, on disk before it is used; takes p (also on
 * failure). -EEXIST: a pool of that name exists (e says where); -EUSERS:
 * POOLS_MAX exist already; -EDQUOT: it cannot be recorded, and there is none. */
int pools_create(Daemon *d, StatePool *p, sriov_error *e);
/* -ESRCH: no such pool; -EROFS: it is the configuration's; -EBUSY: VFs of
 * it are assigned; -EDQUOT: its end cannot be recorded, and it stays. */
int pools_delete(Daemon *d, const char *name, sriov_error *e);
