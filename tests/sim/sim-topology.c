/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host description: a JSON file with a few lines per device (format in
 * README.md). Everything is validated here, strictly (unknown keys are
 * errors), so that a typo never silently turns into a different host.
 * Syntax errors are reported as FILE:LINE:COLUMN, semantic ones with the
 * JSON location (devices[3].sriov.offset). A topology may name a "base"
 * topology (a path relative to its own file) and say only how it differs:
 * drivers are merged by name, devices by "bdf", key by key (null removes a
 * key); other top-level keys replace the base's. */

#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>

#include "sim.h"
#include "util.h"

typedef struct topo_ctx {
        sim *s;
        const char *path;
} topo_ctx;

static int topo_error(const topo_ctx *t, const char *where, const char *fmt, ...) _printf_(3, 4);
static int topo_error(const topo_ctx *t, const char *where, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s: %s: ", t->path, where);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}

static int check_keys(const topo_ctx *t, const char *where, json_object *o, const char *const *allowed) {
        if (!json_object_is_type(o, json_type_object))
                return topo_error(t, where, "expected an object");
        json_object_object_foreach(o, key, val) {
                bool ok = false;

                (void) val;
                if (key[0] == '_')
                        continue;       /* "_comment" and friends */
                for (const char *const *a = allowed; *a; a++)
                        ok = ok || streq(*a, key);
                if (!ok)
                        return topo_error(t, where, "unknown key \"%s\"", key);
        }
        return 0;
}

static int get_string(const topo_ctx *t, const char *where, json_object *o, const char *key, const char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return topo_error(t, where, "\"%s\" must be a string", key);
        *ret = json_object_get_string(v);
        return 1;
}

static int get_bool(const topo_ctx *t, const char *where, json_object *o, const char *key, bool def, bool *ret) {
        json_object *v;

        *ret = def;
        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return topo_error(t, where, "\"%s\" must be true or false", key);
        *ret = json_object_get_boolean(v);
        return 1;
}

static int get_uint(const topo_ctx *t, const char *where, json_object *o, const char *key,
                    unsigned max, unsigned def, unsigned *ret) {
        json_object *v;
        int64_t i;

        *ret = def;
        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return topo_error(t, where, "\"%s\" must be an integer", key);
        i = json_object_get_int64(v);
        if (i < 0 || i > max)
                return topo_error(t, where, "\"%s\" must be between 0 and %u", key, max);
        *ret = (unsigned) i;
        return 1;
}

static int parse_hex(const char *s, uint32_t max, uint32_t *ret) {
        unsigned long long v;

        if (isempty(s))
                return -EINVAL;
        if (strneq(s, "0x", 2) || strneq(s, "0X", 2))
                s += 2;
        if (safe_atou64(s, 16, (uint64_t *) &v) < 0 || v > max)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* "vvvv:dddd" */
static int parse_id_pair(const char *s, uint16_t *a, uint16_t *b) {
        char x[5], y[5];
        uint32_t va, vb;

        if (!s || strlen(s) != 9 || s[4] != ':')
                return -EINVAL;
        memcpy(x, s, 4);
        x[4] = 0;
        memcpy(y, s + 5, 4);
        y[4] = 0;
        if (parse_hex(x, 0xffff, &va) < 0 || parse_hex(y, 0xffff, &vb) < 0)
                return -EINVAL;
        *a = (uint16_t) va;
        *b = (uint16_t) vb;
        return 0;
}

static int get_id_pair(const topo_ctx *t, const char *where, json_object *o, const char *key,
                       bool required, uint16_t *a, uint16_t *b) {
        const char *s;
        int r;

        r = get_string(t, where, o, key, &s);
        if (r < 0)
                return r;
        if (!s)
                return required ? topo_error(t, where, "\"%s\" is required (\"vvvv:dddd\")", key) : 0;
        if (parse_id_pair(s, a, b) < 0)
                return topo_error(t, where, "\"%s\": \"%s\" is not \"vvvv:dddd\" in hex", key, s);
        return 1;
}

static int get_hex(const topo_ctx *t, const char *where, json_object *o, const char *key, uint32_t max, uint32_t *ret) {
        const char *s;
        int r;

        r = get_string(t, where, o, key, &s);
        if (r <= 0)
                return r;
        if (parse_hex(s, max, ret) < 0)
                return topo_error(t, where, "\"%s\": \"%s\" is not a hex number up to 0x%x", key, s, max);
        return 1;
}

static int get_errno(const topo_ctx *t, const char *where, json_object *o, const char *key, int *ret) {
        const char *s;
        int r;

        *ret = 0;
        r = get_string(t, where, o, key, &s);
        if (r <= 0)
                return r;
        r = errno_from_name(s);
        if (r <= 0)
                return topo_error(t, where, "\"%s\": unknown errno name \"%s\"", key, s);
        *ret = r;
        return 1;
}

/* ---- drivers ---- */

static void driver_release(sim_kobj *k) {
        sim_driver *drv = (sim_driver *) k;

        free(drv->name);
        free(drv->module);
        free(drv->ids);
        free(drv->dynids);
        free(drv->bound);
        free(drv);
}

static int parse_driver_id(const topo_ctx *t, const char *where, json_object *v, sim_pci_id *id) {
        static const char *const keys[] = { "vendor", "device", "subvendor", "subdevice", "class", "class_mask", NULL };
        uint32_t *fields[] = { &id->vendor, &id->device, &id->subvendor, &id->subdevice };
        int r;

        *id = (sim_pci_id) { PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0, 0, 0, false };
        if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                uint16_t a, b, c, d;

                if (strlen(s) == 9 && parse_id_pair(s, &a, &b) >= 0) {
                        id->vendor = a;
                        id->device = b;
                        return 0;
                }
                if (strlen(s) == 19 && s[9] == ':' && parse_id_pair(s, &a, &b) >= 0 &&
                    parse_id_pair(s + 10, &c, &d) >= 0) {
                        *id = (sim_pci_id) { a, b, c, d, 0, 0, 0, false };
                        return 0;
                }
                return topo_error(t, where, "\"%s\" is not \"vvvv:dddd\" or \"vvvv:dddd:ssss:ssss\"", s);
        }
        r = check_keys(t, where, v, keys);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                r = get_hex(t, where, v, keys[i], 0xffff, fields[i]);
                if (r < 0)
                        return r;
        }
        r = get_hex(t, where, v, "class", 0xffffff, &id->class);
        if (r >= 0)
                r = get_hex(t, where, v, "class_mask", 0xffffff, &id->class_mask);
        return r < 0 ? r : 0;
}

