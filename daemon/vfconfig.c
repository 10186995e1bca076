/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <stdio.h>

#include "ops.h"
#include "auth.h"
#include "bus-util.h"
#include "sriovd-api.h"
#include "lanes.h"
#include "state.h"
#include "vfconfig.h"

/* ---- a{sv} ---- */

int vf_settings_args_finish(const VFSettingsArgs *a, bool allow_zero_mac, sriov_vf_config *c, sd_bus_error *error) {
#define BAD(...) sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, __VA_ARGS__)
        if (a->mac) {
                if (allow_zero_mac && streq(a->mac, "00:00:00:00:00:00"))
                        memset(c->mac, 0, sizeof(c->mac));
                else if (vf_mac_parse(a->mac, c->mac) < 0)
                        return BAD("Invalid MAC address \"%.32s\": expected xx:xx:xx:xx:xx:xx, unicast", a->mac);
                c->mask |= VF_ATTR_MAC;
        }
        if (a->have_vlan || a->have_qos || a->have_proto) {
                if (a->vlan > 4094)
                        return BAD("VLAN %u is out of range (0-4094)", a->vlan);
                if (a->qos > 7)
                        return BAD("QoS %u is out of range (0-7)", a->qos);
                if (a->qos && !a->vlan)
                        return BAD("A QoS needs a non-zero VLAN");
                c->vlan = (uint16_t) a->vlan;
                c->qos = (uint8_t) a->qos;
                c->vlan_proto = VF_VLAN_PROTO_8021Q;
                if (a->vlan_proto && vf_vlan_proto_parse(a->vlan_proto, &c->vlan_proto) < 0)
                        return BAD("Invalid VLAN protocol \"%.16s\": \"802.1Q\" or \"802.1ad\"", a->vlan_proto);
                c->mask |= VF_ATTR_VLAN;
        }
        if (a->have_min || a->have_max) {
                if (a->max_tx_rate && a->min_tx_rate > a->max_tx_rate)
                        return BAD("min_tx_rate exceeds max_tx_rate");
                c->min_tx_rate = a->min_tx_rate;
                c->max_tx_rate = a->max_tx_rate;
                c->mask |= VF_ATTR_RATE;
        }
        if (a->have_spoofchk) {
                c->spoofchk = a->spoofchk;
                c->mask |= VF_ATTR_SPOOFCHK;
        }
        if (a->have_trust) {
                c->trust = a->trust;
                c->mask |= VF_ATTR_TRUST;
        }
        if (a->link_state) {
                if (vf_link_state_parse(a->link_state, &c->link_state) < 0)
                        return BAD("Invalid link state \"%.16s\": auto, enable or disable", a->link_state);
                c->mask |= VF_ATTR_LINK_STATE;
        }
        if (a->have_query_rss) {
                c->query_rss = a->query_rss;
                c->mask |= VF_ATTR_QUERY_RSS;
        }
        return 0;
#undef BAD
}

int bus_append_vf_config(sd_bus_message *m, const sriov_vf_config *c) {
        char mac[18];
        int r = 0;

        if (c->mask & VF_ATTR_MAC)
                r = sd_bus_message_append(m, "{sv}", "mac", "s", vf_mac_format(c->mac, mac));
        if (r >= 0 && (c->mask & VF_ATTR_VLAN))
                r = sd_bus_message_append(m, "{sv}{sv}{sv}", "vlan", "u", (uint32_t) c->vlan, "qos", "u", (uint32_t) c->qos,
                                          "vlan_proto", "s", vf_vlan_proto_name(c->vlan_proto ?: VF_VLAN_PROTO_8021Q));
        if (r >= 0 && (c->mask & VF_ATTR_RATE))
                r = sd_bus_message_append(m, "{sv}{sv}", "min_tx_rate", "u", c->min_tx_rate, "max_tx_rate", "u",
                                          c->max_tx_rate);
        if (r >= 0 && (c->mask & VF_ATTR_SPOOFCHK))
                r = sd_bus_message_append(m, "{sv}", "spoofchk", "b", c->spoofchk);
        if (r >= 0 && (c->mask & VF_ATTR_TRUST))
                r = sd_bus_message_append(m, "{sv}", "trust", "b", c->trust);
        if (r >= 0 && (c->mask & VF_ATTR_LINK_STATE))
                r = sd_bus_message_append(m, "{sv}", "link_state", "s", vf_link_state_name(c->link_state));
        if (r >= 0 && (c->mask & VF_ATTR_QUERY_RSS))
                r = sd_bus_message_append(m, "{sv}", "query_rss", "b", c->query_rss);
        return r;
}

