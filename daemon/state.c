/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "json-util.h"
#include "state.h"

/* 1: sriovd 0.1 (no identities, owners, readiness, PF records, quarantine);
 * it loads, with what it lacks at its defaults. 2: this one. */
#define STATE_FORMAT_VERSION 2

/* ---- names ---- */

static const char *const phase_names[_ASSIGN_PHASE_MAX] = {
        [ASSIGN_RESERVED] = "reserved",
        [ASSIGN_PREPARED] = "prepared",
        [ASSIGN_DONE] = "done",
        [ASSIGN_RELEASING] = "releasing",
};

static const char *const readiness_names[_READINESS_MAX] = {
        [READY] = "ready",
        [NOT_READY] = "not-ready",
        [BROKEN] = "broken",
};

static const char *const origin_names[_ORIGIN_MAX] = {
        [ORIGIN_API] = "api",
        [ORIGIN_CONFIG] = "config",
        [ORIGIN_PEER] = "peer",
};

const char *assign_phase_name(AssignPhase p) {
        return p < _ASSIGN_PHASE_MAX ? phase_names[p] : "?";
}

const char *readiness_name(Readiness r) {
        return r < _READINESS_MAX ? readiness_names[r] : "?";
}

const char *state_origin_name(StateOrigin o) {
        return o < _ORIGIN_MAX ? origin_names[o] : "?";
}

static int name_index(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; s && i < n; i++)
                if (streq(s, names[i]))
                        return (int) i;
        return -EINVAL;
}

/* ---- memory ---- */

static void state_device_done(StateDevice *d) {
        free(d->prior_driver);
        free(d->prior_override);
}

