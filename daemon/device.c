/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "auth.h"
#include "binding.h"
#include "ops.h"
#include "bus-util.h"
#include "sriovd-api.h"
#include "device.h"
#include "lanes.h"
#include "passthrough.h"
#include "state.h"

enum {
        IFACE_DEVICE = 1 << 0,
        IFACE_PF = 1 << 1,
        IFACE_VF = 1 << 2,
};

typedef int (*prop_append_t)(sd_bus_message *m, Daemon *d, const sriov_device *dev);

typedef struct DeviceProperty {
        const char *name;
        const char *signature;
        unsigned iface;
        prop_append_t append;
} DeviceProperty;

int device_object_path(const sriov_device *dev, char **ret) {
        return sd_bus_path_encode(SRIOVD_DEVICE_PREFIX, dev->bdf, ret);
}

static const char *kind_of(const sriov_device *dev) {
        return dev->is_pf ? "pf" : dev->is_vf ? "vf" : dev->is_bridge ? "bridge" : "function";
}

static const Lane *lane_of(Daemon *d, const sriov_device *dev) {
        pci_addr key = dev->is_vf ? dev->physfn : dev->addr;

        for (const Lane *l = d->lanes; l; l = l->next)
                if (pci_addr_equal(&l->key, &key))
                        return l;
        return NULL;
}

