/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated kernel: driver core, PCI core, SR-IOV, IOMMU groups and the
 * net devices that drivers register. Each function names the kernel function
 * it models; the behaviour was checked against the kernel sources:
 *   drivers/base/dd.c        really_probe, __driver_probe_device,
 *                            device_driver_attach, __device_attach,
 *                            __driver_attach, __device_release_driver
 *   drivers/base/bus.c       bind_store, unbind_store, drivers_probe_store,
 *                            bus_rescan_devices_helper, bus_remove_driver
 *   drivers/pci/pci-driver.c pci_match_one_device, pci_match_device,
 *                            pci_device_probe, pci_device_can_probe
 *   drivers/pci/iov.c        sriov_enable, sriov_disable, sriov_add_vfs,
 *                            sriov_del_vfs, pci_iov_add_virtfn,
 *                            pci_iov_remove_virtfn, pci_iov_sysfs_link,
 *                            pci_sriov_configure_simple, pci_vfs_assigned
 *   drivers/pci/remove.c     pci_stop_bus_device, pci_remove_bus_device
 *   drivers/pci/probe.c      pci_scan_child_bus, pci_bus_add_devices
 *   drivers/iommu/iommu.c    pci_device_group, iommu_group_alloc (ida:
 *                            lowest free id), iommu_group_remove_device
 *   drivers/pci/pci.c        pci_acs_enabled, pci_acs_path_enabled
 * Probe errors are passed around as positive errno values, as the kernel
 * does between really_probe() and its callers, so that they can be told
 * apart from driver core errors (negative). */

#include <stdio.h>

#include "sim.h"
#include "util.h"

#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_SRIOV_CTRL_VFE 0x0001
#define PCI_SRIOV_CTRL_MSE 0x0008

static void device_release(sim_kobj *k) {
        sim_device *d = (sim_device *) k;

        pthread_mutex_destroy(&d->lock);
        if (d->sriov) {
                free(d->sriov->vfs);
                free(d->sriov->vf_netdev);
                free(d->sriov);
        }
        if (d->physfn)
                sim_device_unref(d->physfn);
        free(d->netdevs);
        strv_free(d->reserved);
        free(d->driver_override);
        free(d->init_driver);
        free(d->init_override);
        free(d->netdev_name);
        free(d->slot);
        free(d);
}

sim_device *sim_device_ref(sim_device *d) {
        return sim_kobj_ref(d);
}

void sim_device_unref(sim_device *d) {
        sim_kobj_unref(d);
}

static sim_device *device_alloc(sim *s) {
        sim_device *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        d->kobj.ref = 1;
        d->kobj.release = device_release;
        d->sim = s;
        d->numa_node = -1;
        pthread_mutex_init(&d->lock, NULL);
        return d;
}

sim *sim_new(void) {
        sim *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->kobj.ref = 1;
        pthread_mutex_init(&s->lock, NULL);
        pthread_mutex_init(&s->rescan_lock, NULL);
        pthread_mutex_init(&s->hold_lock, NULL);
        pthread_cond_init(&s->hold_cond, NULL);
        pthread_mutex_init(&s->ctl_lock, NULL);
        pthread_cond_init(&s->ctl_cond, NULL);
        pthread_mutex_init(&s->log_lock, NULL);
        s->root = sim_node_new_root(&s->tree);
        s->iommu = true;
        s->iommu_type = strdup("DMA-FQ");
        s->bus_autoprobe = true;
        s->next_ifindex = 2;    /* 1 is lo */
        s->uevent_fd = -EBADF;
        s->log_fd = -EBADF;
        s->start_usec = now_usec();
        if (!s->root || !s->iommu_type)
                return mfree(s);
        return s;
}

/* ---- lookups (sim->lock held) ---- */

sim_device *sim_find_device(sim *s, const char *name) {
        /* bus_find_device_by_name(): sysfs_streq() on the device name */
        for (size_t i = 0; i < s->n_bus; i++)
                if (sysfs_streq(s->bus_list[i]->name, name))
                        return s->bus_list[i];
        return NULL;
}

sim_device *sim_find_topo_device(sim *s, const char *name) {
        for (size_t i = 0; i < s->n_topo; i++)
                if (streq(s->topo[i]->name, name))
                        return s->topo[i];
        return NULL;
}

sim_driver *sim_find_driver(sim *s, const char *name) {
        for (size_t i = 0; i < s->n_registered; i++)
                if (streq(s->registered[i]->name, name))
                        return s->registered[i];
        return NULL;
}

sim_driver *sim_lookup_driver(sim *s, const char *name) {
        for (size_t i = 0; i < s->n_drivers; i++)
                if (streq(s->drivers[i]->name, name) || streq(s->drivers[i]->module, name))
                        return s->drivers[i];
        return NULL;
}

bool sim_device_is_bridge(const sim_device *d) {
        switch (d->type) {
        case SIM_PCIE_ROOT_PORT:
        case SIM_PCIE_UPSTREAM:
        case SIM_PCIE_DOWNSTREAM:
        case SIM_PCIE_PCI_BRIDGE:
                return true;
        default:
                return false;
        }
}

sim_ident sim_device_ident(const sim_device *d) {
        return (sim_ident) {
                .vendor = d->vendor,
                .device = d->device,
                .subvendor = d->subvendor,
                .subdevice = d->subdevice,
                .class = d->class,
                .driver_override = d->driver_override,
        };
}

const char *sim_cpulist(const sim *s, int node) {
        if (node >= 0 && (size_t) node < s->n_numa && s->numa_cpus[node])
                return s->numa_cpus[node];
        return NULL;
}

int sim_device_pcie_cap_type(const sim_device *d) {
        static const int t[_SIM_PCIE_TYPE_MAX] = {
                [SIM_PCIE_ENDPOINT] = 0x0,
                [SIM_PCIE_RC_ENDPOINT] = 0x9,
                [SIM_PCIE_ROOT_PORT] = 0x4,
                [SIM_PCIE_UPSTREAM] = 0x5,
                [SIM_PCIE_DOWNSTREAM] = 0x6,
                [SIM_PCIE_PCI_BRIDGE] = 0x7,
                [SIM_PCI_CONVENTIONAL] = -1,
        };
        return t[d->type];
}

/* pci_uevent() and dev_uevent(): what the device's uevent file shows and
 * every uevent of the device carries. */