static int parse_driver(const topo_ctx *t, const char *name, json_object *o) {
        static const char *const keys[] = {
                "module", "ids", "override_only", "sriov", "netdev", "vfio", "enable",
                "assigned_errno", "probe_errno", "loaded", "max_vfs", "keeps_vfs", "not_ready", "builtin", "max_mtu", "master", "vf_ops", NULL,
        };
        _cleanup_free_ char *where = strdup_printf("drivers.%s", name);
        sim *s = t->s;
        sim_driver *drv, **a;
        json_object *ids;
        const char *module, *not_ready;
        bool override_only;
        unsigned max_vfs, max_mtu;
        int r;

        if (!where)
                return -ENOMEM;
        if (!driver_name_is_valid(name))
                return topo_error(t, where, "invalid driver name");
        r = check_keys(t, where, o, keys);
        if (r < 0)
                return r;
        drv = calloc(1, sizeof(*drv));
        if (!drv)
                return -ENOMEM;
        drv->kobj.ref = 1;
        drv->kobj.release = driver_release;
        drv->sim = s;
        a = realloc(s->drivers, (s->n_drivers + 1) * sizeof(*a));
        if (!a) {
                sim_kobj_unref(drv);
                return -ENOMEM;
        }
        s->drivers = a;
        s->drivers[s->n_drivers++] = drv;

        drv->name = strdup(name);
        r = get_string(t, where, o, "module", &module);
        if (r < 0)
                return r;
        drv->module = module ? strdup(module) : strdup(name);
        if (!drv->name || !drv->module)
                return -ENOMEM;
        if (!module)
                for (char *p = drv->module; *p; p++)
                        if (*p == '-')
                                *p = '_';
        if (!driver_name_is_valid(drv->module))
                return topo_error(t, where, "invalid module name \"%s\"", drv->module);

        if (json_object_object_get_ex(o, "ids", &ids)) {
                size_t n;

                if (!json_object_is_type(ids, json_type_array))
                        return topo_error(t, where, "\"ids\" must be an array");
                n = json_object_array_length(ids);
                drv->ids = calloc(n + 1, sizeof(*drv->ids));
                if (!drv->ids)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *w = strdup_printf("%s.ids[%zu]", where, i);

                        r = parse_driver_id(t, w ?: where, json_object_array_get_idx(ids, i), &drv->ids[drv->n_ids++]);
                        if (r < 0)
                                return r;
                }
                drv->has_id_table = true;
        }
        if ((r = get_bool(t, where, o, "override_only", false, &override_only)) < 0 ||
            (r = get_bool(t, where, o, "sriov", false, &drv->sriov)) < 0 ||
            (r = get_bool(t, where, o, "netdev", false, &drv->netdev)) < 0 ||
            (r = get_bool(t, where, o, "vfio", false, &drv->vfio)) < 0 ||
            (r = get_bool(t, where, o, "enable", !drv->vfio, &drv->enables)) < 0 ||
            (r = get_bool(t, where, o, "loaded", true, &drv->loaded)) < 0 ||
            (r = get_errno(t, where, o, "assigned_errno", &drv->assigned_errno)) < 0 ||
            (r = get_errno(t, where, o, "probe_errno", &drv->probe_errno)) < 0 ||
            (r = get_uint(t, where, o, "max_vfs", UINT16_MAX, 0, &max_vfs)) < 0 ||
            (r = get_bool(t, where, o, "keeps_vfs", false, &drv->keeps_vfs)) < 0 ||
            (r = get_bool(t, where, o, "builtin", false, &drv->builtin)) < 0 ||
            (r = get_bool(t, where, o, "master", drv->enables, &drv->master)) < 0 ||
            (r = get_uint(t, where, o, "max_mtu", 65535, 9702, &max_mtu)) < 0 ||
            (r = get_string(t, where, o, "not_ready", &not_ready)) < 0)
                return r;
        drv->max_vfs = (uint16_t) max_vfs;
        drv->max_mtu = max_mtu;
        if (max_mtu < 68)
                return topo_error(t, where, "\"max_mtu\" must be at least 68 (ETH_MIN_MTU)");
        if (drv->builtin && !drv->loaded)
                return topo_error(t, where, "a \"builtin\" driver is always loaded");
        if (!not_ready || streq(not_ready, "ignore"))
                drv->not_ready = SIM_NOT_READY_IGNORE;
        else if (streq(not_ready, "unbind"))
                drv->not_ready = SIM_NOT_READY_UNBIND;
        else if (streq(not_ready, "fail"))
                drv->not_ready = SIM_NOT_READY_FAIL;
        else
                return topo_error(t, where, "\"not_ready\" must be \"ignore\", \"unbind\" or \"fail\"");
        if ((drv->max_vfs || drv->keeps_vfs) && !drv->sriov)
                return topo_error(t, where, "\"max_vfs\" and \"keeps_vfs\" need \"sriov\"");
        if (override_only) {
                sim_pci_id *n = realloc(drv->ids, (drv->n_ids + 1) * sizeof(*n));

                if (!n)
                        return -ENOMEM;
                drv->ids = n;
                drv->ids[drv->n_ids++] = (sim_pci_id) {
                        PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0, 0, 0, true,
                };
                drv->has_id_table = true;
        }
        if (json_object_object_get_ex(o, "vf_ops", &ids) &&
            (r = sim_rtnl_parse_vf_ops(s, t->path, where, name, ids)) < 0)   /* sim-rtnl-model.c */
                return r;
        for (size_t i = 0; i + 1 < s->n_drivers; i++)
                if (streq(s->drivers[i]->module, drv->module))
                        return topo_error(t, where, "module \"%s\" is used by driver %s too", drv->module,
                                          s->drivers[i]->name);
        return 0;
}

