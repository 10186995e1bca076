/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the files of the state share: state.c (memory, loading, records),
 * state-parse.c (the file read), state-format.c (the file written). */

#include "json-util.h"
#include "state.h"

/* 1: sriovd 0.1 (no identities, owners, readiness, PF records, quarantine);
 * it loads, with what it lacks at its defaults. 2: this one. */
#define STATE_FORMAT_VERSION 2

extern const char *const state_phase_names[_ASSIGN_PHASE_MAX];
extern const char *const state_readiness_names[_READINESS_MAX];
extern const char *const state_origin_names[_ORIGIN_MAX];
/* The index of s in names, -EINVAL when none. */
int state_name_index(const char *const *names, size_t n, const char *s);

void state_device_done(StateDevice *d);
void state_pool_done(StatePool *p);
void state_node_done(StateNode *n);
void state_quarantine_done(StateQuarantine *q);
/* Drop every record (a corrupt file is not trusted in part). */
void state_clear(State *s);

/* Grow an array by one zeroed element; NULL on ENOMEM. */
void *state_grow(void **array, size_t *n, size_t size);
#define GROW(array, n) ((__typeof__(&(array)[0])) state_grow((void **) &(array), &(n), sizeof((array)[0])))
/* Remove element i, keeping the order. */
void state_shrink(void *array, size_t *n, size_t size, size_t i);
