/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "conffile.h"
#include "daemon.h"
#include "vfattr.h"

/* The ledger: what sriovd changed on the host and what it owns (which guest
 * holds which VF, what to put back), in the state directory's state.json,
 * replaced atomically on every change (temp file, fsync, rename, fsync of
 * the directory). Its rules (docs/reliability.md):
 *   1. no kernel write before the intent that undoes it is on disk
 *      (state_commit()); if it cannot be written, nothing is changed;
 *   2. a VF is held by at most one guest, and an assigned VF changes only
 *      through its assignment (or a forced verb that marks it broken);
 *   3. a record is tied to a device's identity: PF address, VF index and the
 *      PF's generation, which changes when its VFs are re-created; a record
 *      of another generation never acts on the device at that address.
 * A file that cannot be used (corrupt, not a regular file, too large) is
 * moved aside (state.json.corrupt-TIMESTAMP) and reported. */

#define GUEST_NAME_MAX 64
#define OWNER_NAME_MAX 64
/* Loads and saves are bounded alike (a state the daemon wrote, it can read). */
#define STATE_SIZE_MAX (64U * 1024U * 1024U)

/* Who made a binding change (what recovery does with an interrupted one). */
typedef enum StateOrigin {
        ORIGIN_API,                     /* Bind, Unbind, RestoreDriver: put the prior binding back */
        ORIGIN_CONFIG,                  /* the declared configuration: it is applied again at start */
        ORIGIN_PEER,                    /* bound along with a group member (bound_with) */
        _ORIGIN_MAX,
} StateOrigin;

typedef struct StateDevice {
        char bdf[PCI_ADDR_STRLEN];
        char *prior_driver;             /* NULL: was unbound */
        char *prior_override;           /* NULL: was unset */
        char bound_with[PCI_ADDR_STRLEN]; /* bound as a group peer of this device ("" if not) */
        bool pending;                   /* a change was under way (written before its first kernel write) */
        StateOrigin origin;
        /* a VF's identity: its PF, index and the PF's generation when recorded ("" for other functions) */
        char pf[PCI_ADDR_STRLEN];
        int vf_index;
        uint64_t generation;
} StateDevice;

/* A device node whose owner sriovd changed (/dev/vfio/N, its cdev). */
typedef struct StateNode {
        char *path;
        uid_t uid;
        gid_t gid;
        mode_t mode;
        char *for_bdf;
} StateNode;

/* What sriovd knows of a PF across restarts. */
typedef struct StatePF {
        char bdf[PCI_ADDR_STRLEN];
        uint64_t generation;            /* bumped whenever its VFs are re-created */
        /* a VF count change under way (written before the first write): a
         * restart puts the prior count and autoprobe back */
        bool numvfs_pending;
        unsigned prior_numvfs;
        int prior_autoprobe;            /* -1: unknown */
        unsigned target_numvfs;
} StatePF;

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

/* A DONE assignment as the host has it. */
typedef enum Readiness {
        READY,                          /* the VF is the guest's: driver, settings, nodes */
        NOT_READY,                      /* it is being re-established (after a reboot, a PF reset) */
        BROKEN,                         /* it cannot be: reason says why */
        _READINESS_MAX,
} Readiness;

typedef struct StateAssignment {
        char guest[GUEST_NAME_MAX + 1];
        char owner[OWNER_NAME_MAX + 1]; /* who holds the lease: "local", "kubernetes", ... */
        char vf[PCI_ADDR_STRLEN];
        char pf[PCI_ADDR_STRLEN];
        int vf_index;                   /* -1: unknown (a state from before identities) */
        uint64_t generation;            /* the PF's when the VF was set up for the guest */
        unsigned pf_numvfs;             /* the PF's VF count then (to re-create them) */
        char *pool;                     /* NULL: assigned by address */
        char *token;                    /* the caller's idempotency token, NULL if none */
        AssignPhase phase;
        Readiness readiness;            /* of a DONE assignment */
        char *reason;                   /* why not ready or broken, NULL if ready */
        char *driver;                   /* what it is bound to for the guest */
        sriov_vf_config want;           /* the guest's VF settings (mask: what was asked) */
        ResetPolicy reset;
        bool set_owner;
        uid_t uid;
        gid_t gid;
        /* what to put back (known from PREPARED on) */
        sriov_vf_config prior;          /* mask: the attributes that get changed */
        char *prior_driver;
        char *prior_override;
        char *pf_ifname;
        bool pf_link_was_down;          /* Assign brought the PF's link up for the VF settings */
        uint64_t since;                 /* CLOCK_REALTIME µs */
} StateAssignment;

typedef struct StatePool {
        char *name;
        char **selectors;
        char *driver;                   /* NULL: vfio-pci */
        sriov_vf_config attrs;
        bool mac_is_base;
        ResetPolicy reset;
} StatePool;

/* A VF never handed out: its reset between tenants failed. */
typedef struct StateQuarantine {
        char vf[PCI_ADDR_STRLEN];
        char pf[PCI_ADDR_STRLEN];
        int vf_index;
        uint64_t generation;
        char *reason;
        uint64_t since;
} StateQuarantine;

struct State {
        char *dir;
        char *path;
        StateDevice *devices;
        size_t n_devices;
        StateNode *nodes;
        size_t n_nodes;
        StatePF *pfs;
        size_t n_pfs;
        StateAssignment *assignments;
        size_t n_assignments;
        StatePool *pools;               /* created at run time over D-Bus */
        size_t n_pools;
        StateQuarantine *quarantine;
        size_t n_quarantine;
        char *corrupt_saved_as;         /* set when the loaded file could not be used */
        char *corrupt_reason;
};

/* Load (or start empty) from dir, which must exist or be creatable (0700),
 * be owned by root and writable by no one else (sshd's StrictModes): a
 * directory others could write to is refused with -EPERM and the reason in
 * *ret_reason. */
int state_load(const char *dir, State **ret, char **ret_reason);
/* The parser alone (fuzzed): -EBADMSG for anything not a valid state. */
int state_parse_text(State *s, const char *text);
/* The state as JSON text (what state_save() writes). */
int state_format(const State *s, char **ret);
State *state_new_empty(void);
State *state_free(State *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(State *, state_free);
/* Write it (atomically, durably). -EFBIG: larger than STATE_SIZE_MAX. */
int state_save(State *s);

const char *assign_phase_name(AssignPhase p);
const char *readiness_name(Readiness r);
const char *state_origin_name(StateOrigin o);

StateDevice *state_find_device(const State *s, const char *bdf);
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

/* The PF's record, made when asked (create). */
StatePF *state_find_pf(State *s, const char *bdf, bool create);
int state_forget_pf(State *s, const char *bdf);
uint64_t state_pf_generation(const State *s, const char *bdf);

StateAssignment *state_find_assignment_by_vf(State *s, const char *vf);
StateAssignment *state_add_assignment(State *s);  /* zeroed record, or NULL */
void state_remove_assignment(State *s, StateAssignment *a);
void state_assignment_done(StateAssignment *a);
/* Readiness and its reason (NULL: none). Returns whether it changed. */
bool state_assignment_set_readiness(StateAssignment *a, Readiness r, const char *reason);

StatePool *state_find_pool(State *s, const char *name);
StatePool *state_add_pool(State *s);
void state_remove_pool(State *s, StatePool *p);

StateQuarantine *state_find_quarantine(State *s, const char *vf);
int state_add_quarantine(State *s, const char *vf, const char *pf, int vf_index, uint64_t generation,
                         const char *reason);
int state_remove_quarantine(State *s, const char *vf);