/* ---- devices ---- */

static const struct {
        const char *name;
        sim_pcie_type type;
} pcie_types[] = {
        { "endpoint", SIM_PCIE_ENDPOINT },
        { "rc-endpoint", SIM_PCIE_RC_ENDPOINT },
        { "root-port", SIM_PCIE_ROOT_PORT },
        { "upstream", SIM_PCIE_UPSTREAM },
        { "downstream", SIM_PCIE_DOWNSTREAM },
        { "pci-bridge", SIM_PCIE_PCI_BRIDGE },
        { "conventional", SIM_PCI_CONVENTIONAL },
};

static unsigned speed_gen(unsigned gts10) {
        switch (gts10) {
        case 25: return 1;
        case 50: return 2;
        case 80: return 3;
        case 160: return 4;
        case 320: return 5;
        case 640: return 6;
        default: return 0;
        }
}

static int parse_sriov(const topo_ctx *t, const char *where, json_object *o, sim_device *d) {
        static const char *const keys[] = {
                "total", "offset", "stride", "vf_id", "vf_subsys", "vf_class", "vf_netdev",
                "max_enable", "autoprobe", "vf_ready", NULL,
        };
        sim_sriov *iov;
        unsigned total, offset, stride, max_enable;
        uint16_t vend;
        uint32_t vf_class = d->class;
        const char *pat;
        int r;

        r = check_keys(t, where, o, keys);
        if (r < 0)
                return r;
        iov = calloc(1, sizeof(*iov));
        if (!iov)
                return -ENOMEM;
        d->sriov = iov;
        if ((r = get_uint(t, where, o, "total", UINT16_MAX, 0, &total)) < 0 ||
            (r = get_uint(t, where, o, "offset", UINT16_MAX, 1, &offset)) < 0 ||
            (r = get_uint(t, where, o, "stride", UINT16_MAX, 1, &stride)) < 0 ||
            (r = get_uint(t, where, o, "max_enable", UINT16_MAX, total, &max_enable)) < 0 ||
            (r = get_bool(t, where, o, "autoprobe", true, &iov->autoprobe_initial)) < 0 ||
            (r = get_bool(t, where, o, "vf_ready", true, &iov->vf_ready)) < 0 ||
            (r = get_hex(t, where, o, "vf_class", 0xffffff, &vf_class)) < 0 ||
            (r = get_string(t, where, o, "vf_netdev", &pat)) < 0)
                return r;
        if (total == 0)
                return topo_error(t, where, "\"total\" must be at least 1");
        if (offset == 0 || (total > 1 && stride == 0))
                return topo_error(t, where, "\"offset\" and \"stride\" must be non-zero (sriov_init() refuses them)");
        iov->total = iov->initial = iov->driver_max = (uint16_t) total;
        iov->offset = (uint16_t) offset;
        iov->stride = (uint16_t) stride;
        iov->max_enable_initial = (uint16_t) MIN(max_enable, total);
        iov->vf_class = vf_class;
        iov->vf_subvendor = d->subvendor;
        iov->vf_subdevice = d->subdevice;
        r = get_id_pair(t, where, o, "vf_id", true, &vend, &iov->vf_device);
        if (r < 0)
                return r;
        if (vend != d->vendor)
                return topo_error(t, where, "a VF has its PF's vendor id (%04x), not %04x", d->vendor, vend);
        r = get_id_pair(t, where, o, "vf_subsys", false, &iov->vf_subvendor, &iov->vf_subdevice);
        if (r < 0)
                return r;
        if (pat) {
                const char *p = strchr(pat, '%');

                if (!p || !strneq(p, "%u", 2) || strchr(p + 2, '%') || strlen(pat) > 14)
                        return topo_error(t, where, "\"vf_netdev\" must contain exactly one %%u and be short");
                iov->vf_netdev = strdup(pat);
                if (!iov->vf_netdev)
                        return -ENOMEM;
        }
        iov->vfs = calloc(total, sizeof(*iov->vfs));
        if (!iov->vfs)
                return -ENOMEM;
        if (pci_addr_rid(&d->addr) + offset + (uint32_t) stride * (total - 1) > 0xffff)
                return topo_error(t, where, "the last VF's routing id is past bus ff");
        return 0;
}

