/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the kernel puts into sysfs, and what its stores do. The attribute
 * formats, modes and store semantics follow drivers/pci/pci-sysfs.c,
 * drivers/pci/iov.c, drivers/pci/pci-driver.c (new_id_store,
 * remove_id_store), drivers/base/bus.c (bind_store, unbind_store,
 * drivers_probe_store, drivers_autoprobe_store), drivers/base/driver.c
 * (driver_set_override), drivers/base/core.c (uevent_store,
 * kobject_synth_uevent), net/core/net-sysfs.c and drivers/iommu/iommu.c.
 *
 * show() callbacks run with sim->lock held (except those flagged
 * otherwise); store() callbacks run with no lock held, take the device lock
 * where the kernel does, and return 0 or a negative errno. */

#include <ctype.h>
#include <limits.h>
#include <stdio.h>

#include "sim.h"
#include "util.h"

#define ARRAY_ATTRS(a) (a), ELEMENTSOF(a)

char *sim_devpath(const sim_node *n) {
        return n ? sim_node_path(n) : strdup("");
}

/* ---- PCI device attributes ---- */

#define DEV_SHOW(field, fmt)                                            \
        static int show_##field(void *obj, sim_buf *out) {              \
                sim_device *d = obj;                                    \
                return sim_buf_printf(out, fmt "\n", d->field);         \
        }

DEV_SHOW(vendor, "0x%04x")
DEV_SHOW(device, "0x%04x")
DEV_SHOW(subvendor, "0x%04x")
DEV_SHOW(subdevice, "0x%04x")
DEV_SHOW(class, "0x%06x")
DEV_SHOW(revision, "0x%02x")
DEV_SHOW(irq, "%u")
DEV_SHOW(numa_node, "%d")
DEV_SHOW(link_width, "%u")
DEV_SHOW(secondary, "%u")
DEV_SHOW(subordinate, "%u")

static int show_enable(void *obj, sim_buf *out) {
        sim_device *d = obj;

        return sim_buf_printf(out, "%u\n", d->enable_cnt);
}

/* enable_store(): refused while a driver is bound; pci_enable_device()
 * brings the function to D0 and turns Memory Space on, the last
 * pci_disable_device() turns Bus Master off */
static int store_enable(void *obj, const char *buf, size_t len) {
        sim_device *d = obj;
        sim *s = d->sim;
        unsigned long long v;
        int r = 0;

        if (kstrtoull(buf, 0, &v) < 0)
                return -EINVAL;
        pthread_mutex_lock(&d->lock);
        sim_lock(s);
        if (d->driver)
                r = -EBUSY;
        else if (v) {
                d->enable_cnt++;
                d->powered = true;
                d->command |= 0x0002;
        } else if (d->enable_cnt > 0) {
                if (--d->enable_cnt == 0)
                        d->command &= (uint16_t) ~0x0004;
        } else
                r = -EIO;
        sim_unlock(s);
        pthread_mutex_unlock(&d->lock);
        return r;
}

/* numa_node_store(): only online nodes (or NUMA_NO_NODE) */
static int store_numa_node(void *obj, const char *buf, size_t len) {
        sim_device *d = obj;
        sim *s = d->sim;
        int node, r = 0;

        if (kstrtoint(buf, 0, &node) < 0)
                return -EINVAL;
        sim_lock(s);
        if (node != -1 && !sim_cpulist(s, node))
                r = -EINVAL;
        else
                d->numa_node = node;
        sim_unlock(s);
        return r;
}

static int show_local_cpulist(void *obj, sim_buf *out) {
        sim_device *d = obj;
        const char *l = sim_cpulist(d->sim, d->numa_node);

        if (l)
                return sim_buf_printf(out, "%s\n", l);
        return sim_buf_printf(out, "0-%u\n", d->sim->n_cpus > 0 ? d->sim->n_cpus - 1 : 0);
}

static int show_modalias(void *obj, sim_buf *out) {
        sim_device *d = obj;

        return sim_buf_printf(out, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
                              d->vendor, d->device, d->subvendor, d->subdevice,
                              (d->class >> 16) & 0xff, (d->class >> 8) & 0xff, d->class & 0xff);
}

static int env_to_lines(const sim_buf *env, sim_buf *out) {
        for (size_t i = 0; env->data && i < env->len; i += strlen(env->data + i) + 1) {
                int r = sim_buf_printf(out, "%s\n", env->data + i);

                if (r < 0)
                        return r;
        }
        return 0;
}

static int show_dev_uevent(void *obj, sim_buf *out) {
        sim_buf env = {};
        int r;

        sim_device_uevent_env(obj, &env);
        r = env_to_lines(&env, out);
        sim_buf_free(&env);
        return r;
}

/* uuid_is_valid(): 8-4-4-4-12 hex digits */
static bool uuid_is_valid(const char *u, size_t n) {
        if (n < 36)
                return false;
        for (size_t i = 0; i < 36; i++)
                if ((i == 8 || i == 13 || i == 18 || i == 23) ? u[i] != '-' : !isxdigit((unsigned char) u[i]))
                        return false;
        return true;
}

/* kobject_action_type() and kobject_action_args(): an action word (exactly,
 * one trailing newline or NUL dropped), optionally followed by a UUID
 * (SYNTH_UUID) and " KEY=VALUE" pairs (SYNTH_ARG_KEY=VALUE, appended to
 * env when it is not NULL) */
static int parse_synth_action(const char *buf, size_t len, const char **ret, sim_buf *env) {
        static const char *const actions[] = {
                "add", "remove", "change", "move", "online", "offline", "bind", "unbind",
        };
        const char *args, *end;
        size_t first;

        if (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == 0))
                len--;
        if (len == 0)
                return -EINVAL;
        args = memchr(buf, ' ', len);
        first = args ? (size_t) (args - buf) : len;
        *ret = NULL;
        for (size_t i = 0; i < ELEMENTSOF(actions) && !*ret; i++)
                if (strlen(actions[i]) == first && strneq(buf, actions[i], first))
                        *ret = actions[i];
        if (!*ret)
                return -EINVAL;
        if (!args) {
                if (env)
                        (void) sim_buf_put(env, "SYNTH_UUID=0", sizeof("SYNTH_UUID=0"));
                return 0;
        }
        args++;
        end = buf + len;
        if (!uuid_is_valid(args, (size_t) (end - args)))
                return -EINVAL;
        if (env) {
                (void) sim_buf_printf(env, "SYNTH_UUID=%.36s", args);
                (void) sim_buf_put(env, "", 1);
        }
        for (const char *p = args + 36; p < end;) {
                const char *key, *eq, *val, *sp;

                if (*p != ' ')
                        return -EINVAL;
                key = ++p;
                if (key >= end)
                        return -EINVAL;
                eq = memchr(key, '=', (size_t) (end - key));
                if (!eq || eq == key || eq + 1 >= end)
                        return -EINVAL;
                val = eq + 1;
                sp = memchr(val, ' ', (size_t) (end - val));
                p = sp ? sp : end;
                if (env) {
                        (void) sim_buf_printf(env, "SYNTH_ARG_%.*s=%.*s", (int) (eq - key), key, (int) (p - val), val);
                        (void) sim_buf_put(env, "", 1);
                }
        }
        return 0;
}

