/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* sriov-sim: a FUSE file system that presents the sysfs tree of a simulated
 * SR-IOV host and implements the kernel's write semantics.
 *
 * The pieces, one file each:
 *   sim-tree.c      the node tree (kernfs): directories, attributes, links
 *   sim-sysfs.c     what the kernel puts in that tree (pci-sysfs.c, iov.c,
 *                   net-sysfs.c, iommu.c, bus.c attributes) and the stores
 *   sim-kernel.c    the driver core, PCI core, SR-IOV, IOMMU groups, netdevs
 *   sim-config.c    synthesized PCI configuration space
 *   sim-topology.c  the JSON host description
 *   sim-uevent.c    uevents, re-broadcast as udevd does on netlink
 *   sim-ctl.c       .sim/: control commands, failure injection, latencies,
 *                   state dump, operation log
 *   sim-kstr.c      the kernel's string parsers (kstrtou16, kstrtobool, ...)
 *   sim-main.c      FUSE glue and main()
 *
 * Locking, as in the kernel:
 *   - dev->lock is device_lock(): held across driver binding, unbinding and
 *     SR-IOV changes, and while the simulated hardware "takes time" (latency
 *     model). Taken parent before child, PF before VF.
 *   - sim->lock protects the tree and the model fields. It is held only for
 *     short sections, never while sleeping or while taking a device lock;
 *     releasing it may wait for the kernel (below).
 *   - sim->tree.lock, inside sim->lock, is the lock of the tree alone: its
 *     shape, the nodes' stat fields and what the kernel has looked up. The
 *     tree changes only with both held; FUSE's lookups, attribute and
 *     directory requests take the tree lock alone, so that they are answered
 *     while a holder of sim->lock tells the kernel's caches about a change
 *     (sim_unlock(): the kernel then waits for the lookups in progress).
 *   - sim->hold_lock/hold_cond: VFIO users ("hold") that removal waits for.
 * Model fields of a device are written with both its device lock and
 * sim->lock held and may be read under either. */

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#include "basics.h"
#include "bdf.h"

#define SIM_PAGE_SIZE 4096
#define PCI_ANY_ID (~0U)
#define SIM_IFNAMSIZ 16

typedef struct sim sim;
typedef struct sim_node sim_node;
typedef struct sim_tree sim_tree;
typedef struct sim_attr sim_attr;
typedef struct sim_device sim_device;
typedef struct sim_driver sim_driver;
typedef struct sim_group sim_group;
typedef struct sim_netdev sim_netdev;
typedef struct sim_buf sim_buf;
typedef struct sim_rtnl sim_rtnl;

/* ---- growable text buffer ---- */
struct sim_buf {
        char *data;
        size_t len, alloc;
        bool oom;
};
int sim_buf_printf(sim_buf *b, const char *fmt, ...) _printf_(2, 3);
int sim_buf_put(sim_buf *b, const void *p, size_t n);
void sim_buf_free(sim_buf *b);

/* ---- reference counted objects that tree nodes point to ---- */
typedef struct sim_kobj {
        unsigned ref;
        void (*release)(struct sim_kobj *k);
} sim_kobj;
void *sim_kobj_ref(void *obj);
void sim_kobj_unref(void *obj);

/* ---- the node tree (sim-tree.c) ---- */
typedef enum sim_node_type {
        SIM_NODE_DIR,
        SIM_NODE_ATTR,
        SIM_NODE_LINK,
} sim_node_type;

#define SIM_ATTR_DEVICE_LOCK 0x1u  /* show() runs under the owner's device lock, then sim->lock */
#define SIM_ATTR_NOLOCK      0x2u  /* show() takes the locks it needs itself */

struct sim_attr {
        const char *name;
        mode_t mode;
        unsigned flags;
        /* text attribute: append to out; called with sim->lock held. Returns 0 or -errno. */
        int (*show)(void *obj, sim_buf *out);
        /* called with no lock held; buf is NUL-terminated (len bytes plus the NUL
         * the kernel adds). Returns 0 (the write consumed everything) or -errno. */
        int (*store)(void *obj, const char *buf, size_t len);
        /* binary attribute (config): called with sim->lock held */
        ssize_t (*read)(void *obj, uid_t opener, void *buf, size_t size, off_t off);
        ssize_t (*write)(void *obj, const void *buf, size_t size, off_t off);
        size_t (*size)(void *obj);
        bool unbounded;             /* .sim files: larger than a page */
};