/* "reserved_regions": ["0x0000000000000000 0x0000000000ffffff direct-relaxable"],
 * as the group's reserved_regions file prints them (the VT-d RMRRs and the
 * ISA bridge's floppy work-around are per device) */
static int parse_reserved(const topo_ctx *t, const char *where, json_object *v, sim_device *d) {
        static const char *const types[] = { "direct", "direct-relaxable", "reserved", "msi", "sw-msi" };
        size_t n;

        if (!json_object_is_type(v, json_type_array))
                return topo_error(t, where, "\"reserved_regions\" must be an array of \"START END TYPE\"");
        n = json_object_array_length(v);
        d->reserved = calloc(n + 1, sizeof(char *));
        if (!d->reserved)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                unsigned long long a, b;
                char type[32], tail;
                bool known = false;

                if (!json_object_is_type(e, json_type_string) ||
                    sscanf(json_object_get_string(e), "0x%16llx 0x%16llx %31s %c", &a, &b, type, &tail) != 3 ||
                    strlen(json_object_get_string(e)) != 2 * 18 + 2 + strlen(type) || a > b)
                        return topo_error(t, where, "reserved_regions[%zu]: expected \"0x%%016x 0x%%016x TYPE\"", i);
                for (size_t k = 0; k < ELEMENTSOF(types); k++)
                        known = known || streq(type, types[k]);
                if (!known)
                        return topo_error(t, where, "reserved_regions[%zu]: unknown type \"%s\"", i, type);
                d->reserved[i] = strdup(json_object_get_string(e));
                if (!d->reserved[i])
                        return -ENOMEM;
        }
        return 0;
}

