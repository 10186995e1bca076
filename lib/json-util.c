/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "json-util.h"

int json_add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int json_add_string(json_object *o, const char *key, const char *s) {
        if (!s)
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        return json_add(o, key, json_object_new_string(s));
}

int json_add_int(json_object *o, const char *key, int64_t v) {
        return json_add(o, key, json_object_new_int64(v));
}

int json_add_bool(json_object *o, const char *key, bool v) {
        return json_add(o, key, json_object_new_boolean(v));
}

int json_add_hex(json_object *o, const char *key, unsigned v, int width) {
        char buf[32];

        (void) snprintf(buf, sizeof(buf), "0x%0*x", width, v);
        return json_add_string(o, key, buf);
}

int json_add_strv(json_object *o, const char *key, char * const *l) {
        json_object *a = json_object_new_array();
        int r;

        if (!a)
                return -ENOMEM;
        STRV_FOREACH(s, l) {
                r = json_append(a, json_object_new_string(*s));
                if (r < 0) {
                        json_object_put(a);
                        return r;
                }
        }
        return json_add(o, key, a);
}

int json_append(json_object *array, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(array, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}
