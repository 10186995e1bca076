/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The state file read: a record at a time, strictly (docs/json.md). */

#include "fileio.h"
#include "state-internal.h"

/* ---- parsing ---- */

static int get_str(json_object *o, const char *key, bool required, const char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return required ? -EBADMSG : 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        /* a string that names something never has a NUL in it */
        if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
                return -EBADMSG;
        *ret = json_object_get_string(v);
        return 0;
}

/* An optional string checked by valid (NULL: any), copied. */
static int get_dup(json_object *o, const char *key, bool (*valid)(const char *s), char **ret) {
        const char *s;
        int r;

        *ret = NULL;
        r = get_str(o, key, false, &s);
        if (r < 0)
                return r;
        if (!s)
                return 0;
        if (valid && !valid(s))
                return -EBADMSG;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static bool driver_ok(const char *s) {
        return driver_name_is_valid(s);
}

static bool ifname_ok(const char *s) {
        return ifname_is_valid(s);
}

static bool token_ok(const char *s) {
        return strlen(s) <= 128;
}

static int get_bdf(json_object *o, const char *key, bool required, char buf[static PCI_ADDR_STRLEN]) {
        const char *s;
        pci_addr a;
        int r;

        buf[0] = 0;
        r = get_str(o, key, required, &s);
        if (r < 0 || !s)
                return r;
        if (pci_addr_parse(s, &a) < 0)
                return -EBADMSG;
        pci_addr_format(&a, buf);
        return 0;
}

static int get_uint64(json_object *o, const char *key, uint64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
                return -EBADMSG;
        *ret = (uint64_t) json_object_get_int64(v);
        return 0;
}

static int get_int_range(json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return -EBADMSG;
        if (json_object_get_int64(v) < min || json_object_get_int64(v) > max)
                return -EBADMSG;
        *ret = json_object_get_int64(v);
        return 0;
}

static int get_bool(json_object *o, const char *key, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_enum(json_object *o, const char *key, const char *const *names, size_t n, int *ret) {
        const char *s;
        int r;

        r = get_str(o, key, false, &s);
        if (r < 0 || !s)
                return r;
        r = state_name_index(names, n, s);
        if (r < 0)
                return -EBADMSG;
        *ret = r;
        return 0;
}

static int get_reset(json_object *o, const char *key, int *ret) {
        ResetPolicy p;
        const char *s;
        int r;

        r = get_str(o, key, false, &s);
        if (r < 0 || !s)
                return r;
        if (reset_policy_from_string(s, &p) < 0)
                return -EBADMSG;
        *ret = (int) p;
        return 0;
}

static int get_vf_config(json_object *o, const char *key, sriov_vf_config *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        return vf_config_from_json(v, ret) < 0 ? -EBADMSG : 0;
}

/* A VF's identity (pf, vf_index, generation), optional as a whole. */
static int parse_identity(json_object *o, char pf[static PCI_ADDR_STRLEN], int *vf_index, uint64_t *generation) {
        int64_t index = -1;
        int r;

        r = get_bdf(o, "pf", false, pf);
        if (r < 0)
                return r;
        r = get_int_range(o, "vf_index", -1, 65535, &index);
        if (r < 0)
                return r;
        *vf_index = (int) index;
        return get_uint64(o, "generation", generation);
}

static int parse_device(State *s, const char *key, json_object *o) {
        StateDevice *d;
        pci_addr a;
        int origin = ORIGIN_API, r;

        if (pci_addr_parse(key, &a) < 0 || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        d = GROW(s->devices, s->n_devices);
        if (!d)
                return -ENOMEM;
        pci_addr_format(&a, d->bdf);
        d->vf_index = -1;
        r = get_dup(o, "prior_driver", driver_ok, &d->prior_driver);
        if (r < 0)
                return r;
        r = get_dup(o, "prior_override", driver_ok, &d->prior_override);
        if (r < 0)
                return r;
        r = get_bdf(o, "bound_with", false, d->bound_with);
        if (r < 0)
                return r;
        r = get_bool(o, "pending", &d->pending);
        if (r < 0)
                return r;
        r = get_enum(o, "origin", state_origin_names, _ORIGIN_MAX, &origin);
        if (r < 0)
                return r;
        d->origin = (StateOrigin) origin;
        return parse_identity(o, d->pf, &d->vf_index, &d->generation);
}

static int parse_node(State *s, const char *path, json_object *o) {
        int64_t uid = -1, gid = -1, mode = -1;
        char for_bdf[PCI_ADDR_STRLEN];
        StateNode *n;
        int r;

        if (path[0] != '/' || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        r = get_int_range(o, "uid", 0, UINT32_MAX - 1, &uid);
        if (r < 0)
                return r;
        r = get_int_range(o, "gid", 0, UINT32_MAX - 1, &gid);
        if (r < 0)
                return r;
        r = get_int_range(o, "mode", 0, 07777, &mode);
        if (r < 0)
                return r;
        r = get_bdf(o, "for", true, for_bdf);
        if (r < 0)
                return r;
        if (uid < 0 || gid < 0 || mode < 0)
                return -EBADMSG;
        n = GROW(s->nodes, s->n_nodes);
        if (!n)
                return -ENOMEM;
        *n = (StateNode) { .path = strdup(path), .uid = (uid_t) uid, .gid = (gid_t) gid, .mode = (mode_t) mode,
                           .for_bdf = strdup(for_bdf) };
        return n->path && n->for_bdf ? 0 : -ENOMEM;
}

static int parse_pf(State *s, const char *key, json_object *o) {
        int64_t prior = 0, autoprobe = -1, target = 0;
        StatePF *p;
        pci_addr a;
        int r;

        if (pci_addr_parse(key, &a) < 0 || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        p = GROW(s->pfs, s->n_pfs);
        if (!p)
                return -ENOMEM;
        pci_addr_format(&a, p->bdf);
        r = get_uint64(o, "generation", &p->generation);
        if (r < 0)
                return r;
        r = get_bool(o, "numvfs_pending", &p->numvfs_pending);
        if (r < 0)
                return r;
        r = get_int_range(o, "prior_numvfs", 0, 65535, &prior);
        if (r < 0)
                return r;
        r = get_int_range(o, "prior_autoprobe", -1, 1, &autoprobe);
        if (r < 0)
                return r;
        r = get_int_range(o, "target_numvfs", 0, 65535, &target);
        if (r < 0)
                return r;
        p->prior_numvfs = (unsigned) prior;
        p->prior_autoprobe = (int) autoprobe;
        p->target_numvfs = (unsigned) target;
        return 0;
}

static int parse_owner_ids(json_object *o, StateAssignment *a) {
        json_object *v;
        int64_t uid = -1, gid = -1;
        int r;

        /* version 1 called the node owner "owner"; since 2 that is the lease's holder */
        if (!json_object_object_get_ex(o, "node_owner", &v) &&
            !(json_object_object_get_ex(o, "owner", &v) && json_object_is_type(v, json_type_object)))
                return 0;
        if (!json_object_is_type(v, json_type_object))
                return -EBADMSG;
        r = get_int_range(v, "uid", 0, UINT32_MAX - 1, &uid);
        if (r < 0)
                return r;
        r = get_int_range(v, "gid", 0, UINT32_MAX - 1, &gid);
        if (r < 0)
                return r;
        if (uid < 0 || gid < 0)
                return -EBADMSG;
        a->set_owner = true;
        a->uid = (uid_t) uid;
        a->gid = (gid_t) gid;
        return 0;
}

static int parse_assignment_names(json_object *o, StateAssignment *a) {
        const char *str = NULL;
        json_object *v;
        int r;

        r = get_str(o, "guest", true, &str);
        if (r < 0 || strlen(str) > GUEST_NAME_MAX || !*str)
                return -EBADMSG;
        memcpy(a->guest, str, strlen(str) + 1);
        /* version 1 has no lease holder: "local"; "owner" was the node owner then */
        str = "local";
        if (json_object_object_get_ex(o, "owner", &v) && json_object_is_type(v, json_type_string))
                r = get_str(o, "owner", true, &str);
        if (r < 0 || strlen(str) > OWNER_NAME_MAX || !*str)
                return -EBADMSG;
        memcpy(a->owner, str, strlen(str) + 1);
        r = get_bdf(o, "vf", true, a->vf);
        if (r < 0)
                return r;
        return get_bdf(o, "pf", true, a->pf);
}

static int parse_assignment_strings(json_object *o, StateAssignment *a) {
        const struct { const char *key; bool (*valid)(const char *s); char **ret; } strings[] = {
                { "pool", NULL, &a->pool }, { "token", token_ok, &a->token }, { "reason", NULL, &a->reason },
                { "driver", driver_ok, &a->driver }, { "prior_driver", driver_ok, &a->prior_driver },
                { "prior_override", driver_ok, &a->prior_override }, { "pf_ifname", ifname_ok, &a->pf_ifname },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                r = get_dup(o, strings[i].key, strings[i].valid, strings[i].ret);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* phase (required), readiness, reset policy */
static int parse_assignment_enums(json_object *o, StateAssignment *a) {
        int phase = -1, readiness = READY, reset = RESET_AUTO, r;

        r = get_enum(o, "phase", state_phase_names, _ASSIGN_PHASE_MAX, &phase);
        if (r < 0)
                return r;
        r = get_enum(o, "readiness", state_readiness_names, _READINESS_MAX, &readiness);
        if (r < 0)
                return r;
        r = get_reset(o, "reset", &reset);
        if (r < 0)
                return r;
        if (phase < 0)
                return -EBADMSG;
        a->phase = (AssignPhase) phase;
        a->readiness = (Readiness) readiness;
        a->reset = (ResetPolicy) reset;
        return 0;
}

static int parse_assignment_fields(json_object *o, StateAssignment *a) {
        int64_t numvfs = 0;
        char pf[PCI_ADDR_STRLEN];
        int r;

        r = parse_assignment_names(o, a);
        if (r < 0)
                return r;
        r = parse_assignment_strings(o, a);
        if (r < 0)
                return r;
        r = parse_assignment_enums(o, a);
        if (r < 0)
                return r;
        r = get_vf_config(o, "want", &a->want);
        if (r < 0)
                return r;
        r = get_vf_config(o, "prior", &a->prior);
        if (r < 0)
                return r;
        r = parse_owner_ids(o, a);
        if (r < 0)
                return r;
        r = parse_identity(o, pf, &a->vf_index, &a->generation);
        if (r < 0)
                return r;
        r = get_int_range(o, "pf_numvfs", 0, 65535, &numvfs);
        if (r < 0)
                return r;
        a->pf_numvfs = (unsigned) numvfs;
        r = get_bool(o, "pf_link_was_down", &a->pf_link_was_down);
        if (r < 0)
                return r;
        return get_uint64(o, "since", &a->since);
}

static int parse_assignment(State *s, json_object *o) {
        StateAssignment *a;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        a = GROW(s->assignments, s->n_assignments);
        if (!a)
                return -ENOMEM;
        a->vf_index = -1;
        r = parse_assignment_fields(o, a);
        if (r == -ENOMEM)
                return r;       /* not the file's fault: it is not set aside */
        if (r < 0)
                return -EBADMSG;
        return 0;
}

static int cmp_vf(const void *a, const void *b) {
        return strcmp(*(const char * const *) a, *(const char * const *) b);
}

/* One guest per VF: sorted, in n log n (a ledger of 100k assignments loads
 * in a moment, not in minutes). */
static int check_one_guest_per_vf(const State *s) {
        _cleanup_free_ const char **vfs = NULL;

        if (s->n_assignments < 2)
                return 0;
        vfs = malloc(s->n_assignments * sizeof(*vfs));
        if (!vfs)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_assignments; i++)
                vfs[i] = s->assignments[i].vf;
        qsort(vfs, s->n_assignments, sizeof(*vfs), cmp_vf);
        for (size_t i = 1; i < s->n_assignments; i++)
                if (streq(vfs[i - 1], vfs[i]))
                        return -EBADMSG;
        return 0;
}

static int parse_pool(State *s, json_object *o) {
        StatePool *p;
        json_object *v;
        int reset = RESET_AUTO, r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        p = GROW(s->pools, s->n_pools);
        if (!p)
                return -ENOMEM;
        r = get_dup(o, "name", NULL, &p->name);
        if (r < 0 || !p->name || !sysfs_name_is_valid(p->name, 64))
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
        r = get_dup(o, "driver", driver_ok, &p->driver);
        if (r < 0)
                return r;
        r = get_vf_config(o, "settings", &p->attrs);
        if (r < 0)
                return r;
        r = get_bool(o, "mac_is_base", &p->mac_is_base);
        if (r < 0)
                return r;
        r = get_reset(o, "reset", &reset);
        if (r < 0)
                return r;
        p->reset = (ResetPolicy) reset;
        return 0;
}

static int parse_quarantine(State *s, json_object *o) {
        StateQuarantine *q;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        q = GROW(s->quarantine, s->n_quarantine);
        if (!q)
                return -ENOMEM;
        q->vf_index = -1;
        r = get_bdf(o, "vf", true, q->vf);
        if (r < 0)
                return r;
        r = parse_identity(o, q->pf, &q->vf_index, &q->generation);
        if (r < 0)
                return r;
        r = get_dup(o, "reason", NULL, &q->reason);
        if (r < 0)
                return r;
        return get_uint64(o, "since", &q->since);
}

/* The members of an object, each through parse. */
static int parse_object(State *s, json_object *root, const char *key,
                        int (*parse)(State *s, const char *key, json_object *o)) {
        json_object *v;
        int r;

        if (!json_object_object_get_ex(root, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(v, k, val) {
                r = parse(s, k, val);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The elements of an array, each through parse. */
static int parse_array(State *s, json_object *root, const char *key, int (*parse)(State *s, json_object *o)) {
        json_object *v;
        int r;

        if (!json_object_object_get_ex(root, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                r = parse(s, json_object_array_get_idx(v, i));
                if (r < 0)
                        return r;
        }
        return 0;
}

int state_parse_text(State *s, const char *text) {
        _cleanup_json_ json_object *root = NULL;
        enum json_tokener_error jerr;
        json_object *v;
        int r;

        root = json_tokener_parse_verbose(text, &jerr);
        if (!root || !json_object_is_type(root, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int(v) < 1 || json_object_get_int(v) > STATE_FORMAT_VERSION)
                return -EBADMSG;
        if (!json_object_object_get_ex(root, "devices", &v))
                return -EBADMSG;
        r = parse_object(s, root, "devices", parse_device);
        if (r < 0)
                return r;
        r = parse_object(s, root, "nodes", parse_node);
        if (r < 0)
                return r;
        r = parse_object(s, root, "pfs", parse_pf);
        if (r < 0)
                return r;
        r = parse_array(s, root, "assignments", parse_assignment);
        if (r < 0)
                return r;
        r = check_one_guest_per_vf(s);
        if (r < 0)
                return r;
        r = parse_array(s, root, "pools", parse_pool);
        if (r < 0)
                return r;
        return parse_array(s, root, "quarantine", parse_quarantine);
}

