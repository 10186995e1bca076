/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Assign, Release and ListAssignments on org.sriovd.Manager1 (docs/dbus-api.md):
 *   Assign(s guest, s pool_or_vf, a{sv} options) -> a{sv} result
 *   Release(s guest, s vf_or_empty, a{sv} options) -> as released
 *   ListAssignments() -> a(ssssa{sv}) */

#include "assign.h"
#include "bus-assign.h"
#include "bus-limits.h"
#include "bus-device.h"
#include "cdi.h"
#include "ledger.h"
#include "verify.h"

#define BAD(...) sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

static int finish_numa(AssignRequest *q, int32_t numa, const char *policy, sd_bus_error *error) {
        static const char *const names[] = { [NUMA_ANY] = "any", [NUMA_PREFERRED] = "preferred",
                                             [NUMA_REQUIRED] = "required" };

        if (numa < -1 || numa > 1023)
                return BAD("Invalid NUMA node %d", numa);
        q->numa = numa;
        q->numa_policy = numa >= 0 ? NUMA_PREFERRED : NUMA_ANY;
        if (!policy)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(policy, names[i]))
                        q->numa_policy = (NumaPolicy) i;
        if (!streq(policy, names[q->numa_policy]))
                return BAD("Invalid NUMA policy \"%.16s\": required, preferred or any", policy);
        if (q->numa_policy != NUMA_ANY && numa < 0)
                return BAD("A NUMA policy needs numa_node");
        return 0;
}

static int finish_names(AssignRequest *q, const char *driver, const char *token, const char *owner, const char *vf,
                        sd_bus_error *error) {
        if (vf) {
                if (isempty(vf) || strlen(vf) > 64 || !string_is_printable(vf, 64))
                        return BAD("Invalid VF name");
                q->vf = strdup(vf);
                if (!q->vf)
                        return -ENOMEM;
        }
        if (driver) {
                if (!driver_name_is_valid(driver))
                        return BAD("Invalid driver name \"%.64s\"", driver);
                q->driver = strdup(driver);
                if (!q->driver)
                        return -ENOMEM;
        }
        if (token) {
                if (strlen(token) == 0 || strlen(token) > 128 || !string_is_printable(token, 128))
                        return BAD("Invalid token: 1-128 printable characters");
                q->token = strdup(token);
                if (!q->token)
                        return -ENOMEM;
        }
        if (!owner_name_is_valid(owner ?: "local"))
                return BAD("Invalid owner \"%.64s\": 1-%d letters, digits, '_', '.', ':' or '-'", owner,
                           OWNER_NAME_MAX);
        (void) snprintf(q->owner, sizeof(q->owner), "%s", owner ?: "local");
        return 0;
}

int bus_read_vf_options(sd_bus_message *m, bool pool, AssignRequest *q, bool *ret_mac_is_base, ResetPolicy *ret_reset,
                        sd_bus_error *error) {
        const char *numa_policy = NULL, *driver = NULL, *token = NULL, *owner = NULL, *reset = NULL, *vf = NULL;
        uint32_t uid = 0, gid = 0;
        int32_t numa = -1;
        int force = 0, r;
        bool have_uid = false, have_gid = false;
        VFSettingsArgs a = {};
        const BusOption opts[] = {
                VF_SETTINGS_OPTIONS(&a, pool ? "mac_base" : "mac"), { "driver", 's', &driver },
                /* a pool's, or a request's */
                { pool ? "reset" : "owner", 's', pool ? &reset : &owner },
                /* per request only (for pools the NULL name ends the table: these keys are refused) */
                { pool ? NULL : "uid", 'u', &uid, &have_uid }, { "gid", 'u', &gid, &have_gid },
                { "numa_node", 'i', &numa }, { "numa_policy", 's', &numa_policy },
                { "token", 's', &token }, { "force", 'b', &force }, { "vf", 's', &vf },
                {}
        };

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (ret_mac_is_base)
                *ret_mac_is_base = pool && a.mac;
        r = vf_settings_args_finish(&a, false, &q->want, error);
        if (r < 0)
                return r;
        if (have_uid != have_gid)
                return BAD("uid and gid go together");
        if (have_uid && (uid == UINT32_MAX || gid == UINT32_MAX))
                return BAD("Invalid uid or gid");
        q->set_owner = have_uid;
        q->uid = uid;
        q->gid = gid;
        q->force = force;
        if (ret_reset) {
                *ret_reset = RESET_AUTO;
                if (reset && reset_policy_from_string(reset, ret_reset) < 0)
                        return BAD("Invalid reset policy \"%.16s\": auto, always or never", reset);
        }
        r = finish_numa(q, numa, numa_policy, error);
        if (r < 0)
                return r;
        return finish_names(q, driver, token, owner, vf, error);
}

