/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "json-util.h"
#include "state.h"

#define STATE_FORMAT_VERSION 1

static void state_device_done(StateDevice *d) {
        free(d->prior_driver);
        free(d->prior_override);
}

State *state_free(State *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_devices; i++)
                state_device_done(&s->devices[i]);
        free(s->devices);
        free(s->dir);
        free(s->path);
        free(s->corrupt_saved_as);
        return mfree(s);
}

static int opt_string(json_object *o, const char *key, char **ret) {
        json_object *v;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        if (!driver_name_is_valid(json_object_get_string(v)))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static int parse_state(State *s, const char *text) {
        _cleanup_json_ json_object *root = NULL;
        json_object *v, *devices;
        enum json_tokener_error jerr;

        root = json_tokener_parse_verbose(text, &jerr);
        if (!root || !json_object_is_type(root, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int(v) != STATE_FORMAT_VERSION)
                return -EBADMSG;
        if (!json_object_object_get_ex(root, "devices", &devices) || !json_object_is_type(devices, json_type_object))
                return -EBADMSG;

        json_object_object_foreach(devices, key, val) {
                StateDevice *n, *d;
                pci_addr a;
                int r;

                if (pci_addr_parse(key, &a) < 0 || !json_object_is_type(val, json_type_object))
                        return -EBADMSG;
                n = realloc(s->devices, (s->n_devices + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                s->devices = n;
                d = &s->devices[s->n_devices];
                *d = (StateDevice) {};
                pci_addr_format(&a, d->bdf);
                s->n_devices++;
                r = opt_string(val, "prior_driver", &d->prior_driver);
                if (r >= 0)
                        r = opt_string(val, "prior_override", &d->prior_override);
                if (r < 0)
                        return r;
        }
        return 0;
}

int state_load(const char *dir, State **ret) {
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->dir = strdup(dir);
        s->path = strdup_printf("%s/state.json", dir);
        if (!s->dir || !s->path)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();

        r = read_full_file(s->path, &text, NULL, 64 * 1024 * 1024);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(s);
                return 0;
        }
        if (r < 0)
                return r;
        r = parse_state(s, text);
        if (r == -EBADMSG) {
                /* keep the evidence, start empty, rebuild from the host */
                char *aside = strdup_printf("%s.corrupt-%lld", s->path, (long long) time(NULL));

                if (!aside)
                        return -ENOMEM;
                if (rename(s->path, aside) < 0) {
                        r = negative_errno();
                        free(aside);
                        return r;
                }
                s->corrupt_saved_as = aside;
                for (size_t i = 0; i < s->n_devices; i++)
                        state_device_done(&s->devices[i]);
                s->n_devices = 0;
        } else if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int state_save(State *s) {
        _cleanup_json_ json_object *root = json_object_new_object(), *devices = json_object_new_object();
        const char *text;
        int r = 0;

        if (!root || !devices)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_devices && r >= 0; i++) {
                json_object *o = json_object_new_object();

                if (!o)
                        return -ENOMEM;
                r = json_add_string(o, "prior_driver", s->devices[i].prior_driver);
                r = r < 0 ? r : json_add_string(o, "prior_override", s->devices[i].prior_override);
                r = r < 0 ? (json_object_put(o), r) : json_add(devices, s->devices[i].bdf, o);
        }
        r = r < 0 ? r : json_add_int(root, "version", STATE_FORMAT_VERSION);
        r = r < 0 ? r : json_add(root, "devices", TAKE_PTR(devices));
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
        if (!text)
                return -ENOMEM;
        return write_file_atomic(s->path, text, strlen(text), 0600);
}

const StateDevice *state_find_device(const State *s, const char *bdf) {
        for (size_t i = 0; i < s->n_devices; i++)
                if (streq(s->devices[i].bdf, bdf))
                        return &s->devices[i];
        return NULL;
}

int state_record_prior(State *s, const char *bdf, const char *driver, const char *override) {
        StateDevice *n, *d;

        if (state_find_device(s, bdf))
                return 0;
        n = realloc(s->devices, (s->n_devices + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        s->devices = n;
        d = &n[s->n_devices];
        *d = (StateDevice) {};
        (void) snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
        if ((driver && !(d->prior_driver = strdup(driver))) ||
            (override && !(d->prior_override = strdup(override)))) {
                state_device_done(d);
                return -ENOMEM;
        }
        s->n_devices++;
        return 1;
}

int state_forget_device(State *s, const char *bdf) {
        for (size_t i = 0; i < s->n_devices; i++)
                if (streq(s->devices[i].bdf, bdf)) {
                        state_device_done(&s->devices[i]);
                        memmove(s->devices + i, s->devices + i + 1, (s->n_devices - i - 1) * sizeof(*s->devices));
                        s->n_devices--;
                        return 1;
                }
        return 0;
}
