/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulator's own interface under .sim/: the control file (failure
 * injection, latencies, VFIO holders, hot-plug, module load/unload, ...),
 * the JSON state dump, and the operation log. Commands are listed in
 * README.md; a bad command fails the write with EINVAL. */

#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <json-c/json.h>
#include <stdio.h>

#include "sim.h"
#include "util.h"

static const char *const op_names[_SIM_OP_MAX] = {
        [SIM_OP_NUMVFS] = "numvfs",
        [SIM_OP_AUTOPROBE] = "autoprobe",
        [SIM_OP_OVERRIDE] = "override",
        [SIM_OP_BIND] = "bind",
        [SIM_OP_UNBIND] = "unbind",
        [SIM_OP_PROBE] = "probe",
        [SIM_OP_NEW_ID] = "new_id",
        [SIM_OP_REMOVE_ID] = "remove_id",
        [SIM_OP_DRIVERS_PROBE] = "drivers_probe",
        [SIM_OP_REMOVE] = "remove",
        [SIM_OP_RESCAN] = "rescan",
        [SIM_OP_RESET] = "reset",
        [SIM_OP_VF_SET] = "vf_set",
};

static const char *const lat_names[_SIM_LAT_MAX] = {
        [SIM_LAT_SRIOV_ENABLE] = "sriov_enable",
        [SIM_LAT_SRIOV_DISABLE] = "sriov_disable",
        [SIM_LAT_VF_CREATE] = "vf_create",
        [SIM_LAT_VF_DESTROY] = "vf_destroy",
        [SIM_LAT_PROBE] = "probe",
        [SIM_LAT_UNBIND] = "unbind",
        [SIM_LAT_HOTPLUG] = "hotplug",
        [SIM_LAT_VF_SET] = "vf_set",
};

const char *sim_op_to_string(sim_op op) {
        return op < _SIM_OP_MAX ? op_names[op] : NULL;
}

const char *sim_lat_to_string(sim_lat l) {
        return l < _SIM_LAT_MAX ? lat_names[l] : NULL;
}

static int op_from_string(const char *s) {
        for (int i = 0; i < _SIM_OP_MAX; i++)
                if (streq(op_names[i], s))
                        return i;
        return -EINVAL;
}

int sim_lat_from_string(const char *s) {
        for (int i = 0; i < _SIM_LAT_MAX; i++)
                if (streq(lat_names[i], s))
                        return i;
        return -EINVAL;
}

/* ---- failure injection and latency ---- */

static bool inject_matches(const sim_inject *i, sim_op op, const char *target) {
        return !i->spent && i->op == op && (streq(i->target, "*") || sysfs_streq(target, i->target));
}

static bool inject_present(sim *s, const sim_inject *x) {
        for (const sim_inject *i = s->injects; i; i = i->next)
                if (i == x)
                        return true;
        return false;
}

static void inject_free(sim_inject *i) {
        free(i->target);
        free(i);
}

/* One injection point: traced in .sim/points (under the first name), then
 * the newest rule that matches any of the names decides. A rule still
 * skipping ("after N") lets this operation pass; a "block" rule holds it
 * until the rule is cleared; otherwise the operation fails with the rule's
 * errno. ctl_lock is a leaf lock: callers may hold device locks (the PF's
 * for numvfs), as the kernel does while a driver works. */
int sim_inject_check_names(sim *s, sim_op op, const char *const *targets, size_t n) {
        sim_inject *hit = NULL;
        int err = 0;

        pthread_mutex_lock(&s->ctl_lock);
        (void) sim_buf_printf(&s->points, "%s %s\n", op_names[op], n > 0 ? targets[0] : "*");
        for (sim_inject **p = &s->injects; *p; p = &(*p)->next) {
                sim_inject *i = *p;

                for (size_t k = 0; k < n && !hit; k++)
                        if (targets[k][0] && inject_matches(i, op, targets[k]))
                                hit = i;
                if (!hit)
                        continue;
                if (hit->skip > 0) {
                        hit->skip--;
                        break;
                }
                if (hit->err == 0) {
                        /* block: wait until "clear" removes the rule */
                        if (hit->count > 0 && --hit->count == 0)
                                hit->spent = true;
                        s->n_blocked++;
                        while (inject_present(s, hit))
                                pthread_cond_wait(&s->ctl_cond, &s->ctl_lock);
                        s->n_blocked--;
                        break;
                }
                err = hit->err;
                if (hit->count > 0 && --hit->count == 0) {
                        *p = hit->next;
                        inject_free(hit);
                }
                break;          /* *p may be NULL now: no step to its next */
        }
        pthread_mutex_unlock(&s->ctl_lock);
        return -err;
}