void sim_device_uevent_env(const sim_device *d, sim_buf *env) {
        char b[256];

#define ENV(...) do { int _n = snprintf(b, sizeof(b), __VA_ARGS__); (void) sim_buf_put(env, b, (size_t) _n + 1); } while (0)
        if (d->driver)
                ENV("DRIVER=%s", d->driver->name);
        ENV("PCI_CLASS=%04X", d->class);
        ENV("PCI_ID=%04X:%04X", d->vendor, d->device);
        ENV("PCI_SUBSYS_ID=%04X:%04X", d->subvendor, d->subdevice);
        ENV("PCI_SLOT_NAME=%s", d->name);
        ENV("MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
            d->vendor, d->device, d->subvendor, d->subdevice,
            (d->class >> 16) & 0xff, (d->class >> 8) & 0xff, d->class & 0xff);
#undef ENV
}

/* ---- matching (pci-driver.c) ---- */

static bool pci_match_one_device(const sim_pci_id *id, const sim_ident *d) {
        return (id->vendor == PCI_ANY_ID || id->vendor == d->vendor) &&
               (id->device == PCI_ANY_ID || id->device == d->device) &&
               (id->subvendor == PCI_ANY_ID || id->subvendor == d->subvendor) &&
               (id->subdevice == PCI_ANY_ID || id->subdevice == d->subdevice) &&
               !((id->class ^ d->class) & id->class_mask);
}

static const sim_pci_id pci_device_id_any = {
        .vendor = PCI_ANY_ID, .device = PCI_ANY_ID, .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID,
};

/* pci_match_device(): driver_override first, then dynamic ids, then the
 * static table (override_only entries only for an overridden device), and a
 * driver named by driver_override always matches. */
const sim_pci_id *sim_pci_match_device(const sim_driver *drv, const sim_ident *id) {
        if (id->driver_override && !streq(id->driver_override, drv->name))
                return NULL;
        for (size_t i = 0; i < drv->n_dynids; i++)
                if (pci_match_one_device(&drv->dynids[i], id))
                        return &drv->dynids[i];
        for (size_t i = 0; i < drv->n_ids; i++) {
                if (!pci_match_one_device(&drv->ids[i], id))
                        continue;
                if (!drv->ids[i].override_only || id->driver_override)
                        return &drv->ids[i];
        }
        if (id->driver_override)
                return &pci_device_id_any;
        return NULL;
}

/* pci_bus_match() */
bool sim_driver_match_device(const sim_driver *drv, const sim_device *d) {
        sim_ident id = sim_device_ident(d);

        return sim_pci_match_device(drv, &id) != NULL;
}

/* pci_device_can_probe() */
static bool pci_device_can_probe(const sim_device *d) {
        return !d->physfn || d->physfn->sriov->autoprobe || d->driver_override;
}

/* pci_vfs_assigned() */
static unsigned pci_vfs_assigned(const sim_device *pf) {
        unsigned n = 0;

        if (!pf->sriov)
                return 0;
        for (unsigned i = 0; i < pf->sriov->total; i++)
                if (pf->sriov->vfs[i] && pf->sriov->vfs[i]->present && pf->sriov->vfs[i]->assigned)
                        n++;
        return n;
}

/* ---- net devices (registered by a driver's probe) ---- */

static void netdev_release(sim_kobj *k) {
        free(k);
}

static bool netdev_name_taken(sim *s, const char *name) {
        for (size_t i = 0; i < s->n_netdevs; i++)
                if (streq(s->netdevs[i]->name, name))
                        return true;
        return false;
}

static int netdev_pick_name(sim_device *d, char name[static SIM_IFNAMSIZ]) {
        sim *s = d->sim;

        if (d->physfn && d->physfn->sriov->vf_netdev) {
                /* the pattern has exactly one "%u" (checked at load) */
                const char *pat = d->physfn->sriov->vf_netdev, *u = strstr(pat, "%u");

                if (snprintf(name, SIM_IFNAMSIZ, "%.*s%u%s", (int) (u - pat), pat, d->vf_index, u + 2) >= SIM_IFNAMSIZ)
                        return -EINVAL;
        } else if (d->netdev_name)
                (void) snprintf(name, SIM_IFNAMSIZ, "%s", d->netdev_name);
        else {
                /* dev_alloc_name("eth%d"): the lowest free number */
                for (unsigned i = 0;; i++) {
                        (void) snprintf(name, SIM_IFNAMSIZ, "eth%u", i);
                        if (!netdev_name_taken(s, name))
                                return 0;
                }
        }
        return netdev_name_taken(s, name) ? -EEXIST : 0;
}

/* register_netdev() from a driver's probe; sim->lock held */
static int netdev_register(sim_device *d) {
        sim *s = d->sim;
        sim_netdev *nd, **a, **b;
        uint32_t h;
        int r;

        nd = calloc(1, sizeof(*nd));
        if (!nd)
                return -ENOMEM;
        nd->kobj.ref = 1;
        nd->kobj.release = netdev_release;
        nd->sim = s;
        r = netdev_pick_name(d, nd->name);
        if (r < 0) {
                free(nd);
                return r;
        }
        nd->ifindex = s->next_ifindex++;
        nd->dev = d;
        nd->mtu = 1500;
        nd->tx_queue_len = 1000;
        nd->speed = d->port_speed;
        /* a stable address per function: the vendor's OUI for PFs, a locally
         * administered one for VFs (as iavf/mlx5 pick random ones) */
        h = sim_murmur2(d->name, strlen(d->name), 0);
        if (d->physfn)
                memcpy(nd->mac, (uint8_t[]) { 0x02, 0x5e, 0x10 }, 3);
        else if (d->vendor == 0x8086)
                memcpy(nd->mac, (uint8_t[]) { 0x3c, 0xfd, 0xfe }, 3);
        else if (d->vendor == 0x15b3)
                memcpy(nd->mac, (uint8_t[]) { 0x0c, 0x42, 0xa1 }, 3);
        else
                memcpy(nd->mac, (uint8_t[]) { 0x52, 0x54, 0x00 }, 3);
        nd->mac[3] = (uint8_t) (h >> 16);
        nd->mac[4] = (uint8_t) (h >> 8);
        nd->mac[5] = (uint8_t) h;
        sim_rtnl_netdev_registered(nd);

        a = realloc(d->netdevs, (d->n_netdevs + 1) * sizeof(*a));
        if (a)
                d->netdevs = a;
        b = realloc(s->netdevs, (s->n_netdevs + 1) * sizeof(*b));
        if (b)
                s->netdevs = b;
        if (!a || !b) {
                free(nd);
                return -ENOMEM;
        }
        r = sim_sysfs_add_netdev(nd);
        if (r < 0) {
                free(nd);
                return r;
        }
        d->netdevs[d->n_netdevs++] = nd;
        s->netdevs[s->n_netdevs++] = nd;
        sim_uevent_netdev(nd, "add", NULL);
        /* register_netdevice(): rtmsg_ifinfo(RTM_NEWLINK) */
        sim_rtnl_notify_link(nd, false);
        return 0;
}

