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
} StateDevice;

/* A device node whose owner sriovd changed (/dev/vfio/N, its cdev). */
typedef struct StateNode {
        char *path;
        uid_t uid;
        gid_t gid;
        mode_t mode;
        char *for_bdf;
} StateNode;

struct State {
        char *dir;
        char *path;
        StateDevice *devices;
        size_t n_devices;
        StateNode *nodes;
        size_t n_nodes;
        char *corrupt_saved_as;         /* set when the loaded file was corrupt */
};

int state_load(const char *dir, State **ret);
State *state_free(State *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(State *, state_free);
int state_save(State *s);

const StateDevice *state_find_device(const State *s, const char *bdf);
/* Record what a device had before sriovd first changed it (a later change
 * keeps the first record). Returns 1 if recorded, 0 if a record existed. */
int state_record_prior(State *s, const char *bdf, const char *driver, const char *override);
int state_forget_device(State *s, const char *bdf);
int state_set_bound_with(State *s, const char *bdf, const char *primary);

const StateNode *state_find_node(const State *s, const char *path);
/* Record the prior owner of a node (first change only). */
int state_record_node(State *s, const char *path, uid_t uid, gid_t gid, mode_t mode, const char *for_bdf);
int state_forget_node(State *s, const char *path);