int sim_inject_check(sim *s, sim_op op, const char *target) {
        return sim_inject_check_names(s, op, &target, 1);
}

/* .sim/faults: "blocked N", then the rules, newest first:
 * "OP TARGET ERRNO|block COUNT after SKIP [spent]" */
int sim_inject_dump(sim *s, sim_buf *out) {
        pthread_mutex_lock(&s->ctl_lock);
        (void) sim_buf_printf(out, "blocked %u\n", s->n_blocked);
        (void) sim_buf_printf(out, "killed %u\n", s->n_killed);
        if (s->kill_pid != 0)
                (void) sim_buf_printf(out, "kill %d after %u\n", (int) s->kill_pid, s->kill_left);
        for (const sim_inject *i = s->injects; i; i = i->next) {
                const char *e = i->err ? errno_name(-i->err) : "block";

                (void) sim_buf_printf(out, "%s %s %s %u after %u%s\n", op_names[i->op], i->target, e ?: "?", i->count,
                                      i->skip, i->spent ? " spent" : "");
        }
        pthread_mutex_unlock(&s->ctl_lock);
        return out->oom ? -ENOMEM : 0;
}

void sim_delay(sim *s, sim_lat l) {
        unsigned ms = __atomic_load_n(&s->latency_ms[l], __ATOMIC_RELAXED);

        if (ms > 0)
                sleep_usec((uint64_t) ms * 1000);
}

static void injects_clear(sim *s, int op) {
        pthread_mutex_lock(&s->ctl_lock);
        for (sim_inject **p = &s->injects; *p;) {
                sim_inject *i = *p;

                if (op >= 0 && (int) i->op != op) {
                        p = &i->next;
                        continue;
                }
                *p = i->next;
                inject_free(i);
        }
        /* blocked operations go on */
        pthread_cond_broadcast(&s->ctl_cond);
        pthread_mutex_unlock(&s->ctl_lock);
}

/* ---- crash injection ---- */

_Thread_local pid_t sim_writer;

/* the process of a thread (FUSE names the calling thread) */
static pid_t tgid_of(pid_t tid) {
        _cleanup_free_ char *status = NULL;
        char p[64];
        const char *t;
        unsigned v;

        (void) snprintf(p, sizeof(p), "/proc/%d/status", (int) tid);
        if (read_full_file(p, &status, NULL, 64 * 1024) < 0 || !(t = strstr(status, "\nTgid:")))
                return tid;
        t += strlen("\nTgid:");
        return sscanf(t, "%u", &v) == 1 ? (pid_t) v : tid;
}

/* "kill PID N": the N-th write (sysfs store or rtnetlink change, failed
 * ones included) by PID is done, then PID gets SIGKILL before it sees the
 * answer — the process dies right after a kernel operation it started. */
static void kill_check(sim *s) {
        pid_t pid, w = sim_writer;
        bool now = false;
        char what[16];

        if (w <= 0 || __atomic_load_n(&s->kill_pid, __ATOMIC_RELAXED) == 0)
                return;
        w = tgid_of(w);
        pthread_mutex_lock(&s->ctl_lock);
        pid = s->kill_pid;
        if (pid != 0 && pid == w && s->kill_left > 0 && --s->kill_left == 0) {
                s->kill_pid = 0;
                s->n_killed++;
                now = true;
        }
        pthread_mutex_unlock(&s->ctl_lock);
        if (!now)
                return;
        (void) kill(pid, SIGKILL);
        (void) snprintf(what, sizeof(what), "%d", (int) pid);
        sim_log_write(s, ".sim/killed", what, strlen(what), 0);
}

static int ctl_kill(sim *s, const char *pid, const char *n) {
        unsigned p, count;

        if (safe_atou(pid, 10, &p) < 0 || p <= 1 || safe_atou(n, 10, &count) < 0 || count == 0)
                return -EINVAL;
        if (kill((pid_t) p, 0) < 0)
                return -ENOENT;         /* ESRCH: no such process */
        pthread_mutex_lock(&s->ctl_lock);
        s->kill_left = count;
        __atomic_store_n(&s->kill_pid, (pid_t) p, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&s->ctl_lock);
        return 0;
}

