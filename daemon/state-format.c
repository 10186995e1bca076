/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The state file written: a record at a time, atomically and durably. */

#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "state-internal.h"

/* ---- writing ---- */

static int add_vf_config(json_object *o, const char *key, const sriov_vf_config *c) {
        json_object *x = NULL;
        int r;

        r = vf_config_to_json(c, &x);
        if (r < 0)
                return r;
        return json_add(o, key, x);
}

static int add_identity(json_object *o, const char *pf, int vf_index, uint64_t generation) {
        int r;

        if (isempty(pf))
                return 0;
        r = json_add_string(o, "pf", pf);
        if (r < 0)
                return r;
        r = json_add_int(o, "vf_index", vf_index);
        if (r < 0)
                return r;
        return json_add_int(o, "generation", (int64_t) generation);
}

static int format_device(const void *record, json_object *o) {
        const StateDevice *d = record;
        int r;

        r = json_add_string(o, "prior_driver", d->prior_driver);
        if (r < 0)
                return r;
        r = json_add_string(o, "prior_override", d->prior_override);
        if (r < 0)
                return r;
        if (d->bound_with[0]) {
                r = json_add_string(o, "bound_with", d->bound_with);
                if (r < 0)
                        return r;
        }
        if (d->pending) {
                r = json_add_bool(o, "pending", true);
                if (r < 0)
                        return r;
        }
        r = json_add_string(o, "origin", state_origin_name(d->origin));
        if (r < 0)
                return r;
        return add_identity(o, d->pf, d->vf_index, d->generation);
}

static int format_node(const void *record, json_object *o) {
        const StateNode *n = record;
        int r;

        r = json_add_int(o, "uid", n->uid);
        if (r < 0)
                return r;
        r = json_add_int(o, "gid", n->gid);
        if (r < 0)
                return r;
        r = json_add_int(o, "mode", n->mode);
        if (r < 0)
                return r;
        return json_add_string(o, "for", n->for_bdf);
}

static int format_pf(const void *record, json_object *o) {
        const StatePF *p = record;
        int r;

        r = json_add_int(o, "generation", (int64_t) p->generation);
        if (r < 0 || !p->numvfs_pending)
                return r;
        r = json_add_bool(o, "numvfs_pending", true);
        if (r < 0)
                return r;
        r = json_add_int(o, "prior_numvfs", p->prior_numvfs);
        if (r < 0)
                return r;
        r = json_add_int(o, "prior_autoprobe", p->prior_autoprobe);
        if (r < 0)
                return r;
        return json_add_int(o, "target_numvfs", p->target_numvfs);
}

