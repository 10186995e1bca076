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

static const char *const phase_names[_ASSIGN_PHASE_MAX] = {
        [ASSIGN_RESERVED] = "reserved",
        [ASSIGN_PREPARED] = "prepared",
        [ASSIGN_DONE] = "done",
        [ASSIGN_RELEASING] = "releasing",
};

const char *assign_phase_name(AssignPhase p) {
        return p < _ASSIGN_PHASE_MAX ? phase_names[p] : "?";
}

void state_assignment_done(StateAssignment *a) {
        free(a->pool);
        free(a->token);
        free(a->driver);
        free(a->prior_driver);
        free(a->prior_override);
        free(a->pf_ifname);
}

static void state_pool_done(StatePool *p) {
        free(p->name);
        strv_free(p->selectors);
        free(p->driver);
}

static void state_node_done(StateNode *n) {
        free(n->path);
        free(n->for_bdf);
}

/* Drop everything loaded (a corrupt file is not trusted in part). */
static void state_clear(State *s) {
        for (size_t i = 0; i < s->n_devices; i++)
                state_device_done(&s->devices[i]);
        s->devices = mfree(s->devices);
        s->n_devices = 0;
        for (size_t i = 0; i < s->n_nodes; i++)
                state_node_done(&s->nodes[i]);
        s->nodes = mfree(s->nodes);
        s->n_nodes = 0;
        for (size_t i = 0; i < s->n_assignments; i++)
                state_assignment_done(&s->assignments[i]);
        s->assignments = mfree(s->assignments);
        s->n_assignments = 0;
        for (size_t i = 0; i < s->n_pools; i++)
                state_pool_done(&s->pools[i]);
        s->pools = mfree(s->pools);
        s->n_pools = 0;
}