/* unregister_netdev() from a driver's remove; sim->lock held */
static void netdev_unregister(sim_netdev *nd) {
        sim *s = nd->sim;
        sim_device *d = nd->dev;

        /* unregister_netdevice_many(): RTM_DELLINK before the device goes */
        sim_rtnl_notify_link(nd, true);
        sim_uevent_netdev(nd, "remove", NULL);
        sim_sysfs_remove_netdev(nd);
        for (size_t i = 0; i < d->n_netdevs; i++)
                if (d->netdevs[i] == nd) {
                        memmove(d->netdevs + i, d->netdevs + i + 1, (d->n_netdevs - i - 1) * sizeof(nd));
                        d->n_netdevs--;
                        break;
                }
        for (size_t i = 0; i < s->n_netdevs; i++)
                if (s->netdevs[i] == nd) {
                        memmove(s->netdevs + i, s->netdevs + i + 1, (s->n_netdevs - i - 1) * sizeof(nd));
                        s->n_netdevs--;
                        break;
                }
        nd->dev = NULL;
        sim_kobj_unref(nd);
}

static sim_netdev *netdev_find(sim *s, const char *name) {
        for (size_t i = 0; i < s->n_netdevs; i++)
                if (streq(s->netdevs[i]->name, name))
                        return s->netdevs[i];
        return NULL;
}

int sim_netdev_set_up(sim *s, const char *ifname, bool up) {
        sim_netdev *nd;

        sim_lock(s);
        nd = netdev_find(s, ifname);
        /* __dev_notify_flags(): RTM_NEWLINK when IFF_UP changed */
        if (nd && nd->up != up) {
                nd->up = up;
                sim_rtnl_notify_flags(nd);
        }
        sim_unlock(s);
        return nd ? 0 : -ENODEV;
}

/* A link partner comes or goes (a cable): netif_carrier_on()/off() while
 * the interface is up, then linkwatch's netdev_state_change() */
int sim_netdev_set_link(sim *s, const char *ifname, bool link) {
        sim_netdev *nd;
        bool before;

        sim_lock(s);
        nd = netdev_find(s, ifname);
        if (nd) {
                before = sim_netdev_carrier(nd);
                nd->no_link = !link;
                if (before != sim_netdev_carrier(nd))
                        sim_rtnl_notify_link(nd, false);
        }
        sim_unlock(s);
        return nd ? 0 : -ENODEV;
}

/* dev_change_name(): refused while up; a KOBJ_MOVE uevent with DEVPATH_OLD */
int sim_netdev_rename(sim *s, const char *ifname, const char *newname) {
        _cleanup_free_ char *old = NULL;
        sim_netdev *nd;
        int r = 0;

        if (!ifname_is_valid(newname))
                return -EINVAL;
        sim_lock(s);
        nd = netdev_find(s, ifname);
        if (!nd)
                r = -ENODEV;
        else if (nd->up)
                r = -EBUSY;
        else if (netdev_name_taken(s, newname))
                r = -EEXIST;
        else {
                old = sim_devpath(nd->dir);
                sim_sysfs_remove_netdev(nd);
                (void) snprintf(nd->name, sizeof(nd->name), "%s", newname);
                r = sim_sysfs_add_netdev(nd);
                if (r >= 0)
                        sim_uevent_netdev(nd, "move", old);
                if (r >= 0)
                        sim_rtnl_notify_link(nd, false);     /* NETDEV_CHANGENAME */
        }
        sim_unlock(s);
        return r;
}

/* ---- IOMMU groups (iommu.c, pci.c) ---- */

static void group_release(sim_kobj *k) {
        sim_group *g = (sim_group *) k;

        free(g->devs);
        free(g->type);
        free(g);
}

/* pci_acs_enabled(pdev, REQ_ACS_FLAGS) */
static bool pci_acs_enabled(const sim_device *d) {
        switch (d->type) {
        case SIM_PCI_CONVENTIONAL:
        case SIM_PCIE_PCI_BRIDGE:
                return false;
        case SIM_PCIE_DOWNSTREAM:
        case SIM_PCIE_ROOT_PORT:
                return d->acs;
        case SIM_PCIE_ENDPOINT:
        case SIM_PCIE_UPSTREAM:
        case SIM_PCIE_RC_ENDPOINT:
                if (!d->multifunction)
                        return true;
                return d->acs;
        default:
                return true;
        }
}

/* pci_acs_path_enabled(start, NULL, REQ_ACS_FLAGS) */
static bool pci_acs_path_enabled(const sim_device *start) {
        for (const sim_device *d = start; d; d = d->parent)
                if (!pci_acs_enabled(d))
                        return false;
        return true;
}

static bool same_slot(const sim_device *a, const sim_device *b) {
        return a->addr.domain == b->addr.domain && a->addr.bus == b->addr.bus && a->addr.dev == b->addr.dev;
}

/* pci_device_group(): climb towards the root while the path above is not
 * ACS-isolated, joining the group of the first bridge that has one; then
 * non-isolated functions of the same multi-function slot share a group;
 * otherwise a new group. (DMA aliases are not modelled.) */
static sim_group *pci_device_group(sim_device *d) {
        sim *s = d->sim;
        sim_device *pdev = d;

        for (sim_device *up = d->parent; up; up = up->parent) {
                if (pci_acs_path_enabled(up))
                        break;
                pdev = up;
                if (up->group)
                        return up->group;
        }
        /* get_pci_function_alias_group() */
        if (pdev->multifunction && !pci_acs_enabled(pdev))
                for (size_t i = 0; i < s->n_bus; i++) {
                        sim_device *t = s->bus_list[i];

                        if (t == pdev || !same_slot(t, pdev) || pci_acs_enabled(t))
                                continue;
                        if (t->group)
                                return t->group;
                }
        return NULL;
}