static int parse_device(const topo_ctx *t, size_t idx, json_object *o) {
        static const char *const keys[] = {
                "bdf", "parent", "type", "id", "subsys", "class", "revision", "numa", "acs", "slot",
                "link_speed", "link_width", "irq", "driver", "driver_override", "netdev", "sriov",
                "reserved_regions", "command", "addresses", "routes", "port_speed", NULL,
        };
        sim *s = t->s;
        char where[64];
        const char *bdf, *parent, *type, *str;
        sim_device *d, **a;
        json_object *v;
        unsigned u;
        uint32_t x;
        int r;

        (void) snprintf(where, sizeof(where), "devices[%zu]", idx);
        r = check_keys(t, where, o, keys);
        if (r < 0)
                return r;
        r = get_string(t, where, o, "bdf", &bdf);
        if (r < 0)
                return r;
        if (!bdf)
                return topo_error(t, where, "\"bdf\" is required");

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        /* topology devices live as long as the simulator; sim-kernel.c
         * releases only VFs */
        d->kobj.ref = 1;
        d->sim = s;
        d->from_topology = true;
        d->ready = true;
        pthread_mutex_init(&d->lock, NULL);
        a = realloc(s->topo, (s->n_topo + 1) * sizeof(*a));
        if (!a) {
                free(d);
                return -ENOMEM;
        }
        s->topo = a;
        s->topo[s->n_topo++] = d;

        if (pci_addr_parse(bdf, &d->addr) < 0)
                return topo_error(t, where, "\"bdf\": \"%s\" is not DDDD:BB:DD.F", bdf);
        (void) pci_addr_format(&d->addr, d->name);
        (void) snprintf(where, sizeof(where), "devices[%zu] (%s)", idx, d->name);
        if (sim_find_topo_device(s, d->name) != d)
                return topo_error(t, where, "defined twice");

        r = get_string(t, where, o, "type", &type);
        if (r < 0)
                return r;
        d->type = SIM_PCIE_ENDPOINT;
        if (type) {
                bool found = false;

                for (size_t i = 0; i < ELEMENTSOF(pcie_types); i++)
                        if (streq(type, pcie_types[i].name)) {
                                d->type = pcie_types[i].type;
                                found = true;
                        }
                if (!found)
                        return topo_error(t, where, "unknown \"type\" \"%s\"", type);
        }

        r = get_string(t, where, o, "parent", &parent);
        if (r < 0)
                return r;
        if (parent) {
                d->parent = sim_find_topo_device(s, parent);
                if (!d->parent || d->parent == d)
                        return topo_error(t, where, "parent %s must be defined before it", parent);
                if (!sim_device_is_bridge(d->parent))
                        return topo_error(t, where, "parent %s is not a bridge", parent);
                if (d->parent->addr.domain != d->addr.domain)
                        return topo_error(t, where, "parent %s is in another PCI domain", parent);
        }

        r = get_id_pair(t, where, o, "id", true, &d->vendor, &d->device);
        if (r < 0)
                return r;
        d->subvendor = d->vendor;
        d->subdevice = 0;
        r = get_id_pair(t, where, o, "subsys", false, &d->subvendor, &d->subdevice);
        if (r < 0)
                return r;
        d->class = sim_device_is_bridge(d) ? 0x060400 : 0xff0000;
        if ((r = get_hex(t, where, o, "class", 0xffffff, &d->class)) < 0)
                return r;
        x = 0;
        if ((r = get_hex(t, where, o, "revision", 0xff, &x)) < 0)
                return r;
        d->revision = (uint8_t) x;
        if ((r = get_bool(t, where, o, "acs", false, &d->acs)) < 0)
                return r;
        if ((r = get_uint(t, where, o, "irq", 255, sim_device_is_bridge(d) ? 24 + idx % 8 : 32 + idx % 64, &d->irq)) < 0)
                return r;

        d->numa_node = -1;
        if (json_object_object_get_ex(o, "numa", &v)) {
                if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < -1)
                        return topo_error(t, where, "\"numa\" must be a node number or -1");
                d->numa_node = json_object_get_int(v);
                if (d->numa_node >= 0 && !sim_cpulist(s, d->numa_node))
                        return topo_error(t, where, "NUMA node %d is not in \"numa\"", d->numa_node);
        }

        if ((r = get_uint(t, where, o, "link_speed", 64, 8, &u)) < 0)
                return r;
        d->link_speed = speed_gen(u * 10) ?: (u == 2 ? 1 : 0);
        if (!d->link_speed)
                return topo_error(t, where, "\"link_speed\" must be 2 (2.5), 5, 8, 16, 32 or 64 GT/s");
        if ((r = get_uint(t, where, o, "link_width", 32, sim_device_is_bridge(d) ? 16 : 8, &d->link_width)) < 0)
                return r;
        /* the Ethernet port: what ethtool's speed says once the link is up */
        if ((r = get_uint(t, where, o, "port_speed", 800000, 10000, &d->port_speed)) < 0)
                return r;

        if ((r = get_string(t, where, o, "slot", &str)) < 0)
                return r;
        if (str) {
                if (d->type != SIM_PCIE_ROOT_PORT && d->type != SIM_PCIE_DOWNSTREAM)
                        return topo_error(t, where, "only root and downstream ports have a \"slot\"");
                if (!sysfs_name_is_valid(str, 32))
                        return topo_error(t, where, "invalid \"slot\" name");
                d->slot = strdup(str);
        }
        if ((r = get_string(t, where, o, "driver", &str)) < 0)
                return r;
        if (str) {
                if (!sim_lookup_driver(s, str))
                        return topo_error(t, where, "driver %s is not in \"drivers\"", str);
                d->init_driver = strdup(str);
        }
        if ((r = get_string(t, where, o, "driver_override", &str)) < 0)
                return r;
        if (str)
                d->init_override = strdup(str);
        if ((r = get_string(t, where, o, "netdev", &str)) < 0)
                return r;
        if (str) {
                if (!ifname_is_valid(str))
                        return topo_error(t, where, "invalid \"netdev\" name \"%s\"", str);
                d->netdev_name = strdup(str);
        }

        /* the Command register as the firmware left it: Memory Space on
         * (the BIOS assigned and enabled the BARs) unless said otherwise */
        x = 0x0002;
        if ((r = get_hex(t, where, o, "command", 0xffff, &x)) < 0)
                return r;
        d->init_command = (uint16_t) x;

        if (json_object_object_get_ex(o, "reserved_regions", &v)) {
                r = parse_reserved(t, where, v, d);
                if (r < 0)
                        return r;
        }
        r = sim_rtnl_parse_device(s, t->path, where, d->name, o);    /* "addresses", "routes" */
        if (r < 0)
                return r;

        if (!sim_device_is_bridge(d)) {
                d->bar0_size = 0x1000000;
                d->bar0 = 0x380000000000ULL + ((uint64_t) pci_addr_rid(&d->addr) << 24);
        }
        if (json_object_object_get_ex(o, "sriov", &v)) {
                char w[96];

                if (d->type != SIM_PCIE_ENDPOINT && d->type != SIM_PCIE_RC_ENDPOINT)
                        return topo_error(t, where, "only PCIe endpoints have an SR-IOV capability");
                (void) snprintf(w, sizeof(w), "%s.sriov", where);
                r = parse_sriov(t, w, v, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static unsigned cpulist_max(const char *l) {
        unsigned max = 0, v = 0;
        bool digits = false;

        for (const char *p = l;; p++) {
                if (*p >= '0' && *p <= '9') {
                        v = v * 10 + (unsigned) (*p - '0');
                        digits = true;
                        continue;
                }
                if (digits)
                        max = MAX(max, v);
                v = 0;
                digits = false;
                if (!*p)
                        break;
        }
        return max;
}

static int parse_numa(const topo_ctx *t, json_object *o) {
        sim *s = t->s;

        if (!json_object_is_type(o, json_type_object))
                return topo_error(t, "numa", "expected an object of node number to cpulist");
        json_object_object_foreach(o, key, val) {
                unsigned node;

                if (safe_atou(key, 10, &node) < 0 || node > 63)
                        return topo_error(t, "numa", "\"%s\" is not a node number", key);
                if (!json_object_is_type(val, json_type_string) ||
                    strspn(json_object_get_string(val), "0123456789-,") != strlen(json_object_get_string(val)))
                        return topo_error(t, "numa", "node %u: expected a cpulist like \"0-15\"", node);
                if (node >= s->n_numa) {
                        char **a = realloc(s->numa_cpus, (node + 1) * sizeof(*a));

                        if (!a)
                                return -ENOMEM;
                        for (size_t i = s->n_numa; i <= node; i++)
                                a[i] = NULL;
                        s->numa_cpus = a;
                        s->n_numa = node + 1;
                }
                free(s->numa_cpus[node]);
                s->numa_cpus[node] = strdup(json_object_get_string(val));
                if (!s->numa_cpus[node])
                        return -ENOMEM;
                s->n_cpus = MAX(s->n_cpus, cpulist_max(s->numa_cpus[node]) + 1);
        }
        return 0;
}

static int parse_latency(const topo_ctx *t, json_object *o) {
        if (!json_object_is_type(o, json_type_object))
                return topo_error(t, "latency", "expected an object of operation to milliseconds");
        json_object_object_foreach(o, key, val) {
                int l = sim_lat_from_string(key);

                if (l < 0)
                        return topo_error(t, "latency", "unknown operation \"%s\"", key);
                if (!json_object_is_type(val, json_type_int) || json_object_get_int64(val) < 0 ||
                    json_object_get_int64(val) > 60000)
                        return topo_error(t, "latency", "\"%s\": milliseconds between 0 and 60000", key);
                t->s->latency_ms[l] = (unsigned) json_object_get_int64(val);
        }
        return 0;
}

static int cmp_rid(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static bool same_slot(const sim_device *a, const sim_device *b) {
        return a->addr.domain == b->addr.domain && a->addr.bus == b->addr.bus && a->addr.dev == b->addr.dev;
}

/* Derived facts and cross-checks once every device is known: multi-function
 * slots, bridge bus ranges (secondary: the bus of the bridge's children;
 * subordinate: the highest bus below it, counting the buses the kernel
 * reserves for VFs), no address used twice (VFs included), and that each
 * boot-time binding is one the kernel would make (pci_match_device() with
 * the device's override). */
static int finish(const topo_ctx *t) {
        sim *s = t->s;
        _cleanup_free_ uint64_t *rids = NULL;
        unsigned max_bus = 0;
        size_t n = 0, cap = 0;

        for (size_t i = 0; i < s->n_topo; i++)
                cap += 1 + (s->topo[i]->sriov ? s->topo[i]->sriov->total : 0);
        rids = calloc(cap + 1, sizeof(*rids));
        if (!rids)
                return -ENOMEM;

        for (size_t i = 0; i < s->n_topo; i++) {
                sim_device *d = s->topo[i], *p = d->parent;
                unsigned last_bus = d->addr.bus;

                for (size_t j = 0; j < s->n_topo; j++)
                        if (s->topo[j] != d && same_slot(s->topo[j], d))
                                d->multifunction = true;
                if (p) {
                        if (d->addr.bus <= p->addr.bus)
                                return topo_error(t, d->name, "its bus must be behind its parent %s's bus", p->name);
                        if (p->secondary == 0)
                                p->secondary = d->addr.bus;
                        else if (p->secondary != d->addr.bus)
                                return topo_error(t, d->name, "all functions below %s must sit on one bus (%02x)",
                                                  p->name, p->secondary);
                }
                rids[n++] = ((uint64_t) d->addr.domain << 16) | pci_addr_rid(&d->addr);
                if (d->sriov)
                        for (unsigned k = 0; k < d->sriov->total; k++) {
                                uint32_t rid = pci_addr_rid(&d->addr) + d->sriov->offset +
                                               (uint32_t) d->sriov->stride * k;

                                rids[n++] = ((uint64_t) d->addr.domain << 16) | rid;
                                last_bus = MAX(last_bus, rid >> 8);
                        }
                max_bus = MAX(max_bus, last_bus);
                for (; p; p = p->parent)
                        p->subordinate = (uint8_t) MAX(p->subordinate, last_bus);
        }
        for (size_t i = 0; i < s->n_topo; i++) {
                sim_device *d = s->topo[i];

                if (!sim_device_is_bridge(d))
                        continue;
                if (d->secondary == 0) {
                        /* an empty port still gets a bus number of its own */
                        if (max_bus >= 0xff)
                                return topo_error(t, d->name, "no bus number left for this empty bridge");
                        d->secondary = (uint8_t) ++max_bus;
                }
                d->subordinate = MAX(d->subordinate, d->secondary);
        }
        qsort(rids, n, sizeof(*rids), cmp_rid);
        for (size_t i = 1; i < n; i++)
                if (rids[i] == rids[i - 1]) {
                        pci_addr a;
                        char b[PCI_ADDR_STRLEN];

                        pci_addr_from_rid((uint32_t) (rids[i] >> 16), (uint32_t) rids[i] & 0xffff, &a);
                        return topo_error(t, "devices", "%s is used twice (a device, or a VF of an SR-IOV PF)",
                                          pci_addr_format(&a, b));
                }

        for (size_t i = 0; i < s->n_topo; i++) {
                sim_device *d = s->topo[i];
                sim_driver *drv;
                sim_ident id;

                if (!d->init_driver)
                        continue;
                drv = sim_lookup_driver(s, d->init_driver);
                id = sim_device_ident(d);
                id.driver_override = d->init_override;
                if (!drv->loaded)
                        return topo_error(t, d->name, "bound to %s, which is not loaded", drv->name);
                if (!sim_pci_match_device(drv, &id))
                        return topo_error(t, d->name, "driver %s would not bind it: add its id to the "
                                          "driver's \"ids\" or a \"driver_override\"", drv->name);
        }
        if (s->n_cpus == 0)
                s->n_cpus = 8;
        return 0;
}

/* One JSON file, syntax errors as FILE:LINE:COL. */
static int read_json(const char *path, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        json_tokener *tok;
        json_object *root;
        size_t size;
        int r;

        r = read_full_file(path, &text, &size, 16 * 1024 * 1024);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int) size);
        if (!root || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) < size) {
                enum json_tokener_error e = json_tokener_get_error(tok);
                size_t end = json_tokener_get_parse_end(tok), line = 1, col = 1;

                for (size_t i = 0; i < end && i < size; i++) {
                        if (text[i] == '\n') {
                                line++;
                                col = 1;
                        } else
                                col++;
                }
                if (root && e == json_tokener_success) {
                        /* trailing content: allow only whitespace */
                        bool ws = true;

                        for (size_t i = end; i < size; i++)
                                ws = ws && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r');
                        if (ws)
                                goto parsed;
                }
                fprintf(stderr, "%s:%zu:%zu: %s\n", path, line, col,
                        e == json_tokener_continue ? "unexpected end of file" : json_tokener_error_desc(e));
                json_object_put(root);
                json_tokener_free(tok);
                return -EINVAL;
        }
parsed:
        json_tokener_free(tok);
        *ret = root;
        return 0;
}

