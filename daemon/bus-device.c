/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* org.sriovd.Device1 on every PCI function, org.sriovd.PF1 on PFs and
 * org.sriovd.VF1 on VFs, found through fallback vtables under
 * /org/sriovd/Manager1/device/ (sd_bus_path_encode'd addresses) and listed
 * by a node enumerator; the binding methods (Bind, Unbind, RestoreDriver,
 * SetNumVFs), which the manager has too, taking a device argument. */

#include "binding.h"
#include "bus-device.h"
#include "bus-limits.h"
#include "lanes.h"
#include "observe.h"
#include "ops.h"
#include "passthrough.h"
#include "state.h"

enum {
        IFACE_DEVICE = 1 << 0,
        IFACE_PF = 1 << 1,
        IFACE_VF = 1 << 2,
};

typedef int (*prop_append_t)(sd_bus_message *m, Daemon *d, const sriov_device *dev);

int bus_device_path(const sriov_device *dev, char **ret) {
        return sd_bus_path_encode(SRIOVD_DEVICE_PREFIX, dev->bdf, ret);
}

static const char *kind_of(const sriov_device *dev) {
        return dev->is_pf ? "pf" : dev->is_vf ? "vf" : dev->is_bridge ? "bridge" : "function";
}

/* The SR-IOV capability read from config space agrees with sysfs. */
static bool cs_consistent(const sriov_device *dev) {
        return dev->sriov.cap_read && dev->sriov.cap_present && !dev->sriov.cap_mismatch;
}

/* What kernel write the device waits for, "" if none. */
static const char *pending_of(Daemon *d, const sriov_device *dev) {
        return lane_pending_what(d, &dev->addr) ?: "";
}

static const char *guest_of(Daemon *d, const sriov_device *dev) {
        const StateAssignment *a = state_find_assignment_by_vf(d->state, dev->bdf);

        return a ? a->guest : "";
}

static const char *quarantine_of(Daemon *d, const sriov_device *dev) {
        const StateQuarantine *q = state_find_quarantine(d->state, dev->bdf);

        return q ? strempty(q->reason) : "";
}

static const char *prior_driver_of(Daemon *d, const sriov_device *dev) {
        const StateDevice *s = state_find_device(d->state, dev->bdf);

        return s ? strempty(s->prior_driver) : "";
}

#define APPEND(fn, sig, expr)                                                   \
        static int fn(sd_bus_message *m, Daemon *d, const sriov_device *dev) { \
                return sd_bus_message_append(m, sig, expr);                     \
        }

APPEND(p_address, "s", dev->bdf)
APPEND(p_kind, "s", kind_of(dev))
APPEND(p_vendor_id, "q", dev->vendor)
APPEND(p_device_id, "q", dev->device)
APPEND(p_subsys_vendor_id, "q", dev->subsystem_vendor)
APPEND(p_subsys_device_id, "q", dev->subsystem_device)
APPEND(p_class, "u", dev->class)
APPEND(p_vendor_name, "s", strempty(dev->vendor_name))
APPEND(p_device_name, "s", strempty(dev->device_name))
APPEND(p_class_name, "s", strempty(dev->class_name))
APPEND(p_driver, "s", strempty(dev->driver))
APPEND(p_driver_override, "s", strempty(dev->driver_override))
APPEND(p_prior_driver, "s", prior_driver_of(d, dev))
APPEND(p_numa, "i", dev->numa_node)
APPEND(p_group, "i", dev->iommu_group)
APPEND(p_parent, "s", strempty(dev->parent))
APPEND(p_pending, "s", pending_of(d, dev))
APPEND(p_total_vfs, "u", dev->sriov.total_vfs)
APPEND(p_num_vfs, "u", dev->sriov.num_vfs)
APPEND(p_vf_offset, "u", dev->sriov.offset)
APPEND(p_vf_stride, "u", dev->sriov.stride)
APPEND(p_vf_device_id, "q", dev->sriov.vf_device)
APPEND(p_autoprobe, "b", dev->sriov.autoprobe > 0)
APPEND(p_cs_consistent, "b", cs_consistent(dev))
APPEND(p_cs_mismatch, "s", strempty(dev->sriov.cap_mismatch))
APPEND(p_vf_index, "i", dev->vf_index)
APPEND(p_guest, "s", guest_of(d, dev))
APPEND(p_quarantine, "s", quarantine_of(d, dev))

/* the PF's link (observe.h): unknown until read */
static PFLink link_of(Daemon *d, const sriov_device *dev) {
        const PFLink *l = observe_pf_link(d, dev->bdf);

        return l ? *l : (PFLink) { .carrier = -1, .operstate = -1, .speed = -1 };
}

APPEND(p_interface, "s", link_of(d, dev).ifname)
APPEND(p_carrier, "b", link_of(d, dev).admin_up && link_of(d, dev).carrier == 1)
APPEND(p_operstate, "s", link_of(d, dev).ifname[0] ? sriov_operstate_name(link_of(d, dev).operstate) : "")
APPEND(p_speed, "i", link_of(d, dev).speed)
APPEND(p_link_type, "s", link_of(d, dev).ifname[0] ? sriov_link_type_name(link_of(d, dev).type) : "")
APPEND(p_rdma, "s", strempty(link_of(d, dev).rdma))

static int p_health_reason(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        _cleanup_free_ char *reason = vf_health_reason(d, dev);

        if (!reason)
                return -ENOMEM;
        return sd_bus_message_append(m, "s", reason);
}

static int p_healthy(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        _cleanup_free_ char *reason = vf_health_reason(d, dev);

        if (!reason)
                return -ENOMEM;
        return sd_bus_message_append(m, "b", isempty(reason));
}

static int p_netdevs(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        return sd_bus_message_append_strv(m, dev->netdevs);
}

static int p_vfs(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < dev->n_vfs; i++) {
                _cleanup_free_ char *p = NULL;

                if (!dev->vfs[i])
                        continue;
                r = bus_device_path(dev->vfs[i], &p);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "o", p);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static int p_physfn(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        _cleanup_free_ char *p = NULL;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        r = sd_bus_path_encode(SRIOVD_DEVICE_PREFIX, pci_addr_format(&dev->physfn, bdf), &p);
        if (r < 0)
                return r;
        return sd_bus_message_append(m, "o", p);
}

static int p_physfn_address(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        char bdf[PCI_ADDR_STRLEN];

        return sd_bus_message_append(m, "s", pci_addr_format(&dev->physfn, bdf));
}

/* Every property once: name, signature, interface, how it changes
 * (CONST: never during a device's life; CHANGE: with PropertiesChanged),
 * and how it is appended. The listing (ListDevices, GetDevice) and the
 * three vtables are made from this list. */
#define DEVICE_PROPERTIES(X)                                            \
        X(Address, "s", DEVICE, CONST, p_address)                       \
        X(Kind, "s", DEVICE, CHANGE, p_kind)                            \
        X(VendorId, "q", DEVICE, CONST, p_vendor_id)                    \
        X(DeviceId, "q", DEVICE, CONST, p_device_id)                    \
        X(SubsystemVendorId, "q", DEVICE, CONST, p_subsys_vendor_id)    \
        X(SubsystemDeviceId, "q", DEVICE, CONST, p_subsys_device_id)    \
        X(Class, "u", DEVICE, CONST, p_class)                           \
        X(VendorName, "s", DEVICE, CONST, p_vendor_name)                \
        X(DeviceName, "s", DEVICE, CONST, p_device_name)                \
        X(ClassName, "s", DEVICE, CONST, p_class_name)                  \
        X(Driver, "s", DEVICE, CHANGE, p_driver)                        \
        X(DriverOverride, "s", DEVICE, CHANGE, p_driver_override)       \
        X(PriorDriver, "s", DEVICE, CHANGE, p_prior_driver)             \
        X(NUMANode, "i", DEVICE, CHANGE, p_numa)                        \
        X(IOMMUGroup, "i", DEVICE, CHANGE, p_group)                     \
        X(NetDevs, "as", DEVICE, CHANGE, p_netdevs)                     \
        X(Parent, "s", DEVICE, CHANGE, p_parent)                        \
        X(Pending, "s", DEVICE, CHANGE, p_pending)                      \
        X(TotalVFs, "u", PF, CONST, p_total_vfs)                        \
        X(NumVFs, "u", PF, CHANGE, p_num_vfs)                           \
        X(VFOffset, "u", PF, CHANGE, p_vf_offset)                       \
        X(VFStride, "u", PF, CHANGE, p_vf_stride)                       \
        X(VFDeviceId, "q", PF, CONST, p_vf_device_id)                   \
        X(DriversAutoprobe, "b", PF, CHANGE, p_autoprobe)               \
        X(VFs, "ao", PF, CHANGE, p_vfs)                                 \
        X(ConfigSpaceConsistent, "b", PF, CHANGE, p_cs_consistent)      \
        X(ConfigSpaceMismatch, "s", PF, CHANGE, p_cs_mismatch)          \
        X(Interface, "s", PF, CHANGE, p_interface)                      \
        X(Carrier, "b", PF, CHANGE, p_carrier)                          \
        X(OperState, "s", PF, CHANGE, p_operstate)                      \
        X(Speed, "i", PF, CHANGE, p_speed)                              \
        X(LinkType, "s", PF, CHANGE, p_link_type)                       \
        X(RDMADevice, "s", PF, CHANGE, p_rdma)                          \
        X(PhysFn, "o", VF, CONST, p_physfn)                             \
        X(PhysFnAddress, "s", VF, CONST, p_physfn_address)              \
        X(VFIndex, "i", VF, CONST, p_vf_index)                          \
        X(Guest, "s", VF, CHANGE, p_guest)                              \
        X(Quarantine, "s", VF, CHANGE, p_quarantine)                    \
        X(Healthy, "b", VF, CHANGE, p_healthy)                          \
        X(HealthReason, "s", VF, CHANGE, p_health_reason)

typedef struct DeviceProperty {
        const char *name;
        const char *signature;
        unsigned iface;
        prop_append_t append;
} DeviceProperty;

#define TABLE_ROW(name, sig, iface, flags, fn) { #name, sig, IFACE_##iface, fn },
static const DeviceProperty properties[] = { DEVICE_PROPERTIES(TABLE_ROW) };

static Daemon *current_daemon(sd_bus *bus) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(bus));
}