/* iommu_group_alloc(): ida_alloc() hands out the lowest free id */
static sim_group *group_alloc(sim *s) {
        sim_group *g;
        size_t id;

        for (id = 0; id < s->n_groups; id++)
                if (!s->groups[id])
                        break;
        if (id == s->n_groups) {
                sim_group **a = realloc(s->groups, (s->n_groups + 1) * sizeof(*a));

                if (!a)
                        return NULL;
                s->groups = a;
                s->groups[s->n_groups++] = NULL;
        }
        g = calloc(1, sizeof(*g));
        if (!g)
                return NULL;
        g->kobj.ref = 1;
        g->kobj.release = group_release;
        g->sim = s;
        g->id = (int) id;
        g->type = strdup(s->iommu_type);
        if (!g->type || sim_sysfs_add_group(g) < 0) {
                sim_kobj_unref(g);
                return NULL;
        }
        s->groups[id] = g;
        return g;
}

static int group_add_device(sim_group *g, sim_device *d) {
        sim_device **a = realloc(g->devs, (g->n_devs + 1) * sizeof(*a));

        if (!a)
                return -ENOMEM;
        g->devs = a;
        g->devs[g->n_devs++] = d;
        d->group = g;
        return sim_sysfs_group_link(g, d);
}

static void group_remove_device(sim_device *d) {
        sim_group *g = d->group;
        sim *s = d->sim;

        if (!g)
                return;
        sim_sysfs_group_unlink(g, d);
        for (size_t i = 0; i < g->n_devs; i++)
                if (g->devs[i] == d) {
                        memmove(g->devs + i, g->devs + i + 1, (g->n_devs - i - 1) * sizeof(d));
                        g->n_devs--;
                        break;
                }
        d->group = NULL;
        if (g->n_devs == 0) {
                sim_sysfs_remove_group(g);
                s->groups[g->id] = NULL;
                sim_kobj_unref(g);
        }
}

/* ---- device_add() / device_del(); sim->lock held ---- */

static int bus_list_add(sim *s, sim_device *d) {
        sim_device **a = realloc(s->bus_list, (s->n_bus + 1) * sizeof(*a));

        if (!a)
                return -ENOMEM;
        s->bus_list = a;
        s->bus_list[s->n_bus++] = sim_device_ref(d);
        return 0;
}

static void bus_list_del(sim *s, sim_device *d) {
        for (size_t i = 0; i < s->n_bus; i++)
                if (s->bus_list[i] == d) {
                        memmove(s->bus_list + i, s->bus_list + i + 1, (s->n_bus - i - 1) * sizeof(d));
                        s->n_bus--;
                        sim_device_unref(d);
                        return;
                }
}

/* device_add(): sysfs directory and bus link, IOMMU group (the iommu bus
 * notifier runs before KOBJ_ADD), then the "add" uevent */
static int device_add(sim_device *d) {
        sim *s = d->sim;
        int r;

        r = sim_sysfs_add_device(d);
        if (r < 0)
                return r;
        if (s->iommu) {
                sim_group *g = pci_device_group(d);

                if (!g)
                        g = group_alloc(s);
                if (!g || group_add_device(g, d) < 0) {
                        sim_sysfs_remove_device(d);
                        return -ENOMEM;
                }
        }
        r = bus_list_add(s, d);
        if (r < 0) {
                group_remove_device(d);
                sim_sysfs_remove_device(d);
                return r;
        }
        d->present = true;
        sim_uevent_device(d, "add");
        return 0;
}

/* device_del(): bus link and IOMMU group go first, KOBJ_REMOVE, then the
 * directory */
static void device_del(sim_device *d) {
        sim *s = d->sim;

        if (!d->present)
                return;
        group_remove_device(d);
        sim_uevent_device(d, "remove");
        sim_sysfs_remove_device(d);
        d->present = false;
        bus_list_del(s, d);
}

sim_device **sim_bus_snapshot(sim *s, size_t *ret_n) {
        sim_device **l;

        sim_lock(s);
        l = calloc(s->n_bus + 1, sizeof(*l));
        if (l)
                for (size_t i = 0; i < s->n_bus; i++)
                        l[i] = sim_device_ref(s->bus_list[i]);
        *ret_n = l ? s->n_bus : 0;
        sim_unlock(s);
        return l;
}

void sim_snapshot_free(sim_device **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                sim_device_unref(l[i]);
        free(l);
}

/* ---- probing (dd.c) ---- */

static int bound_add(sim_driver *drv, sim_device *d) {
        sim_device **a = realloc(drv->bound, (drv->n_bound + 1) * sizeof(*a));

        if (!a)
                return -ENOMEM;
        drv->bound = a;
        drv->bound[drv->n_bound++] = d;
        return 0;
}

static void bound_del(sim_driver *drv, sim_device *d) {
        for (size_t i = 0; i < drv->n_bound; i++)
                if (drv->bound[i] == d) {
                        memmove(drv->bound + i, drv->bound + i + 1, (drv->n_bound - i - 1) * sizeof(d));
                        drv->n_bound--;
                        return;
                }
}

/* really_probe() with pci_device_probe() as drv->probe; device lock held.
 * The driver links exist and dev->driver is set while probe() runs. At boot
 * the topology's binding is taken as given.
 *
 * A function that is not ready (QEMU's NVMe VFs until `nvme virt-mgmt`
 * brings their secondary controllers online) is what the driver's
 * "not_ready" says: on 6.1 nvme_probe() returns 0 and its reset work then
 * finds the controller not ready and releases the device
 * (nvme_remove_dead_ctrl()): "bind" and "unbind" uevents, the function
 * unbound; the kernel does the second half asynchronously, the simulator
 * right away, which keeps the order of the events. On 6.12 nvme_probe()
 * waits for the controller itself and fails with ENODEV. */
