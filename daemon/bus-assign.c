/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Assign, Release and ListAssignments on org.sriovd.Manager1 (docs/dbus-api.md):
 *   Assign(s guest, s pool_or_vf, a{sv} options) -> a{sv} result
 *   Release(s guest, s vf_or_empty, a{sv} options) -> as released
 *   ListAssignments() -> a(ssssa{sv}) */

#include "assign.h"
#include "bus-assign.h"

int bus_read_vf_options(sd_bus_message *m, bool pool, AssignRequest *q, bool *ret_mac_is_base, sd_bus_error *error) {
        const char *numa_policy = NULL, *driver = NULL, *token = NULL;
        uint32_t uid = 0, gid = 0;
        int32_t numa = -1;
        int force = 0;
        bool have_uid = false, have_gid = false;
        VFSettingsArgs a = {};
        const BusOption opts[] = {
                VF_SETTINGS_OPTIONS(&a, pool ? "mac_base" : "mac"), { "driver", 's', &driver },
                /* per request only (for pools the NULL name ends the table: these keys are refused) */
                { pool ? NULL : "uid", 'u', &uid, &have_uid }, { "gid", 'u', &gid, &have_gid },
                { "numa_node", 'i', &numa }, { "numa_policy", 's', &numa_policy },
                { "token", 's', &token }, { "force", 'b', &force },
                {}
        };
        int r;

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (ret_mac_is_base)
                *ret_mac_is_base = pool && a.mac;
        r = vf_settings_args_finish(&a, false, &q->want, error);
        if (r < 0)
                return r;
#define BAD(...) sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, __VA_ARGS__)
        if (have_uid != have_gid)
                return BAD("uid and gid go together");
        if (have_uid && (uid == UINT32_MAX || gid == UINT32_MAX))
                return BAD("Invalid uid or gid");
        q->set_owner = have_uid;
        q->uid = uid;
        q->gid = gid;
        if (numa < -1 || numa > 1023)
                return BAD("Invalid NUMA node %d", numa);
        q->numa = numa;
        q->numa_policy = numa >= 0 ? NUMA_PREFERRED : NUMA_ANY;
        if (numa_policy) {
                if (streq(numa_policy, "required"))
                        q->numa_policy = NUMA_REQUIRED;
                else if (streq(numa_policy, "preferred"))
                        q->numa_policy = NUMA_PREFERRED;
                else if (streq(numa_policy, "any"))
                        q->numa_policy = NUMA_ANY;
                else
                        return BAD("Invalid NUMA policy \"%.16s\": required, preferred or any", numa_policy);
                if (q->numa_policy != NUMA_ANY && numa < 0)
                        return BAD("A NUMA policy needs numa_node");
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
        q->force = force;
#undef BAD
        return 0;
}

/* What a VMM needs: address, group, nodes, libvirt XML, QEMU arguments. */
static int append_result(Daemon *d, sd_bus_message *m, const StateAssignment *a) {
        _cleanup_(assignment_vmm_done) AssignmentVmm v = {};
        int r;

        r = assignment_vmm(d, a, &v);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "guest", "s", a->guest, "vf", "s", a->vf, "pf", "s", a->pf,
                                  "pool", "s", strempty(a->pool));
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}", "vf_index", "i", v.vf->vf_index, "iommu_group", "i",
                                  v.vf->iommu_group, "numa_node", "i", v.vf->numa_node, "driver", "s",
                                  strempty(a->driver), "state", "s", assign_phase_name(a->phase));
        if (r < 0)
                return r;
        r = bus_append_kv_strv(m, "device_nodes", v.device_nodes);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "{sv}{sv}", "libvirt_hostdev", "s", v.libvirt_hostdev, "libvirt_interface", "s",
                                  v.libvirt_interface);
        if (r < 0)
                return r;
        r = bus_append_kv_strv(m, "qemu_args", v.qemu_args);
        if (r < 0)
                return r;
        r = bus_append_vf_config(m, &a->want);
        if (r < 0)
                return r;
        if (a->set_owner) {
                r = sd_bus_message_append(m, "{sv}{sv}", "uid", "u", (uint32_t) a->uid, "gid", "u", (uint32_t) a->gid);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static void reply_assigned(Daemon *d, int r, const char *message, const StateAssignment *a, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata, *reply = NULL;

        if (r < 0) {
                bus_reply_errno(request, r, message);
                return;
        }
        r = sd_bus_message_new_method_return(request, &reply);
        if (r >= 0)
                r = append_result(d, reply, a);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0) {
                log_debug_errno(r, "Cannot reply to Assign: %m");
                bus_reply_errno(request, r, NULL);
        }
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
        r = bus_read_vf_options(m, false, q, NULL, error);
        if (r < 0)
                return r;
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        assignment_assign(d, TAKE_PTR(q), reply_assigned, sd_bus_message_ref(m));
        return 1;
}

static void reply_released(Daemon *d, int r, const char *message, char **released, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata, *reply = NULL;

        if (r < 0) {
                bus_reply_errno(request, r, message);
                return;
        }
        r = sd_bus_message_new_method_return(request, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, released);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
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
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        assignment_release(d, guest, dev ? dev->bdf : NULL, force, reply_released, sd_bus_message_ref(m));
        return 1;
}

/* An assignment whose VF is gone: what is known. */
static int append_missing(sd_bus_message *m, const StateAssignment *a) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "{sv}{sv}", "pf", "s", a->pf, "missing", "b", 1);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

static int method_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssa{sv})");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                r = sd_bus_message_open_container(reply, 'r', "ssssa{sv}");
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "ssss", a->guest, a->vf, strempty(a->pool), assign_phase_name(a->phase));
                if (r < 0)
                        return r;
                if (append_result(d, reply, a) < 0)
                        r = append_missing(reply, a);
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

static const sd_bus_vtable assign_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Assign", SD_BUS_ARGS("s", guest, "s", pool_or_vf, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", assignment), method_assign, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Release", SD_BUS_ARGS("s", guest, "s", vf, "a{sv}", options),
                                SD_BUS_RESULT("as", released), method_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAssignments", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssa{sv})", assignments),
                                method_list, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int bus_assign_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, assign_vtable, d);
}
