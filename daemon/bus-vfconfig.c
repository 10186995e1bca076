/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A VF's settings on org.sriovd.Manager1 (docs/dbus-api.md):
 *   GetVFConfig(s vf) -> a{sv} config
 *   SetVFConfig(s vf, a{sv} settings, a{sv} options) -> a{sv} after
 * The same a{sv} keys serve Assign and CreatePool. */

#include "bus-util.h"
#include "state.h"
#include "vfconfig.h"


/* {"ignored": <as>}: the settings the driver accepted but did not apply */
static int append_ignored(sd_bus_message *reply, unsigned ignored) {
        int r;

        r = bus_open_kv_array(reply, "ignored", "s");
        if (r < 0)
                return r;
        for (unsigned b = 1; b <= VF_ATTR_QUERY_RSS; b <<= 1) {
                if (!(ignored & b))
                        continue;
                r = sd_bus_message_append(reply, "s", vf_attr_name(b));
                if (r < 0)
                        return r;
        }
        return bus_close_kv_array(reply);
}

/* a{sv}: the VF's settings, and for SetVFConfig what became of them */
static int append_after(sd_bus_message *reply, const void *userdata) {
        const Job *j = userdata;
        const VFConfigWork *w = j->payload;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = bus_append_vf_config(reply, &w->after);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "{sv}{sv}", "pf_netdev", "s", w->pf_ifname, "vf_index", "u",
                                  (uint32_t) w->index);
        if (r < 0)
                return r;
        if (j->type == &vf_set_job_type) {
                r = sd_bus_message_append(reply, "{sv}", "zero_mac_fallback", "b", w->zero_mac_fallback);
                if (r < 0)
                        return r;
                r = append_ignored(reply, w->ignored);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static void vfconfig_done(Job *j) {
        VFConfigWork *w = j->payload;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        if (j->r < 0) {
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        r = bus_send_reply(j->request, append_after, j);
        if (r < 0) {
                log_debug_errno(r, "Cannot reply with the VF's settings: %m");
                return;
        }
        if (j->type == &vf_set_job_type)
                log_info("Set VF %d of %s (%s) for %s", w->index, w->pf_ifname, pci_addr_format(&j->addr, bdf),
                         strna(sd_bus_message_get_sender(j->request)));
}

static int submit(Daemon *d, Job *j, sd_bus_message *m, sd_bus_error *error) {
        int r;

        j->request = sd_bus_message_ref(m);
        j->complete = vfconfig_done;
        r = lane_submit(d, j);
        if (r < 0) {
                job_free(j);
                return bus_error_from_errno(error, r, r == -EINPROGRESS
                                            ? "An earlier operation on this VF's PF is still pending in the kernel" : NULL);
        }
        return 1;
}

static int read_vf(Daemon *d, sd_bus_message *m, const sriov_device **ret, sd_bus_error *error) {
        int r;

        r = bus_read_device(d, m, ret, error);
        if (r < 0)
                return r;
        if (!(*ret)->is_vf)
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "%s is not a VF: settings such as MAC and VLAN belong to VFs", (*ret)->bdf);
        return 0;
}

static int method_get(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        Daemon *d = userdata;
        VFConfigWork *w;
        Job *j;
        int r;

        r = read_vf(d, m, &dev, error);
        if (r < 0)
                return r;
        w = calloc(1, sizeof(*w));
        j = w ? job_new(d, &vf_get_job_type, &dev->addr, w) : NULL;
        if (!j)
                return -ENOMEM;
        return submit(d, j, m, error);
}

static int method_set(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sriov_device *dev;
        const StateAssignment *as;
        Daemon *d = userdata;
        VFSettingsArgs a = {};
        sriov_vf_config want = {};
        int bring_up = 0, r;
        const BusOption settings[] = { VF_SETTINGS_OPTIONS(&a, "mac"), {} };
        const BusOption options[] = { { "bring_pf_up", 'b', &bring_up }, {} };
        VFConfigWork *w;
        Job *j;

        r = read_vf(d, m, &dev, error);
        if (r < 0)
                return r;
        r = bus_read_options(m, settings, error);
        if (r < 0)
                return r;
        r = vf_settings_args_finish(&a, true, &want, error);
        if (r < 0)
                return r;
        r = bus_read_options(m, options, error);
        if (r < 0)
                return r;
        if (want.mask == 0)
                return sd_bus_error_set(error, SRIOVD_ERROR_INVALID_ARGUMENT, "No VF setting given");
        /* a guest's VF keeps the guest's settings: Release restores them */
        as = state_find_assignment_by_vf(d->state, dev->bdf);
        if (as)
                return sd_bus_error_setf(error, SRIOVD_ERROR_VFS_ASSIGNED,
                                         "%s is assigned to guest %s: release it first, or give the settings to Assign",
                                         dev->bdf, as->guest);
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        w = calloc(1, sizeof(*w));
        j = w ? job_new(d, &vf_set_job_type, &dev->addr, w) : NULL;
        if (!j)
                return -ENOMEM;
        w->want = want;
        w->bring_pf_up = bring_up;
        return submit(d, j, m, error);
}

static const sd_bus_vtable vfconfig_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetVFConfig", SD_BUS_ARGS("s", vf), SD_BUS_RESULT("a{sv}", config), method_get,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetVFConfig", SD_BUS_ARGS("s", vf, "a{sv}", settings, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", after), method_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int bus_vfconfig_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, vfconfig_vtable, d);
}