static int really_probe(sim_device *d, sim_driver *drv, bool boot) {
        sim *s = d->sim;
        bool can_probe, matched, ready;
        int r;

        sim_lock(s);
        d->driver = drv;
        r = sim_sysfs_add_driver_links(d);
        can_probe = boot || pci_device_can_probe(d);
        matched = boot || sim_driver_match_device(drv, d);
        ready = boot || d->ready || drv->not_ready == SIM_NOT_READY_IGNORE;
        sim_unlock(s);

        if (r < 0)
                r = -r;
        else if (!can_probe || !matched)
                r = ENODEV;
        else {
                /* the driver's probe() powers the function up (D0; vfio-pci
                 * then puts an idle one in D3hot): power_state is no longer
                 * "unknown" */
                sim_lock(s);
                d->powered = true;
                sim_unlock(s);
                if (!boot)
                        sim_delay(s, SIM_LAT_PROBE);
                r = -sim_inject_check(s, SIM_OP_PROBE, d->name);
                if (r == 0)
                        r = drv->probe_errno;
                if (r == 0 && !ready && drv->not_ready == SIM_NOT_READY_FAIL)
                        r = ENODEV;
        }

        sim_lock(s);
        if (r == 0 && drv->netdev)
                r = -netdev_register(d);
        if (r == 0)
                r = -bound_add(drv, d);
        if (r == 0) {
                /* pci_enable_device() and pci_set_master(): Memory Space
                 * and Bus Master on */
                if (drv->enables) {
                        d->enable_cnt = 1;
                        d->command |= PCI_COMMAND_MEMORY;
                        if (drv->master)
                                d->command |= PCI_COMMAND_MASTER;
                }
                /* pci_sriov_set_totalvfs() in the PF driver's probe (igb:
                 * 7 of the 82576's 8); not while VFs are enabled (EBUSY) */
                if (drv->max_vfs && d->sriov && !(d->sriov->ctrl & PCI_SRIOV_CTRL_VFE))
                        d->sriov->driver_max = MIN(drv->max_vfs, d->sriov->total);
                /* vfio_register_group_dev() at the end of vfio-pci's probe:
                 * the device can be opened from now on */
                if (drv->vfio) {
                        pthread_mutex_lock(&s->hold_lock);
                        d->vfio_open_ok = true;
                        pthread_mutex_unlock(&s->hold_lock);
                }
                /* driver_bound() */
                sim_uevent_device(d, "bind");
        } else {
                while (d->n_netdevs > 0)
                        netdev_unregister(d->netdevs[d->n_netdevs - 1]);
                sim_sysfs_remove_driver_links(d);
                d->driver = NULL;
        }
        sim_unlock(s);
        if (r == 0 && !ready && drv->not_ready == SIM_NOT_READY_UNBIND)
                sim_device_release_driver_locked(d);
        return r;
}

/* __driver_probe_device(); device lock held. <0: core error, >0: probe error */
static int driver_probe_device_locked(sim_device *d, sim_driver *drv) {
        sim *s = d->sim;
        bool dead, bound;

        sim_lock(s);
        dead = !d->present || !drv->loaded;
        bound = d->driver;
        sim_unlock(s);
        if (dead)
                return -ENODEV;
        if (bound)
                return -EBUSY;
        return really_probe(d, drv, false);
}

/* device_driver_attach(), for bind_store() */
int sim_device_driver_attach(sim_driver *drv, sim_device *d) {
        int r;

        pthread_mutex_lock(&d->lock);
        r = driver_probe_device_locked(d, drv);
        pthread_mutex_unlock(&d->lock);
        if (r > 0)
                r = -r;
        if (r == -EPROBE_DEFER_COMPAT)
                r = -EAGAIN;
        return r;
}

/* __device_attach(): try every registered driver in registration order;
 * a probe error lets the next driver try its luck.
 * Returns 1 when bound, 0 when no driver took it, <0 on a core error. */
static int device_attach_locked(sim_device *d) {
        sim *s = d->sim;
        _cleanup_free_ sim_driver **drvs = NULL;
        size_t n;
        int r;

        sim_lock(s);
        if (!d->present) {
                sim_unlock(s);
                return 0;
        }
        if (d->driver) {
                sim_unlock(s);
                return 1;
        }
        n = s->n_registered;
        drvs = malloc(MAX(n, (size_t) 1) * sizeof(*drvs));
        if (drvs)
                memcpy(drvs, s->registered, n * sizeof(*drvs));
        sim_unlock(s);
        if (!drvs)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                bool match;

                sim_lock(s);
                match = drvs[i]->loaded && sim_driver_match_device(drvs[i], d);
                sim_unlock(s);
                if (!match)
                        continue;
                r = driver_probe_device_locked(d, drvs[i]);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 1;
        }
        return 0;
}

int sim_device_attach(sim_device *d) {
        int r;

        pthread_mutex_lock(&d->lock);
        r = device_attach_locked(d);
        pthread_mutex_unlock(&d->lock);
        return r;
}

/* driver_attach() / __driver_attach(): every matching device on the bus;
 * errors are dropped (a device the driver refuses is simply left alone) */
void sim_driver_attach(sim_driver *drv) {
        sim *s = drv->sim;
        sim_device **l;
        size_t n;

        l = sim_bus_snapshot(s, &n);
        for (size_t i = 0; l && i < n; i++) {
                bool match;

                sim_lock(s);
                match = l[i]->present && sim_driver_match_device(drv, l[i]);
                sim_unlock(s);
                if (!match)
                        continue;
                pthread_mutex_lock(&l[i]->lock);
                (void) driver_probe_device_locked(l[i], drv);
                pthread_mutex_unlock(&l[i]->lock);
        }
        sim_snapshot_free(l, n);
}

/* vfio_unregister_group_dev(): "blocked until released by user". The
 * registration's last reference goes with the last user: from then on
 * nobody can open the device (vfio_device_try_get_registration() fails),
 * decided under the same lock as "hold", so that a hold racing with the
 * removal either comes first and is waited for, or fails. */
static void vfio_wait_released(sim_device *d) {
        sim *s = d->sim;

        pthread_mutex_lock(&s->hold_lock);
        d->vfio_waiting = d->held;
        while (d->held)
                pthread_cond_wait(&s->hold_cond, &s->hold_lock);
        d->vfio_waiting = false;
        d->vfio_open_ok = false;
        pthread_mutex_unlock(&s->hold_lock);
}

static void sriov_disable(sim_device *pf);