/* uevent_store() → kobject_synth_uevent(): what `udevadm trigger` does */
static int store_dev_uevent(void *obj, const char *buf, size_t len) {
        sim_device *d = obj;
        sim *s = d->sim;
        const char *action;
        sim_buf env = {};

        if (parse_synth_action(buf, len, &action, &env) < 0) {
                sim_buf_free(&env);
                return -EINVAL;
        }
        sim_lock(s);
        sim_device_uevent_env(d, &env);
        if (d->dir)
                sim_uevent_emit(s, action, d->dir, "pci", &env);
        sim_unlock(s);
        sim_buf_free(&env);
        return 0;
}

/* power_state_show(): pci_power_name(current_state). "unknown" until a
 * driver's probe powered the function up; vfio-pci puts a function nobody
 * has open in D3hot (idle D3) and brings it to D0 while it is open and
 * when it lets go of it. */
static int show_power_state(void *obj, sim_buf *out) {
        sim_device *d = obj;
        sim *s = d->sim;
        const char *st = "unknown";

        if (d->driver && d->driver->vfio) {
                pthread_mutex_lock(&s->hold_lock);
                st = d->held ? "D0" : "D3hot";
                pthread_mutex_unlock(&s->hold_lock);
        } else if (d->powered)
                st = "D0";
        return sim_buf_printf(out, "%s\n", st);
}

static int show_driver_override(void *obj, sim_buf *out) {
        sim_device *d = obj;

        return sim_buf_printf(out, "%s\n", d->driver_override ?: "(null)");
}

/* driver_set_override(): the real length is strlen() of the buffer (python
 * writes "\0" to clear), a trailing newline ends the name, an empty string
 * or a lone "\n" clears, and the swap happens under the device lock */
static int store_driver_override(void *obj, const char *buf, size_t len) {
        sim_device *d = obj;
        sim *s = d->sim;
        _cleanup_free_ char *new = NULL;
        const char *cp;
        size_t l;
        int r;

        r = sim_inject_check(s, SIM_OP_OVERRIDE, d->name);
        if (r < 0)
                return r;
        if (len >= SIM_PAGE_SIZE - 1)
                return -EINVAL;
        l = strlen(buf);
        cp = l > 0 ? memchr(buf, '\n', l) : NULL;
        if (cp)
                l = (size_t) (cp - buf);
        if (l > 0) {
                new = strndup(buf, l);
                if (!new)
                        return -ENOMEM;
        }
        pthread_mutex_lock(&d->lock);
        sim_lock(s);
        free(d->driver_override);
        d->driver_override = TAKE_PTR(new);
        sim_unlock(s);
        pthread_mutex_unlock(&d->lock);
        return 0;
}

static int show_resource(void *obj, sim_buf *out) {
        sim_device *d = obj;
        /* PCI_BRIDGE_RESOURCES (13) lines for endpoints, DEVICE_COUNT_RESOURCE (17) for bridges */
        size_t max = sim_device_is_bridge(d) ? 17 : 13;

        for (size_t i = 0; i < max; i++) {
                uint64_t start = 0, end = 0, flags = 0;

                if (i == 0 && d->bar0_size) {
                        start = d->bar0;
                        end = d->bar0 + d->bar0_size - 1;
                        flags = 0x14220c;
                } else if (i == 7 && d->sriov) {
                        /* the VF BAR0 aperture of a PF (PCI_IOV_RESOURCES) */
                        start = 0x3a0000000000ULL + ((uint64_t) pci_addr_rid(&d->addr) << 28);
                        end = start + 0x10000ULL * d->sriov->total - 1;
                        flags = 0x14220c;
                }
                (void) sim_buf_printf(out, "0x%016llx 0x%016llx 0x%016llx\n",
                                      (unsigned long long) start, (unsigned long long) end,
                                      (unsigned long long) flags);
        }
        return out->oom ? -ENOMEM : 0;
}

/* pci_read_config(): a reader without CAP_SYS_ADMIN (checked on the opener,
 * approximated by uid 0) sees only the first 64 bytes */
static ssize_t read_config(void *obj, uid_t opener, void *buf, size_t size, off_t off) {
        sim_device *d = obj;
        uint8_t cfg[4096];
        size_t cfg_size = sim_config_size(d), limit = opener == 0 ? cfg_size : 64;

        if (off < 0)
                return -EINVAL;
        if ((size_t) off >= limit)
                return 0;
        sim_config_build(d, cfg, cfg_size);
        size = MIN(size, limit - (size_t) off);
        memcpy(buf, cfg + off, size);
        return (ssize_t) size;
}

/* writes to config space are accepted and dropped: the simulated hardware has
 * no writable registers (documented in README.md) */
static ssize_t write_config(void *obj, const void *buf, size_t size, off_t off) {
        sim_device *d = obj;
        size_t cfg_size = sim_config_size(d);

        if (off < 0)
                return -EINVAL;
        if ((size_t) off >= cfg_size)
                return 0;
        return (ssize_t) MIN(size, cfg_size - (size_t) off);
}

static size_t size_config(void *obj) {
        return sim_config_size(obj);
}

/* the "echo 1 > ATTR" stores: kstrtoul() (EINVAL), then the failure point */
static int parse_trigger(sim *s, const char *buf, sim_op op, const char *target, unsigned long long *ret) {
        if (kstrtoull(buf, 0, ret) < 0)
                return -EINVAL;
        return sim_inject_check(s, op, target);
}

/* remove_store(): pci_stop_and_remove_bus_device_locked() */
static int store_remove(void *obj, const char *buf, size_t len) {
        sim_device *d = obj;
        unsigned long long v;
        int r;

        r = parse_trigger(d->sim, buf, SIM_OP_REMOVE, d->name, &v);
        if (r >= 0 && v)
                (void) sim_device_hot_remove(d);
        return r;
}