/* The SR-IOV capability read from config space agrees with sysfs. */
static bool cs_consistent(const sriov_device *dev) {
        return dev->sriov.cap_read && dev->sriov.cap_present && !dev->sriov.cap_mismatch;
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
APPEND(p_numa, "i", dev->numa_node)
APPEND(p_group, "i", dev->iommu_group)
APPEND(p_parent, "s", strempty(dev->parent))
APPEND(p_total_vfs, "u", dev->sriov.total_vfs)
APPEND(p_num_vfs, "u", dev->sriov.num_vfs)
APPEND(p_vf_offset, "u", dev->sriov.offset)
APPEND(p_vf_stride, "u", dev->sriov.stride)
APPEND(p_vf_device_id, "q", dev->sriov.vf_device)
APPEND(p_autoprobe, "b", dev->sriov.autoprobe > 0)
APPEND(p_cs_consistent, "b", cs_consistent(dev))
APPEND(p_cs_mismatch, "s", strempty(dev->sriov.cap_mismatch))
APPEND(p_vf_index, "i", dev->vf_index)

static int p_netdevs(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        return sd_bus_message_append_strv(m, dev->netdevs);
}

/* What kernel write the device waits for, "" if none. */
static const char *pending_of(Daemon *d, const sriov_device *dev) {
        const Lane *l = lane_of(d, dev);
        bool mine = l && l->pending_what &&
                (pci_addr_equal(&l->key, &dev->addr) || (l->intent && pci_addr_equal(&l->intent->addr, &dev->addr)));

        return mine ? l->pending_what : "";
}

static const char *prior_driver_of(Daemon *d, const sriov_device *dev) {
        const StateDevice *s = state_find_device(d->state, dev->bdf);

        return s ? strempty(s->prior_driver) : "";
}

static int p_pending(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        return sd_bus_message_append(m, "s", pending_of(d, dev));
}

static int p_prior_driver(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        return sd_bus_message_append(m, "s", prior_driver_of(d, dev));
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
                r = device_object_path(dev->vfs[i], &p);
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

static const DeviceProperty properties[] = {
        { "Address", "s", IFACE_DEVICE, p_address },
        { "Kind", "s", IFACE_DEVICE, p_kind },
        { "VendorId", "q", IFACE_DEVICE, p_vendor_id },
        { "DeviceId", "q", IFACE_DEVICE, p_device_id },
        { "SubsystemVendorId", "q", IFACE_DEVICE, p_subsys_vendor_id },
        { "SubsystemDeviceId", "q", IFACE_DEVICE, p_subsys_device_id },
        { "Class", "u", IFACE_DEVICE, p_class },
        { "VendorName", "s", IFACE_DEVICE, p_vendor_name },
        { "DeviceName", "s", IFACE_DEVICE, p_device_name },
        { "ClassName", "s", IFACE_DEVICE, p_class_name },
        { "Driver", "s", IFACE_DEVICE, p_driver },
        { "DriverOverride", "s", IFACE_DEVICE, p_driver_override },
        { "PriorDriver", "s", IFACE_DEVICE, p_prior_driver },
        { "NUMANode", "i", IFACE_DEVICE, p_numa },
        { "IOMMUGroup", "i", IFACE_DEVICE, p_group },
        { "NetDevs", "as", IFACE_DEVICE, p_netdevs },
        { "Parent", "s", IFACE_DEVICE, p_parent },
        { "Pending", "s", IFACE_DEVICE, p_pending },
        { "TotalVFs", "u", IFACE_PF, p_total_vfs },
        { "NumVFs", "u", IFACE_PF, p_num_vfs },
        { "VFOffset", "u", IFACE_PF, p_vf_offset },
        { "VFStride", "u", IFACE_PF, p_vf_stride },
        { "VFDeviceId", "q", IFACE_PF, p_vf_device_id },
        { "DriversAutoprobe", "b", IFACE_PF, p_autoprobe },
        { "VFs", "ao", IFACE_PF, p_vfs },
        { "ConfigSpaceConsistent", "b", IFACE_PF, p_cs_consistent },
        { "ConfigSpaceMismatch", "s", IFACE_PF, p_cs_mismatch },
        { "PhysFn", "o", IFACE_VF, p_physfn },
        { "PhysFnAddress", "s", IFACE_VF, p_physfn_address },
        { "VFIndex", "i", IFACE_VF, p_vf_index },
};

static unsigned ifaces_of(const sriov_device *dev) {
        return IFACE_DEVICE | (dev->is_pf ? IFACE_PF : 0) | (dev->is_vf ? IFACE_VF : 0);
}

int device_append_properties(sd_bus_message *m, Daemon *d, const sriov_device *dev) {
        unsigned ifaces = ifaces_of(dev);
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(properties); i++) {
                const DeviceProperty *p = &properties[i];

                if (!(p->iface & ifaces))
                        continue;
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", p->name);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', p->signature);
                if (r >= 0)
                        r = p->append(m, d, dev);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* The same facts as the properties, under the keys and in the format of
 * `sriovctl list --json` (sriovctl(8)): "" and unknown numbers are null. */
int device_describe(JsonW *w, Daemon *d, const sriov_device *dev) {
        _cleanup_free_ char *path = NULL;
        char bdf[PCI_ADDR_STRLEN];
        int r;

        r = device_object_path(dev, &path);
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
        if (dev->numa_node >= 0)
                jsonw_int(w, "numa_node", dev->numa_node);
        else
                jsonw_null(w, "numa_node");
        if (dev->iommu_group >= 0)
                jsonw_int(w, "iommu_group", dev->iommu_group);
        else
                jsonw_null(w, "iommu_group");
        jsonw_string_or_null(w, "parent", dev->parent);
        jsonw_string_or_null(w, "pending", pending_of(d, dev));
        if (dev->is_pf) {
                jsonw_uint(w, "num_vfs", dev->sriov.num_vfs);
                jsonw_uint(w, "total_vfs", dev->sriov.total_vfs);
                jsonw_uint(w, "vf_offset", dev->sriov.offset);
                jsonw_uint(w, "vf_stride", dev->sriov.stride);
                jsonw_hex(w, "vf_device_id", dev->sriov.vf_device, 4);
                jsonw_bool(w, "drivers_autoprobe", dev->sriov.autoprobe > 0);
                jsonw_bool(w, "config_space_consistent", cs_consistent(dev));
                jsonw_string_or_null(w, "config_space_mismatch", dev->sriov.cap_mismatch);
        }
        if (dev->is_vf) {
                jsonw_string(w, "physfn", pci_addr_format(&dev->physfn, bdf));
                if (dev->vf_index >= 0)
                        jsonw_int(w, "vf_index", dev->vf_index);
                else
                        jsonw_null(w, "vf_index");
        }
        jsonw_end_object(w);
        return 0;
}

static Daemon *current_daemon(sd_bus *bus) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(bus));
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const sriov_device *dev = userdata;
        Daemon *d = current_daemon(bus);

        for (size_t i = 0; i < ELEMENTSOF(properties); i++)
                if (streq(properties[i].name, property))
                        return properties[i].append(reply, d, dev);
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "Unknown property %s", property);
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
        char **l;
        size_t n = 0;
        int r;

        l = calloc(d->host->n_devices + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->host->n_devices; i++) {
                r = device_object_path(d->host->devices[i], &l[n]);
                if (r < 0) {
                        strv_free(l);
                        return r;
                }
                n++;
        }
        *ret_nodes = l;
        return 1;
}