struct sim_node {
        char *name;
        sim_node_type type;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        sim_node *parent;
        sim_node **children;
        size_t n_children, n_alloc;
        unsigned ref;
        bool removed;
        bool hidden;                /* not listed by readdir (.sim) */
        struct timespec mtime;
        const sim_attr *attr;
        void *obj;                  /* sim_kobj-headed owner, referenced */
        char *target;               /* links: relative target as readlink(2) shows it */
        sim_tree *tree;
        uint64_t ino;               /* st_ino: never reused */
        uint64_t nlookup;           /* the kernel's lookup count (FUSE); > 0: it holds a reference */
        bool attr_inval_queued;     /* the kernel is to drop its copy of this node's attributes */
};

/* The kernel caches what FUSE lookups return (sim-main.c): every entry, and
 * the attributes of directories and links, with no timeout. Nothing else
 * tells it that they changed, so every change it may have cached is queued
 * here (a node removed: its entry and those of everything below it that the
 * kernel looked up; a child added or removed: the directory's attributes,
 * st_nlink and st_mtime) and flushed by sim_unlock() before sim->lock is
 * released. Names that do not exist are not cached (no negative entries),
 * so an addition needs no entry to be dropped. */
typedef struct sim_inval {
        sim_node *dir;              /* referenced */
        sim_node *child;            /* referenced; NULL: dir's own attributes */
} sim_inval;

struct sim_tree {
        pthread_mutex_t lock;
        sim_node *root;
        uint64_t next_ino;
        /* set by the FUSE glue before it serves requests; called with
         * sim->lock held and the tree lock not held */
        void (*forget_cached)(sim_tree *t, sim_node *dir, sim_node *child);
        void *userdata;
        sim_inval *pending;
        size_t n_pending, n_alloc;
};

sim_node *sim_node_ref(sim_node *n);
void sim_node_unref(sim_node *n);
sim_node *sim_node_new_root(sim_tree *t);
void sim_tree_flush(sim_tree *t);
sim_node *sim_dir_new(sim_node *parent, const char *name);
sim_node *sim_dir_get(sim_node *parent, const char *name);  /* existing or new */
sim_node *sim_attr_new(sim_node *parent, const sim_attr *attr, void *obj);
int sim_attrs_new(sim_node *parent, const sim_attr *attrs, size_t n, void *obj);
sim_node *sim_link_new(sim_node *parent, const char *name, sim_node *target);
sim_node *sim_node_child(sim_node *parent, const char *name);
void sim_node_remove(sim_node *n);
void sim_node_remove_child(sim_node *parent, const char *name);
void sim_node_remove_if_empty(sim_node *n);
sim_node *sim_node_resolve(sim_node *root, const char *path);
char *sim_node_path(const sim_node *n);                     /* "/devices/..." */
char *sim_relative_link(const sim_node *link_parent, const sim_node *target);

/* ---- PCI model ---- */
typedef enum sim_pcie_type {
        SIM_PCIE_ENDPOINT,          /* PCI_EXP_TYPE_ENDPOINT */
        SIM_PCIE_RC_ENDPOINT,       /* PCI_EXP_TYPE_RC_END */
        SIM_PCIE_ROOT_PORT,
        SIM_PCIE_UPSTREAM,
        SIM_PCIE_DOWNSTREAM,
        SIM_PCIE_PCI_BRIDGE,        /* PCIe-to-PCI bridge */
        SIM_PCI_CONVENTIONAL,       /* no PCIe capability */
        _SIM_PCIE_TYPE_MAX,
} sim_pcie_type;

typedef struct sim_pci_id {
        uint32_t vendor, device, subvendor, subdevice, class, class_mask;
        unsigned long driver_data;
        bool override_only;
} sim_pci_id;

/* what a driver's probe does with a function that is not ready */
typedef enum sim_not_ready {
        SIM_NOT_READY_IGNORE,       /* nothing: it binds */
        SIM_NOT_READY_UNBIND,       /* binds, gives up in its async work and releases it (nvme, 6.1) */
        SIM_NOT_READY_FAIL,         /* probe fails with ENODEV (nvme, 6.12) */
} sim_not_ready;