/* dev_rescan_store(): rescans the bus; the simulator rescans every bus */
static int store_dev_rescan(void *obj, const char *buf, size_t len) {
        sim_device *d = obj;
        unsigned long long v;
        int r;

        r = parse_trigger(d->sim, buf, SIM_OP_RESCAN, d->name, &v);
        if (r >= 0 && v)
                (void) sim_bus_rescan(d->sim);
        return r;
}

/* reset_store(): only "1" */
static int store_reset(void *obj, const char *buf, size_t len) {
        sim_device *d = obj;
        unsigned long long v;

        if (kstrtoull(buf, 0, &v) < 0 || v != 1)
                return -EINVAL;
        return sim_inject_check(d->sim, SIM_OP_RESET, d->name);
}

static int show_link_speed(void *obj, sim_buf *out) {
        sim_device *d = obj;

        return sim_buf_printf(out, "%s\n", sim_link_speed_string(d->link_speed));
}

/* ---- SR-IOV attributes (iov.c) ---- */

#define SRIOV_SHOW(name, field, fmt)                                            \
        static int show_sriov_##name(void *obj, sim_buf *out) {                 \
                return sim_buf_printf(out, fmt "\n", ((sim_device *) obj)->sriov->field); \
        }

/* pci_sriov_get_totalvfs(): driver_max_VFs, which the PF driver may have
 * lowered (igb: 7 of the 82576's 8) until it is unbound */
SRIOV_SHOW(totalvfs, driver_max, "%u")
/* sriov_numvfs_show() takes the device lock (SIM_ATTR_DEVICE_LOCK): it
 * blocks while an SR-IOV change (or a removal waiting for a VFIO user) is
 * in progress */
SRIOV_SHOW(numvfs, num_vfs, "%u")
SRIOV_SHOW(offset, offset, "%u")
SRIOV_SHOW(stride, stride, "%u")
SRIOV_SHOW(vf_device, vf_device, "%x")
SRIOV_SHOW(autoprobe, autoprobe, "%u")

static int store_sriov_numvfs(void *obj, const char *buf, size_t len) {
        sim_device *pf = obj;
        sim *s = pf->sim;
        sim_driver *drv;
        uint16_t n, cur, total;
        int r;

        if (kstrtou16(buf, 0, &n) < 0)
                return -EINVAL;
        sim_lock(s);
        total = pf->sriov->driver_max;
        sim_unlock(s);
        if (n > total)
                return -ERANGE;

        pthread_mutex_lock(&pf->lock);
        sim_lock(s);
        cur = pf->sriov->num_vfs;
        drv = pf->driver;
        sim_unlock(s);
        if (n == cur)
                r = 0;
        else if (!drv || !drv->sriov)
                r = -ENOENT;            /* no driver, or one without sriov_configure */
        else if (n == 0)
                r = sim_sriov_configure(pf, 0);
        else if (cur)
                r = -EBUSY;
        else
                r = sim_sriov_configure(pf, n);
        pthread_mutex_unlock(&pf->lock);
        return r < 0 ? r : 0;
}

static int store_sriov_autoprobe(void *obj, const char *buf, size_t len) {
        sim_device *pf = obj;
        bool b;
        int r;

        r = sim_inject_check(pf->sim, SIM_OP_AUTOPROBE, pf->name);
        if (r < 0)
                return r;
        if (kstrtobool(buf, &b) < 0)
                return -EINVAL;
        sim_lock(pf->sim);
        pf->sriov->autoprobe = b;
        sim_unlock(pf->sim);
        return 0;
}

static int show_zero(void *obj, sim_buf *out) {
        return sim_buf_printf(out, "0\n");
}

/* sriov_vf_msix_count_store(): no simulated PF driver implements
 * sriov_set_msix_vec_count */
static int store_vf_msix_count(void *obj, const char *buf, size_t len) {
        sim_device *vf = obj;
        int v;

        if (kstrtoint(buf, 0, &v) < 0 || v < 0)
                return -EINVAL;
        pthread_mutex_lock(&vf->physfn->lock);
        pthread_mutex_unlock(&vf->physfn->lock);
        return -EOPNOTSUPP;
}

static const sim_attr pci_dev_attrs[] = {
        { .name = "vendor", .mode = 0444, .show = show_vendor },
        { .name = "device", .mode = 0444, .show = show_device },
        { .name = "subsystem_vendor", .mode = 0444, .show = show_subvendor },
        { .name = "subsystem_device", .mode = 0444, .show = show_subdevice },
        { .name = "class", .mode = 0444, .show = show_class },
        { .name = "revision", .mode = 0444, .show = show_revision },
        { .name = "irq", .mode = 0444, .show = show_irq },
        { .name = "enable", .mode = 0644, .show = show_enable, .store = store_enable },
        { .name = "numa_node", .mode = 0644, .show = show_numa_node, .store = store_numa_node },
        { .name = "local_cpulist", .mode = 0444, .show = show_local_cpulist },
        { .name = "modalias", .mode = 0444, .show = show_modalias },
        { .name = "uevent", .mode = 0644, .show = show_dev_uevent, .store = store_dev_uevent },
        { .name = "driver_override", .mode = 0644, .show = show_driver_override, .store = store_driver_override },
        { .name = "power_state", .mode = 0444, .show = show_power_state },
        { .name = "resource", .mode = 0444, .show = show_resource },
        { .name = "config", .mode = 0644, .read = read_config, .write = write_config, .size = size_config },
        { .name = "remove", .mode = 0200, .store = store_remove },
        { .name = "rescan", .mode = 0200, .store = store_dev_rescan },
        { .name = "reset", .mode = 0200, .store = store_reset },
};

static const sim_attr pcie_link_attrs[] = {
        { .name = "current_link_speed", .mode = 0444, .show = show_link_speed },
        { .name = "current_link_width", .mode = 0444, .show = show_link_width },
        { .name = "max_link_speed", .mode = 0444, .show = show_link_speed },
        { .name = "max_link_width", .mode = 0444, .show = show_link_width },
};

static const sim_attr bridge_attrs[] = {
        { .name = "secondary_bus_number", .mode = 0444, .show = show_secondary },
        { .name = "subordinate_bus_number", .mode = 0444, .show = show_subordinate },
};