/* __device_release_driver(); device lock held. The driver links go first
 * (so a blocked remove() already looks unbound from sysfs), then the
 * driver's remove(): SR-IOV off, net devices unregistered, VFIO users
 * waited for; dev->driver is cleared last and KOBJ_UNBIND sent. */
void sim_device_release_driver_locked(sim_device *d) {
        sim *s = d->sim;
        sim_driver *drv;
        bool keep_vfs = false;

        sim_lock(s);
        drv = d->driver;
        if (drv) {
                sim_sysfs_remove_driver_links(d);
                keep_vfs = drv->keeps_vfs || (drv->assigned_errno && pci_vfs_assigned(d) > 0);
        }
        sim_unlock(s);
        if (!drv)
                return;

        /* drv->remove() */
        sim_delay(s, SIM_LAT_UNBIND);
        /* PF drivers call pci_disable_sriov() on remove (igb, i40e, mlx5),
         * except that nvme never does ("keeps_vfs") and i40e and friends
         * leave VFs that are assigned to a guest alone; the PCI core then
         * warns "driver left SR-IOV enabled after remove" */
        if (drv->sriov && d->sriov && !keep_vfs)
                sriov_disable(d);
        sim_lock(s);
        while (d->n_netdevs > 0)
                netdev_unregister(d->netdevs[d->n_netdevs - 1]);
        sim_unlock(s);
        if (drv->vfio)
                vfio_wait_released(d);

        sim_lock(s);
        d->driver = NULL;
        /* pci_disable_device(): Bus Master off, Memory Space left on */
        if (d->enable_cnt > 0)
                d->command &= (uint16_t) ~PCI_COMMAND_MASTER;
        d->enable_cnt = 0;
        /* pci_device_remove(): "If the device is still on, set the power
         * state as unknown". Observed on 6.12; on 6.1 a function reads D0
         * after its driver (igb, vfio-pci) let go of it. */
        if (s->kernel >= 612)
                d->powered = false;
        /* pci_iov_remove(): a driver's sriov_totalvfs limit goes with it */
        if (d->sriov)
                d->sriov->driver_max = d->sriov->total;
        bound_del(drv, d);
        sim_uevent_device(d, "unbind");
        sim_unlock(s);
}

void sim_device_release_driver(sim_device *d) {
        pthread_mutex_lock(&d->lock);
        sim_device_release_driver_locked(d);
        pthread_mutex_unlock(&d->lock);
}

/* ---- SR-IOV (iov.c); PF device lock held throughout ---- */

static void vf_address(const sim_device *pf, unsigned id, pci_addr *ret) {
        uint32_t rid = pci_addr_rid(&pf->addr) + pf->sriov->offset + (uint32_t) pf->sriov->stride * id;

        pci_addr_from_rid(pf->addr.domain, rid, ret);
}

/* pci_iov_add_virtfn(): pci_device_add() (KOBJ_ADD), pci_iov_sysfs_link()
 * (virtfnN, physfn, KOBJ_CHANGE), pci_bus_add_device() (probe) */
static int pci_iov_add_virtfn(sim_device *pf, unsigned id) {
        sim *s = pf->sim;
        sim_sriov *iov = pf->sriov;
        sim_device *vf;
        int r;

        vf = device_alloc(s);
        if (!vf)
                return -ENOMEM;
        vf_address(pf, id, &vf->addr);
        (void) pci_addr_format(&vf->addr, vf->name);
        vf->type = SIM_PCIE_ENDPOINT;
        vf->parent = pf->parent;
        vf->vendor = pf->vendor;
        vf->device = iov->vf_device;
        vf->subvendor = iov->vf_subvendor;
        vf->subdevice = iov->vf_subdevice;
        vf->class = iov->vf_class;
        vf->revision = pf->revision;
        vf->numa_node = pf->numa_node;
        vf->link_speed = pf->link_speed;
        vf->link_width = pf->link_width;
        vf->port_speed = pf->port_speed;
        vf->bar0_size = 0x10000;
        vf->bar0 = 0x3a0000000000ULL + ((uint64_t) pci_addr_rid(&pf->addr) << 28) + vf->bar0_size * id;
        vf->physfn = sim_device_ref(pf);
        vf->vf_index = id;
        vf->ready = iov->vf_ready;

        sim_delay(s, SIM_LAT_VF_CREATE);

        sim_lock(s);
        r = device_add(vf);
        if (r >= 0) {
                iov->vfs[id] = vf;
                r = sim_sysfs_add_virtfn_links(pf, vf);
                sim_uevent_device(vf, "change");
        }
        sim_unlock(s);
        if (r < 0) {
                if (iov->vfs[id] != vf)
                        sim_device_unref(vf);
                return r;
        }
        (void) sim_device_attach(vf);
        return 0;
}

/* pci_stop_bus_device() + pci_remove_bus_device() for one function */
static void stop_and_remove_function(sim_device *d) {
        sim *s = d->sim;

        sim_device_release_driver(d);
        sim_lock(s);
        device_del(d);
        sim_unlock(s);
}

/* pci_iov_remove_virtfn(): links first, then the device */
static void pci_iov_remove_virtfn(sim_device *pf, unsigned id) {
        sim *s = pf->sim;
        sim_device *vf = pf->sriov->vfs[id];

        if (!vf)
                return;
        sim_lock(s);
        sim_sysfs_remove_virtfn_links(pf, vf);
        sim_unlock(s);
        sim_delay(s, SIM_LAT_VF_DESTROY);
        if (vf->present)
                stop_and_remove_function(vf);
        sim_lock(s);
        pf->sriov->vfs[id] = NULL;
        sim_unlock(s);
        sim_device_unref(vf);
}