/* what pci_match_device() looks at */
typedef struct sim_ident {
        uint16_t vendor, device, subvendor, subdevice;
        uint32_t class;
        const char *driver_override;
} sim_ident;

typedef struct sim_sriov {
        uint16_t total, initial, offset, stride, vf_device;
        uint16_t vf_subvendor, vf_subdevice;
        uint32_t vf_class;
        uint16_t num_vfs;           /* iov->num_VFs */
        uint16_t numvfs_reg;        /* NumVFs in config space */
        uint16_t ctrl;              /* SR-IOV Control */
        uint16_t max_enable;        /* what the PF driver agrees to enable ("partial") */
        uint16_t max_enable_initial;
        bool autoprobe, autoprobe_initial;
        uint16_t driver_max;        /* driver_max_VFs: what sriov_totalvfs shows (pci_sriov_set_totalvfs) */
        bool vf_ready;              /* new VFs are ready (false: QEMU's NVMe VFs start offline) */
        char *vf_netdev;            /* printf pattern, one %u */
        sim_device **vfs;           /* [total] */
} sim_sriov;

struct sim_device {
        sim_kobj kobj;
        sim *sim;
        pci_addr addr;
        char name[PCI_ADDR_STRLEN];
        sim_pcie_type type;
        sim_device *parent;         /* upstream bridge; NULL on a root bus */
        bool from_topology;

        /* identity */
        uint16_t vendor, device, subvendor, subdevice;
        uint32_t class;
        uint8_t revision;
        int numa_node;
        unsigned irq;
        bool acs;                   /* ACS capability with the kernel's REQ_ACS_FLAGS enabled */
        bool multifunction;
        uint8_t secondary, subordinate;
        char *slot;                 /* physical slot name (ports) */
        unsigned link_speed, link_width;
        unsigned port_speed;        /* Mbit/s of its network port (its net devices' "speed") */
        uint64_t bar0, bar0_size;

        /* initial state (topology) */
        char *init_driver, *init_override, *netdev_name;

        /* state */
        pthread_mutex_t lock;       /* device_lock() */
        bool present;               /* between device_add() and device_del() */
        sim_driver *driver;         /* dev->driver */
        char *driver_override;
        unsigned enable_cnt;
        bool held;                  /* under sim->hold_lock: a VFIO user has it open */
        bool vfio_waiting;          /* under sim->hold_lock: its remove() waits for that user */
        bool vfio_open_ok;          /* under sim->hold_lock: bound to a VFIO driver whose
                                     * remove() has not finished waiting for the users
                                     * (vfio_register_group_dev() until the wait in
                                     * vfio_unregister_group_dev() is over): "hold" works */
        bool assigned;              /* PCI_DEV_FLAGS_ASSIGNED */
        bool ready;                 /* the function can be driven (see "not_ready" drivers) */
        uint16_t command, init_command;     /* Command register: Memory Space, Bus Master */
        bool powered;               /* current_state known (D0) since its first probe */
        char **reserved;            /* IOMMU reserved regions of its own ("START END TYPE") */
        sim_group *group;
        sim_netdev **netdevs;
        size_t n_netdevs;
        sim_sriov *sriov;           /* PF */
        sim_device *physfn;         /* VF */
        unsigned vf_index;

        sim_node *dir;
};

struct sim_driver {
        sim_kobj kobj;
        sim *sim;
        char *name, *module;
        sim_pci_id *ids;
        size_t n_ids;
        bool has_id_table;
        sim_pci_id *dynids;
        size_t n_dynids;
        bool sriov, netdev, vfio, enables;
        int assigned_errno;         /* positive; 0: the driver ignores assignment */
        int probe_errno;            /* positive; 0: probe succeeds */
        uint16_t max_vfs;           /* probe lowers a PF's sriov_totalvfs to this (0: no) */
        bool keeps_vfs;             /* remove() leaves SR-IOV enabled (nvme) */
        sim_not_ready not_ready;    /* what probe does with a device that is not ready */
        bool builtin;               /* built into the kernel: no module */
        bool master;                /* probe calls pci_set_master() (DMA): Bus Master on */
        unsigned max_mtu;           /* of the net devices it registers */
        bool loaded;
        sim_device **bound;         /* klist_devices, binding order */
        size_t n_bound;
        sim_node *dir, *module_dir;
};