static const sim_attr sriov_pf_attrs[] = {
        { .name = "sriov_totalvfs", .mode = 0444, .show = show_sriov_totalvfs },
        { .name = "sriov_numvfs", .mode = 0644, .flags = SIM_ATTR_DEVICE_LOCK,
          .show = show_sriov_numvfs, .store = store_sriov_numvfs },
        { .name = "sriov_offset", .mode = 0444, .show = show_sriov_offset },
        { .name = "sriov_stride", .mode = 0444, .show = show_sriov_stride },
        { .name = "sriov_vf_device", .mode = 0444, .show = show_sriov_vf_device },
        { .name = "sriov_drivers_autoprobe", .mode = 0644, .show = show_sriov_autoprobe, .store = store_sriov_autoprobe },
        { .name = "sriov_vf_total_msix", .mode = 0444, .show = show_zero },
};

static const sim_attr sriov_vf_attrs[] = {
        { .name = "sriov_vf_msix_count", .mode = 0200, .store = store_vf_msix_count },
};

static int show_slot_address(void *obj, sim_buf *out) {
        sim_device *port = obj;

        return sim_buf_printf(out, "%04x:%02x:00\n", port->addr.domain, port->secondary);
}

static const sim_attr slot_attrs[] = {
        { .name = "address", .mode = 0444, .show = show_slot_address },
};

static sim_node *device_parent_dir(sim_device *d) {
        sim *s = d->sim;
        char name[32];

        if (d->physfn)
                return d->physfn->dir ? d->physfn->dir->parent : NULL;
        if (d->parent)
                return d->parent->dir;
        (void) snprintf(name, sizeof(name), "pci%04x:%02x", d->addr.domain, d->addr.bus);
        return sim_node_child(s->devices_dir, name);
}

static int add_root_bus_dir(sim *s, const sim_device *d);

int sim_sysfs_add_device(sim_device *d) {
        sim *s = d->sim;
        sim_node *parent;
        int r;

        if (!d->parent && !d->physfn) {
                r = add_root_bus_dir(s, d);
                if (r < 0)
                        return r;
        }
        parent = device_parent_dir(d);
        if (!parent)
                return -ENODEV;
        d->dir = sim_dir_new(parent, d->name);
        if (!d->dir)
                return -EEXIST;

        r = sim_attrs_new(d->dir, ARRAY_ATTRS(pci_dev_attrs), d);
        if (r >= 0 && d->type != SIM_PCI_CONVENTIONAL)
                r = sim_attrs_new(d->dir, ARRAY_ATTRS(pcie_link_attrs), d);
        if (r >= 0 && sim_device_is_bridge(d))
                r = sim_attrs_new(d->dir, ARRAY_ATTRS(bridge_attrs), d);
        if (r >= 0 && d->sriov)
                r = sim_attrs_new(d->dir, ARRAY_ATTRS(sriov_pf_attrs), d);
        if (r >= 0 && d->physfn)
                r = sim_attrs_new(d->dir, ARRAY_ATTRS(sriov_vf_attrs), d);
        if (r >= 0 && (!sim_link_new(d->dir, "subsystem", s->bus_dir) ||
                       !sim_link_new(s->bus_devices, d->name, d->dir)))
                r = -ENOMEM;
        if (r >= 0 && d->slot) {
                sim_node *sd = sim_dir_new(s->slots_dir, d->slot);

                r = sd ? sim_attrs_new(sd, ARRAY_ATTRS(slot_attrs), d) : -EEXIST;
        }
        if (r < 0) {
                sim_sysfs_remove_device(d);
                return r;
        }
        return 0;
}

void sim_sysfs_remove_device(sim_device *d) {
        sim *s = d->sim;

        if (d->slot)
                sim_node_remove_child(s->slots_dir, d->slot);
        sim_node_remove_child(s->bus_devices, d->name);
        sim_node_remove(d->dir);
        d->dir = NULL;
}

int sim_sysfs_add_driver_links(sim_device *d) {
        sim_driver *drv = d->driver;

        if (!d->dir || !drv->dir)
                return -ENODEV;
        if (!sim_link_new(d->dir, "driver", drv->dir))
                return -ENOMEM;
        if (!sim_link_new(drv->dir, d->name, d->dir)) {
                sim_node_remove_child(d->dir, "driver");
                return -ENOMEM;
        }
        return 0;
}

void sim_sysfs_remove_driver_links(sim_device *d) {
        if (d->dir)
                sim_node_remove_child(d->dir, "driver");
        if (d->driver && d->driver->dir)
                sim_node_remove_child(d->driver->dir, d->name);
}

int sim_sysfs_add_virtfn_links(sim_device *pf, sim_device *vf) {
        char name[32];

        (void) snprintf(name, sizeof(name), "virtfn%u", vf->vf_index);
        if (!sim_link_new(pf->dir, name, vf->dir) || !sim_link_new(vf->dir, "physfn", pf->dir))
                return -ENOMEM;
        return 0;
}

void sim_sysfs_remove_virtfn_links(sim_device *pf, sim_device *vf) {
        char name[32];

        (void) snprintf(name, sizeof(name), "virtfn%u", vf->vf_index);
        if (pf->dir)
                sim_node_remove_child(pf->dir, name);
        if (vf->dir)
                sim_node_remove_child(vf->dir, "physfn");
}

/* ---- drivers (bus.c, pci-driver.c) ---- */

/* bind_store(): device_driver_attach() if the device exists and the driver
 * matches it; -ENODEV otherwise */
/* the stores that name a device: the failure point, then
 * bus_find_device_by_name() (-ENODEV if there is none) */
static int written_device(sim *s, sim_op op, const char *buf, sim_device **ret) {
        int r;

        r = sim_inject_check(s, op, buf);
        if (r < 0)
                return r;
        sim_lock(s);
        *ret = sim_find_device(s, buf);
        if (*ret)
                sim_device_ref(*ret);
        sim_unlock(s);
        return *ret ? 0 : -ENODEV;
}

static int store_bind(void *obj, const char *buf, size_t len) {
        sim_driver *drv = obj;
        sim *s = drv->sim;
        sim_device *d;
        bool match;
        int r;

        r = written_device(s, SIM_OP_BIND, buf, &d);
        if (r < 0)
                return r;
        sim_lock(s);
        match = sim_driver_match_device(drv, d);
        sim_unlock(s);
        r = match ? sim_device_driver_attach(drv, d) : -ENODEV;
        sim_device_unref(d);
        return r;
}

/* unbind_store(): -ENODEV unless bound to this driver; device_driver_detach()
 * then waits for the device lock and releases whatever is bound by then */