/* key by key; a null value removes the key */
static void merge_object(json_object *dst, json_object *src) {
        json_object_object_foreach(src, key, val) {
                if (json_object_is_type(val, json_type_null))
                        json_object_object_del(dst, key);
                else
                        json_object_object_add(dst, key, json_object_get(val));
        }
}

static const char *device_bdf(json_object *dev) {
        json_object *b;

        if (!json_object_is_type(dev, json_type_object) || !json_object_object_get_ex(dev, "bdf", &b) ||
            !json_object_is_type(b, json_type_string))
                return NULL;
        return json_object_get_string(b);
}

/* the overlay onto its base: drivers by name, devices by "bdf" (new ones
 * are appended), anything else replaced */
static int merge_overlay(const char *path, json_object *base, json_object *over) {
        json_object_object_foreach(over, key, val) {
                json_object *b;

                if (streq(key, "base"))
                        continue;
                if (streq(key, "drivers") && json_object_object_get_ex(base, "drivers", &b) &&
                    json_object_is_type(b, json_type_object) && json_object_is_type(val, json_type_object)) {
                        json_object_object_foreach(val, name, drv) {
                                json_object *bd;

                                if (json_object_object_get_ex(b, name, &bd) && json_object_is_type(bd, json_type_object) &&
                                    json_object_is_type(drv, json_type_object))
                                        merge_object(bd, drv);
                                else if (json_object_is_type(drv, json_type_null))
                                        json_object_object_del(b, name);
                                else
                                        json_object_object_add(b, name, json_object_get(drv));
                        }
                } else if (streq(key, "devices") && json_object_object_get_ex(base, "devices", &b) &&
                           json_object_is_type(b, json_type_array) && json_object_is_type(val, json_type_array)) {
                        for (size_t i = 0; i < json_object_array_length(val); i++) {
                                json_object *dev = json_object_array_get_idx(val, i), *match = NULL;
                                const char *bdf = device_bdf(dev);

                                if (!bdf) {
                                        fprintf(stderr, "%s: devices[%zu]: an overlay's device needs a \"bdf\"\n", path, i);
                                        return -EINVAL;
                                }
                                for (size_t k = 0; k < json_object_array_length(b) && !match; k++) {
                                        const char *o = device_bdf(json_object_array_get_idx(b, k));

                                        if (o && streq(o, bdf))
                                                match = json_object_array_get_idx(b, k);
                                }
                                if (match)
                                        merge_object(match, dev);
                                else
                                        json_object_array_add(b, json_object_get(dev));
                        }
                } else
                        json_object_object_add(base, key, json_object_get(val));
        }
        return 0;
}