int daemon_resolve_device(Daemon *d, const char *ref, const sriov_device **ret, sd_bus_error *error) {
        sriov_error e = {};
        sriov_device *dev;
        int r;

        r = sriov_host_resolve(d->host, ref, &dev, &e);
        if (r < 0)
                return bus_error_from_errno(error, r, e.message);
        *ret = dev;
        return 0;
}

int bus_read_options(sd_bus_message *m, const BusOption *table, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const BusOption *o = NULL;
                const char *name, *contents;
                char type;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                for (const BusOption *t = table; t && t->name; t++)
                        if (streq(t->name, name))
                                o = t;
                if (!o)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Unknown option \"%.64s\"", name);
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if (!contents || contents[0] != o->type || contents[1] != 0)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                                 "Option \"%s\" must be of type '%c'", o->name, o->type);
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_read_basic(m, o->type, o->value);
                if (r < 0)
                        return r;
                if (o->type == 'b')
                        *(int *) o->value = !!*(int *) o->value;
                if (o->seen)
                        *o->seen = true;
                r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(m);
}

/* ---- operations: validate → authorize → journal and queue → reply when the kernel is done ---- */

static void reply_job_error(Job *j) {
        bus_reply_errno(j->request, j->r, j->error.error ? j->error.message : NULL);
}

static void reply_op(Job *j) {
        const sriov_device *dev;
        int r;

        if (!j->request)
                return;
        if (j->r < 0) {
                reply_job_error(j);
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

static void op_authorized(Daemon *d, sd_bus_message *m, int r, const char *message, void *userdata) {
        Job *j = userdata;

        if (r < 0) {
                bus_reply_errno(m, r, message);
                job_free(j);
                return;
        }
        r = binding_start(d, j);
        if (r < 0) {
                reply_job_error(j);
                job_free(j);
        }
}

static int start_job(Daemon *d, sd_bus_message *m, Job *j, sd_bus_error *error) {
        int r;

        if (!j)
                return -ENOMEM;
        j->request = sd_bus_message_ref(m);
        j->done = reply_op;
        r = auth_check(d, m, SRIOVD_ACTION_MANAGE, op_authorized, j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        return 1;       /* answered later */
}

static int refuse_bridge(const sriov_device *dev, sd_bus_error *error) {
        if (dev->is_bridge)
                return sd_bus_error_setf(error, SRIOVD_ERROR_NOT_SRIOV,
                                         "%s is a PCI bridge; sriovd does not rebind bridges", dev->bdf);
        return 0;
}

int device_start_bind(Daemon *d, sd_bus_message *m, const sriov_device *dev, const char *driver, sd_bus_error *error) {
        int keep = -1, force = 0, whole_group = 0, noiommu = 0, r;
        bool keep_seen = false;
        const BusOption opts[] = {
                { "keep_override", 'b', &keep, &keep_seen },
                { "force", 'b', &force },
                { "whole_group", 'b', &whole_group },
                { "allow_unsafe_noiommu", 'b', &noiommu },
                {}
        };

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        if (!driver_name_is_valid(driver))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid driver name \"%.64s\"", driver);
        r = refuse_bridge(dev, error);
        if (r < 0)
                return r;
        if (!keep_seen)
                keep = driver_is_dma_managed(driver);
        if (noiommu)
                log_warning("%s: unsafe no-IOMMU passthrough requested by %s", dev->bdf,
                            strna(sd_bus_message_get_sender(m)));
        return start_job(d, m,
                         binding_bind_job_new(d, &dev->addr, driver, keep ? SRIOV_BIND_KEEP_OVERRIDE : 0,
                                              (whole_group ? PASSTHROUGH_WHOLE_GROUP : 0) |
                                              (noiommu ? PASSTHROUGH_ALLOW_NOIOMMU : 0), force),
                         error);
}

int device_start_unbind(Daemon *d, sd_bus_message *m, const sriov_device *dev, sd_bus_error *error) {
        int force = 0;
        const BusOption opts[] = {
                { "force", 'b', &force },
                {}
        };
        int r;

        r = bus_read_options(m, opts, error);
        if (r < 0)
                return r;
        r = refuse_bridge(dev, error);
        if (r < 0)
                return r;
        return start_job(d, m, binding_unbind_job_new(d, &dev->addr, force), error);
}

int device_start_restore(Daemon *d, sd_bus_message *m, const sriov_device *dev, sd_bus_error *error) {
        int r;

        r = refuse_bridge(dev, error);
        if (r < 0)
                return r;
        return start_job(d, m, binding_restore_job_new(d, &dev->addr), error);
}

int device_start_set_numvfs(Daemon *d, sd_bus_message *m, const sriov_device *dev, unsigned count, sd_bus_error *error) {
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
        return start_job(d, m, binding_numvfs_job_new(d, &dev->addr, count, autoprobe, force), error);
}

static int method_bind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *driver;
        int r;

        r = sd_bus_message_read(m, "s", &driver);
        if (r < 0)
                return r;
        return device_start_bind(current_daemon(sd_bus_message_get_bus(m)), m, userdata, driver, error);
}

static int method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return device_start_unbind(current_daemon(sd_bus_message_get_bus(m)), m, userdata, error);
}