State *state_new_empty(void) {
        return calloc(1, sizeof(State));
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
        for (size_t i = 0; i < s->n_assignments; i++)
                state_assignment_done(&s->assignments[i]);
        free(s->assignments);
        for (size_t i = 0; i < s->n_pools; i++)
                state_pool_done(&s->pools[i]);
        free(s->pools);
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

static int get_str(json_object *o, const char *key, bool required, const char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return required ? -EBADMSG : 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = json_object_get_string(v);
        return 0;
}

static int dup_str(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int get_bdf(json_object *o, const char *key, char buf[static PCI_ADDR_STRLEN]) {
        const char *s;
        pci_addr a;

        if (get_str(o, key, true, &s) < 0 || pci_addr_parse(s, &a) < 0)
                return -EBADMSG;
        pci_addr_format(&a, buf);
        return 0;
}

static int parse_assignment(State *s, json_object *o) {
        StateAssignment *a;
        const char *str;
        json_object *v;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        a = state_add_assignment(s);
        if (!a)
                return -ENOMEM;
        if (get_str(o, "guest", true, &str) < 0 || strlen(str) > GUEST_NAME_MAX || !*str)
                return -EBADMSG;
        memcpy(a->guest, str, strlen(str) + 1);
        if (get_bdf(o, "vf", a->vf) < 0 || get_bdf(o, "pf", a->pf) < 0)
                return -EBADMSG;
        if (get_str(o, "phase", true, &str) < 0)
                return -EBADMSG;
        a->phase = _ASSIGN_PHASE_MAX;
        for (AssignPhase p = 0; p < _ASSIGN_PHASE_MAX; p++)
                if (streq(str, phase_names[p]))
                        a->phase = p;
        if (a->phase == _ASSIGN_PHASE_MAX)
                return -EBADMSG;
        if ((r = get_str(o, "pool", false, &str)) < 0 || (r = dup_str(str, &a->pool)) < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if ((r = get_str(o, "token", false, &str)) < 0 || (str && strlen(str) > 128) || (r = dup_str(str, &a->token)) < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if ((r = get_str(o, "driver", false, &str)) < 0 || (str && !driver_name_is_valid(str)) ||
            (r = dup_str(str, &a->driver)) < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if ((r = get_str(o, "prior_driver", false, &str)) < 0 || (str && !driver_name_is_valid(str)) ||
            (r = dup_str(str, &a->prior_driver)) < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if ((r = get_str(o, "prior_override", false, &str)) < 0 || (str && !driver_name_is_valid(str)) ||
            (r = dup_str(str, &a->prior_override)) < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if ((r = get_str(o, "pf_ifname", false, &str)) < 0 || (str && !ifname_is_valid(str)) ||
            (r = dup_str(str, &a->pf_ifname)) < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (json_object_object_get_ex(o, "want", &v) && vf_config_from_json(v, &a->want) < 0)
                return -EBADMSG;
        if (json_object_object_get_ex(o, "prior", &v) && vf_config_from_json(v, &a->prior) < 0)
                return -EBADMSG;
        if (json_object_object_get_ex(o, "owner", &v)) {
                json_object *x;
                int64_t uid, gid;

                if (!json_object_object_get_ex(v, "uid", &x) || !json_object_is_type(x, json_type_int) ||
                    (uid = json_object_get_int64(x)) < 0 || uid >= UINT32_MAX ||
                    !json_object_object_get_ex(v, "gid", &x) || !json_object_is_type(x, json_type_int) ||
                    (gid = json_object_get_int64(x)) < 0 || gid >= UINT32_MAX)
                        return -EBADMSG;
                a->set_owner = true;
                a->uid = (uid_t) uid;
                a->gid = (gid_t) gid;
        }
        if (json_object_object_get_ex(o, "since", &v) && json_object_is_type(v, json_type_int))
                a->since = (uint64_t) json_object_get_int64(v);
        /* one guest per VF */
        for (size_t i = 0; i + 1 < s->n_assignments; i++)
                if (streq(s->assignments[i].vf, a->vf))
                        return -EBADMSG;
        return 0;
}

static int parse_pool(State *s, json_object *o) {
        StatePool *p;
        const char *str;
        json_object *v;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        p = state_add_pool(s);
        if (!p)
                return -ENOMEM;
        if (get_str(o, "name", true, &str) < 0 || !sysfs_name_is_valid(str, 64) || (r = dup_str(str, &p->name)) < 0)
                return -EBADMSG;
        if (!json_object_object_get_ex(o, "select", &v) || !json_object_is_type(v, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *x = json_object_array_get_idx(v, i);

                if (!json_object_is_type(x, json_type_string))
                        return -EBADMSG;
                r = strv_extend(&p->selectors, json_object_get_string(x));
                if (r < 0)
                        return r;
        }
        if ((r = get_str(o, "driver", false, &str)) < 0 || (str && !driver_name_is_valid(str)) ||
            (r = dup_str(str, &p->driver)) < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (json_object_object_get_ex(o, "settings", &v) && vf_config_from_json(v, &p->attrs) < 0)
                return -EBADMSG;
        if (json_object_object_get_ex(o, "mac_is_base", &v))
                p->mac_is_base = json_object_get_boolean(v);
        return 0;
}

int state_parse_text(State *s, const char *text) {
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
                if (json_object_object_get_ex(val, "pending", &v)) {
                        if (!json_object_is_type(v, json_type_boolean))
                                return -EBADMSG;
                        d->pending = json_object_get_boolean(v);
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
        if (json_object_object_get_ex(root, "assignments", &v)) {
                if (!json_object_is_type(v, json_type_array))
                        return -EBADMSG;
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        int r = parse_assignment(s, json_object_array_get_idx(v, i));
                        if (r < 0)
                                return r;
                }
        }
        if (json_object_object_get_ex(root, "pools", &v)) {
                if (!json_object_is_type(v, json_type_array))
                        return -EBADMSG;
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        int r = parse_pool(s, json_object_array_get_idx(v, i));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* A crash in state_save() leaves write_file_atomic()'s temp file
 * (state.json.tmp.PID) behind; state.json itself is the old or the new one. */
static void remove_stale_temp_files(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (strneq(de->d_name, "state.json.tmp.", strlen("state.json.tmp.")))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
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
        remove_stale_temp_files(dir);

        r = read_full_file(s->path, &text, NULL, 64 * 1024 * 1024);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(s);
                return 0;
        }
        if (r < 0)
                return r;
        r = state_parse_text(s, text);
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
                state_clear(s);
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
                if (r >= 0 && s->devices[i].pending)
                        r = json_add_bool(o, "pending", true);
                r = r < 0 ? (json_object_put(o), r) : json_add(devices, s->devices[i].bdf, o);
        }
        r = r < 0 ? r : json_add_int(root, "version", STATE_FORMAT_VERSION);
        r = r < 0 ? r : json_add(root, "devices", TAKE_PTR(devices));
        if (r >= 0) {
                json_object *as = json_object_new_array();

                if (!as)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_assignments && r >= 0; i++) {
                        const StateAssignment *a = &s->assignments[i];
                        json_object *o = json_object_new_object(), *x = NULL;

                        if (!o) {
                                json_object_put(as);
                                return -ENOMEM;
                        }
                        r = json_add_string(o, "guest", a->guest);
                        r = r < 0 ? r : json_add_string(o, "vf", a->vf);
                        r = r < 0 ? r : json_add_string(o, "pf", a->pf);
                        r = r < 0 ? r : json_add_string(o, "phase", assign_phase_name(a->phase));
                        r = r < 0 ? r : json_add_string(o, "pool", a->pool);
                        r = r < 0 ? r : json_add_string(o, "token", a->token);
                        r = r < 0 ? r : json_add_string(o, "driver", a->driver);
                        r = r < 0 ? r : json_add_string(o, "prior_driver", a->prior_driver);
                        r = r < 0 ? r : json_add_string(o, "prior_override", a->prior_override);
                        r = r < 0 ? r : json_add_string(o, "pf_ifname", a->pf_ifname);
                        r = r < 0 ? r : json_add_int(o, "since", (int64_t) a->since);
                        if (r >= 0)
                                r = vf_config_to_json(&a->want, &x);
                        r = r < 0 ? r : json_add(o, "want", x);
                        x = NULL;
                        if (r >= 0)
                                r = vf_config_to_json(&a->prior, &x);
                        r = r < 0 ? r : json_add(o, "prior", x);
                        if (r >= 0 && a->set_owner) {
                                x = json_object_new_object();
                                r = x ? 0 : -ENOMEM;
                                r = r < 0 ? r : json_add_int(x, "uid", a->uid);
                                r = r < 0 ? r : json_add_int(x, "gid", a->gid);
                                r = r < 0 ? (json_object_put(x), r) : json_add(o, "owner", x);
                        }
                        r = r < 0 ? (json_object_put(o), r) : json_append(as, o);
                }
                r = r < 0 ? (json_object_put(as), r) : json_add(root, "assignments", as);
        }
        if (r >= 0 && s->n_pools > 0) {
                json_object *ps = json_object_new_array();

                if (!ps)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_pools && r >= 0; i++) {
                        const StatePool *p = &s->pools[i];
                        json_object *o = json_object_new_object(), *x = NULL;

                        if (!o) {
                                json_object_put(ps);
                                return -ENOMEM;
                        }
                        r = json_add_string(o, "name", p->name);
                        r = r < 0 ? r : json_add_strv(o, "select", p->selectors);
                        r = r < 0 ? r : json_add_string(o, "driver", p->driver);
                        r = r < 0 ? r : json_add_bool(o, "mac_is_base", p->mac_is_base);
                        if (r >= 0)
                                r = vf_config_to_json(&p->attrs, &x);
                        r = r < 0 ? r : json_add(o, "settings", x);
                        r = r < 0 ? (json_object_put(o), r) : json_append(ps, o);
                }
                r = r < 0 ? (json_object_put(ps), r) : json_add(root, "pools", ps);
        }
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

int state_set_pending(State *s, const char *bdf, bool pending) {
        for (size_t i = 0; i < s->n_devices; i++)
                if (streq(s->devices[i].bdf, bdf)) {
                        if (s->devices[i].pending == pending)
                                return 0;
                        s->devices[i].pending = pending;
                        return 1;
                }
        return -ENOENT;
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

StateAssignment *state_find_assignment_by_vf(State *s, const char *vf) {
        for (size_t i = 0; i < s->n_assignments; i++)
                if (streq(s->assignments[i].vf, vf))
                        return &s->assignments[i];
        return NULL;
}

StateAssignment *state_add_assignment(State *s) {
        StateAssignment *n = realloc(s->assignments, (s->n_assignments + 1) * sizeof(*n));

        if (!n)
                return NULL;
        s->assignments = n;
        n[s->n_assignments] = (StateAssignment) {};
        return &n[s->n_assignments++];
}

void state_remove_assignment(State *s, StateAssignment *a) {
        size_t i = (size_t) (a - s->assignments);

        if (i >= s->n_assignments)
                return;
        state_assignment_done(a);
        memmove(a, a + 1, (s->n_assignments - i - 1) * sizeof(*a));
        s->n_assignments--;
}

StatePool *state_find_pool(State *s, const char *name) {
        for (size_t i = 0; i < s->n_pools; i++)
                if (streq(s->pools[i].name, name))
                        return &s->pools[i];
        return NULL;
}

StatePool *state_add_pool(State *s) {
        StatePool *n = realloc(s->pools, (s->n_pools + 1) * sizeof(*n));

        if (!n)
                return NULL;
        s->pools = n;
        n[s->n_pools] = (StatePool) {};
        return &n[s->n_pools++];
}

void state_remove_pool(State *s, StatePool *p) {
        size_t i = (size_t) (p - s->pools);

        if (i >= s->n_pools)
                return;
        state_pool_done(p);
        memmove(p, p + 1, (s->n_pools - i - 1) * sizeof(*p));
        s->n_pools--;
}
