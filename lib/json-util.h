/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "basics.h"

/* json-c helpers: every add checks allocation, values are built with a
 * consistent formatting of ids ("0x8086") and nullable strings. */

static inline void json_object_putp(json_object **j) {
        if (*j)
                (void) json_object_put(*j);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

int json_add(json_object *o, const char *key, json_object *v);   /* takes v, even on failure */
int json_add_string(json_object *o, const char *key, const char *s); /* NULL -> null */
int json_add_int(json_object *o, const char *key, int64_t v);
int json_add_bool(json_object *o, const char *key, bool v);
int json_add_hex(json_object *o, const char *key, unsigned v, int width); /* "0x%0*x" */
int json_add_strv(json_object *o, const char *key, char * const *l);
int json_append(json_object *array, json_object *v);             /* takes v */
