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

static void state_node_done(StateNode *n) {
        free(n->path);
        free(n->for_bdf);
}

State *state_free(State *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_devices; i++)
                state_device_done(&s->devices[i]);
        free(s->devices);
        for (size_t i = 0; i < s->n_nodes; i++)
                state_node_done(&s->nodes[i]);
        free(s->nodes);
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
                if (json_object_object_get_ex(val, "bound_with", &v) && !json_object_is_type(v, json_type_null)) {
                        pci_addr b;

                        if (!json_object_is_type(v, json_type_string) || pci_addr_parse(json_object_get_string(v), &b) < 0)
                                return -EBADMSG;
                        pci_addr_format(&b, d->bound_with);
                }
        }

        if (json_object_object_get_ex(root, "nodes", &v)) {
                if (!json_object_is_type(v, json_type_object))
                        return -EBADMSG;
                json_object_object_foreach(v, path, nv) {
                        json_object *x;
                        int64_t uid, gid, mode;
                        StateNode *nn;
                        pci_addr b;

                        if (path[0] != '/' || strstr(path, "/../") || !json_object_is_type(nv, json_type_object))
                                return -EBADMSG;
                        if (!json_object_object_get_ex(nv, "uid", &x) || !json_object_is_type(x, json_type_int))
                                return -EBADMSG;
                        uid = json_object_get_int64(x);
                        if (!json_object_object_get_ex(nv, "gid", &x) || !json_object_is_type(x, json_type_int))
                                return -EBADMSG;
                        gid = json_object_get_int64(x);
                        if (!json_object_object_get_ex(nv, "mode", &x) || !json_object_is_type(x, json_type_int))
                                return -EBADMSG;
                        mode = json_object_get_int64(x);
                        if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX || mode < 0 || mode > 07777)
                                return -EBADMSG;
                        if (!json_object_object_get_ex(nv, "for", &x) || !json_object_is_type(x, json_type_string) ||
                            pci_addr_parse(json_object_get_string(x), &b) < 0)
                                return -EBADMSG;
                        nn = realloc(s->nodes, (s->n_nodes + 1) * sizeof(*nn));
                        if (!nn)
                                return -ENOMEM;
                        s->nodes = nn;
                        nn[s->n_nodes] = (StateNode) { .uid = (uid_t) uid, .gid = (gid_t) gid, .mode = (mode_t) mode };
                        nn[s->n_nodes].path = strdup(path);
                        nn[s->n_nodes].for_bdf = strdup(json_object_get_string(x));
                        s->n_nodes++;
                        if (!nn[s->n_nodes - 1].path || !nn[s->n_nodes - 1].for_bdf)
                                return -ENOMEM;
                }
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
                if (r >= 0 && s->devices[i].bound_with[0])
                        r = json_add_string(o, "bound_with", s->devices[i].bound_with);
                r = r < 0 ? (json_object_put(o), r) : json_add(devices, s->devices[i].bdf, o);
        }
        r = r < 0 ? r : json_add_int(root, "version", STATE_FORMAT_VERSION);
        r = r < 0 ? r : json_add(root, "devices", TAKE_PTR(devices));
        if (r >= 0 && s->n_nodes > 0) {
                json_object *nodes = json_object_new_object();

                if (!nodes)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_nodes && r >= 0; i++) {
                        json_object *o = json_object_new_object();

                        if (!o) {
                                json_object_put(nodes);
                                return -ENOMEM;
                        }
                        r = json_add_int(o, "uid", s->nodes[i].uid);
                        r = r < 0 ? r : json_add_int(o, "gid", s->nodes[i].gid);
                        r = r < 0 ? r : json_add_int(o, "mode", s->nodes[i].mode);
                        r = r < 0 ? r : json_add_string(o, "for", s->nodes[i].for_bdf);
                        r = r < 0 ? (json_object_put(o), r) : json_add(nodes, s->nodes[i].path, o);
                }
                r = r < 0 ? (json_object_put(nodes), r) : json_add(root, "nodes", nodes);
        }
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

int state_set_bound_with(State *s, const char *bdf, const char *primary) {
        for (size_t i = 0; i < s->n_devices; i++)
                if (streq(s->devices[i].bdf, bdf)) {
                        (void) snprintf(s->devices[i].bound_with, sizeof(s->devices[i].bound_with), "%s", primary);
                        return 0;
                }
        return -ENOENT;
}

const StateNode *state_find_node(const State *s, const char *path) {
        for (size_t i = 0; i < s->n_nodes; i++)
                if (streq(s->nodes[i].path, path))
                        return &s->nodes[i];
        return NULL;
}

int state_record_node(State *s, const char *path, uid_t uid, gid_t gid, mode_t mode, const char *for_bdf) {
        StateNode *n;

        if (state_find_node(s, path))
                return 0;
        n = realloc(s->nodes, (s->n_nodes + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        s->nodes = n;
        n[s->n_nodes] = (StateNode) { .path = strdup(path), .uid = uid, .gid = gid, .mode = mode, .for_bdf = strdup(for_bdf) };
        if (!n[s->n_nodes].path || !n[s->n_nodes].for_bdf) {
                state_node_done(&n[s->n_nodes]);
                return -ENOMEM;
        }
        s->n_nodes++;
        return 1;
}

int state_forget_node(State *s, const char *path) {
        for (size_t i = 0; i < s->n_nodes; i++)
                if (streq(s->nodes[i].path, path)) {
                        state_node_done(&s->nodes[i]);
                        memmove(s->nodes + i, s->nodes + i + 1, (s->n_nodes - i - 1) * sizeof(*s->nodes));
                        s->n_nodes--;
                        return 1;
                }
        return 0;
}