static int store_unbind(void *obj, const char *buf, size_t len) {
        sim_driver *drv = obj;
        sim *s = drv->sim;
        sim_device *d;
        bool bound;
        int r;

        r = written_device(s, SIM_OP_UNBIND, buf, &d);
        if (r < 0)
                return r;
        sim_lock(s);
        bound = d->driver == drv;
        sim_unlock(s);
        if (bound)
                sim_device_release_driver(d);
        sim_device_unref(d);
        return bound ? 0 : -ENODEV;
}

static void id_from_fields(const unsigned long long *v, int fields, sim_pci_id *id) {
        *id = (sim_pci_id) {
                .vendor = (uint32_t) v[0],
                .device = (uint32_t) v[1],
                .subvendor = fields > 2 ? (uint32_t) v[2] : PCI_ANY_ID,
                .subdevice = fields > 3 ? (uint32_t) v[3] : PCI_ANY_ID,
                .class = fields > 4 ? (uint32_t) v[4] : 0,
                .class_mask = fields > 5 ? (uint32_t) v[5] : 0,
                .driver_data = fields > 6 ? (unsigned long) v[6] : 0,
        };
}

/* new_id_store(): "vendor device [subvendor subdevice class class_mask
 * driver_data]" in hex; with fewer than 7 fields a device with those ids
 * that the driver already matches is -EEXIST; driver_data must be one of
 * the id table's; then pci_add_dynid() → driver_attach() */
static int store_new_id(void *obj, const char *buf, size_t len) {
        sim_driver *drv = obj;
        sim *s = drv->sim;
        unsigned long long v[7] = {};
        sim_pci_id id, *a;
        int fields, r;

        r = sim_inject_check(s, SIM_OP_NEW_ID, drv->name);
        if (r < 0)
                return r;
        fields = ksscanf_hex(buf, v, 7);
        if (fields < 2)
                return -EINVAL;
        id_from_fields(v, fields, &id);

        sim_lock(s);
        if (fields != 7) {
                sim_ident fake = {
                        .vendor = (uint16_t) id.vendor,
                        .device = (uint16_t) id.device,
                        .subvendor = (uint16_t) id.subvendor,
                        .subdevice = (uint16_t) id.subdevice,
                        .class = id.class,
                };

                if (sim_pci_match_device(drv, &fake)) {
                        sim_unlock(s);
                        return -EEXIST;
                }
        }
        if (drv->has_id_table) {
                bool ok = false;

                for (size_t i = 0; i < drv->n_ids; i++)
                        ok = ok || drv->ids[i].driver_data == id.driver_data;
                if (!ok) {
                        sim_unlock(s);
                        return -EINVAL;
                }
        }
        a = realloc(drv->dynids, (drv->n_dynids + 1) * sizeof(*a));
        if (!a) {
                sim_unlock(s);
                return -ENOMEM;
        }
        drv->dynids = a;
        drv->dynids[drv->n_dynids++] = id;
        sim_unlock(s);

        sim_driver_attach(drv);
        return 0;
}

/* remove_id_store(): the first dynamic id that matches, or -ENODEV */
static int store_remove_id(void *obj, const char *buf, size_t len) {
        sim_driver *drv = obj;
        sim *s = drv->sim;
        unsigned long long v[7] = {};
        sim_pci_id id;
        int fields, r = -ENODEV;

        r = sim_inject_check(s, SIM_OP_REMOVE_ID, drv->name);
        if (r < 0)
                return r;
        fields = ksscanf_hex(buf, v, 6);
        if (fields < 2)
                return -EINVAL;
        id_from_fields(v, fields, &id);

        r = -ENODEV;
        sim_lock(s);
        for (size_t i = 0; i < drv->n_dynids; i++) {
                const sim_pci_id *e = &drv->dynids[i];

                if (e->vendor == id.vendor && e->device == id.device &&
                    (id.subvendor == PCI_ANY_ID || e->subvendor == id.subvendor) &&
                    (id.subdevice == PCI_ANY_ID || e->subdevice == id.subdevice) &&
                    !((e->class ^ id.class) & id.class_mask)) {
                        memmove(drv->dynids + i, drv->dynids + i + 1, (drv->n_dynids - i - 1) * sizeof(*e));
                        drv->n_dynids--;
                        r = 0;
                        break;
                }
        }
        sim_unlock(s);
        return r;
}

/* the uevent file of drivers, buses and modules: a valid action is
 * accepted; the simulator sends no uevent for those kobjects */
static int store_synth_only(void *obj, const char *buf, size_t len) {
        const char *action;

        return parse_synth_action(buf, len, &action, NULL);
}

static const sim_attr driver_attrs[] = {
        { .name = "bind", .mode = 0200, .store = store_bind },
        { .name = "unbind", .mode = 0200, .store = store_unbind },
        { .name = "new_id", .mode = 0200, .store = store_new_id },
        { .name = "remove_id", .mode = 0200, .store = store_remove_id },
        { .name = "uevent", .mode = 0200, .store = store_synth_only },
};

static int show_module_refcnt(void *obj, sim_buf *out) {
        sim_driver *drv = obj;
        unsigned n = 0;

        pthread_mutex_lock(&drv->sim->hold_lock);
        for (size_t i = 0; i < drv->n_bound; i++)
                n += drv->bound[i]->held;
        pthread_mutex_unlock(&drv->sim->hold_lock);
        return sim_buf_printf(out, "%u\n", n);
}

static int show_module_initstate(void *obj, sim_buf *out) {
        return sim_buf_printf(out, "live\n");
}

static const sim_attr module_attrs[] = {
        { .name = "refcnt", .mode = 0444, .show = show_module_refcnt },
        { .name = "initstate", .mode = 0444, .show = show_module_initstate },
        { .name = "uevent", .mode = 0200, .store = store_synth_only },
};

int sim_sysfs_add_driver(sim_driver *drv) {
        sim *s = drv->sim;
        _cleanup_free_ char *pciname = NULL;
        sim_node *drivers;
        int r;

        drv->dir = sim_dir_new(s->bus_drivers, drv->name);
        if (!drv->dir)
                return -EEXIST;
        if (drv->builtin)
                /* built in: no module/ directory, no "module" link */
                return sim_attrs_new(drv->dir, ARRAY_ATTRS(driver_attrs), drv);
        drv->module_dir = sim_dir_new(s->module_dir, drv->module);
        if (!drv->module_dir) {
                sim_sysfs_remove_driver(drv);
                return -EEXIST;
        }
        pciname = strdup_printf("pci:%s", drv->name);
        drivers = sim_dir_new(drv->module_dir, "drivers");
        r = sim_attrs_new(drv->dir, ARRAY_ATTRS(driver_attrs), drv);
        if (r >= 0)
                r = sim_attrs_new(drv->module_dir, ARRAY_ATTRS(module_attrs), drv);
        if (r >= 0 && (!pciname || !drivers || !sim_dir_new(drv->module_dir, "holders") ||
                       !sim_link_new(drv->dir, "module", drv->module_dir) ||
                       !sim_link_new(drivers, pciname, drv->dir)))
                r = -ENOMEM;
        if (r < 0)
                sim_sysfs_remove_driver(drv);
        return r;
}

