/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The host model as JSON. The format is documented in docs/json.md and is
 * stable: fields are only ever added. */

#include "host.h"
#include "json-util.h"

static const char *device_kind(const sriov_device *d) {
        if (d->is_pf)
                return "pf";
        if (d->is_vf)
                return "vf";
        if (d->is_bridge)
                return "bridge";
        return "function";
}

static int add_nullable_int(json_object *o, const char *key, int v) {
        if (v < 0)
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        return json_add_int(o, key, v);
}

static int sriov_to_json(const sriov_device *d, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *cs = json_object_new_object();
        const sriov_pf_info *s = &d->sriov;
        int r = 0;

        if (!o || !cs)
                return -ENOMEM;
        r = r < 0 ? r : json_add_int(o, "total_vfs", s->total_vfs);
        r = r < 0 ? r : json_add_int(o, "num_vfs", s->num_vfs);
        r = r < 0 ? r : json_add_int(o, "offset", s->offset);
        r = r < 0 ? r : json_add_int(o, "stride", s->stride);
        r = r < 0 ? r : json_add_hex(o, "vf_device_id", s->vf_device, 4);
        if (r >= 0) {
                if (s->autoprobe < 0)
                        r = json_object_object_add(o, "drivers_autoprobe", NULL) < 0 ? -ENOMEM : 0;
                else
                        r = json_add_bool(o, "drivers_autoprobe", s->autoprobe);
        }
        r = r < 0 ? r : json_add_bool(cs, "readable", s->cap_read);
        r = r < 0 ? r : json_add_bool(cs, "capability", s->cap_present);
        r = r < 0 ? r : json_add_bool(cs, "consistent", s->cap_read && s->cap_present && !s->cap_mismatch);
        r = r < 0 ? r : json_add_string(cs, "mismatch", s->cap_mismatch);
        if (r >= 0 && s->cap_present) {
                r = r < 0 ? r : json_add_int(cs, "total_vfs", s->cap_total_vfs);
                r = r < 0 ? r : json_add_int(cs, "num_vfs", s->cap_num_vfs);
                r = r < 0 ? r : json_add_int(cs, "offset", s->cap_offset);
                r = r < 0 ? r : json_add_int(cs, "stride", s->cap_stride);
                r = r < 0 ? r : json_add_hex(cs, "vf_device_id", s->cap_vf_device, 4);
                r = r < 0 ? r : json_add_bool(cs, "vf_enable", s->cap_vf_enable);
        }
        r = r < 0 ? r : json_add(o, "config_space", TAKE_PTR(cs));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int sriov_device_to_json(const sriov_device *d, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r = 0;

        if (!o)
                return -ENOMEM;
        r = r < 0 ? r : json_add_string(o, "bdf", d->bdf);
        r = r < 0 ? r : json_add_string(o, "kind", device_kind(d));
        r = r < 0 ? r : json_add_hex(o, "vendor_id", d->vendor, 4);
        r = r < 0 ? r : json_add_hex(o, "device_id", d->device, 4);
        r = r < 0 ? r : json_add_hex(o, "subsystem_vendor_id", d->subsystem_vendor, 4);
        r = r < 0 ? r : json_add_hex(o, "subsystem_device_id", d->subsystem_device, 4);
        r = r < 0 ? r : json_add_hex(o, "class", d->class, 6);
        r = r < 0 ? r : json_add_string(o, "vendor", d->vendor_name);
        r = r < 0 ? r : json_add_string(o, "device", d->device_name);
        r = r < 0 ? r : json_add_string(o, "class_name", d->class_name);
        r = r < 0 ? r : json_add_string(o, "driver", d->driver);
        r = r < 0 ? r : json_add_string(o, "driver_override", d->driver_override);
        r = r < 0 ? r : add_nullable_int(o, "numa_node", d->numa_node);
        r = r < 0 ? r : add_nullable_int(o, "iommu_group", d->iommu_group);
        r = r < 0 ? r : json_add_strv(o, "netdevs", d->netdevs);
        r = r < 0 ? r : json_add_string(o, "parent", d->parent);
        if (r >= 0 && d->is_vf) {
                char bdf[PCI_ADDR_STRLEN];

                r = json_add_string(o, "physfn", pci_addr_format(&d->physfn, bdf));
                r = r < 0 ? r : add_nullable_int(o, "vf_index", d->vf_index);
        }
        if (r >= 0 && d->is_pf) {
                json_object *s = NULL;

                r = sriov_to_json(d, &s);
                r = r < 0 ? r : json_add(o, "sriov", s);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int sriov_host_to_json(const sriov_host *h, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *pfs = json_object_new_array(),
                *other = json_object_new_array();
        int r;

        if (!o || !pfs || !other)
                return -ENOMEM;

        for (size_t i = 0; i < h->n_devices; i++) {
                const sriov_device *d = h->devices[i];
                json_object *j = NULL;

                if (d->is_vf && d->pf)
                        continue;       /* listed under its PF */
                r = sriov_device_to_json(d, &j);
                if (r < 0)
                        return r;
                if (d->is_pf) {
                        json_object *vfs = json_object_new_array();

                        if (!vfs) {
                                json_object_put(j);
                                return -ENOMEM;
                        }
                        for (size_t k = 0; k < d->n_vfs; k++) {
                                json_object *v = NULL;

                                if (!d->vfs[k])
                                        continue;
                                r = sriov_device_to_json(d->vfs[k], &v);
                                r = r < 0 ? r : json_append(vfs, v);
                                if (r < 0) {
                                        json_object_put(vfs);
                                        json_object_put(j);
                                        return r;
                                }
                        }
                        r = json_add(j, "vfs", vfs);
                        r = r < 0 ? r : json_append(pfs, j);
                } else
                        r = json_append(other, j);
                if (r < 0)
                        return r;
        }
        r = json_add_int(o, "format_version", 1);
        r = r < 0 ? r : json_add_string(o, "sysfs_root", sriov_ctx_root(h->ctx));
        r = r < 0 ? r : json_add(o, "pfs", TAKE_PTR(pfs));
        r = r < 0 ? r : json_add(o, "functions", TAKE_PTR(other));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}