#undef BAD

/* What every answer about an assignment says, also when its VF is gone. */
static int append_ledger(sd_bus_message *m, const StateAssignment *a) {
        int r;

        r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}", "guest", "s", a->guest, "owner", "s", a->owner, "vf", "s",
                                  a->vf, "pf", "s", a->pf, "pool", "s", strempty(a->pool));
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "driver", "s", strempty(a->driver), "state", "s",
                                  assignment_state(a), "reason", "s", strempty(a->reason), "reset", "s",
                                  reset_policy_name(a->reset));
        if (r < 0)
                return r;
        r = bus_append_vf_config(m, &a->want);
        if (r < 0)
                return r;
        if (!a->set_owner)
                return 0;
        return sd_bus_message_append(m, "{sv}{sv}", "uid", "u", (uint32_t) a->uid, "gid", "u", (uint32_t) a->gid);
}

/* What a VMM needs: address, group, nodes, libvirt XML, QEMU arguments. */
static int append_vmm(sd_bus_message *m, const AssignmentVmm *v, const char *cdi) {
        int r;

        r = sd_bus_message_append(m, "{sv}{sv}{sv}", "vf_index", "i", v->vf->vf_index, "iommu_group", "i",
                                  v->vf->iommu_group, "numa_node", "i", v->vf->numa_node);
        if (r < 0)
                return r;
        r = bus_append_kv_strv(m, "device_nodes", v->device_nodes);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "{sv}{sv}", "libvirt_hostdev", "s", v->libvirt_hostdev, "libvirt_interface", "s",
                                  v->libvirt_interface);
        if (r < 0)
                return r;
        r = bus_append_kv_strv(m, "qemu_args", v->qemu_args);
        if (r < 0 || !cdi)
                return r;
        return sd_bus_message_append(m, "{sv}", "cdi_device", "s", cdi);
}

/* The assignment as a{sv}: the ledger's facts, and what a VMM needs while
 * the VF is there (else "missing": true). */
static int append_result(Daemon *d, sd_bus_message *m, const StateAssignment *a) {
        _cleanup_(assignment_vmm_done) AssignmentVmm v = {};
        _cleanup_free_ char *cdi = cdi_device_name(d, a->vf);
        int r, k;

        k = assignment_vmm(d, a, &v);
        if (k < 0 && k != -ENODEV)
                return k;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = append_ledger(m, a);
        if (r < 0)
                return r;
        r = k >= 0 ? append_vmm(m, &v, cdi) : sd_bus_message_append(m, "{sv}", "missing", "b", 1);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

typedef struct Assigned {
        Daemon *daemon;
        const StateAssignment *assignment;
} Assigned;

static int append_assigned(sd_bus_message *reply, const void *userdata) {
        const Assigned *x = userdata;

        return append_result(x->daemon, reply, x->assignment);
}

static void reply_assigned(Daemon *d, int r, const char *message, const StateAssignment *a, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata;

        if (r < 0) {
                bus_reply_errno(request, r, message);
                return;
        }
        r = bus_send_reply(request, append_assigned, &(Assigned) { d, a });
        if (r < 0)
                log_debug_errno(r, "Cannot reply to Assign: %m");
}

static int method_assign(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(assign_request_freep) AssignRequest *q = NULL;
        Daemon *d = userdata;
        const char *guest, *target;
        int r;

        r = sd_bus_message_read(m, "ss", &guest, &target);
        if (r < 0)
                return r;
        if (!guest_name_is_valid(guest))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "Invalid guest name \"%.64s\": 1-%d letters, digits, '_', '.', ':' or '-', starting with a letter or digit",
                                         guest, GUEST_NAME_MAX);
        if (isempty(target) || strlen(target) > 64 || !string_is_printable(target, 64))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid pool or VF name");
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        memcpy(q->guest, guest, strlen(guest) + 1);
        q->target = strdup(target);
        if (!q->target)
                return -ENOMEM;
        r = bus_read_vf_options(m, false, q, NULL, NULL, error);
        if (r < 0)
                return r;
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_ASSIGN, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        assignment_assign(d, TAKE_PTR(q), reply_assigned, sd_bus_message_ref(m));
        return 1;
}