#define GETTER(name, sig, iface, flags, fn)                                                                     \
        static int get_##name(sd_bus *bus, const char *path, const char *interface, const char *property,     \
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {                   \
                return fn(reply, current_daemon(bus), userdata);                                                \
        }
DEVICE_PROPERTIES(GETTER)

#define FLAGS_CONST SD_BUS_VTABLE_PROPERTY_CONST
#define FLAGS_CHANGE SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define VT_PROPERTY(name, sig, flags) SD_BUS_PROPERTY(#name, sig, get_##name, 0, FLAGS_##flags),
/* the entries of one interface: ON_<vtable>_<property's interface> keeps or drops each */
#define ON_DEVICE_DEVICE(x) x
#define ON_DEVICE_PF(x)
#define ON_DEVICE_VF(x)
#define ON_PF_DEVICE(x)
#define ON_PF_PF(x) x
#define ON_PF_VF(x)
#define ON_VF_DEVICE(x)
#define ON_VF_PF(x)
#define ON_VF_VF(x) x
#define VT_DEVICE(name, sig, iface, flags, fn) ON_DEVICE_##iface(VT_PROPERTY(name, sig, flags))
#define VT_PF(name, sig, iface, flags, fn) ON_PF_##iface(VT_PROPERTY(name, sig, flags))
#define VT_VF(name, sig, iface, flags, fn) ON_VF_##iface(VT_PROPERTY(name, sig, flags))