void sim_sysfs_remove_driver(sim_driver *drv) {
        sim_node_remove(drv->dir);
        sim_node_remove(drv->module_dir);
        drv->dir = drv->module_dir = NULL;
}

/* ---- net devices (net-sysfs.c) ---- */

#define ND_SHOW(name, fmt, ...)                                         \
        static int show_nd_##name(void *obj, sim_buf *out) {            \
                sim_netdev *nd = obj;                                   \
                return sim_buf_printf(out, fmt "\n", __VA_ARGS__);      \
        }

ND_SHOW(address, "%02x:%02x:%02x:%02x:%02x:%02x",
        nd->mac[0], nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4], nd->mac[5])
#define ND_CONST(name, text)                                            \
        static int show_nd_##name(void *obj, sim_buf *out) {            \
                return sim_buf_printf(out, "%s\n", text);               \
        }

ND_CONST(addr_len, "6")
/* NET_ADDR_PERM for a PF's address from its EEPROM; a VF driver (igbvf,
 * iavf, mlx5) makes up a random one when the PF assigned none:
 * NET_ADDR_RANDOM */
ND_SHOW(addr_assign_type, "%d", nd->dev && nd->dev->physfn ? 1 : 0)
ND_CONST(broadcast, "ff:ff:ff:ff:ff:ff")
ND_CONST(dev_id, "0x0")
ND_CONST(dev_port, "0")
ND_CONST(type, "1")
ND_SHOW(flags, "0x%x", nd->up ? 0x1003 : 0x1002)
/* operstate: RFC 2863 as dev_base_lock'ed linkwatch sets it: up with a
 * carrier, else down */
ND_SHOW(ifindex, "%d", nd->ifindex)
ND_SHOW(iflink, "%d", nd->ifindex)
ND_SHOW(mtu, "%u", nd->mtu)
ND_SHOW(tx_queue_len, "%u", nd->tx_queue_len)
ND_SHOW(operstate, "%s", sim_netdev_carrier(nd) ? "up" : "down")
ND_SHOW(uevent, "INTERFACE=%s\nIFINDEX=%d", nd->name, nd->ifindex)

/* carrier_show(): only meaningful while the interface is up */
static int show_nd_carrier(void *obj, sim_buf *out) {
        sim_netdev *nd = obj;

        if (!nd->up)
                return -EINVAL;
        return sim_buf_printf(out, "%d\n", sim_netdev_carrier(nd));
}

/* speed_show() / duplex_show(): EINVAL unless running; then the driver's
 * get_link_ksettings(): SPEED_UNKNOWN (-1) and "unknown" without a link */
static int show_nd_speed(void *obj, sim_buf *out) {
        sim_netdev *nd = obj;

        if (!nd->up)
                return -EINVAL;
        return sim_buf_printf(out, "%d\n", sim_netdev_carrier(nd) ? (int) nd->speed : -1);
}

static int show_nd_duplex(void *obj, sim_buf *out) {
        sim_netdev *nd = obj;

        if (!nd->up)
                return -EINVAL;
        return sim_buf_printf(out, "%s\n", sim_netdev_carrier(nd) ? "full" : "unknown");
}

static int store_nd_mtu(void *obj, const char *buf, size_t len) {
        sim_netdev *nd = obj;
        unsigned long long v;

        int r = 0;

        if (kstrtoull(buf, 0, &v) < 0)
                return -EINVAL;
        /* dev_validate_mtu(): ETH_MIN_MTU .. the driver's max_mtu */
        sim_lock(nd->sim);
        if (v < 68 || v > (nd->dev && nd->dev->driver ? nd->dev->driver->max_mtu : 9702))
                r = -EINVAL;
        else if (nd->mtu != v) {
                nd->mtu = (unsigned) v;
                sim_rtnl_notify_link(nd, false);        /* NETDEV_CHANGEMTU */
        }
        sim_unlock(nd->sim);
        return r;
}

/* change_tx_queue_len(): any unsigned int */
static int store_nd_tx_queue_len(void *obj, const char *buf, size_t len) {
        sim_netdev *nd = obj;
        unsigned long long v;

        if (kstrtoull(buf, 0, &v) < 0)
                return -EINVAL;
        if (v > UINT_MAX)
                return -ERANGE;
        sim_lock(nd->sim);
        nd->tx_queue_len = (unsigned) v;
        sim_unlock(nd->sim);
        return 0;
}

static int store_nd_flags(void *obj, const char *buf, size_t len) {
        sim_netdev *nd = obj;
        unsigned long long v;

        if (kstrtoull(buf, 0, &v) < 0)
                return -EINVAL;
        sim_lock(nd->sim);
        if (nd->up != (bool) (v & 1)) {
                nd->up = v & 1;
                sim_rtnl_notify_flags(nd);
        }
        sim_unlock(nd->sim);
        return 0;
}

static const sim_attr netdev_attrs[] = {
        { .name = "address", .mode = 0444, .show = show_nd_address },
        { .name = "addr_len", .mode = 0444, .show = show_nd_addr_len },
        { .name = "addr_assign_type", .mode = 0444, .show = show_nd_addr_assign_type },
        { .name = "broadcast", .mode = 0444, .show = show_nd_broadcast },
        { .name = "carrier", .mode = 0644, .show = show_nd_carrier },
        { .name = "dev_id", .mode = 0444, .show = show_nd_dev_id },
        { .name = "dev_port", .mode = 0444, .show = show_nd_dev_port },
        { .name = "duplex", .mode = 0444, .show = show_nd_duplex },
        { .name = "flags", .mode = 0644, .show = show_nd_flags, .store = store_nd_flags },
        { .name = "ifindex", .mode = 0444, .show = show_nd_ifindex },
        { .name = "iflink", .mode = 0444, .show = show_nd_iflink },
        { .name = "mtu", .mode = 0644, .show = show_nd_mtu, .store = store_nd_mtu },
        { .name = "operstate", .mode = 0444, .show = show_nd_operstate },
        { .name = "speed", .mode = 0444, .show = show_nd_speed },
        { .name = "type", .mode = 0444, .show = show_nd_type },
        { .name = "tx_queue_len", .mode = 0644, .show = show_nd_tx_queue_len, .store = store_nd_tx_queue_len },
        { .name = "uevent", .mode = 0644, .show = show_nd_uevent, .store = store_synth_only },
};