struct sim_group {
        sim_kobj kobj;
        sim *sim;
        int id;
        char *type;
        sim_device **devs;
        size_t n_devs;
        sim_node *dir, *devices_dir;
};

struct sim_netdev {
        sim_kobj kobj;
        sim *sim;
        char name[SIM_IFNAMSIZ];
        int ifindex;
        sim_device *dev;
        bool up;
        bool no_link;               /* no link partner ("netdev IF carrier off"): no carrier while up */
        bool negotiating;           /* set up, the link not negotiated yet (only inside sim_rtnl_notify_flags()) */
        unsigned speed;             /* Mbit/s the link runs at while it has carrier (the device's "port_speed") */
        unsigned mtu, tx_queue_len;
        uint8_t mac[6];
        sim_node *dir, *class_link;
};

/* netif_carrier_ok(): the interface is up and has a link partner */
static inline bool sim_netdev_carrier(const sim_netdev *nd) {
        return nd->up && !nd->no_link && !nd->negotiating;
}

/* failure injection points and latency points (sim-ctl.c) */
typedef enum sim_op {
        SIM_OP_NUMVFS,
        SIM_OP_AUTOPROBE,
        SIM_OP_OVERRIDE,
        SIM_OP_BIND,
        SIM_OP_UNBIND,
        SIM_OP_PROBE,
        SIM_OP_NEW_ID,
        SIM_OP_REMOVE_ID,
        SIM_OP_DRIVERS_PROBE,
        SIM_OP_REMOVE,
        SIM_OP_RESCAN,
        SIM_OP_RESET,
        SIM_OP_VF_SET,              /* a PF driver's ndo_set_vf_* (sim-rtnl-model.c) */
        _SIM_OP_MAX,
} sim_op;

typedef enum sim_lat {
        SIM_LAT_SRIOV_ENABLE,
        SIM_LAT_SRIOV_DISABLE,
        SIM_LAT_VF_CREATE,
        SIM_LAT_VF_DESTROY,
        SIM_LAT_PROBE,
        SIM_LAT_UNBIND,
        SIM_LAT_HOTPLUG,
        SIM_LAT_VF_SET,
        _SIM_LAT_MAX,
} sim_lat;

typedef struct sim_inject {
        sim_op op;
        char *target;               /* device or driver name, or "*" */
        int err;                    /* positive errno; 0: "block" (wait until cleared, then go on) */
        unsigned count;             /* 0: until cleared */
        unsigned skip;              /* "after N": the next N matching operations pass */
        bool spent;                 /* a "block" rule whose count is used up: kept for its waiters */
        struct sim_inject *next;
} sim_inject;

struct sim {
        sim_kobj kobj;
        pthread_mutex_t lock;
        pthread_mutex_t rescan_lock;        /* pci_lock_rescan_remove(): hot-plug */
        pthread_mutex_t hold_lock;
        pthread_cond_t hold_cond;
        bool booted;

        sim_tree tree;
        sim_node *root;             /* tree.root */
        sim_node *devices_dir, *bus_dir, *bus_devices, *bus_drivers, *slots_dir;
        sim_node *class_net, *iommu_groups_dir, *module_dir, *sim_dir;

        char *topology_path;
        bool iommu;
        char *iommu_type;
        char **numa_cpus;           /* index: node */
        size_t n_numa;
        unsigned n_cpus;
        bool bus_autoprobe;
        unsigned kernel;            /* the kernel modelled where versions differ: 601 (6.1), 612 (6.12) */

        sim_driver **drivers;       /* every driver the topology knows, topology order */
        size_t n_drivers;
        sim_driver **registered;    /* bus_for_each_drv() order */
        size_t n_registered;
        sim_device **topo;          /* topology devices, file order */
        size_t n_topo;
        sim_device **bus_list;      /* present devices, device_add() order */
        size_t n_bus;
        sim_group **groups;         /* index: id */
        size_t n_groups;
        sim_netdev **netdevs;
        size_t n_netdevs;
        int next_ifindex;