/* ---- operation log ---- */

int sim_log_open(sim *s, const char *path) {
        s->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
        return s->log_fd < 0 ? negative_errno() : 0;
}

/* one line per write: monotonic milliseconds, path below the root, the
 * value (C-escaped, quoted), the result (0 or the errno name) */
void sim_log_write(sim *s, const char *path, const void *buf, size_t len, int result) {
        _cleanup_free_ char *v = sim_escape(buf, len), *line = NULL;
        char err[16];
        const char *res = "0";

        if (result < 0) {
                res = errno_name(result);
                if (!res) {
                        (void) snprintf(err, sizeof(err), "E%d", -result);
                        res = err;
                }
        }
        while (*path == '/')
                path++;
        line = strdup_printf("%llu %s \"%s\" %s\n", (unsigned long long) (now_usec() / 1000), path, strempty(v), res);
        if (!line)
                return;
        pthread_mutex_lock(&s->log_lock);
        (void) sim_buf_put(&s->log, line, strlen(line));
        if (s->log_fd >= 0)
                (void) !write(s->log_fd, line, strlen(line));
        pthread_mutex_unlock(&s->log_lock);
        kill_check(s);
}

/* ---- control commands ---- */

static int parse_errno(const char *s) {
        unsigned n;
        int e;

        if (safe_atou(s, 10, &n) >= 0)
                return n > 0 && n < 4096 ? (int) n : -EINVAL;
        e = errno_from_name(s);
        return e > 0 ? e : -EINVAL;
}

static sim_device *find_device_ref(sim *s, const char *name) {
        sim_device *d;

        sim_lock(s);
        d = sim_find_device(s, name);
        if (d)
                sim_device_ref(d);
        sim_unlock(s);
        return d;
}

/* fail OP TARGET ERRNO|block [COUNT] [after N] */
static int ctl_fail(sim *s, char **argv, size_t argc) {
        sim_inject *i;
        unsigned count = 1, skip = 0;
        size_t k = 4;
        int op, err;

        if (argc < 4)
                return -EINVAL;
        op = op_from_string(argv[1]);
        err = streq(argv[3], "block") ? 0 : parse_errno(argv[3]);
        if (op < 0 || err < 0)
                return -EINVAL;
        if (k < argc && !streq(argv[k], "after")) {
                if (safe_atou(argv[k], 10, &count) < 0)
                        return -EINVAL;
                k++;
        }
        if (k < argc) {
                if (k + 2 != argc || !streq(argv[k], "after") || safe_atou(argv[k + 1], 10, &skip) < 0)
                        return -EINVAL;
                k += 2;
        }
        if (k != argc)
                return -EINVAL;
        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        i->op = op;
        i->err = err;
        i->count = count;
        i->skip = skip;
        i->target = strdup(argv[2]);
        if (!i->target) {
                free(i);
                return -ENOMEM;
        }
        pthread_mutex_lock(&s->ctl_lock);
        /* the newest rule for an operation wins */
        i->next = s->injects;
        s->injects = i;
        pthread_mutex_unlock(&s->ctl_lock);
        return 0;
}

static int ctl_latency(sim *s, char **argv, size_t argc) {
        unsigned ms;
        int l;

        if (argc != 3)
                return -EINVAL;
        l = sim_lat_from_string(argv[1]);
        if (l < 0 || safe_atou(argv[2], 10, &ms) < 0 || ms > 60000)
                return -EINVAL;
        __atomic_store_n(&s->latency_ms[l], ms, __ATOMIC_RELAXED);
        return 0;
}

/* a VFIO user opens the device: only on a device bound to a VFIO driver
 * whose remove() has not finished waiting for the users (vfio_open_ok,
 * checked and used under the lock that the removal decides under: checked
 * apart, a hold could land on a device whose unbind had just gone through,
 * held with no driver) */
static int ctl_hold(sim *s, const char *name, bool hold) {
        sim_device *d = find_device_ref(s, name);
        int r = 0;

        if (!d)
                return -ENODEV;
        pthread_mutex_lock(&s->hold_lock);
        if (hold && !d->vfio_open_ok)
                r = -EINVAL;
        else {
                d->held = hold;
                pthread_cond_broadcast(&s->hold_cond);
        }
        pthread_mutex_unlock(&s->hold_lock);
        sim_device_unref(d);
        return r;
}

