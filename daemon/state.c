/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "json-util.h"
#include "state-internal.h"

/* ---- names ---- */

const char *const state_phase_names[_ASSIGN_PHASE_MAX] = {
        [ASSIGN_RESERVED] = "reserved",
        [ASSIGN_PREPARED] = "prepared",
        [ASSIGN_DONE] = "done",
        [ASSIGN_RELEASING] = "releasing",
};

const char *const state_readiness_names[_READINESS_MAX] = {
        [READY] = "ready",
        [NOT_READY] = "not-ready",
        [BROKEN] = "broken",
};

const char *const state_origin_names[_ORIGIN_MAX] = {
        [ORIGIN_API] = "api",
        [ORIGIN_CONFIG] = "config",
        [ORIGIN_PEER] = "peer",
};

const char *assign_phase_name(AssignPhase p) {
        return p < _ASSIGN_PHASE_MAX ? state_phase_names[p] : "?";
}

const char *readiness_name(Readiness r) {
        return r < _READINESS_MAX ? state_readiness_names[r] : "?";
}

const char *state_origin_name(StateOrigin o) {
        return o < _ORIGIN_MAX ? state_origin_names[o] : "?";
}

int state_name_index(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; s && i < n; i++)
                if (streq(s, names[i]))
                        return (int) i;
        return -EINVAL;
}

/* ---- memory ---- */

void state_device_done(StateDevice *d) {
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

void state_pool_done(StatePool *p) {
        free(p->name);
        strv_free(p->selectors);
        free(p->driver);
}

void state_node_done(StateNode *n) {
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

void state_quarantine_done(StateQuarantine *q) {
        free(q->reason);
}

static void nothing_to_free(StatePF *p) {
        (void) p;
}

/* Drop everything loaded (a corrupt file is not trusted in part). */
void state_clear(State *s) {
        FREE_ARRAY(s->devices, s->n_devices, state_device_done);
        FREE_ARRAY(s->nodes, s->n_nodes, state_node_done);
        FREE_ARRAY(s->pfs, s->n_pfs, nothing_to_free);
        FREE_ARRAY(s->assignments, s->n_assignments, state_assignment_done);
        FREE_ARRAY(s->pools, s->n_pools, state_pool_done);
        FREE_ARRAY(s->quarantine, s->n_quarantine, state_quarantine_done);
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

/* Grow an array by one zeroed element; NULL on ENOMEM. Its room doubles
 * when the count reaches a power of two (every array of the state is grown
 * here only, so n elements always have room for the next power of two):
 * loading n records costs n log n copies, not n². */
void *state_grow(void **array, size_t *n, size_t size) {
        char *a = *array;

        if ((*n & (*n - 1)) == 0) {     /* 0, 1, 2, 4, ...: full */
                size_t room = *n ? *n * 2 : 1;

                if (room > SIZE_MAX / size)
                        return NULL;
                a = realloc(*array, room * size);
                if (!a)
                        return NULL;
                *array = a;
        }
        memset(a + *n * size, 0, size);
        return a + (*n)++ * size;
}

/* Remove element i, keeping the order. */
void state_shrink(void *array, size_t *n, size_t size, size_t i) {
        char *a = array;

        memmove(a + i * size, a + (i + 1) * size, (*n - i - 1) * size);
        (*n)--;
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
        state_shrink(s->devices, &s->n_devices, sizeof(*d), (size_t) (d - s->devices));
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
        state_shrink(s->nodes, &s->n_nodes, sizeof(*n), i);
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
        state_shrink(s->pfs, &s->n_pfs, sizeof(*p), (size_t) (p - s->pfs));
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
        state_shrink(s->assignments, &s->n_assignments, sizeof(*a), i);
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
        state_shrink(s->pools, &s->n_pools, sizeof(*p), i);
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
        state_quarantine_done(q);
        state_shrink(s->quarantine, &s->n_quarantine, sizeof(*q), (size_t) (q - s->quarantine));
        return 1;
}