        /* sim-ctl.c */
        pthread_mutex_t ctl_lock;
        pthread_cond_t ctl_cond;            /* a "block" rule was cleared */
        sim_inject *injects;
        unsigned n_blocked;                 /* operations waiting in a "block" rule */
        sim_buf points;                     /* every injection point passed: "OP TARGET\n" */
        pid_t kill_pid;                     /* "kill PID N": SIGKILL PID after its kill_left-th write; 0: none */
        unsigned kill_left;
        unsigned n_killed;
        unsigned latency_ms[_SIM_LAT_MAX];
        pthread_mutex_t log_lock;
        sim_buf log;
        int log_fd;
        uint64_t start_usec;

        /* sim-uevent.c (under sim->lock) */
        int uevent_fd;
        uint64_t seqnum;
        sim_buf uevent_log;

        /* sim-rtnl.c, sim-rtnl-model.c: rtnetlink (--rtnl), VF attributes */
        sim_rtnl *rtnl;
};

static inline void sim_lock(sim *s) {
        pthread_mutex_lock(&s->lock);
}
/* The kernel's caches learn of every change to the tree before anyone can
 * act on it (see sim_tree) */
static inline void sim_unlock(sim *s) {
        if (s->tree.n_pending > 0)
                sim_tree_flush(&s->tree);
        pthread_mutex_unlock(&s->lock);
}

/* ---- sim-kstr.c: the kernel's parsers, exactly ---- */
int kstrtoull(const char *s, unsigned base, unsigned long long *ret);
int kstrtou16(const char *s, unsigned base, uint16_t *ret);
int kstrtoint(const char *s, unsigned base, int *ret);
int kstrtobool(const char *s, bool *ret);
int ksscanf_hex(const char *s, unsigned long long *vals, size_t n);  /* "%x %x ..." */
bool sysfs_streq(const char *a, const char *b);
char *sim_escape(const void *p, size_t n);
int sim_unescape(const char *in, char **ret, size_t *ret_len);

/* ---- sim-topology.c ---- */
int sim_topology_load(sim *s, const char *path);

/* ---- sim-kernel.c ---- */
sim *sim_new(void);
int sim_boot(sim *s);
sim_device *sim_device_ref(sim_device *d);
void sim_device_unref(sim_device *d);
sim_device *sim_find_device(sim *s, const char *name);       /* present only; sim->lock held */
sim_device *sim_find_topo_device(sim *s, const char *name);
sim_driver *sim_find_driver(sim *s, const char *name);       /* registered only; sim->lock held */
sim_driver *sim_lookup_driver(sim *s, const char *name_or_module); /* any */
bool sim_device_is_bridge(const sim_device *d);
sim_ident sim_device_ident(const sim_device *d);
bool sim_driver_match_device(const sim_driver *drv, const sim_device *d);
const sim_pci_id *sim_pci_match_device(const sim_driver *drv, const sim_ident *id);
int sim_device_attach(sim_device *d);
int sim_device_driver_attach(sim_driver *drv, sim_device *d);
void sim_driver_attach(sim_driver *drv);
void sim_device_release_driver(sim_device *d);
void sim_device_release_driver_locked(sim_device *d);
int sim_sriov_configure(sim_device *pf, uint16_t num_vfs);
int sim_device_hot_remove(sim_device *d);
int sim_device_hot_add(sim *s, const char *name);
int sim_bus_rescan(sim *s);
int sim_driver_register(sim_driver *drv);
int sim_driver_unregister(sim_driver *drv);
int sim_netdev_set_up(sim *s, const char *ifname, bool up);
int sim_netdev_rename(sim *s, const char *ifname, const char *newname);
int sim_netdev_set_link(sim *s, const char *ifname, bool link);
sim_device **sim_bus_snapshot(sim *s, size_t *ret_n);
void sim_snapshot_free(sim_device **l, size_t n);
int sim_device_pcie_cap_type(const sim_device *d);
const char *sim_cpulist(const sim *s, int node);
void sim_device_uevent_env(const sim_device *d, sim_buf *env);   /* KEY=VALUE\0 ... */