/* a flag of a present device (the bool at offset field of sim_device):
 * assigned, PCI_DEV_FLAGS_ASSIGNED; ready, whether the function can be
 * driven (QEMU's NVMe VFs cannot until `nvme virt-mgmt` on the PF brings
 * their secondary controllers online; see the drivers' "not_ready") */
static int ctl_flag(sim *s, const char *name, size_t field, bool v) {
        sim_device *d;
        int r = -ENODEV;

        sim_lock(s);
        d = sim_find_device(s, name);
        if (d) {
                *(bool *) ((char *) d + field) = v;
                r = 0;
        }
        sim_unlock(s);
        return r;
}

static int ctl_partial(sim *s, const char *name, const char *n) {
        sim_device *d;
        unsigned v;
        int r = -ENODEV;

        if (safe_atou(n, 10, &v) < 0)
                return -EINVAL;
        sim_lock(s);
        d = sim_find_device(s, name);
        if (d && !d->sriov)
                r = -EINVAL;
        else if (d) {
                d->sriov->max_enable = (uint16_t) MIN(v, (unsigned) d->sriov->total);
                r = 0;
        }
        sim_unlock(s);
        return r;
}

static int ctl_remove(sim *s, const char *name) {
        sim_device *d = find_device_ref(s, name);
        int r;

        if (!d)
                return -ENODEV;
        r = sim_device_hot_remove(d);
        sim_device_unref(d);
        return r;
}

static sim_driver *driver_by_module_name(sim *s, const char *name) {
        _cleanup_free_ char *n = strdup(name);

        if (!n)
                return NULL;
        /* modprobe and rmmod treat '-' and '_' alike */
        for (size_t i = 0; i < s->n_drivers; i++) {
                const char *a = s->drivers[i]->module, *b = n;

                if (streq(s->drivers[i]->name, name))
                        return s->drivers[i];
                for (; *a && *b; a++, b++)
                        if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
                                break;
                if (!*a && !*b)
                        return s->drivers[i];
        }
        return NULL;
}

static int ctl_netdev(sim *s, char **argv, size_t argc) {
        if (argc == 3 && streq(argv[2], "up"))
                return sim_netdev_set_up(s, argv[1], true);
        if (argc == 3 && streq(argv[2], "down"))
                return sim_netdev_set_up(s, argv[1], false);
        if (argc == 4 && streq(argv[2], "rename"))
                return sim_netdev_rename(s, argv[1], argv[3]);
        if (argc == 4 && streq(argv[2], "carrier") && (streq(argv[3], "on") || streq(argv[3], "off")))
                return sim_netdev_set_link(s, argv[1], streq(argv[3], "on"));
        if (argc >= 5 && (streq(argv[2], "addr") || streq(argv[2], "route")))
                return sim_rtnl_ctl_netdev(s, argv, argc);
        return -EINVAL;
}

int sim_ctl_execute(sim *s, const char *cmd) {
        _cleanup_free_ char *copy = strdup(cmd);
        char *argv[8], *p, *save = NULL;
        size_t argc = 0;
        sim_driver *drv;

        if (!copy)
                return -ENOMEM;
        for (p = strtok_r(copy, " \t\n", &save); p; p = strtok_r(NULL, " \t\n", &save)) {
                if (argc == ELEMENTSOF(argv))
                        return -EINVAL;
                argv[argc++] = p;
        }
        if (argc == 0)
                return -EINVAL;

        if (streq(argv[0], "fail"))
                return ctl_fail(s, argv, argc);
        if (streq(argv[0], "clear") && argc <= 2) {
                int op = argc == 2 ? op_from_string(argv[1]) : -1;

                if (argc == 2 && op < 0)
                        return -EINVAL;
                injects_clear(s, op);
                if (argc == 1) {
                        pthread_mutex_lock(&s->ctl_lock);
                        __atomic_store_n(&s->kill_pid, 0, __ATOMIC_RELAXED);
                        s->kill_left = 0;
                        pthread_mutex_unlock(&s->ctl_lock);
                }
                return 0;
        }
        if (streq(argv[0], "kill") && argc == 3)
                return ctl_kill(s, argv[1], argv[2]);
        if (streq(argv[0], "latency"))
                return ctl_latency(s, argv, argc);
        if (streq(argv[0], "netdev"))
                return ctl_netdev(s, argv, argc);
        if (streq(argv[0], "traffic"))
                return sim_rtnl_ctl_traffic(s, argv, argc);
        if (argc == 3 && streq(argv[0], "partial"))
                return ctl_partial(s, argv[1], argv[2]);
        if (argc != 2)
                return -EINVAL;
        if (streq(argv[0], "hold"))
                return ctl_hold(s, argv[1], true);
        if (streq(argv[0], "release"))
                return ctl_hold(s, argv[1], false);
        if (streq(argv[0], "assign") || streq(argv[0], "unassign"))
                return ctl_flag(s, argv[1], offsetof(sim_device, assigned), streq(argv[0], "assign"));
        if (streq(argv[0], "ready") || streq(argv[0], "unready"))
                return ctl_flag(s, argv[1], offsetof(sim_device, ready), streq(argv[0], "ready"));
        if (streq(argv[0], "remove"))
                return ctl_remove(s, argv[1]);
        if (streq(argv[0], "add"))
                return sim_device_hot_add(s, argv[1]);
        if (streq(argv[0], "rmmod") || streq(argv[0], "modprobe")) {
                drv = driver_by_module_name(s, argv[1]);
                if (!drv)
                        return -ENOENT;
                if (drv->builtin)       /* delete_module(): no such module; modprobe: nothing to do */
                        return streq(argv[0], "rmmod") ? -ENOENT : 0;
                return streq(argv[0], "rmmod") ? sim_driver_unregister(drv) : sim_driver_register(drv);
        }
        return -EINVAL;
}