static unsigned ifaces_of(const sriov_device *dev) {
        return IFACE_DEVICE | (dev->is_pf ? IFACE_PF : 0) | (dev->is_vf ? IFACE_VF : 0);
}

static int append_property(sd_bus_message *m, Daemon *d, const sriov_device *dev, const DeviceProperty *p) {
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", p->name);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'v', p->signature);
        if (r < 0)
                return r;
        r = p->append(m, d, dev);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

int bus_device_append_properties(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        unsigned ifaces = ifaces_of(dev);
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(properties); i++) {
                if (!(properties[i].iface & ifaces))
                        continue;
                r = append_property(m, d, dev, &properties[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* The same facts as the properties, under the keys and in the format of
 * `sriovctl list --json` (sriovctl(8)): "" and unknown numbers are null. */
static void describe_numbers(JsonW *w, const sriov_device *dev) {
        if (dev->numa_node >= 0)
                jsonw_int(w, "numa_node", dev->numa_node);
        else
                jsonw_null(w, "numa_node");
        if (dev->iommu_group >= 0)
                jsonw_int(w, "iommu_group", dev->iommu_group);
        else
                jsonw_null(w, "iommu_group");
}

static void describe_pf(JsonW *w, const sriov_device *dev) {
        jsonw_uint(w, "num_vfs", dev->sriov.num_vfs);
        jsonw_uint(w, "total_vfs", dev->sriov.total_vfs);
        jsonw_uint(w, "vf_offset", dev->sriov.offset);
        jsonw_uint(w, "vf_stride", dev->sriov.stride);
        jsonw_hex(w, "vf_device_id", dev->sriov.vf_device, 4);
        jsonw_bool(w, "drivers_autoprobe", dev->sriov.autoprobe > 0);
        jsonw_bool(w, "config_space_consistent", cs_consistent(dev));
        jsonw_string_or_null(w, "config_space_mismatch", dev->sriov.cap_mismatch);
}

static void describe_link(JsonW *w, Daemon *d, const sriov_device *dev) {
        PFLink l = link_of(d, dev);

        jsonw_string_or_null(w, "interface", l.ifname);
        jsonw_bool(w, "carrier", l.admin_up && l.carrier == 1);
        jsonw_string_or_null(w, "operstate", l.ifname[0] ? sriov_operstate_name(l.operstate) : NULL);
        if (l.speed > 0)
                jsonw_int(w, "speed", l.speed);
        else
                jsonw_null(w, "speed");
        jsonw_string_or_null(w, "link_type", l.ifname[0] ? sriov_link_type_name(l.type) : NULL);
        jsonw_string_or_null(w, "rdma_device", l.rdma);
}

static void describe_health(JsonW *w, Daemon *d, const sriov_device *dev) {
        _cleanup_free_ char *reason = vf_health_reason(d, dev);

        jsonw_bool(w, "healthy", reason && isempty(reason));
        jsonw_string_or_null(w, "health_reason", reason);
}

static void describe_vf(JsonW *w, const sriov_device *dev) {
        char bdf[PCI_ADDR_STRLEN];

        jsonw_string(w, "physfn", pci_addr_format(&dev->physfn, bdf));
        if (dev->vf_index >= 0)
                jsonw_int(w, "vf_index", dev->vf_index);
        else
                jsonw_null(w, "vf_index");
}

int bus_device_describe(JsonW *w, Daemon *d, const sriov_device *dev) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = bus_device_path(dev, &path);
        if (r < 0)
                return r;
        jsonw_begin_object(w, NULL);
        jsonw_string(w, "address", dev->bdf);
        jsonw_string(w, "path", path);
        jsonw_string(w, "kind", kind_of(dev));
        jsonw_string_or_null(w, "vendor", dev->vendor_name);
        jsonw_string_or_null(w, "device", dev->device_name);
        jsonw_hex(w, "vendor_id", dev->vendor, 4);
        jsonw_hex(w, "device_id", dev->device, 4);
        jsonw_hex(w, "subsystem_vendor_id", dev->subsystem_vendor, 4);
        jsonw_hex(w, "subsystem_device_id", dev->subsystem_device, 4);
        jsonw_hex(w, "class", dev->class, 6);
        jsonw_string_or_null(w, "class_name", dev->class_name);
        jsonw_string_or_null(w, "driver", dev->driver);
        jsonw_string_or_null(w, "driver_override", dev->driver_override);
        jsonw_string_or_null(w, "prior_driver", prior_driver_of(d, dev));
        jsonw_strv(w, "netdevs", dev->netdevs);
        describe_numbers(w, dev);
        jsonw_string_or_null(w, "parent", dev->parent);
        jsonw_string_or_null(w, "pending", pending_of(d, dev));
        if (dev->is_pf) {
                describe_pf(w, dev);
                describe_link(w, d, dev);
        }
        if (dev->is_vf) {
                describe_vf(w, dev);
                jsonw_string_or_null(w, "guest", guest_of(d, dev));
                jsonw_string_or_null(w, "quarantine", quarantine_of(d, dev));
                describe_health(w, d, dev);
        }
        jsonw_end_object(w);
        return 0;
}

static const sriov_device *device_from_path(Daemon *d, const char *path) {
        _cleanup_free_ char *name = NULL;
        pci_addr a;

        if (sd_bus_path_decode(path, SRIOVD_DEVICE_PREFIX, &name) <= 0 || pci_addr_parse(name, &a) < 0)
                return NULL;
        return sriov_host_find(d->host, &a);
}

static int find_device(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        const sriov_device *dev = device_from_path(userdata, path);

        if (!dev)
                return 0;
        *found = (void *) dev;
        return 1;
}

static int find_pf(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                   sd_bus_error *error) {
        const sriov_device *dev = device_from_path(userdata, path);

        if (!dev || !dev->is_pf)
                return 0;
        *found = (void *) dev;
        return 1;
}

static int find_vf(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                   sd_bus_error *error) {
        const sriov_device *dev = device_from_path(userdata, path);

        if (!dev || !dev->is_vf)
                return 0;
        *found = (void *) dev;
        return 1;
}

static int enumerate_devices(sd_bus *bus, const char *prefix, void *userdata, char ***ret_nodes,
                             sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_strv_free_ char **l = NULL;
        int r;

        l = calloc(d->host->n_devices + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->host->n_devices; i++) {
                r = bus_device_path(d->host->devices[i], &l[i]);
                if (r < 0)
                        return r;
        }
        *ret_nodes = TAKE_PTR(l);
        return 1;
}

/* ---- operations: read → validate → authorize → journal and queue → reply when the kernel is done ---- */

static void reply_op(Job *j) {
        const sriov_device *dev;
        int r;

        if (j->r < 0) {
                bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
                return;
        }
        dev = sriov_host_find(j->daemon->host, &j->addr);
        if (j->type == &numvfs_job_type)
                r = sd_bus_reply_method_return(j->request, "u", ((NumVFsWork *) j->payload)->enabled);
        else if (j->type == &bind_job_type || j->type == &unbind_job_type)
                r = sd_bus_reply_method_return(j->request, "s", strempty(((BindWork *) j->payload)->found_driver));
        else
                r = sd_bus_reply_method_return(j->request, "s", dev ? strempty(dev->driver) : "");
        if (r < 0)
                log_debug_errno(r, "Cannot reply (the caller left?): %m");
}

/* Journal and queue j (taken); the reply comes when the kernel is done. */
static int start_binding(Daemon *d, sd_bus_message *m, Job *j, sd_bus_error *error) {
        int r;

        if (!j)
                return -ENOMEM;
        j->request = sd_bus_message_ref(m);
        j->done = reply_op;
        r = binding_start(d, j);
        if (r < 0) {
                r = bus_error_from_errno(error, j->r, j->error.error ? j->error.message : NULL);
                job_free(j);
                return r;
        }
        return 1;
}

static int refuse_bridge(const sriov_device *dev, sd_bus_error *error) {
        if (dev->is_bridge)
                return sd_bus_error_setf(error, SRIOVD_ERROR_NOT_SRIOV,
                                         "%s is a PCI bridge; sriovd does not rebind bridges", dev->bdf);
        return 0;
}

int bus_read_bind_options(sd_bus_message *m, BindOptions *ret, sd_bus_error *error) {
        BindOptions o = { .keep = -1 };         /* not given: by the driver (bus_bind_job_new()) */
        const BusOption opts[] = {
                { "keep_override", 'b', &o.keep },
                { "force", 'b', &o.force },
                { "whole_group", 'b', &o.whole_group },
                { "allow_unsafe_noiommu", 'b', &o.noiommu },
                {}
        };
        int r;

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

Job *bus_bind_job_new(Daemon *d, const pci_addr *a, const char *driver, const BindOptions *o) {
        bool keep = o->keep < 0 ? driver_is_dma_managed(driver) : o->keep;

        return binding_bind_job_new(d, a, driver, keep ? SRIOV_BIND_KEEP_OVERRIDE : 0,
                                    (o->whole_group ? PASSTHROUGH_WHOLE_GROUP : 0) |
                                    (o->noiommu ? PASSTHROUGH_ALLOW_NOIOMMU : 0), o->force);
}

int bus_device_bind(Daemon *d, sd_bus_message *m, const sriov_device *dev, const char *driver, sd_bus_error *error) {
        BindOptions o;
        int r;

        r = bus_read_bind_options(m, &o, error);
        if (r < 0)
                return r;
        if (!driver_name_is_valid(driver))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid driver name \"%.64s\"", driver);
        r = refuse_bridge(dev, error);
        if (r < 0)
                return r;
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        if (o.noiommu)
                log_warning("%s: unsafe no-IOMMU passthrough requested by %s", dev->bdf,
                            strna(sd_bus_message_get_sender(m)));
        return start_binding(d, m, bus_bind_job_new(d, &dev->addr, driver, &o), error);
}

int bus_device_unbind(Daemon *d, sd_bus_message *m, const sriov_device *dev, sd_bus_error *error) {
        int force = 0, r;
        const BusOption opts[] = {
                { "force", 'b', &force },
                {}
        };

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        r = refuse_bridge(dev, error);
        if (r < 0)
                return r;
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        return start_binding(d, m, binding_unbind_job_new(d, &dev->addr, force), error);
}

int bus_device_restore(Daemon *d, sd_bus_message *m, const sriov_device *dev, sd_bus_error *error) {
        int r;

        r = refuse_bridge(dev, error);
        if (r < 0)
                return r;
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        return start_binding(d, m, binding_restore_job_new(d, &dev->addr), error);
}

int bus_device_set_numvfs(Daemon *d, sd_bus_message *m, const sriov_device *dev, unsigned count,
                          sd_bus_error *error) {
        int autoprobe = -1, force = 0, r;
        const BusOption opts[] = {
                { "autoprobe", 'b', &autoprobe },
                { "force", 'b', &force },
                {}
        };

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (!dev->is_pf)
                return sd_bus_error_setf(error, SRIOVD_ERROR_NOT_SRIOV, "%s is not an SR-IOV physical function", dev->bdf);
        if (count > dev->sriov.total_vfs)
                return sd_bus_error_setf(error, SRIOVD_ERROR_OUT_OF_RANGE, "%u VFs exceed the %u that %s supports",
                                         count, dev->sriov.total_vfs, dev->bdf);
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        return start_binding(d, m, binding_numvfs_job_new(d, &dev->addr, count, autoprobe, force), error);
}

static int method_bind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *driver;
        int r;

        r = sd_bus_message_read(m, "s", &driver);
        if (r < 0)
                return r;
        return bus_device_bind(current_daemon(sd_bus_message_get_bus(m)), m, userdata, driver, error);
}

static int method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_device_unbind(current_daemon(sd_bus_message_get_bus(m)), m, userdata, error);
}

static int method_restore(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_device_restore(current_daemon(sd_bus_message_get_bus(m)), m, userdata, error);
}

static int method_set_numvfs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint32_t count;
        int r;

        r = sd_bus_message_read(m, "u", &count);
        if (r < 0)
                return r;
        return bus_device_set_numvfs(current_daemon(sd_bus_message_get_bus(m)), m, userdata, count, error);
}

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        DEVICE_PROPERTIES(VT_DEVICE)
        SD_BUS_METHOD_WITH_ARGS("Bind", SD_BUS_ARGS("s", driver, "a{sv}", options), SD_BUS_RESULT("s", prior_driver),
                                method_bind, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unbind", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("s", prior_driver),
                                method_unbind, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestoreDriver", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", driver), method_restore,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static const sd_bus_vtable pf_vtable[] = {
        SD_BUS_VTABLE_START(0),
        DEVICE_PROPERTIES(VT_PF)
        SD_BUS_METHOD_WITH_ARGS("SetNumVFs", SD_BUS_ARGS("u", count, "a{sv}", options), SD_BUS_RESULT("u", enabled),
                                method_set_numvfs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static const sd_bus_vtable vf_vtable[] = {
        SD_BUS_VTABLE_START(0),
        DEVICE_PROPERTIES(VT_VF)
        SD_BUS_VTABLE_END
};

int bus_device_register(Daemon *d) {
        int r;

        r = sd_bus_add_fallback_vtable(d->bus, NULL, SRIOVD_DEVICE_PREFIX, SRIOVD_DEVICE_IFACE, device_vtable,
                                       find_device, d);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(d->bus, NULL, SRIOVD_DEVICE_PREFIX, SRIOVD_PF_IFACE, pf_vtable, find_pf, d);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(d->bus, NULL, SRIOVD_DEVICE_PREFIX, SRIOVD_VF_IFACE, vf_vtable, find_vf, d);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(d->bus, NULL, SRIOVD_DEVICE_PREFIX, enumerate_devices, d);
}

void bus_device_emit_change(Daemon *d, sriov_change change, const sriov_device *dev) {
        _cleanup_free_ char *path = NULL;
        const char *signal;

        bus_dry_run_cache_drop(d);      /* what a dry run found may have changed */
        if (!d->bus || bus_device_path(dev, &path) < 0)
                return;
        switch (change) {
        case SRIOV_DEVICE_ADDED:
                (void) sd_bus_emit_object_added(d->bus, path);
                signal = "DeviceAdded";
                break;
        case SRIOV_DEVICE_REMOVED:
                (void) sd_bus_emit_object_removed(d->bus, path);
                signal = "DeviceRemoved";
                break;
        default:
                (void) sd_bus_emit_properties_changed_strv(d->bus, path, SRIOVD_DEVICE_IFACE, NULL);
                if (dev->is_pf)
                        (void) sd_bus_emit_properties_changed_strv(d->bus, path, SRIOVD_PF_IFACE, NULL);
                if (dev->is_vf)
                        (void) sd_bus_emit_properties_changed_strv(d->bus, path, SRIOVD_VF_IFACE, NULL);
                signal = "DeviceChanged";
        }
        (void) sd_bus_emit_signal(d->bus, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, signal, "so", dev->bdf, path);
}