/* The file and, when it names one, its base (relative to its directory). */
static int load_json(const char *path, unsigned depth, json_object **ret) {
        json_object *root, *b, *base = NULL;
        int r;

        r = read_json(path, &root);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "base", &b)) {
                *ret = root;
                return 0;
        }
        if (!json_object_is_type(b, json_type_string) || depth >= 8) {
                fprintf(stderr, "%s: \"base\" must name a topology file (at most 8 levels)\n", path);
                json_object_put(root);
                return -EINVAL;
        }
        {
                const char *name = json_object_get_string(b), *slash = strrchr(path, '/');
                _cleanup_free_ char *bpath = name[0] == '/' || !slash ? strdup(name) :
                        strdup_printf("%.*s/%s", (int) (slash - path), path, name);

                if (!bpath) {
                        json_object_put(root);
                        return -ENOMEM;
                }
                r = load_json(bpath, depth + 1, &base);
        }
        if (r >= 0 && !json_object_is_type(base, json_type_object)) {
                fprintf(stderr, "%s: its base is not a JSON object\n", path);
                r = -EINVAL;
        }
        if (r >= 0)
                r = merge_overlay(path, base, root);
        json_object_put(root);
        if (r < 0) {
                json_object_put(base);
                return r;
        }
        *ret = base;
        return 0;
}

