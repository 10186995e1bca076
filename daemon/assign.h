/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon.h"
#include "state.h"
#include "vfattr.h"

/* Assigning VFs to guests (docs/dbus-api.md):
 *   Assign(s guest, s pool_or_vf, a{sv} options) -> a{sv} result
 *   Release(s guest, s vf_or_empty, a{sv} options) -> as released
 *   ListAssignments() -> a(ssssa{sv})
 *   CreatePool(s name, as selectors, a{sv} settings), DeletePool(s name),
 *   ListPools() -> a(sasa{sv})
 * Exactly one guest holds a VF: the choice is made on the event loop and
 * recorded (RESERVED) before any work starts. Everything needed to undo an
 * assignment is recorded (PREPARED) before anything changes on the host, so
 * a restart after a crash rolls back what was not finished and finishes
 * releases (assign_recover()). */

/* The work a job carries; the worker fills in priors and results. */
typedef struct AssignWork {
        char guest[GUEST_NAME_MAX + 1];
        char driver[64];
        sriov_vf_config want;
        bool set_owner;
        uid_t uid;
        gid_t gid;
        bool force;
        /* prepare: found */
        char *prior_driver;
        char *prior_override;
        sriov_vf_config prior;
        char *pf_ifname;
        /* release: what to put back */
        bool rollback;                  /* of a failed or interrupted assignment */
        int failure;                    /* rollback after a failure: the error to answer with */
        char failure_message[512];
} AssignWork;

void assign_work_free(AssignWork *w);

/* The worker side (lanes.c calls these). */
int assign_execute_prepare(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err);
int assign_execute_apply(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err);
int assign_execute_release(sriov_ctx *ctx, const pci_addr *vf, AssignWork *w, sriov_error *err);

int assign_method_assign(sd_bus_message *m, void *userdata, sd_bus_error *error);
int assign_method_release(sd_bus_message *m, void *userdata, sd_bus_error *error);
int assign_method_list(sd_bus_message *m, void *userdata, sd_bus_error *error);
int assign_method_create_pool(sd_bus_message *m, void *userdata, sd_bus_error *error);
int assign_method_delete_pool(sd_bus_message *m, void *userdata, sd_bus_error *error);
int assign_method_list_pools(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* At start: roll back unfinished assignments, finish releases. done is
 * called once every recovery job finished. */
int assign_recover(Daemon *d, void (*done)(Daemon *d, void *userdata), void *userdata);

bool guest_name_is_valid(const char *s);
