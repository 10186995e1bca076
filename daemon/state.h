/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"

/* What sriovd changed on the host, so that it can be undone — also after a
 * restart: the state directory's state.json, replaced atomically on every
 * change (temp file, fsync, rename, fsync of the directory). A corrupt file
 * is moved aside (state.json.corrupt-TIMESTAMP) and reported. */

typedef struct StateDevice {
        char bdf[PCI_ADDR_STRLEN];
        char *prior_driver;             /* NULL: was unbound */
        char *prior_override;           /* NULL: was unset */
        char bound_with[PCI_ADDR_STRLEN]; /* bound as a group peer of this device ("" if not) */
        bool pending;                   /* a Bind, Unbind or RestoreDriver was under way (written before
                                         * its first kernel write): a restart puts the prior binding back */
} StateDevice;

/* A device node whose owner sriovd changed (/dev/vfio/N, its cdev). */
typedef struct StateNode {
        char *path;
        uid_t uid;
        gid_t gid;
        mode_t mode;
        char *for_bdf;
} StateNode;

#include "vfattr.h"

#define GUEST_NAME_MAX 64

/* An assignment goes RESERVED (the VF is taken, nothing changed yet) →
 * PREPARED (everything needed to undo it is recorded; the changes start) →
 * DONE; Release goes DONE → RELEASING → gone. After a crash: RESERVED is
 * dropped, PREPARED is rolled back, RELEASING is finished. */
typedef enum AssignPhase {
        ASSIGN_RESERVED,
        ASSIGN_PREPARED,
        ASSIGN_DONE,
        ASSIGN_RELEASING,
        _ASSIGN_PHASE_MAX,
} AssignPhase;

typedef struct StateAssignment {
        char guest[GUEST_NAME_MAX + 1];
        char vf[PCI_ADDR_STRLEN];
        char pf[PCI_ADDR_STRLEN];
        char *pool;                     /* NULL: assigned by address */
        char *token;                    /* the caller's idempotency token, NULL if none */
        AssignPhase phase;
        char *driver;                   /* what it is bound to for the guest */
        sriov_vf_config want;           /* the guest's VF settings (mask: what was asked) */
        bool set_owner;
        uid_t uid;
        gid_t gid;
        /* what to put back (known from PREPARED on) */
        sriov_vf_config prior;          /* mask: the attributes that get changed */
        char *prior_driver;
        char *prior_override;
        char *pf_ifname;
        uint64_t since;                 /* CLOCK_REALTIME µs */
} StateAssignment;

typedef struct StatePool {
        char *name;
        char **selectors;
        char *driver;                   /* NULL: vfio-pci */
        sriov_vf_config attrs;
        bool mac_is_base;
} StatePool;

struct State {
        char *dir;
        char *path;
        StateDevice *devices;
        size_t n_devices;
        StateNode *nodes;
        size_t n_nodes;
        StateAssignment *assignments;
        size_t n_assignments;
        StatePool *pools;               /* created at run time over D-Bus */
        size_t n_pools;
        char *corrupt_saved_as;         /* set when the loaded file was corrupt */
};

int state_load(const char *dir, State **ret);
/* The parser alone (fuzzed): -EBADMSG for anything not a valid state. */
int state_parse_text(State *s, const char *text);
State *state_new_empty(void);
State *state_free(State *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(State *, state_free);
int state_save(State *s);

const StateDevice *state_find_device(const State *s, const char *bdf);
/* Record what a device had before sriovd first changed it (a later change
 * keeps the first record). Returns 1 if recorded, 0 if a record existed. */
int state_record_prior(State *s, const char *bdf, const char *driver, const char *override);
int state_forget_device(State *s, const char *bdf);
/* Mark (or unmark) a device's recorded binding change as under way. */
int state_set_pending(State *s, const char *bdf, bool pending);
int state_set_bound_with(State *s, const char *bdf, const char *primary);

const StateNode *state_find_node(const State *s, const char *path);
/* Record the prior owner of a node (first change only). */
int state_record_node(State *s, const char *path, uid_t uid, gid_t gid, mode_t mode, const char *for_bdf);
int state_forget_node(State *s, const char *path);

const char *assign_phase_name(AssignPhase p);
StateAssignment *state_find_assignment_by_vf(State *s, const char *vf);
StateAssignment *state_add_assignment(State *s);  /* zeroed record, or NULL */
void state_remove_assignment(State *s, StateAssignment *a);
void state_assignment_done(StateAssignment *a);

StatePool *state_find_pool(State *s, const char *name);
StatePool *state_add_pool(State *s);
void state_remove_pool(State *s, StatePool *p);