/* ---- sim-sysfs.c ---- */
int sim_sysfs_init(sim *s);
int sim_sysfs_add_device(sim_device *d);
void sim_sysfs_remove_device(sim_device *d);
int sim_sysfs_add_driver_links(sim_device *d);
void sim_sysfs_remove_driver_links(sim_device *d);
int sim_sysfs_add_driver(sim_driver *drv);
void sim_sysfs_remove_driver(sim_driver *drv);
int sim_sysfs_add_netdev(sim_netdev *nd);
void sim_sysfs_remove_netdev(sim_netdev *nd);
int sim_sysfs_add_group(sim_group *g);
void sim_sysfs_remove_group(sim_group *g);
int sim_sysfs_group_link(sim_group *g, sim_device *d);
void sim_sysfs_group_unlink(sim_group *g, sim_device *d);
int sim_sysfs_add_virtfn_links(sim_device *pf, sim_device *vf);
void sim_sysfs_remove_virtfn_links(sim_device *pf, sim_device *vf);
char *sim_devpath(const sim_node *n);       /* DEVPATH: "/devices/..." */

/* ---- sim-config.c ---- */
size_t sim_config_size(const sim_device *d);
void sim_config_build(const sim_device *d, uint8_t *cfg, size_t size);
const char *sim_link_speed_string(unsigned speed);

/* ---- sim-uevent.c ---- */
int sim_uevent_open(sim *s);
uint32_t sim_murmur2(const void *key, size_t len, uint32_t seed);
/* Emit one uevent (sim->lock held). env: KEY=VALUE\0... after the
 * ACTION/DEVPATH/SUBSYSTEM header, may be NULL. */
void sim_uevent_emit(sim *s, const char *action, const sim_node *dir, const char *subsystem, const sim_buf *env);
void sim_uevent_device(sim_device *d, const char *action);
void sim_uevent_netdev(sim_netdev *nd, const char *action, const char *devpath_old);

/* ---- sim-ctl.c ---- */
int sim_inject_check(sim *s, sim_op op, const char *target);   /* 0 or -errno */
/* The same for one point with several names (vf_set: the VF, the PF's
 * interface, the PF, each with "/ATTR" or not); traced as the first name. */
int sim_inject_check_names(sim *s, sim_op op, const char *const *targets, size_t n);
int sim_inject_dump(sim *s, sim_buf *out);
void sim_delay(sim *s, sim_lat l);
void sim_log_write(sim *s, const char *path, const void *buf, size_t len, int result);
/* The process whose write the current thread serves (FUSE: the caller's
 * thread id; rtnetlink: the client's pid), for "kill PID N". */
extern _Thread_local pid_t sim_writer;
int sim_log_open(sim *s, const char *path);
int sim_ctl_execute(sim *s, const char *cmd);
int sim_state_dump(sim *s, sim_buf *out);
const char *sim_op_to_string(sim_op op);
const char *sim_lat_to_string(sim_lat l);
int sim_lat_from_string(const char *s);

/* ---- sim-rtnl.c, sim-rtnl-model.c: rtnetlink for libsim-rtnl.so ---- */
struct json_object;
int sim_rtnl_start(sim *s, const char *socket_path);
int sim_rtnl_parse_vf_ops(sim *s, const char *file, const char *where, const char *driver, struct json_object *o);
int sim_rtnl_parse_device(sim *s, const char *file, const char *where, const char *bdf, struct json_object *dev);
void sim_rtnl_netdev_registered(sim_netdev *nd);   /* from register_netdev(), sim->lock held */
int sim_rtnl_ctl_netdev(sim *s, char **argv, size_t argc);
void sim_rtnl_dump_device(sim *s, const sim_device *d, struct json_object *o);   /* sim->lock held */
/* An RTM_NEWLINK (RTM_DELLINK when deleted) of nd to the sockets that
 * joined RTNLGRP_LINK, as rtmsg_ifinfo() sends it; sim->lock held */
void sim_rtnl_notify_link(sim_netdev *nd, bool deleted);
/* IFF_UP changed: __dev_notify_flags()'s RTM_NEWLINK; set up with a link
 * partner, the carrier follows in a second one, as linkwatch sends it once
 * the driver has negotiated the link (igb: a second or two later; here at
 * once). sim->lock held */
void sim_rtnl_notify_flags(sim_netdev *nd);
int sim_rtnl_ctl_traffic(sim *s, char **argv, size_t argc);