static int sriov_enable(sim_device *pf, uint16_t nr) {
        sim *s = pf->sim;
        sim_sriov *iov = pf->sriov;
        int r;

        if (iov->num_vfs)
                return -EINVAL;
        if (nr > iov->total)
                return -EINVAL;

        sim_lock(s);
        iov->numvfs_reg = nr;
        iov->ctrl |= PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE;
        sim_unlock(s);
        sim_delay(s, SIM_LAT_SRIOV_ENABLE);     /* msleep(100) after VF Enable */

        for (unsigned i = 0; i < nr; i++) {
                r = pci_iov_add_virtfn(pf, i);
                if (r < 0) {
                        while (i--)
                                pci_iov_remove_virtfn(pf, i);
                        sim_lock(s);
                        iov->ctrl &= (uint16_t) ~(PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
                        iov->numvfs_reg = 0;
                        sim_unlock(s);
                        return r;
                }
        }
        sim_lock(s);
        sim_uevent_device(pf, "change");
        iov->num_vfs = nr;
        sim_unlock(s);
        return 0;
}

/* sriov_disable(): VFs are removed in order 0..n-1, each one's virtfnN link
 * before the VF itself; no uevent for the PF */
static void sriov_disable(sim_device *pf) {
        sim *s = pf->sim;
        sim_sriov *iov = pf->sriov;
        uint16_t n = iov->num_vfs;

        if (!n)
                return;
        for (unsigned i = 0; i < n; i++)
                pci_iov_remove_virtfn(pf, i);
        sim_lock(s);
        iov->ctrl &= (uint16_t) ~(PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
        sim_unlock(s);
        sim_delay(s, SIM_LAT_SRIOV_DISABLE);    /* ssleep(1) after VF Enable is cleared */
        sim_lock(s);
        iov->num_vfs = 0;
        iov->numvfs_reg = 0;
        sim_unlock(s);
}

/* The PF driver's sriov_configure(), as i40e/ixgbe/mlx5/nvme implement it on
 * top of pci_enable_sriov()/pci_disable_sriov(): it refuses to disable while
 * a VF is assigned, and may enable fewer VFs than asked (the return value
 * is the number enabled). PF device lock held. */
int sim_sriov_configure(sim_device *pf, uint16_t num_vfs) {
        sim *s = pf->sim;
        sim_driver *drv = pf->driver;
        uint16_t n;
        unsigned assigned;
        int r;

        r = sim_inject_check(s, SIM_OP_NUMVFS, pf->name);
        if (r < 0)
                return r;
        sim_lock(s);
        assigned = pci_vfs_assigned(pf);
        n = MIN(num_vfs, pf->sriov->max_enable);
        sim_unlock(s);

        if (num_vfs == 0) {
                if (drv->assigned_errno && assigned > 0)
                        return -drv->assigned_errno;
                sriov_disable(pf);
                return 0;
        }
        if (n == 0)
                return 0;
        r = sriov_enable(pf, n);
        return r < 0 ? r : n;
}

/* ---- hot-plug (remove.c, probe.c) ---- */

static size_t children_of(sim *s, sim_device *bridge, sim_device ***ret) {
        sim_device **l = NULL;
        size_t n = 0;

        sim_lock(s);
        for (size_t i = 0; i < s->n_bus; i++)
                if (s->bus_list[i]->parent == bridge && s->bus_list[i] != bridge) {
                        sim_device **a = realloc(l, (n + 1) * sizeof(*a));

                        if (!a)
                                break;
                        l = a;
                        l[n++] = sim_device_ref(s->bus_list[i]);
                }
        sim_unlock(s);
        *ret = l;
        return n;
}

/* pci_stop_bus_device(): children in reverse bus order, then the device */
static void pci_stop_bus_device(sim_device *d) {
        if (sim_device_is_bridge(d)) {
                sim_device **c;
                size_t n = children_of(d->sim, d, &c);

                for (size_t i = n; i > 0; i--)
                        pci_stop_bus_device(c[i - 1]);
                sim_snapshot_free(c, n);
        }
        pthread_mutex_lock(&d->lock);
        sim_device_release_driver_locked(d);
        /* a PF whose driver left SR-IOV enabled loses its VFs with it */
        if (d->sriov)
                sriov_disable(d);
        pthread_mutex_unlock(&d->lock);
}

/* pci_remove_bus_device(): children in bus order, then the device */
static void pci_remove_bus_device(sim_device *d) {
        sim *s = d->sim;

        if (sim_device_is_bridge(d)) {
                sim_device **c;
                size_t n = children_of(s, d, &c);

                for (size_t i = 0; i < n; i++)
                        pci_remove_bus_device(c[i]);
                sim_snapshot_free(c, n);
        }
        sim_lock(s);
        device_del(d);
        sim_unlock(s);
}

/* pci_stop_and_remove_bus_device_locked(): the sysfs "remove" attribute and
 * a surprise hot-unplug of the function */
int sim_device_hot_remove(sim_device *d) {
        sim *s = d->sim;
        bool present;

        pthread_mutex_lock(&s->rescan_lock);
        sim_lock(s);
        present = d->present;
        sim_unlock(s);
        if (present) {
                sim_delay(s, SIM_LAT_HOTPLUG);
                pci_stop_bus_device(d);
                pci_remove_bus_device(d);
        }
        pthread_mutex_unlock(&s->rescan_lock);
        return present ? 0 : -ENODEV;
}

static void device_reset_state(sim_device *d) {
        free(d->driver_override);
        d->driver_override = d->init_override ? strdup(d->init_override) : NULL;
        d->enable_cnt = 0;
        d->command = d->init_command;
        d->assigned = false;
        d->ready = true;
        d->powered = false;
        if (d->sriov) {
                d->sriov->driver_max = d->sriov->total;
                d->sriov->num_vfs = 0;
                d->sriov->numvfs_reg = 0;
                d->sriov->ctrl = 0;
                d->sriov->autoprobe = d->sriov->autoprobe_initial;
                d->sriov->max_enable = d->sriov->max_enable_initial;
        }
}

/* pci_scan_child_bus() for a topology subtree: every device is added
 * (KOBJ_ADD) first, in scan order, and probed afterwards
 * (pci_bus_add_devices()) */
static int scan_subtree(sim *s, sim_device *d, sim_device ***added, size_t *n_added) {
        sim_device **a;
        int r;

        sim_lock(s);
        if (d->present) {
                sim_unlock(s);
                return 0;
        }
        device_reset_state(d);
        r = device_add(d);
        sim_unlock(s);
        if (r < 0)
                return r;
        a = realloc(*added, (*n_added + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        *added = a;
        a[(*n_added)++] = d;
        for (size_t i = 0; i < s->n_topo; i++)
                if (s->topo[i]->parent == d) {
                        r = scan_subtree(s, s->topo[i], added, n_added);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int hot_add_locked(sim *s, sim_device *d) {
        _cleanup_free_ sim_device **added = NULL;
        size_t n = 0;
        int r;

        r = scan_subtree(s, d, &added, &n);
        for (size_t i = 0; i < n; i++)
                (void) sim_device_attach(added[i]);
        return r;
}

int sim_device_hot_add(sim *s, const char *name) {
        sim_device *d;
        int r;

        pthread_mutex_lock(&s->rescan_lock);
        sim_lock(s);
        d = sim_find_topo_device(s, name);
        if (!d)
                r = -ENODEV;
        else if (d->present)
                r = -EEXIST;
        else if (d->parent && !d->parent->present)
                r = -ENODEV;
        else
                r = 0;
        sim_unlock(s);
        if (r == 0) {
                sim_delay(s, SIM_LAT_HOTPLUG);
                r = hot_add_locked(s, d);
        }
        pthread_mutex_unlock(&s->rescan_lock);
        return r;
}

/* pci_rescan_bus() on every root bus: whatever the topology has that is not
 * there comes back in its initial state */
int sim_bus_rescan(sim *s) {
        pthread_mutex_lock(&s->rescan_lock);
        for (size_t i = 0; i < s->n_topo; i++) {
                sim_device *d = s->topo[i];
                bool want;

                sim_lock(s);
                want = !d->present && (!d->parent || d->parent->present);
                sim_unlock(s);
                if (want)
                        (void) hot_add_locked(s, d);
        }
        pthread_mutex_unlock(&s->rescan_lock);
        return 0;
}

/* ---- driver registration (module load/unload) ---- */

/* pci_register_driver() → bus_add_driver(): the driver directory and
 * module, then driver_attach() if the bus autoprobes */
int sim_driver_register(sim_driver *drv) {
        sim *s = drv->sim;
        sim_driver **a;
        bool autoprobe;
        int r;

        sim_lock(s);
        if (drv->loaded) {
                sim_unlock(s);
                return 0;
        }
        a = realloc(s->registered, (s->n_registered + 1) * sizeof(*a));
        if (!a) {
                sim_unlock(s);
                return -ENOMEM;
        }
        s->registered = a;
        r = sim_sysfs_add_driver(drv);
        if (r < 0) {
                sim_unlock(s);
                return r;
        }
        s->registered[s->n_registered++] = drv;
        drv->loaded = true;
        autoprobe = s->bus_autoprobe;
        sim_unlock(s);
        if (autoprobe && s->booted)
                sim_driver_attach(drv);
        return 0;
}

/* pci_unregister_driver() → bus_remove_driver(): off the bus list, every
 * device unbound (driver_detach() goes from the last bound), dynamic ids
 * freed, directory and module gone. A VFIO device that is open holds a
 * module reference: rmmod fails with EBUSY then. */
int sim_driver_unregister(sim_driver *drv) {
        sim *s = drv->sim;
        bool busy = false;

        sim_lock(s);
        if (!drv->loaded) {
                sim_unlock(s);
                return -ENOENT;
        }
        pthread_mutex_lock(&s->hold_lock);
        for (size_t i = 0; i < drv->n_bound; i++)
                busy = busy || drv->bound[i]->held;
        pthread_mutex_unlock(&s->hold_lock);
        if (busy) {
                sim_unlock(s);
                return -EBUSY;
        }
        drv->loaded = false;
        for (size_t i = 0; i < s->n_registered; i++)
                if (s->registered[i] == drv) {
                        memmove(s->registered + i, s->registered + i + 1,
                                (s->n_registered - i - 1) * sizeof(drv));
                        s->n_registered--;
                        break;
                }
        sim_unlock(s);

        for (;;) {
                sim_device *d;

                sim_lock(s);
                d = drv->n_bound > 0 ? sim_device_ref(drv->bound[drv->n_bound - 1]) : NULL;
                sim_unlock(s);
                if (!d)
                        break;
                pthread_mutex_lock(&d->lock);
                if (d->driver == drv)
                        sim_device_release_driver_locked(d);
                pthread_mutex_unlock(&d->lock);
                sim_device_unref(d);
        }

        sim_lock(s);
        drv->dynids = mfree(drv->dynids);
        drv->n_dynids = 0;
        sim_sysfs_remove_driver(drv);
        sim_unlock(s);
        return 0;
}

/* ---- boot ---- */

static int cmp_addr(const void *a, const void *b) {
        return pci_addr_compare(&(*(sim_device * const *) a)->addr, &(*(sim_device * const *) b)->addr);
}

/* the order pci_scan_child_bus() adds devices in: all functions of a bus,
 * then the buses behind its bridges, depth first */
static int boot_order(sim *s, sim_device *bridge, sim_device ***out, size_t *n_out) {
        _cleanup_free_ sim_device **l = NULL;
        size_t n = 0;
        int r;

        l = calloc(s->n_topo + 1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_topo; i++)
                if (s->topo[i]->parent == bridge)
                        l[n++] = s->topo[i];
        qsort(l, n, sizeof(*l), cmp_addr);
        for (size_t i = 0; i < n; i++)
                (*out)[(*n_out)++] = l[i];
        for (size_t i = 0; i < n; i++)
                if (sim_device_is_bridge(l[i])) {
                        r = boot_order(s, l[i], out, n_out);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int sim_boot(sim *s) {
        _cleanup_free_ sim_device **order = NULL;
        size_t n = 0;
        int r;

        r = sim_sysfs_init(s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_drivers; i++)
                if (s->drivers[i]->loaded) {
                        s->drivers[i]->loaded = false;
                        r = sim_driver_register(s->drivers[i]);
                        if (r < 0)
                                return r;
                }
        order = calloc(s->n_topo + 1, sizeof(*order));
        if (!order)
                return -ENOMEM;
        r = boot_order(s, NULL, &order, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                sim_lock(s);
                device_reset_state(order[i]);
                r = device_add(order[i]);
                sim_unlock(s);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                sim_device *d = order[i];
                sim_driver *drv;

                if (!d->init_driver)
                        continue;
                drv = sim_lookup_driver(s, d->init_driver);
                pthread_mutex_lock(&d->lock);
                r = really_probe(d, drv, true);
                pthread_mutex_unlock(&d->lock);
                if (r != 0) {
                        fprintf(stderr, "%s: %s: binding %s at boot failed: %s\n",
                                s->topology_path, d->name, drv->name, strerror(r));
                        return -r;
                }
        }
        s->booted = true;
        return 0;
}