int sim_sysfs_add_netdev(sim_netdev *nd) {
        sim *s = nd->sim;
        sim_node *net;
        int r;

        net = sim_dir_get(nd->dev->dir, "net");
        if (!net)
                return -ENOMEM;
        nd->dir = sim_dir_new(net, nd->name);
        if (!nd->dir)
                return -EEXIST;
        r = sim_attrs_new(nd->dir, ARRAY_ATTRS(netdev_attrs), nd);
        if (r >= 0 && (!sim_link_new(nd->dir, "device", nd->dev->dir) ||
                       !sim_link_new(nd->dir, "subsystem", s->class_net)))
                r = -ENOMEM;
        if (r >= 0) {
                nd->class_link = sim_link_new(s->class_net, nd->name, nd->dir);
                if (!nd->class_link)
                        r = -EEXIST;
        }
        if (r < 0)
                sim_sysfs_remove_netdev(nd);
        return r;
}

void sim_sysfs_remove_netdev(sim_netdev *nd) {
        sim_node *net = nd->dir ? nd->dir->parent : NULL;

        sim_node_remove(nd->class_link);
        sim_node_remove(nd->dir);
        nd->class_link = nd->dir = NULL;
        sim_node_remove_if_empty(net);
}

/* ---- IOMMU groups (iommu.c) ---- */

static int show_group_type(void *obj, sim_buf *out) {
        return sim_buf_printf(out, "%s\n", ((sim_group *) obj)->type);
}

/* iommu_group_store_type(): a known type ("auto": the default one). Then,
 * on 6.1 (iommu_change_dev_def_domain()): the group must have exactly one
 * device (EINVAL) with no driver bound (EBUSY). On 6.12: refused (EPERM)
 * for an empty group and while the group has a DMA owner: a bound driver
 * that uses the DMA API, or a VFIO user; vfio-pci itself manages DMA
 * (driver_managed_dma) and does not count. On both, DMA to DMA-FQ only adds
 * a flush queue and is allowed whatever is bound. */
static int store_group_type(void *obj, const char *buf, size_t len) {
        static const char *const types[] = { "identity", "DMA", "DMA-FQ", "auto" };
        sim_group *g = obj;
        sim *s = g->sim;
        const char *t = NULL;
        bool fq_only;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (sysfs_streq(buf, types[i]))
                        t = types[i];
        if (!t)
                return -EINVAL;
        if (streq(t, "auto"))
                t = s->iommu_type;
        sim_lock(s);
        pthread_mutex_lock(&s->hold_lock);
        fq_only = streq(t, "DMA-FQ") && streq(g->type, "DMA");
        if (fq_only)
                r = 0;
        else if (s->kernel < 612) {
                if (g->n_devs != 1)
                        r = -EINVAL;
                else if (g->devs[0]->driver)
                        r = -EBUSY;
        } else {
                if (g->n_devs == 0)
                        r = -EPERM;
                for (size_t i = 0; i < g->n_devs; i++)
                        if ((g->devs[i]->driver && !g->devs[i]->driver->vfio) || g->devs[i]->held)
                                r = -EPERM;
        }
        pthread_mutex_unlock(&s->hold_lock);
        if (r == 0) {
                char *n = strdup(t);

                if (n) {
                        free(g->type);
                        g->type = n;
                } else
                        r = -ENOMEM;
        }
        sim_unlock(s);
        return r;
}

