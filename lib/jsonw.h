/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <stdlib.h>

#include "basics.h"

/* A streaming JSON writer into one growing buffer, compact (no spaces), for
 * documents too large to build as a json-c tree first (DescribeDevices of
 * thousands of functions: a tree costs ~20 allocations per device and its
 * serialization a second pass). Commas are placed by the writer; strings
 * are escaped as RFC 8259 asks, and bytes that are not UTF-8 become U+FFFD,
 * so the output is always valid UTF-8 (a D-Bus string must be). The first
 * failure (ENOMEM, nesting deeper than JSONW_MAX_DEPTH) sticks: check it
 * once with jsonw_finish(). */

#define JSONW_MAX_DEPTH 16

typedef struct JsonW {
        char *buf;
        size_t len, alloc;
        unsigned depth;
        bool first[JSONW_MAX_DEPTH];    /* no value in the container yet */
        bool after_key;
        int error;
} JsonW;

void jsonw_begin_object(JsonW *w, const char *key);     /* key NULL: in an array or at the top */
void jsonw_end_object(JsonW *w);
void jsonw_begin_array(JsonW *w, const char *key);
void jsonw_end_array(JsonW *w);
void jsonw_string(JsonW *w, const char *key, const char *s);    /* NULL: null */
void jsonw_string_or_null(JsonW *w, const char *key, const char *s);  /* "" is null too */
void jsonw_int(JsonW *w, const char *key, int64_t v);
void jsonw_uint(JsonW *w, const char *key, uint64_t v);
void jsonw_bool(JsonW *w, const char *key, bool v);
void jsonw_null(JsonW *w, const char *key);
void jsonw_hex(JsonW *w, const char *key, unsigned v, int width);     /* "0x%0*x" */
void jsonw_strv(JsonW *w, const char *key, char * const *l);          /* NULL: [] */

/* The document (NUL-terminated, the caller frees it) or a negative errno;
 * the writer is reset either way. */
int jsonw_finish(JsonW *w, char **ret, size_t *ret_len);
void jsonw_done(JsonW *w);