void state_assignment_done(StateAssignment *a) {
        free(a->pool);
        free(a->token);
        free(a->reason);
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

#define FREE_ARRAY(array, n, done)                      \
        do {                                            \
                for (size_t _i = 0; _i < (n); _i++)     \
                        done(&(array)[_i]);             \
                (array) = mfree(array);                 \
                (n) = 0;                                \
        } while (0)

static void quarantine_done(StateQuarantine *q) {
        free(q->reason);
}

static void nothing_to_free(StatePF *p) {
        (void) p;
}

/* Drop everything loaded (a corrupt file is not trusted in part). */
static void state_clear(State *s) {
        FREE_ARRAY(s->devices, s->n_devices, state_device_done);
        FREE_ARRAY(s->nodes, s->n_nodes, state_node_done);
        FREE_ARRAY(s->pfs, s->n_pfs, nothing_to_free);
        FREE_ARRAY(s->assignments, s->n_assignments, state_assignment_done);
        FREE_ARRAY(s->pools, s->n_pools, state_pool_done);
        FREE_ARRAY(s->quarantine, s->n_quarantine, quarantine_done);
}

State *state_new_empty(void) {
        return calloc(1, sizeof(State));
}

State *state_free(State *s) {
        if (!s)
                return NULL;
        state_clear(s);
        free(s->dir);
        free(s->path);
        free(s->corrupt_saved_as);
        free(s->corrupt_reason);
        return mfree(s);
}

/* Grow an array by one zeroed element; NULL on ENOMEM. */
static void *grow(void **array, size_t *n, size_t size) {
        char *a = realloc(*array, (*n + 1) * size);

        if (!a)
                return NULL;
        *array = a;
        memset(a + *n * size, 0, size);
        return a + (*n)++ * size;
}
#define GROW(array, n) ((__typeof__(&(array)[0])) grow((void **) &(array), &(n), sizeof((array)[0])))

/* Remove element i, keeping the order. */
static void shrink(void *array, size_t *n, size_t size, size_t i) {
        char *a = array;

        memmove(a + i * size, a + (i + 1) * size, (*n - i - 1) * size);
        (*n)--;
}

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
        r = name_index(names, n, s);
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
        r = get_enum(o, "origin", origin_names, _ORIGIN_MAX, &origin);
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

        r = get_enum(o, "phase", phase_names, _ASSIGN_PHASE_MAX, &phase);
        if (r < 0)
                return r;
        r = get_enum(o, "readiness", readiness_names, _READINESS_MAX, &readiness);
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

/* ---- loading ---- */

/* A crash in state_save() leaves write_file_atomic()'s temp file
 * (state.json.tmp.PID) behind; state.json itself is the old or the new one. */
static void remove_stale_temp_files(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (strneq(de->d_name, "state.json.tmp.", strlen("state.json.tmp.")))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
}

/* dir as StateDirectory= makes it: its parents 0755, itself 0700 */
static int make_dir(const char *dir) {
        int r;

        r = mkdir_parents(dir, 0755);
        if (r < 0)
                return r;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

/* The directory, made as StateDirectory= would (its parents 0755, itself
 * 0700), and then held to sshd's StrictModes: owned by root, writable by
 * no one else, not a symlink — or another local user could write the ledger
 * that decides what goes to vfio-pci. */
static int check_dir(const char *dir, char **ret_reason) {
        struct stat st;
        int r;

        r = make_dir(dir);
        if (r < 0) {
                *ret_reason = strdup_printf("cannot create it: %s", strerror(-r));
                return r;
        }
        if (lstat(dir, &st) < 0) {
                r = negative_errno();
                *ret_reason = strdup_printf("cannot look at it: %s", strerror(-r));
                return r;
        }
        if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
                *ret_reason = strdup(S_ISLNK(st.st_mode) ? "it is a symbolic link" : "it is not a directory");
                return -ENOTDIR;
        }
        if (st.st_uid != geteuid()) {
                *ret_reason = strdup_printf("it is owned by uid %u, not by %u (this daemon)", (unsigned) st.st_uid,
                                            (unsigned) geteuid());
                return -EPERM;
        }
        if (st.st_mode & 022) {
                *ret_reason = strdup_printf("it is writable by %s (mode %04o); make it 0700",
                                            (st.st_mode & 002) ? "everyone" : "its group", st.st_mode & 07777);
                return -EPERM;
        }
        return 0;
}

/* Keep the evidence (never over earlier evidence), start empty, rebuild
 * from the host. */
static int set_aside(State *s, const char *why) {
        _cleanup_free_ char *aside = NULL;
        long long now = (long long) time(NULL);

        for (unsigned n = 0;; n++) {
                free(aside);
                aside = n == 0 ? strdup_printf("%s.corrupt-%lld", s->path, now)
                               : strdup_printf("%s.corrupt-%lld.%u", s->path, now, n);
                if (!aside)
                        return -ENOMEM;
                if (renameat2(AT_FDCWD, s->path, AT_FDCWD, aside, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno != EEXIST || n >= 1000)
                        return negative_errno();
        }
        s->corrupt_saved_as = TAKE_PTR(aside);
        s->corrupt_reason = strdup(why);
        state_clear(s);
        return 0;
}

/* state.json into s: none is an empty state; one that is not a state is set aside. */
static int read_state_file(State *s) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_regular_file(s->path, true, STATE_SIZE_MAX, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r == -EISDIR || r == -ELOOP || r == -EBADF || r == -EFBIG)
                return set_aside(s, read_regular_file_error(r));
        if (r < 0)
                return r;
        r = state_parse_text(s, text);
        if (r == -EBADMSG)
                return set_aside(s, "it is not a valid state");
        return r;
}

int state_load(const char *dir, State **ret, char **ret_reason) {
        _cleanup_(state_freep) State *s = NULL;
        int r;

        *ret_reason = NULL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->dir = strdup(dir);
        s->path = strdup_printf("%s/state.json", dir);
        if (!s->dir || !s->path)
                return -ENOMEM;
        r = check_dir(dir, ret_reason);
        if (r < 0)
                return r;
        remove_stale_temp_files(dir);

        r = read_state_file(s);
        if (r < 0) {
                *ret_reason = strdup(strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- records ---- */

StateDevice *state_find_device(const State *s, const char *bdf) {
        for (size_t i = 0; i < s->n_devices; i++)
                if (streq(s->devices[i].bdf, bdf))
                        return &s->devices[i];
        return NULL;
}

int state_record_prior(State *s, const char *bdf, const char *driver, const char *override) {
        StateDevice *d;

        if (state_find_device(s, bdf))
                return 0;
        d = GROW(s->devices, s->n_devices);
        if (!d)
                return -ENOMEM;
        (void) snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
        d->vf_index = -1;
        if ((driver && !(d->prior_driver = strdup(driver))) || (override && !(d->prior_override = strdup(override)))) {
                state_device_done(d);
                s->n_devices--;
                return -ENOMEM;
        }
        return 1;
}

int state_forget_device(State *s, const char *bdf) {
        StateDevice *d = state_find_device(s, bdf);

        if (!d)
                return 0;
        state_device_done(d);
        shrink(s->devices, &s->n_devices, sizeof(*d), (size_t) (d - s->devices));
        return 1;
}

int state_set_pending(State *s, const char *bdf, bool pending) {
        StateDevice *d = state_find_device(s, bdf);

        if (!d)
                return -ENOENT;
        if (d->pending == pending)
                return 0;
        d->pending = pending;
        return 1;
}

int state_set_bound_with(State *s, const char *bdf, const char *primary) {
        StateDevice *d = state_find_device(s, bdf);

        if (!d)
                return -ENOENT;
        (void) snprintf(d->bound_with, sizeof(d->bound_with), "%s", primary);
        return 0;
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
        n = GROW(s->nodes, s->n_nodes);
        if (!n)
                return -ENOMEM;
        *n = (StateNode) { .path = strdup(path), .uid = uid, .gid = gid, .mode = mode, .for_bdf = strdup(for_bdf) };
        if (!n->path || !n->for_bdf) {
                state_node_done(n);
                s->n_nodes--;
                return -ENOMEM;
        }
        return 1;
}

int state_forget_node(State *s, const char *path) {
        const StateNode *n = state_find_node(s, path);
        size_t i;

        if (!n)
                return 0;
        i = (size_t) (n - s->nodes);
        state_node_done(&s->nodes[i]);
        shrink(s->nodes, &s->n_nodes, sizeof(*n), i);
        return 1;
}

StatePF *state_find_pf(State *s, const char *bdf, bool create) {
        StatePF *p;

        for (size_t i = 0; i < s->n_pfs; i++)
                if (streq(s->pfs[i].bdf, bdf))
                        return &s->pfs[i];
        if (!create)
                return NULL;
        p = GROW(s->pfs, s->n_pfs);
        if (p) {
                (void) snprintf(p->bdf, sizeof(p->bdf), "%s", bdf);
                p->prior_autoprobe = -1;
        }
        return p;
}

int state_forget_pf(State *s, const char *bdf) {
        StatePF *p = state_find_pf(s, bdf, false);

        if (!p)
                return 0;
        shrink(s->pfs, &s->n_pfs, sizeof(*p), (size_t) (p - s->pfs));
        return 1;
}

uint64_t state_pf_generation(const State *s, const char *bdf) {
        for (size_t i = 0; i < s->n_pfs; i++)
                if (streq(s->pfs[i].bdf, bdf))
                        return s->pfs[i].generation;
        return 0;
}

StateAssignment *state_find_assignment_by_vf(State *s, const char *vf) {
        for (size_t i = 0; i < s->n_assignments; i++)
                if (streq(s->assignments[i].vf, vf))
                        return &s->assignments[i];
        return NULL;
}

StateAssignment *state_add_assignment(State *s) {
        StateAssignment *a = GROW(s->assignments, s->n_assignments);

        if (a) {
                a->vf_index = -1;
                (void) snprintf(a->owner, sizeof(a->owner), "local");
        }
        return a;
}

void state_remove_assignment(State *s, StateAssignment *a) {
        size_t i = (size_t) (a - s->assignments);

        if (i >= s->n_assignments)
                return;
        state_assignment_done(a);
        shrink(s->assignments, &s->n_assignments, sizeof(*a), i);
}

bool state_assignment_set_readiness(StateAssignment *a, Readiness r, const char *reason) {
        bool same = a->readiness == r && (a->reason && reason ? streq(a->reason, reason) : a->reason == reason);

        if (same)
                return false;
        a->readiness = r;
        free(a->reason);
        a->reason = reason ? strdup(reason) : NULL;
        return true;
}

StatePool *state_find_pool(State *s, const char *name) {
        for (size_t i = 0; i < s->n_pools; i++)
                if (streq(s->pools[i].name, name))
                        return &s->pools[i];
        return NULL;
}

StatePool *state_add_pool(State *s) {
        return GROW(s->pools, s->n_pools);
}

void state_remove_pool(State *s, StatePool *p) {
        size_t i = (size_t) (p - s->pools);

        if (i >= s->n_pools)
                return;
        state_pool_done(p);
        shrink(s->pools, &s->n_pools, sizeof(*p), i);
}

StateQuarantine *state_find_quarantine(State *s, const char *vf) {
        for (size_t i = 0; i < s->n_quarantine; i++)
                if (streq(s->quarantine[i].vf, vf))
                        return &s->quarantine[i];
        return NULL;
}

int state_add_quarantine(State *s, const char *vf, const char *pf, int vf_index, uint64_t generation,
                         const char *reason) {
        StateQuarantine *q;
        struct timespec ts;

        if (state_find_quarantine(s, vf))
                return 0;
        q = GROW(s->quarantine, s->n_quarantine);
        if (!q)
                return -ENOMEM;
        (void) snprintf(q->vf, sizeof(q->vf), "%s", vf);
        (void) snprintf(q->pf, sizeof(q->pf), "%s", strempty(pf));
        q->vf_index = vf_index;
        q->generation = generation;
        q->reason = strdup(strempty(reason));
        clock_gettime(CLOCK_REALTIME, &ts);
        q->since = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
        if (!q->reason) {
                s->n_quarantine--;
                return -ENOMEM;
        }
        return 1;
}

int state_remove_quarantine(State *s, const char *vf) {
        StateQuarantine *q = state_find_quarantine(s, vf);

        if (!q)
                return 0;
        quarantine_done(q);
        shrink(s->quarantine, &s->n_quarantine, sizeof(*q), (size_t) (q - s->quarantine));
        return 1;
}