/* ---- state dump ---- */

static int cmp_json_string(const void *a, const void *b);

static json_object *str_or_null(const char *s) {
        return s ? json_object_new_string(s) : json_object_new_null();
}

static const char *type_name(sim_pcie_type t) {
        static const char *const n[_SIM_PCIE_TYPE_MAX] = {
                [SIM_PCIE_ENDPOINT] = "endpoint",
                [SIM_PCIE_RC_ENDPOINT] = "rc-endpoint",
                [SIM_PCIE_ROOT_PORT] = "root-port",
                [SIM_PCIE_UPSTREAM] = "upstream",
                [SIM_PCIE_DOWNSTREAM] = "downstream",
                [SIM_PCIE_PCI_BRIDGE] = "pci-bridge",
                [SIM_PCI_CONVENTIONAL] = "conventional",
        };
        return n[t];
}

static json_object *dump_device(const sim_device *d) {
        json_object *o = json_object_new_object(), *nds = json_object_new_array();
        char id[16];

        (void) snprintf(id, sizeof(id), "%04x:%04x", d->vendor, d->device);
        json_object_object_add(o, "bdf", json_object_new_string(d->name));
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "type", json_object_new_string(type_name(d->type)));
        json_object_object_add(o, "driver", str_or_null(d->driver ? d->driver->name : NULL));
        json_object_object_add(o, "driver_override", str_or_null(d->driver_override));
        json_object_object_add(o, "enable", json_object_new_int((int) d->enable_cnt));
        json_object_object_add(o, "numa_node", json_object_new_int(d->numa_node));
        json_object_object_add(o, "iommu_group", d->group ? json_object_new_int(d->group->id) : json_object_new_null());
        json_object_object_add(o, "held", json_object_new_boolean(d->held));
        json_object_object_add(o, "vfio_waiting", json_object_new_boolean(d->vfio_waiting));
        json_object_object_add(o, "assigned", json_object_new_boolean(d->assigned));
        json_object_object_add(o, "ready", json_object_new_boolean(d->ready));
        for (size_t i = 0; i < d->n_netdevs; i++) {
                json_object *n = json_object_new_object();

                json_object_object_add(n, "name", json_object_new_string(d->netdevs[i]->name));
                json_object_object_add(n, "ifindex", json_object_new_int(d->netdevs[i]->ifindex));
                json_object_object_add(n, "up", json_object_new_boolean(d->netdevs[i]->up));
                json_object_array_add(nds, n);
        }
        json_object_object_add(o, "netdevs", nds);
        if (d->physfn) {
                json_object_object_add(o, "physfn", json_object_new_string(d->physfn->name));
                json_object_object_add(o, "vf_index", json_object_new_int((int) d->vf_index));
        }
        if (d->sriov) {
                json_object *sr = json_object_new_object(), *vfs = json_object_new_array();

                json_object_object_add(sr, "totalvfs", json_object_new_int(d->sriov->driver_max));
                json_object_object_add(sr, "device_totalvfs", json_object_new_int(d->sriov->total));
                json_object_object_add(sr, "numvfs", json_object_new_int(d->sriov->num_vfs));
                json_object_object_add(sr, "autoprobe", json_object_new_boolean(d->sriov->autoprobe));
                json_object_object_add(sr, "max_enable", json_object_new_int(d->sriov->max_enable));
                for (unsigned i = 0; i < d->sriov->total; i++)
                        if (d->sriov->vfs[i])
                                json_object_array_add(vfs, json_object_new_string(d->sriov->vfs[i]->name));
                json_object_object_add(sr, "vfs", vfs);
                json_object_object_add(o, "sriov", sr);
        }
        sim_rtnl_dump_device(d->sim, d, o);
        return o;
}