/* ---- worker side ---- */

int vf_index_of(sriov_ctx *ctx, const pci_addr *vf, pci_addr *ret_pf, sriov_error *err) {
        _cleanup_free_ char *pfname = NULL;
        char bdf[PCI_ADDR_STRLEN];
        unsigned numvfs = 0;

        pci_addr_format(vf, bdf);
        if (sysfs_dev_link_name(ctx, vf, "physfn", &pfname) < 0 || pci_addr_parse(pfname, ret_pf) < 0)
                return sriov_error_set(err, -ENODEV, "%s is not a VF (any more)", bdf);
        (void) sysfs_dev_read_uint(ctx, ret_pf, "sriov_numvfs", 10, &numvfs);
        for (unsigned i = 0; i < numvfs; i++) {
                _cleanup_free_ char *name = NULL;
                char link[32];
                pci_addr a;

                (void) snprintf(link, sizeof(link), "virtfn%u", i);
                if (sysfs_dev_link_name(ctx, ret_pf, link, &name) >= 0 && pci_addr_parse(name, &a) >= 0 &&
                    pci_addr_equal(&a, vf))
                        return (int) i;
        }
        return sriov_error_set(err, -ENODEV, "%s is not listed by its PF", bdf);
}

int pf_interface(sriov_ctx *ctx, const pci_addr *pf, char **ret) {
        _cleanup_free_ char *p = sysfs_dev_path(ctx, pf, "net");
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!p)
                return -ENOMEM;
        d = opendir(p);
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' && ifname_is_valid(de->d_name)) {
                        *ret = strdup(de->d_name);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

static void vfconfig_work_free(void *p) {
        VFConfigWork *w = p;

        free(w->pf_ifname);
        free(w);
}

int vfconfig_execute(sriov_ctx *ctx, const pci_addr *vf, bool set, VFConfigWork *w, sriov_error *err) {
        char bdf[PCI_ADDR_STRLEN];
        pci_addr pf;
        int r;

        pci_addr_format(vf, bdf);
        w->index = vf_index_of(ctx, vf, &pf, err);
        if (w->index < 0)
                return w->index;
        r = pf_interface(ctx, &pf, &w->pf_ifname);
        if (r < 0)
                return sriov_error_set(err, r == -ENOMEM ? r : -EPROTONOSUPPORT,
                                       "The PF of %s has no network interface: VF settings (MAC, VLAN, ...) need one", bdf);
        if (set) {
                sriov_vf_config want = w->want;

                want.vf = (uint32_t) w->index;
                return sriov_vf_set(w->pf_ifname, &want, w->bring_pf_up ? SRIOV_VF_BRING_PF_UP : 0, &w->after,
                                    &w->ignored, &w->zero_mac_fallback, err);
        }

        sriov_link link = {};
        r = sriov_link_get(w->pf_ifname, &link, err);
        if (r < 0)
                return r;
        r = sriov_error_set(err, -ENODEV, "%s does not report VF %d", w->pf_ifname, w->index);
        for (size_t i = 0; i < link.n_vfs; i++)
                if (link.vfs[i].vf == (uint32_t) w->index) {
                        w->after = link.vfs[i];
                        r = 0;
                }
        sriov_link_done(&link);
        return r;
}

static void vf_get_execute(Job *j) {
        j->r = vfconfig_execute(j->daemon->ctx, &j->addr, false, j->payload, &j->error);
}

static void vf_set_execute(Job *j) {
        j->r = vfconfig_execute(j->daemon->ctx, &j->addr, true, j->payload, &j->error);
}

const JobType vf_get_job_type = { .name = "vf-get", .execute = vf_get_execute, .free = vfconfig_work_free };
const JobType vf_set_job_type = {
        .name = "vf-set", .execute = vf_set_execute, .free = vfconfig_work_free, .read_back = true,
};