static void reply_released(Daemon *d, int r, const char *message, char **released, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata;

        if (r < 0) {
                bus_reply_errno(request, r, message);
                return;
        }
        r = bus_send_reply(request, bus_append_strv, released);
        if (r < 0)
                log_debug_errno(r, "Cannot reply to Release: %m");
}

static int method_release(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *guest, *vf;
        const sriov_device *dev = NULL;
        int force = 0, r;
        const BusOption opts[] = {
                { "force", 'b', &force },
                {}
        };

        r = sd_bus_message_read(m, "ss", &guest, &vf);
        if (r < 0)
                return r;
        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (!guest_name_is_valid(guest))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid guest name \"%.64s\"", guest);
        if (!isempty(vf)) {
                r = bus_resolve_device(d, vf, &dev, error);
                if (r < 0)
                        return r;
        }
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_ASSIGN, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        assignment_release(d, guest, dev ? dev->bdf : NULL, force, reply_released, sd_bus_message_ref(m));
        return 1;
}

/* An assignment's entry: the ledger, the VMM's facts, two libvirt elements */
#define ASSIGNMENT_ENTRY_BYTES 4096

static int admit_list(Daemon *d, sd_bus_message *m, const char *owner, sd_bus_error *error) {
        size_t n = 0, bytes;
        int r;

        for (size_t i = 0; i < d->state->n_assignments; i++)
                n += isempty(owner) || streq(d->state->assignments[i].owner, owner);
        bytes = n * ASSIGNMENT_ENTRY_BYTES;
        r = bus_check_reply_size(bytes, "ask for one lease holder's", error);
        if (r < 0)
                return r;
        return bus_admit(d, m, bus_cost_of(bytes), error);
}

static int method_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        const char *owner;
        int r;

        r = sd_bus_message_read(m, "s", &owner);
        if (r < 0)
                return r;
        if (!isempty(owner) && !owner_name_is_valid(owner))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid owner \"%.64s\"", owner);
        r = admit_list(d, m, owner, error);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssa{sv})");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                if (!isempty(owner) && !streq(a->owner, owner))
                        continue;
                r = sd_bus_message_open_container(reply, 'r', "ssssa{sv}");
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "ssss", a->guest, a->vf, strempty(a->pool), assignment_state(a));
                if (r < 0)
                        return r;
                r = append_result(d, reply, a);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* (ss): guest, VF */
static int append_pair(sd_bus_message *reply, size_t i, const void *userdata) {
        char *const *pairs = userdata;

        return sd_bus_message_append(reply, "(ss)", pairs[2 * i], pairs[2 * i + 1]);
}

static void reply_reconciled(Daemon *d, int r, const char *message, char **pairs, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata;

        if (r < 0) {
                bus_reply_errno(request, r, message);
                return;
        }
        r = bus_send_array(request, "(ss)", strv_length(pairs) / 2, append_pair, pairs);
        if (r < 0)
                log_debug_errno(r, "Cannot reply to Reconcile: %m");
}