static int method_restore(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return device_start_restore(current_daemon(sd_bus_message_get_bus(m)), m, userdata, error);
}

static int method_set_numvfs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint32_t count;
        int r;

        r = sd_bus_message_read(m, "u", &count);
        if (r < 0)
                return r;
        return device_start_set_numvfs(current_daemon(sd_bus_message_get_bus(m)), m, userdata, count, error);
}

#define PROP(name, sig) SD_BUS_PROPERTY(name, sig, property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Address", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        PROP("Kind", "s"),
        SD_BUS_PROPERTY("VendorId", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceId", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SubsystemVendorId", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SubsystemDeviceId", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Class", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VendorName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ClassName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        PROP("Driver", "s"),
        PROP("DriverOverride", "s"),
        PROP("PriorDriver", "s"),
        PROP("NUMANode", "i"),
        PROP("IOMMUGroup", "i"),
        PROP("NetDevs", "as"),
        PROP("Parent", "s"),
        PROP("Pending", "s"),
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
        SD_BUS_PROPERTY("TotalVFs", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        PROP("NumVFs", "u"),
        PROP("VFOffset", "u"),
        PROP("VFStride", "u"),
        SD_BUS_PROPERTY("VFDeviceId", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        PROP("DriversAutoprobe", "b"),
        PROP("VFs", "ao"),
        PROP("ConfigSpaceConsistent", "b"),
        PROP("ConfigSpaceMismatch", "s"),
        SD_BUS_METHOD_WITH_ARGS("SetNumVFs", SD_BUS_ARGS("u", count, "a{sv}", options), SD_BUS_RESULT("u", enabled),
                                method_set_numvfs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static const sd_bus_vtable vf_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("PhysFn", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PhysFnAddress", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VFIndex", "i", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

int device_bus_register(Daemon *d) {
        int r;

        r = sd_bus_add_fallback_vtable(d->bus, NULL, SRIOVD_DEVICE_PREFIX, SRIOVD_DEVICE_IFACE, device_vtable,
                                       find_device, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(d->bus, NULL, SRIOVD_DEVICE_PREFIX, SRIOVD_PF_IFACE, pf_vtable,
                                               find_pf, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(d->bus, NULL, SRIOVD_DEVICE_PREFIX, SRIOVD_VF_IFACE, vf_vtable,
                                               find_vf, d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(d->bus, NULL, SRIOVD_DEVICE_PREFIX, enumerate_devices, d);
        return r;
}

void device_emit_change(Daemon *d, sriov_change change, const sriov_device *dev) {
        _cleanup_free_ char *path = NULL;
        const char *signal;

        if (!d->bus || device_object_path(dev, &path) < 0)
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
                signal = "DeviceChanged";
        }
        (void) sd_bus_emit_signal(d->bus, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, signal, "so", dev->bdf, path);
}