int sim_topology_load(sim *s, const char *path) {
        static const char *const keys[] = {
                "iommu", "iommu_type", "numa", "drivers", "devices", "latency", "base", "kernel", NULL,
        };
        json_object *root, *v;
        topo_ctx t = { .s = s, .path = path };
        const char *str;
        int r;

        s->topology_path = strdup(path);
        r = load_json(path, 0, &root);
        if (r < 0)
                return r;

        r = check_keys(&t, "top level", root, keys);
        if (r < 0)
                goto out;
        if ((r = get_bool(&t, "top level", root, "iommu", true, &s->iommu)) < 0)
                goto out;
        /* where kernel versions differ, the simulator models 6.1 (Debian
         * 12's) unless the topology says "6.12" */
        if ((r = get_string(&t, "top level", root, "kernel", &str)) < 0)
                goto out;
        if (!str || streq(str, "6.1"))
                s->kernel = 601;
        else if (streq(str, "6.12"))
                s->kernel = 612;
        else {
                r = topo_error(&t, "kernel", "must be \"6.1\" or \"6.12\"");
                goto out;
        }
        if ((r = get_string(&t, "top level", root, "iommu_type", &str)) < 0)
                goto out;
        if (str) {
                if (!streq(str, "DMA") && !streq(str, "DMA-FQ") && !streq(str, "identity")) {
                        r = topo_error(&t, "iommu_type", "must be \"DMA\", \"DMA-FQ\" or \"identity\"");
                        goto out;
                }
                free(s->iommu_type);
                s->iommu_type = strdup(str);
        }
        if (json_object_object_get_ex(root, "numa", &v) && (r = parse_numa(&t, v)) < 0)
                goto out;
        if (json_object_object_get_ex(root, "latency", &v) && (r = parse_latency(&t, v)) < 0)
                goto out;
        if (json_object_object_get_ex(root, "drivers", &v)) {
                if (!json_object_is_type(v, json_type_object)) {
                        r = topo_error(&t, "drivers", "expected an object of driver name to driver");
                        goto out;
                }
                json_object_object_foreach(v, name, drv) {
                        r = parse_driver(&t, name, drv);
                        if (r < 0)
                                goto out;
                }
        }
        if (!json_object_object_get_ex(root, "devices", &v) || !json_object_is_type(v, json_type_array)) {
                r = topo_error(&t, "devices", "an array of devices is required");
                goto out;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                r = parse_device(&t, i, json_object_array_get_idx(v, i));
                if (r < 0)
                        goto out;
        }
        r = finish(&t);
out:
        json_object_put(root);
        return r;
}