static int format_assignment_strings(const StateAssignment *a, json_object *o) {
        const struct { const char *key, *value; } strings[] = {
                { "guest", a->guest }, { "owner", a->owner }, { "vf", a->vf },
                { "phase", assign_phase_name(a->phase) }, { "readiness", readiness_name(a->readiness) },
                { "reason", a->reason }, { "pool", a->pool }, { "token", a->token }, { "driver", a->driver },
                { "reset", reset_policy_name(a->reset) }, { "prior_driver", a->prior_driver },
                { "prior_override", a->prior_override }, { "pf_ifname", a->pf_ifname },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                r = json_add_string(o, strings[i].key, strings[i].value);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int format_node_owner(const StateAssignment *a, json_object *o) {
        _cleanup_json_ json_object *x = NULL;
        int r;

        if (!a->set_owner)
                return 0;
        x = json_object_new_object();
        if (!x)
                return -ENOMEM;
        r = json_add_int(x, "uid", a->uid);
        if (r < 0)
                return r;
        r = json_add_int(x, "gid", a->gid);
        if (r < 0)
                return r;
        return json_add(o, "node_owner", TAKE_PTR(x));
}

static int format_assignment(const void *record, json_object *o) {
        const StateAssignment *a = record;
        int r;

        r = format_assignment_strings(a, o);
        if (r < 0)
                return r;
        r = add_identity(o, a->pf, a->vf_index, a->generation);
        if (r < 0)
                return r;
        r = json_add_int(o, "pf_numvfs", a->pf_numvfs);
        if (r < 0)
                return r;
        r = json_add_bool(o, "pf_link_was_down", a->pf_link_was_down);
        if (r < 0)
                return r;
        r = json_add_int(o, "since", (int64_t) a->since);
        if (r < 0)
                return r;
        r = add_vf_config(o, "want", &a->want);
        if (r < 0)
                return r;
        r = add_vf_config(o, "prior", &a->prior);
        if (r < 0)
                return r;
        return format_node_owner(a, o);
}

static int format_pool(const void *record, json_object *o) {
        const StatePool *p = record;
        int r;

        r = json_add_string(o, "name", p->name);
        if (r < 0)
                return r;
        r = json_add_strv(o, "select", p->selectors);
        if (r < 0)
                return r;
        r = json_add_string(o, "driver", p->driver);
        if (r < 0)
                return r;
        r = json_add_bool(o, "mac_is_base", p->mac_is_base);
        if (r < 0)
                return r;
        r = json_add_string(o, "reset", reset_policy_name(p->reset));
        if (r < 0)
                return r;
        return add_vf_config(o, "settings", &p->attrs);
}

static int format_quarantine(const void *record, json_object *o) {
        const StateQuarantine *q = record;
        int r;

        r = json_add_string(o, "vf", q->vf);
        if (r < 0)
                return r;
        r = add_identity(o, q->pf, q->vf_index, q->generation);
        if (r < 0)
                return r;
        r = json_add_string(o, "reason", q->reason);
        if (r < 0)
                return r;
        return json_add_int(o, "since", (int64_t) q->since);
}

typedef int (*format_fn)(const void *record, json_object *o);
typedef const char *(*key_fn)(const void *record);

/* One JSON object a record, formatted by format; collected under key(record)
 * in an object (key not NULL) or in an array. */
static int add_records(json_object *root, const char *name, const void *array, size_t n, size_t size,
                       format_fn format, key_fn key) {
        _cleanup_json_ json_object *all = key ? json_object_new_object() : json_object_new_array();
        int r;

        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const void *record = (const char *) array + i * size;
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o)
                        return -ENOMEM;
                r = format(record, o);
                if (r < 0)
                        return r;
                r = key ? json_add(all, key(record), TAKE_PTR(o)) : json_append(all, TAKE_PTR(o));
                if (r < 0)
                        return r;
        }
        return json_add(root, name, TAKE_PTR(all));
}

static const char *device_key(const void *record) {
        return ((const StateDevice *) record)->bdf;
}

static const char *pf_key(const void *record) {
        return ((const StatePF *) record)->bdf;
}

static const char *node_key(const void *record) {
        return ((const StateNode *) record)->path;
}

#define RECORDS(array, n) (array), (n), sizeof((array)[0])

int state_format(const State *s, char **ret) {
        _cleanup_json_ json_object *root = json_object_new_object();
        const char *text;
        int r;

        if (!root)
                return -ENOMEM;
        r = json_add_int(root, "version", STATE_FORMAT_VERSION);
        if (r < 0)
                return r;
        r = add_records(root, "devices", RECORDS(s->devices, s->n_devices), format_device, device_key);
        if (r < 0)
                return r;
        r = add_records(root, "pfs", RECORDS(s->pfs, s->n_pfs), format_pf, pf_key);
        if (r < 0)
                return r;
        r = add_records(root, "assignments", RECORDS(s->assignments, s->n_assignments), format_assignment, NULL);
        if (r < 0)
                return r;
        r = add_records(root, "pools", RECORDS(s->pools, s->n_pools), format_pool, NULL);
        if (r < 0)
                return r;
        r = add_records(root, "nodes", RECORDS(s->nodes, s->n_nodes), format_node, node_key);
        if (r < 0)
                return r;
        r = add_records(root, "quarantine", RECORDS(s->quarantine, s->n_quarantine), format_quarantine, NULL);
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
        if (!text)
                return -ENOMEM;
        *ret = strdup(text);
        return *ret ? 0 : -ENOMEM;
}

int state_save(State *s) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = state_format(s, &text);
        if (r < 0)
                return r;
        len = strlen(text);
        if (len > STATE_SIZE_MAX)
                return -EFBIG;  /* it would not load again */
        return write_file_atomic(s->path, text, len, 0600);
}