static int method_reconcile(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **live = NULL;
        Daemon *d = userdata;
        const char *owner;
        int dry_run = 0, r;
        const BusOption opts[] = {
                { "dry_run", 'b', &dry_run },
                {}
        };

        r = sd_bus_message_read(m, "s", &owner);
        if (r < 0)
                return r;
        if (!owner_name_is_valid(owner))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid owner \"%.64s\"", owner);
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_ASSIGN, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        /* the list after authorization: it may be long, but not unbounded */
        r = bus_read_strv_bounded(m, RECONCILE_GUESTS_MAX, GUEST_NAME_MAX, "live guests", &live, error);
        if (r < 0)
                return r;
        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        STRV_FOREACH(g, live)
                if (!guest_name_is_valid(*g))
                        return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid guest name \"%.64s\"", *g);
        assignment_reconcile(d, owner, live, dry_run, reply_reconciled, sd_bus_message_ref(m));
        return 1;
}

static int method_clear_quarantine(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        Daemon *d = userdata;
        sriov_error e = {};
        int r;

        r = bus_read_device(d, m, &dev, error);
        if (r < 0)
                return r;
        if (!state_find_quarantine(d->state, dev->bdf))
                return sd_bus_error_setf(error, SRIOVD_ERROR_NOT_FOUND, "%s is not quarantined", dev->bdf);
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        r = ledger_clear_quarantine(d, dev->bdf, &e);
        if (r < 0)
                return bus_error_from_errno(error, r, e.message);
        /* ledger_clear_quarantine() announced it (DeviceChanged, the VF's Quarantine) */
        log_info("%s left quarantine (cleared by %s)", dev->bdf, strna(sd_bus_message_get_sender(m)));
        return sd_bus_reply_method_return(m, NULL);
}

/* (ssss): subject, guest, kind, sentence */
static int append_difference(sd_bus_message *reply, size_t i, const void *userdata) {
        const Difference *diff = userdata;

        return sd_bus_message_append(reply, "(ssss)", diff[i].subject, diff[i].guest, diff[i].kind, diff[i].sentence);
}

static void reply_verified(Job *j) {
        const Difference *diff;
        size_t n;
        int r;

        bus_inflight_done(j->daemon, j->request);
        diff = verify_differences(j, &n);
        r = bus_send_array(j->request, "(ssss)", n, append_difference, diff);
        if (r < 0)
                bus_reply_errno(j->request, r, NULL);
}

/* Reads only, but the kernel's, fresh: on the host lane. */
/* A comparison of the whole ledger with the kernel: what it costs a caller's share. */
#define VERIFY_COST 4

static int method_verify(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_start_read_job(userdata, m, VERIFY_COST, verify_job_new, reply_verified, error);
}

static const sd_bus_vtable assign_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Assign", SD_BUS_ARGS("s", guest, "s", pool_or_vf, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", assignment), method_assign, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Release", SD_BUS_ARGS("s", guest, "s", vf, "a{sv}", options),
                                SD_BUS_RESULT("as", released), method_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAssignments", SD_BUS_ARGS("s", owner), SD_BUS_RESULT("a(ssssa{sv})", assignments),
                                method_list, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reconcile", SD_BUS_ARGS("s", owner, "as", live_guests, "a{sv}", options),
                                SD_BUS_RESULT("a(ss)", released), method_reconcile, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Verify", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssss)", differences), method_verify,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ClearQuarantine", SD_BUS_ARGS("s", vf), SD_BUS_NO_RESULT, method_clear_quarantine,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("AssignmentChanged",
                                SD_BUS_ARGS("s", guest, "s", vf, "s", state, "a{sv}", assignment), 0),
        SD_BUS_VTABLE_END
};

int bus_assign_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, assign_vtable, d);
}

static int send_change(Daemon *d, const StateAssignment *a, bool gone) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_signal(d->bus, &m, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, "AssignmentChanged");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "sss", a->guest, a->vf, gone ? "released" : assignment_state(a));
        if (r < 0)
                return r;
        r = append_result(d, m, a);
        if (r < 0)
                return r;
        return sd_bus_send(d->bus, m, NULL);
}

void bus_assign_emit_change(Daemon *d, const StateAssignment *a, bool gone) {
        int r;

        if (!d->bus)
                return;
        r = send_change(d, a, gone);
        if (r < 0)
                log_debug_errno(r, "Cannot announce the change of %s: %m", a->vf);
}