static int cmp_json_string(const void *a, const void *b) {
        return strcmp(json_object_get_string(*(json_object * const *) a),
                      json_object_get_string(*(json_object * const *) b));
}

static int cmp_dev(const void *a, const void *b) {
        return pci_addr_compare(&(*(sim_device * const *) a)->addr, &(*(sim_device * const *) b)->addr);
}

int sim_state_dump(sim *s, sim_buf *out) {
        _cleanup_free_ sim_device **devs = NULL;
        json_object *root = json_object_new_object(), *drivers = json_object_new_array(),
                    *devices = json_object_new_array(), *groups = json_object_new_array();
        size_t n;
        int r;

        if (!root || !drivers || !devices || !groups) {
                json_object_put(root);
                json_object_put(drivers);
                json_object_put(devices);
                json_object_put(groups);
                return -ENOMEM;
        }
        sim_lock(s);
        pthread_mutex_lock(&s->hold_lock);
        json_object_object_add(root, "iommu", json_object_new_boolean(s->iommu));
        json_object_object_add(root, "drivers_autoprobe", json_object_new_boolean(s->bus_autoprobe));
        for (size_t i = 0; i < s->n_drivers; i++) {
                sim_driver *drv = s->drivers[i];
                json_object *o = json_object_new_object(), *dyn = json_object_new_array(),
                            *bound = json_object_new_array();

                json_object_object_add(o, "name", json_object_new_string(drv->name));
                json_object_object_add(o, "module", json_object_new_string(drv->module));
                json_object_object_add(o, "loaded", json_object_new_boolean(drv->loaded));
                for (size_t k = 0; k < drv->n_dynids; k++) {
                        const sim_pci_id *id = &drv->dynids[k];
                        char b[80];

                        (void) snprintf(b, sizeof(b), "%04x %04x %x %x %x %x", id->vendor & 0xffff,
                                        id->device & 0xffff, id->subvendor, id->subdevice, id->class, id->class_mask);
                        json_object_array_add(dyn, json_object_new_string(b));
                }
                /* sorted: the binding order is no state anyone can see */
                for (size_t k = 0; k < drv->n_bound; k++)
                        json_object_array_add(bound, json_object_new_string(drv->bound[k]->name));
                json_object_array_sort(bound, cmp_json_string);
                json_object_object_add(o, "dynids", dyn);
                json_object_object_add(o, "bound", bound);
                json_object_array_add(drivers, o);
        }
        n = s->n_bus;
        devs = calloc(n + 1, sizeof(*devs));
        if (devs) {
                memcpy(devs, s->bus_list, n * sizeof(*devs));
                qsort(devs, n, sizeof(*devs), cmp_dev);
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(devices, dump_device(devs[i]));
        }
        for (size_t i = 0; i < s->n_groups; i++) {
                sim_group *g = s->groups[i];
                json_object *o, *l;

                if (!g)
                        continue;
                o = json_object_new_object();
                l = json_object_new_array();
                json_object_object_add(o, "id", json_object_new_int(g->id));
                json_object_object_add(o, "type", json_object_new_string(g->type));
                for (size_t k = 0; k < g->n_devs; k++)
                        json_object_array_add(l, json_object_new_string(g->devs[k]->name));
                json_object_object_add(o, "devices", l);
                json_object_array_add(groups, o);
        }
        pthread_mutex_unlock(&s->hold_lock);
        sim_unlock(s);

        json_object_object_add(root, "drivers", drivers);
        json_object_object_add(root, "devices", devices);
        json_object_object_add(root, "iommu_groups", groups);
        {
                const char *t = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

                r = sim_buf_printf(out, "%s\n", t);
        }
        json_object_put(root);
        return devs ? r : -ENOMEM;
}