/* ---- the bus ---- */

static void vfconfig_done(Job *j) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        VFConfigWork *w = j->payload;
        int r;

        if (j->r < 0) {
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        r = sd_bus_message_new_method_return(j->request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = bus_append_vf_config(reply, &w->after);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}", "pf_netdev", "s", w->pf_ifname, "vf_index", "u",
                                          (uint32_t) w->index);
        if (r >= 0 && j->type == &vf_set_job_type) {
                r = sd_bus_message_append(reply, "{sv}", "zero_mac_fallback", "b", w->zero_mac_fallback);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", "ignored");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "s");
                for (unsigned b = 1; r >= 0 && b <= VF_ATTR_QUERY_RSS; b <<= 1)
                        if (w->ignored & b)
                                r = sd_bus_message_append(reply, "s", vf_attr_name(b));
                for (int i = 0; r >= 0 && i < 3; i++)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot reply with the VF's settings: %m");
        else if (j->type == &vf_set_job_type) {
                char bdf[PCI_ADDR_STRLEN];

                log_info("Set VF %d of %s (%s) for %s", w->index, w->pf_ifname, pci_addr_format(&j->addr, bdf),
                         strna(sd_bus_message_get_sender(j->request)));
        }
}

static void vfconfig_submit(Daemon *d, sd_bus_message *m, int r, const char *message, void *userdata) {
        Job *j = userdata;

        if (r < 0) {
                bus_reply_errno(m, r, message);
                job_free(j);
                return;
        }
        r = lane_submit(d, j);
        if (r < 0) {
                bus_reply_errno(m, r, r == -EINPROGRESS ? "An earlier operation on this VF's PF is still pending in the kernel" : NULL);
                job_free(j);
        }
}

static int start(sd_bus_message *m, Daemon *d, bool set, sd_bus_error *error) {
        _cleanup_(job_freep) Job *j = NULL;
        VFConfigWork *w;
        const sriov_device *dev;
        const char *ref;
        int r;

        r = sd_bus_message_read(m, "s", &ref);
        if (r < 0)
                return r;
        r = daemon_resolve_device(d, ref, &dev, error);
        if (r < 0)
                return r;
        if (!dev->is_vf)
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "%s is not a VF: settings such as MAC and VLAN belong to VFs", dev->bdf);
        w = calloc(1, sizeof(*w));
        j = w ? job_new(d, set ? &vf_set_job_type : &vf_get_job_type, &dev->addr, w) : NULL;
        if (!j)
                return -ENOMEM;
        if (set) {
                VFSettingsArgs a = {};
                int bring_up = 0;
                const BusOption settings[] = { VF_SETTINGS_OPTIONS(&a, "mac"), {} };
                const BusOption options[] = { { "bring_pf_up", 'b', &bring_up }, {} };
                const StateAssignment *as;

                r = bus_read_options(m, settings, error);
                if (r < 0)
                        return r;
                r = vf_settings_args_finish(&a, true, &w->want, error);
                if (r < 0)
                        return r;
                r = bus_read_options(m, options, error);
                if (r < 0)
                        return r;
                if (w->want.mask == 0)
                        return sd_bus_error_set(error, SRIOVD_ERROR_INVALID_ARGUMENT, "No VF setting given");
                w->bring_pf_up = bring_up;
                /* a guest's VF keeps the guest's settings: Release restores them */
                as = state_find_assignment_by_vf(d->state, dev->bdf);
                if (as)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_VFS_ASSIGNED,
                                                 "%s is assigned to guest %s: release it first, or give the settings to Assign",
                                                 dev->bdf, as->guest);
        }
        j->request = sd_bus_message_ref(m);
        j->complete = vfconfig_done;
        if (!set) {
                vfconfig_submit(d, m, 0, NULL, TAKE_PTR(j));
                return 1;
        }
        r = auth_check(d, m, SRIOVD_ACTION_MANAGE, vfconfig_submit, j);
        if (r < 0)
                return r;
        TAKE_PTR(j);
        return 1;
}

int vfconfig_method_get(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start(m, userdata, false, error);
}

int vfconfig_method_set(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return start(m, userdata, true, error);
}
