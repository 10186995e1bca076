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

/* The SR-IOV capability as config space has it, and whether sysfs agrees */
static int sriov_cap_to_json(const sriov_pf_info *s, json_object **ret) {
        _cleanup_json_ json_object *cs = json_object_new_object();
        int r;

        if (!cs)
                return -ENOMEM;
        r = json_add_bool(cs, "readable", s->cap_read);
        if (r < 0)
                return r;
        r = json_add_bool(cs, "capability", s->cap_present);
        if (r < 0)
                return r;
        r = json_add_bool(cs, "consistent", s->cap_read && s->cap_present && !s->cap_mismatch);
        if (r < 0)
                return r;
        r = json_add_string(cs, "mismatch", s->cap_mismatch);
        if (r < 0)
                return r;
        if (s->cap_present) {
                r = json_add_int(cs, "total_vfs", s->cap_total_vfs);
                if (r < 0)
                        return r;
                r = json_add_int(cs, "num_vfs", s->cap_num_vfs);
                if (r < 0)
                        return r;
                r = json_add_int(cs, "offset", s->cap_offset);
                if (r < 0)
                        return r;
                r = json_add_int(cs, "stride", s->cap_stride);
                if (r < 0)
                        return r;
                r = json_add_hex(cs, "vf_device_id", s->cap_vf_device, 4);
                if (r < 0)
                        return r;
                r = json_add_bool(cs, "vf_enable", s->cap_vf_enable);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(cs);
        return 0;
}

static int sriov_to_json(const sriov_device *d, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *cs = NULL;
        const sriov_pf_info *s = &d->sriov;
        int r;

        if (!o)
                return -ENOMEM;
        r = json_add_int(o, "total_vfs", s->total_vfs);
        if (r < 0)
                return r;
        r = json_add_int(o, "num_vfs", s->num_vfs);
        if (r < 0)
                return r;
        r = json_add_int(o, "offset", s->offset);
        if (r < 0)
                return r;
        r = json_add_int(o, "stride", s->stride);
        if (r < 0)
                return r;
        r = json_add_hex(o, "vf_device_id", s->vf_device, 4);
        if (r < 0)
                return r;
        if (s->autoprobe < 0)
                r = json_object_object_add(o, "drivers_autoprobe", NULL) < 0 ? -ENOMEM : 0;
        else
                r = json_add_bool(o, "drivers_autoprobe", s->autoprobe);
        if (r < 0)
                return r;
        r = sriov_cap_to_json(s, &cs);
        if (r < 0)
                return r;
        r = json_add(o, "config_space", TAKE_PTR(cs));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* What the function is: address, kind, ids, and their names from pci.ids */
static int add_identity(json_object *o, const sriov_device *d) {
        int r;

        r = json_add_string(o, "bdf", d->bdf);
        if (r < 0)
                return r;
        r = json_add_string(o, "kind", device_kind(d));
        if (r < 0)
                return r;
        r = json_add_hex(o, "vendor_id", d->vendor, 4);
        if (r < 0)
                return r;
        r = json_add_hex(o, "device_id", d->device, 4);
        if (r < 0)
                return r;
        r = json_add_hex(o, "subsystem_vendor_id", d->subsystem_vendor, 4);
        if (r < 0)
                return r;
        r = json_add_hex(o, "subsystem_device_id", d->subsystem_device, 4);
        if (r < 0)
                return r;
        r = json_add_hex(o, "class", d->class, 6);
        if (r < 0)
                return r;
        r = json_add_string(o, "vendor", d->vendor_name);
        if (r < 0)
                return r;
        r = json_add_string(o, "device", d->device_name);
        if (r < 0)
                return r;
        return json_add_string(o, "class_name", d->class_name);
}

/* Who has the function, and where it sits */
static int add_placement(json_object *o, const sriov_device *d) {
        int r;

        r = json_add_string(o, "driver", d->driver);
        if (r < 0)
                return r;
        r = json_add_string(o, "driver_override", d->driver_override);
        if (r < 0)
                return r;
        r = add_nullable_int(o, "numa_node", d->numa_node);
        if (r < 0)
                return r;
        r = add_nullable_int(o, "iommu_group", d->iommu_group);
        if (r < 0)
                return r;
        r = json_add_strv(o, "netdevs", d->netdevs);
        if (r < 0)
                return r;
        return json_add_string(o, "parent", d->parent);
}

int sriov_device_to_json(const sriov_device *d, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = add_identity(o, d);
        if (r < 0)
                return r;
        r = add_placement(o, d);
        if (r < 0)
                return r;
        if (d->is_vf) {
                char bdf[PCI_ADDR_STRLEN];

                r = json_add_string(o, "physfn", pci_addr_format(&d->physfn, bdf));
                if (r < 0)
                        return r;
                r = add_nullable_int(o, "vf_index", d->vf_index);
                if (r < 0)
                        return r;
        }
        if (d->is_pf) {
                json_object *s = NULL;

                r = sriov_to_json(d, &s);
                if (r < 0)
                        return r;
                r = json_add(o, "sriov", s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* A PF, with its VFs under "vfs" */
static int pf_to_json(const sriov_device *d, json_object **ret) {
        _cleanup_json_ json_object *j = NULL, *vfs = NULL;
        int r;

        r = sriov_device_to_json(d, &j);
        if (r < 0)
                return r;
        vfs = json_object_new_array();
        if (!vfs)
                return -ENOMEM;
        for (size_t k = 0; k < d->n_vfs; k++) {
                json_object *v = NULL;

                if (!d->vfs[k])
                        continue;
                r = sriov_device_to_json(d->vfs[k], &v);
                if (r < 0)
                        return r;
                r = json_append(vfs, v);
                if (r < 0)
                        return r;
        }
        r = json_add(j, "vfs", TAKE_PTR(vfs));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(j);
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
                r = d->is_pf ? pf_to_json(d, &j) : sriov_device_to_json(d, &j);
                if (r < 0)
                        return r;
                r = json_append(d->is_pf ? pfs : other, j);
                if (r < 0)
                        return r;
        }
        r = json_add_int(o, "format_version", 1);
        if (r < 0)
                return r;
        r = json_add_string(o, "sysfs_root", sriov_ctx_root(h->ctx));
        if (r < 0)
                return r;
        r = json_add(o, "pfs", TAKE_PTR(pfs));
        if (r < 0)
                return r;
        r = json_add(o, "functions", TAKE_PTR(other));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}