static int cmp_region(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

/* iommu_get_group_resv_regions(): the regions of every member, sorted by
 * address (the fixed-width hex sorts as text), duplicates once; on x86 the
 * interrupt (MSI) window is reserved for every device */
static int show_group_reserved(void *obj, sim_buf *out) {
        static const char msi[] = "0x00000000fee00000 0x00000000feefffff msi";
        sim_group *g = obj;
        _cleanup_free_ const char **l = NULL;
        size_t n = 1;
        int r = 0;

        for (size_t i = 0; i < g->n_devs; i++)
                n += strv_length(g->devs[i]->reserved);
        l = calloc(n, sizeof(*l));
        if (!l)
                return -ENOMEM;
        n = 0;
        l[n++] = msi;
        for (size_t i = 0; i < g->n_devs; i++)
                STRV_FOREACH(p, g->devs[i]->reserved)
                        l[n++] = *p;
        qsort(l, n, sizeof(*l), cmp_region);
        for (size_t i = 0; i < n && r >= 0; i++)
                if (i == 0 || !streq(l[i], l[i - 1]))
                        r = sim_buf_printf(out, "%s\n", l[i]);
        return r;
}

static const sim_attr group_attrs[] = {
        { .name = "type", .mode = 0644, .show = show_group_type, .store = store_group_type },
        { .name = "reserved_regions", .mode = 0444, .show = show_group_reserved },
};

int sim_sysfs_add_group(sim_group *g) {
        char name[16];
        int r;

        (void) snprintf(name, sizeof(name), "%d", g->id);
        g->dir = sim_dir_new(g->sim->iommu_groups_dir, name);
        if (!g->dir)
                return -EEXIST;
        g->devices_dir = sim_dir_new(g->dir, "devices");
        r = g->devices_dir ? sim_attrs_new(g->dir, ARRAY_ATTRS(group_attrs), g) : -ENOMEM;
        if (r < 0)
                sim_sysfs_remove_group(g);
        return r;
}

void sim_sysfs_remove_group(sim_group *g) {
        sim_node_remove(g->dir);
        g->dir = g->devices_dir = NULL;
}

int sim_sysfs_group_link(sim_group *g, sim_device *d) {
        if (!sim_link_new(d->dir, "iommu_group", g->dir) || !sim_link_new(g->devices_dir, d->name, d->dir))
                return -ENOMEM;
        return 0;
}

void sim_sysfs_group_unlink(sim_group *g, sim_device *d) {
        if (d->dir)
                sim_node_remove_child(d->dir, "iommu_group");
        if (g->devices_dir)
                sim_node_remove_child(g->devices_dir, d->name);
}

/* ---- bus, kernel and .sim attributes ---- */

/* drivers_probe_store(): -ENODEV for an unknown device; an unbound device is
 * offered to every driver, and it is a success even if none took it */
static int store_drivers_probe(void *obj, const char *buf, size_t len) {
        sim *s = obj;
        sim_device *d;
        bool bound;
        int r;

        r = written_device(s, SIM_OP_DRIVERS_PROBE, buf, &d);
        if (r < 0)
                return r;
        sim_lock(s);
        bound = d->driver;
        sim_unlock(s);
        r = bound ? 0 : sim_device_attach(d);
        sim_device_unref(d);
        return r < 0 ? -EINVAL : 0;
}

static int show_drivers_autoprobe(void *obj, sim_buf *out) {
        return sim_buf_printf(out, "%d\n", ((sim *) obj)->bus_autoprobe);
}

/* drivers_autoprobe_store(): "0..." disables, anything else enables */
static int store_drivers_autoprobe(void *obj, const char *buf, size_t len) {
        sim *s = obj;

        sim_lock(s);
        s->bus_autoprobe = buf[0] != '0';
        sim_unlock(s);
        return 0;
}

/* rescan_store() */
static int store_bus_rescan(void *obj, const char *buf, size_t len) {
        sim *s = obj;
        unsigned long long v;
        int r;

        r = parse_trigger(s, buf, SIM_OP_RESCAN, "*", &v);
        if (r >= 0 && v)
                (void) sim_bus_rescan(s);
        return r;
}

static int show_seqnum(void *obj, sim_buf *out) {
        return sim_buf_printf(out, "%llu\n", (unsigned long long) ((sim *) obj)->seqnum);
}

static int show_empty(void *obj, sim_buf *out) {
        return 0;
}

static int store_ctl(void *obj, const char *buf, size_t len) {
        return sim_ctl_execute(obj, buf);
}

static int show_state(void *obj, sim_buf *out) {
        return sim_state_dump(obj, out);
}

static int show_log(void *obj, sim_buf *out) {
        sim *s = obj;
        int r;

        pthread_mutex_lock(&s->log_lock);
        r = s->log.data ? sim_buf_put(out, s->log.data, s->log.len) : 0;
        pthread_mutex_unlock(&s->log_lock);
        return r;
}

static int show_points(void *obj, sim_buf *out) {
        sim *s = obj;
        int r;

        pthread_mutex_lock(&s->ctl_lock);
        r = s->points.data ? sim_buf_put(out, s->points.data, s->points.len) : 0;
        pthread_mutex_unlock(&s->ctl_lock);
        return r;
}

static int show_faults(void *obj, sim_buf *out) {
        return sim_inject_dump(obj, out);
}

static int show_uevents(void *obj, sim_buf *out) {
        sim *s = obj;

        return s->uevent_log.data ? sim_buf_put(out, s->uevent_log.data, s->uevent_log.len) : 0;
}

static const sim_attr bus_attrs[] = {
        { .name = "drivers_probe", .mode = 0200, .store = store_drivers_probe },
        { .name = "drivers_autoprobe", .mode = 0644, .show = show_drivers_autoprobe, .store = store_drivers_autoprobe },
        { .name = "rescan", .mode = 0200, .store = store_bus_rescan },
        { .name = "uevent", .mode = 0200, .store = store_synth_only },
};

static const sim_attr kernel_attrs[] = {
        { .name = "uevent_seqnum", .mode = 0444, .show = show_seqnum },
};

static const sim_attr root_bus_attrs[] = {
        { .name = "uevent", .mode = 0644, .show = show_empty, .store = store_synth_only },
};

static const sim_attr ctl_attrs[] = {
        { .name = "ctl", .mode = 0200, .store = store_ctl },
        { .name = "state", .mode = 0444, .flags = SIM_ATTR_NOLOCK, .show = show_state, .unbounded = true },
        { .name = "log", .mode = 0444, .flags = SIM_ATTR_NOLOCK, .show = show_log, .unbounded = true },
        { .name = "uevents", .mode = 0444, .show = show_uevents, .unbounded = true },
        { .name = "points", .mode = 0444, .flags = SIM_ATTR_NOLOCK, .show = show_points, .unbounded = true },
        { .name = "faults", .mode = 0444, .flags = SIM_ATTR_NOLOCK, .show = show_faults, .unbounded = true },
};

static int add_root_bus_dir(sim *s, const sim_device *d) {
        char name[32];
        sim_node *n;

        (void) snprintf(name, sizeof(name), "pci%04x:%02x", d->addr.domain, d->addr.bus);
        if (sim_node_child(s->devices_dir, name))
                return 0;
        n = sim_dir_new(s->devices_dir, name);
        if (!n)
                return -ENOMEM;
        return sim_attrs_new(n, ARRAY_ATTRS(root_bus_attrs), s);
}

int sim_sysfs_init(sim *s) {
        sim_node *r = s->root, *kernel, *bus, *class;

        s->devices_dir = sim_dir_new(r, "devices");
        bus = sim_dir_new(r, "bus");
        class = sim_dir_new(r, "class");
        kernel = sim_dir_new(r, "kernel");
        s->module_dir = sim_dir_new(r, "module");
        s->sim_dir = sim_dir_new(r, ".sim");
        if (!s->devices_dir || !bus || !class || !kernel || !s->module_dir || !s->sim_dir)
                return -ENOMEM;
        s->sim_dir->hidden = true;
        s->bus_dir = sim_dir_new(bus, "pci");
        s->class_net = sim_dir_new(class, "net");
        s->iommu_groups_dir = sim_dir_new(kernel, "iommu_groups");
        if (!s->bus_dir || !s->class_net || !s->iommu_groups_dir)
                return -ENOMEM;
        s->bus_devices = sim_dir_new(s->bus_dir, "devices");
        s->bus_drivers = sim_dir_new(s->bus_dir, "drivers");
        s->slots_dir = sim_dir_new(s->bus_dir, "slots");
        if (!s->bus_devices || !s->bus_drivers || !s->slots_dir)
                return -ENOMEM;
        if (sim_attrs_new(s->bus_dir, ARRAY_ATTRS(bus_attrs), s) < 0 ||
            sim_attrs_new(kernel, ARRAY_ATTRS(kernel_attrs), s) < 0 ||
            sim_attrs_new(s->sim_dir, ARRAY_ATTRS(ctl_attrs), s) < 0)
                return -ENOMEM;
        return 0;
}
