/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Allocate and GetPreferredAllocation of a resource. Allocate assigns the
 * VFs the kubelet chose with sriovd (owner "kubernetes", the device ID as
 * the guest's name), all or none, and answers what the container needs:
 * the VFIO nodes of one backend, PCIDEVICE_<RESOURCE> (and KubeVirt's
 * PCI_RESOURCE_<RESOURCE>) with the addresses, and the CDI names. */

#include <stdarg.h>
#include <stdio.h>

#include "messages.h"
#include "plog.h"
#include "plugin.h"
#include "sriovd-api.h"
#include "util.h"

typedef struct Alloc Alloc;

typedef struct Item {
        Alloc *alloc;
        char *id;
        size_t container;
        char **nodes;                   /* sriovd's device_nodes */
        char *cdi;                      /* its CDI name, NULL without a spec */
        bool assigned, retried;
} Item;

struct Alloc {
        Plugin *plugin;
        RpcServerCall *call;
        char *pool, *env;
        size_t n_containers;
        Item *items;
        size_t n_items;
        unsigned outstanding;
        bool failed;
        grpc_status_code status;
        char *error;
        uint64_t started;
};

static void alloc_free(Alloc *a) {
        for (size_t i = 0; i < a->n_items; i++) {
                free(a->items[i].id);
                strv_free(a->items[i].nodes);
                free(a->items[i].cdi);
        }
        free(a->items);
        free(a->pool);
        free(a->env);
        free(a->error);
        free(a);
}

static void alloc_fail(Alloc *a, grpc_status_code status, const char *fmt, ...) _printf_(3, 4);
static void alloc_fail(Alloc *a, grpc_status_code status, const char *fmt, ...) {
        va_list ap;

        if (a->failed)
                return;         /* the first failure is the answer */
        a->failed = true;
        a->status = status;
        va_start(ap, fmt);
        if (vasprintf(&a->error, fmt, ap) < 0)
                a->error = NULL;
        va_end(ap);
}

static grpc_status_code status_of(const sd_bus_error *e) {
        if (sd_bus_error_has_name(e, SRIOVD_ERROR_POOL_EXHAUSTED))
                return GRPC_STATUS_RESOURCE_EXHAUSTED;
        if (sd_bus_error_has_names(e, SRIOVD_ERROR_INVALID_ARGUMENT, SRIOVD_ERROR_NOT_FOUND, SRIOVD_ERROR_NO_SUCH_DEVICE))
                return GRPC_STATUS_INVALID_ARGUMENT;
        if (sd_bus_error_has_names(e, SRIOVD_ERROR_ACCESS_DENIED, "org.freedesktop.DBus.Error.AccessDenied",
                                   "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))
                return GRPC_STATUS_PERMISSION_DENIED;
        if (sd_bus_error_has_names(e, "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NoReply",
                                   SRIOVD_ERROR_STATE_UNAVAILABLE, SRIOVD_ERROR_OPERATION_PENDING))
                return GRPC_STATUS_UNAVAILABLE;
        return GRPC_STATUS_FAILED_PRECONDITION;
}

/* ---- the answer ---- */

/* /dev of the node's host path: what comes before "/vfio/". */
static size_t dev_root_len(const char *node) {
        const char *v = strstr(node, "/vfio/");

        return v ? (size_t) (v - node) : 0;
}

static bool is_cdev(const char *node) {
        return strstr(node, "/vfio/devices/");
}

/* The backend of a container's VFs: iommufd when asked for, or (auto) when
 * sriovd says /dev/iommu exists and every VF has its cdev; else the
 * container (group nodes and /dev/vfio/vfio). Never a mix. */
static int pick_backend(Alloc *a, size_t container, Backend *ret) {
        bool all_cdev = true;

        for (size_t i = 0; i < a->n_items; i++) {
                bool has = false;

                if (a->items[i].container != container)
                        continue;
                STRV_FOREACH(n, a->items[i].nodes)
                        has = has || is_cdev(*n);
                all_cdev = all_cdev && has;
        }
        switch (a->plugin->opt.backend) {
        case BACKEND_IOMMUFD:
                if (!all_cdev || !a->plugin->iommufd)
                        return -EOPNOTSUPP;
                *ret = BACKEND_IOMMUFD;
                return 0;
        case BACKEND_CONTAINER:
                *ret = BACKEND_CONTAINER;
                return 0;
        default:
                *ret = all_cdev && a->plugin->iommufd ? BACKEND_IOMMUFD : BACKEND_CONTAINER;
                return 0;
        }
}

/* Everything one answer allocates, freed together after packing. */
typedef struct Answer {
        V1beta1__ContainerAllocateResponse *resp;
        V1beta1__ContainerAllocateResponse **presp;
        char **strings;                 /* every string the messages point to */
        void **blocks;                  /* every message */
} Answer;

static void answer_done(Answer *w) {
        strv_free(w->strings);
        for (size_t i = 0; w->blocks && w->blocks[i]; i++)
                free(w->blocks[i]);
        free(w->blocks);
        free(w->resp);
        free(w->presp);
}

static void *keep_block(Answer *w, size_t size) {
        size_t n = 0;
        void *b = calloc(1, size), **l;

        while (w->blocks && w->blocks[n])
                n++;
        l = b ? reallocarray(w->blocks, n + 2, sizeof(void *)) : NULL;
        if (!l) {
                free(b);
                return NULL;
        }
        l[n] = b;
        l[n + 1] = NULL;
        w->blocks = l;
        return b;
}

static char *keep_string(Answer *w, char *s) {
        if (!s || strv_push(&w->strings, s) < 0)
                return NULL;
        return s;
}

static int add_device(Answer *w, V1beta1__ContainerAllocateResponse *c, const char *host_path, size_t root) {
        V1beta1__DeviceSpec *d, **l;

        for (size_t i = 0; i < c->n_devices; i++)
                if (streq(c->devices[i]->host_path, host_path))
                        return 0;
        d = keep_block(w, sizeof(*d));
        l = d ? reallocarray(c->devices, c->n_devices + 1, sizeof(*l)) : NULL;
        if (!l)
                return -ENOMEM;
        c->devices = l;
        v1beta1__device_spec__init(d);
        d->host_path = keep_string(w, strdup(host_path));
        d->container_path = keep_string(w, strdup_printf("/dev%s", host_path + root));
        d->permissions = (char *) "rw";
        if (!d->host_path || !d->container_path)
                return -ENOMEM;
        c->devices[c->n_devices++] = d;
        return 0;
}

static int add_env(Answer *w, V1beta1__ContainerAllocateResponse *c, const char *prefix, const char *env,
                   const char *value) {
        V1beta1__ContainerAllocateResponse__EnvsEntry *e, **l;

        e = keep_block(w, sizeof(*e));
        l = e ? reallocarray(c->envs, c->n_envs + 1, sizeof(*l)) : NULL;
        if (!l)
                return -ENOMEM;
        c->envs = l;
        v1beta1__container_allocate_response__envs_entry__init(e);
        e->key = keep_string(w, strdup_printf("%s_%s", prefix, env));
        e->value = keep_string(w, strdup(value));
        if (!e->key || !e->value)
                return -ENOMEM;
        c->envs[c->n_envs++] = e;
        return 0;
}

static int add_cdi(Answer *w, V1beta1__ContainerAllocateResponse *c, const char *name) {
        V1beta1__CDIDevice *d, **l;

        d = keep_block(w, sizeof(*d));
        l = d ? reallocarray(c->cdi_devices, c->n_cdi_devices + 1, sizeof(*l)) : NULL;
        if (!l)
                return -ENOMEM;
        c->cdi_devices = l;
        v1beta1__cdidevice__init(d);
        d->name = keep_string(w, strdup(name));
        if (!d->name)
                return -ENOMEM;
        c->cdi_devices[c->n_cdi_devices++] = d;
        return 0;
}

static int add_item(Answer *w, V1beta1__ContainerAllocateResponse *c, const Item *it, Backend backend) {
        int r;

        STRV_FOREACH(n, it->nodes) {
                if (is_cdev(*n) != (backend == BACKEND_IOMMUFD))
                        continue;
                r = add_device(w, c, *n, dev_root_len(*n));
                if (r < 0)
                        return r;
        }
        if (it->cdi && it->alloc->plugin->opt.cdi)
                return add_cdi(w, c, it->cdi);
        return 0;
}

static int add_backend_node(Answer *w, V1beta1__ContainerAllocateResponse *c, Backend backend) {
        _cleanup_free_ char *node = NULL;
        size_t root;

        if (c->n_devices == 0)
                return 0;       /* no VFIO node at all (no IOMMU) */
        root = dev_root_len(c->devices[0]->host_path);
        node = strdup_printf("%.*s%s", (int) root, c->devices[0]->host_path,
                             backend == BACKEND_IOMMUFD ? "/iommu" : "/vfio/vfio");
        if (!node)
                return -ENOMEM;
        return add_device(w, c, node, root);
}

static int build_container(Alloc *a, Answer *w, size_t k) {
        V1beta1__ContainerAllocateResponse *c = &w->resp[k];
        _cleanup_strv_free_ char **addresses = NULL;
        _cleanup_free_ char *joined = NULL;
        Backend backend;
        int r;

        v1beta1__container_allocate_response__init(c);
        w->presp[k] = c;
        r = pick_backend(a, k, &backend);
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->n_items; i++) {
                if (a->items[i].container != k)
                        continue;
                r = add_item(w, c, &a->items[i], backend);
                if (r < 0)
                        return r;
                r = strv_extend(&addresses, a->items[i].id);
                if (r < 0)
                        return r;
        }
        r = add_backend_node(w, c, backend);
        if (r < 0)
                return r;
        for (size_t i = 0; addresses && addresses[i]; i++) {
                char *j = strdup_printf("%s%s%s", strempty(joined), joined ? "," : "", addresses[i]);

                free(joined);
                joined = j;
                if (!joined)
                        return -ENOMEM;
        }
        r = add_env(w, c, "PCIDEVICE", a->env, strempty(joined));
        if (r < 0)
                return r;
        return add_env(w, c, "PCI_RESOURCE", a->env, strempty(joined));
}

static int reply_allocated(Alloc *a) {
        V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;
        Answer w = {};
        int r = 0;

        w.resp = calloc(MAX(a->n_containers, (size_t) 1), sizeof(*w.resp));
        w.presp = calloc(MAX(a->n_containers, (size_t) 1), sizeof(*w.presp));
        if (!w.resp || !w.presp)
                r = -ENOMEM;
        for (size_t k = 0; r >= 0 && k < a->n_containers; k++)
                r = build_container(a, &w, k);
        if (r >= 0) {
                resp.n_container_responses = a->n_containers;
                resp.container_responses = w.presp;
                rpc_call_reply(a->call, &resp.base);
        }
        for (size_t k = 0; w.resp && k < a->n_containers; k++) {
                free(w.resp[k].devices);
                free(w.resp[k].envs);
                free(w.resp[k].cdi_devices);
        }
        answer_done(&w);
        return r;
}

/* ---- the work with sriovd ---- */

static void item_assign(Item *it);
static void roll_back(Alloc *a);

static void alloc_finish(Alloc *a) {
        Plugin *p = a->plugin;
        int r;

        if (!a->failed) {
                r = reply_allocated(a);
                if (r >= 0) {
                        log_info("Allocated %zu VF(s) of pool %s in %.1f ms", a->n_items, a->pool,
                                 (double) (now_usec() - a->started) / 1000.0);
                        p->allocating--;
                        alloc_free(a);
                        return;
                }
                if (r == -EOPNOTSUPP)
                        alloc_fail(a, GRPC_STATUS_FAILED_PRECONDITION, "iommufd was asked for, and a VF or the host lacks it");
                else
                        alloc_fail(a, GRPC_STATUS_INTERNAL, "%s", strerror(-r));
                /* nothing was answered: what was assigned goes back */
                roll_back(a);
                return;
        }
        p->allocating--;
        log_warning("Allocate of pool %s failed: %s", a->pool, strna(a->error));
        rpc_call_fail(a->call, a->status, "%s", strna(a->error));
        alloc_free(a);
}

static int on_rolled_back(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Item *it = userdata;
        Alloc *a = it->alloc;

        if (sd_bus_message_is_method_error(m, NULL))
                log_warning("Cannot give %s back after a failed Allocate (the cleanup retries): %s", it->id,
                            sd_bus_message_get_error(m)->message);
        if (--a->outstanding == 0)
                alloc_finish(a);
        return 0;
}

/* All or none: what this call assigned goes back. */
static void roll_back(Alloc *a) {
        for (size_t i = 0; i < a->n_items; i++) {
                Item *it = &a->items[i];

                if (!it->assigned)
                        continue;
                it->assigned = false;
                if (sd_bus_call_method_async(a->plugin->bus, NULL, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH,
                                             SRIOVD_MANAGER_IFACE, "Release", on_rolled_back, it, "ssa{sv}", it->id,
                                             "", 0) >= 0)
                        a->outstanding++;
        }
        if (a->outstanding == 0)
                alloc_finish(a);
}

static void alloc_step_done(Alloc *a) {
        if (--a->outstanding > 0)
                return;
        if (a->failed) {
                a->outstanding = 0;
                roll_back(a);
                return;
        }
        alloc_finish(a);
}

static int read_assigned(sd_bus_message *m, Item *it) {
        const char *key, *cdi = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "device_nodes")) {
                        r = sd_bus_message_enter_container(m, 'v', "as");
                        if (r >= 0)
                                r = sd_bus_message_read_strv(m, &it->nodes);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else if (streq(key, "cdi_device"))
                        r = sd_bus_message_read(m, "v", "s", &cdi);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (cdi && !(it->cdi = strdup(cdi)))
                return -ENOMEM;
        return sd_bus_message_exit_container(m);
}

static int on_released_first(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Item *it = userdata;

        /* NotFound: it was not held after all; anything else shows in Assign */
        item_assign(it);
        alloc_step_done(it->alloc);
        return 0;
}

/* The VF is still held for a pod that is gone (the cleanup has not run yet):
 * a new pod gets it only after sriovd put it back and reset it. */
static void item_release_then_assign(Item *it) {
        Alloc *a = it->alloc;
        int r;

        log_info("%s is still held for a pod that is gone: releasing it first", it->id);
        r = sd_bus_call_method_async(a->plugin->bus, NULL, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE,
                                     "Release", on_released_first, it, "ssa{sv}", it->id, "", 0);
        if (r < 0) {
                alloc_fail(a, GRPC_STATUS_UNAVAILABLE, "Cannot call sriovd: %s", strerror(-r));
                return;
        }
        a->outstanding++;
}

static int on_assigned(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Item *it = userdata;
        Alloc *a = it->alloc;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        if (e && sd_bus_error_has_name(e, SRIOVD_ERROR_DEVICE_BUSY) && !it->retried) {
                it->retried = true;
                item_release_then_assign(it);
        } else if (e)
                alloc_fail(a, status_of(e), "%s: %s", it->id, e->message);
        else {
                it->assigned = true;
                plugin_note_allocated(a->plugin, it->id);
                r = read_assigned(m, it);
                if (r < 0)
                        alloc_fail(a, GRPC_STATUS_INTERNAL, "Cannot read sriovd's answer for %s: %s", it->id,
                                   strerror(-r));
        }
        alloc_step_done(a);
        return 0;
}

static void item_assign(Item *it) {
        Alloc *a = it->alloc;
        int r;

        r = sd_bus_call_method_async(a->plugin->bus, NULL, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE,
                                     "Assign", on_assigned, it, "ssa{sv}", it->id, a->pool, 3, "owner", "s",
                                     PLUGIN_OWNER, "vf", "s", it->id, "token", "s", it->id);
        if (r < 0) {
                alloc_fail(a, GRPC_STATUS_UNAVAILABLE, "Cannot call sriovd: %s", strerror(-r));
                return;
        }
        a->outstanding++;
}

static void item_start(Item *it) {
        const Held *h = sriovd_held_by(it->alloc->plugin, it->id);

        if (h && streq(h->guest, it->id) && streq(h->owner, PLUGIN_OWNER)) {
                it->retried = true;
                item_release_then_assign(it);
        } else
                item_assign(it);
}

/* ---- Allocate ---- */

static int alloc_items(Alloc *a, Resource *res, const V1beta1__AllocateRequest *req) {
        for (size_t k = 0; k < req->n_container_requests; k++)
                for (size_t j = 0; j < req->container_requests[k]->n_devices_ids; j++) {
                        const char *id = req->container_requests[k]->devices_ids[j];
                        Item *l;

                        if (!resource_find_vf(res, id)) {
                                alloc_fail(a, GRPC_STATUS_INVALID_ARGUMENT, "%s is not a device of %s", id, res->name);
                                return -EINVAL;
                        }
                        l = reallocarray(a->items, a->n_items + 1, sizeof(Item));
                        if (!l)
                                return -ENOMEM;
                        a->items = l;
                        a->items[a->n_items++] = (Item) { .alloc = a, .id = strdup(id), .container = k };
                        if (!a->items[a->n_items - 1].id)
                                return -ENOMEM;
                }
        a->n_containers = req->n_container_requests;
        return 0;
}

void allocate_handle(Resource *res, RpcServerCall *c, const uint8_t *data, size_t len) {
        V1beta1__AllocateRequest *req = v1beta1__allocate_request__unpack(NULL, len, data);
        Plugin *p = res->plugin;
        Alloc *a;
        int r;

        a = req ? calloc(1, sizeof(*a)) : NULL;
        if (!a) {
                v1beta1__allocate_request__free_unpacked(req, NULL);
                rpc_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "Cannot read the AllocateRequest");
                return;
        }
        *a = (Alloc) { .plugin = p, .call = c, .pool = strdup(res->pool), .env = strdup(res->env),
                       .started = now_usec() };
        p->allocating++;
        r = a->pool && a->env ? alloc_items(a, res, req) : -ENOMEM;
        v1beta1__allocate_request__free_unpacked(req, NULL);
        if (r >= 0 && !p->sriovd_running)
                alloc_fail(a, GRPC_STATUS_UNAVAILABLE, "sriovd is not running");
        if (r == -ENOMEM)
                alloc_fail(a, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        if (a->failed) {
                alloc_finish(a);
                return;
        }
        a->outstanding = 1;     /* until every item is started */
        for (size_t i = 0; i < a->n_items; i++)
                item_start(&a->items[i]);
        alloc_step_done(a);
}

/* ---- GetPreferredAllocation ---- */

static bool contains(char **l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

/* The node of the must-include VFs (the most of them), else the node with
 * the most available VFs; -1 when nothing says. */
static int preferred_node(Resource *res, const V1beta1__ContainerPreferredAllocationRequest *q) {
        bool must = q->n_must_include_deviceids > 0;
        int best = -1, best_count = 0;

        for (size_t i = 0; i < res->n_vfs; i++) {
                int node = res->vfs[i].numa, count = 0;

                if (node < 0 || node == best)
                        continue;
                for (size_t j = 0; j < res->n_vfs; j++) {
                        const char *id = res->vfs[j].id;

                        if (res->vfs[j].numa != node)
                                continue;
                        if (must ? contains(q->must_include_deviceids, q->n_must_include_deviceids, id)
                                 : contains(q->available_deviceids, q->n_available_deviceids, id))
                                count++;
                }
                if (count > best_count || (count == best_count && count > 0 && node < best)) {
                        best = node;
                        best_count = count;
                }
        }
        return best;
}

static int choose(Resource *res, const V1beta1__ContainerPreferredAllocationRequest *q, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t want = q->allocation_size > 0 ? (size_t) q->allocation_size : 0;
        int node = preferred_node(res, q);

        for (size_t i = 0; i < q->n_must_include_deviceids; i++)
                if (strv_extend(&l, q->must_include_deviceids[i]) < 0)
                        return -ENOMEM;
        /* the node first, then any, each in the pool's order */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < res->n_vfs && strv_length(l) < want; i++) {
                        const char *id = res->vfs[i].id;

                        if ((pass == 0 && res->vfs[i].numa != node) || strv_contains(l, id) ||
                            !contains(q->available_deviceids, q->n_available_deviceids, id))
                                continue;
                        if (strv_extend(&l, id) < 0)
                                return -ENOMEM;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

void preferred_handle(Resource *res, RpcServerCall *c, const uint8_t *data, size_t len) {
        V1beta1__PreferredAllocationRequest *req = v1beta1__preferred_allocation_request__unpack(NULL, len, data);
        V1beta1__PreferredAllocationResponse resp = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
        V1beta1__ContainerPreferredAllocationResponse *cr = NULL, **pcr = NULL;
        char ***chosen = NULL;
        size_t n;
        int r = 0;

        if (!req) {
                rpc_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "Cannot read the PreferredAllocationRequest");
                return;
        }
        n = req->n_container_requests;
        cr = calloc(MAX(n, (size_t) 1), sizeof(*cr));
        pcr = calloc(MAX(n, (size_t) 1), sizeof(*pcr));
        chosen = calloc(MAX(n, (size_t) 1), sizeof(*chosen));
        if (!cr || !pcr || !chosen)
                r = -ENOMEM;
        for (size_t k = 0; r >= 0 && k < n; k++) {
                r = choose(res, req->container_requests[k], &chosen[k]);
                v1beta1__container_preferred_allocation_response__init(&cr[k]);
                cr[k].n_deviceids = strv_length(chosen[k]);
                cr[k].deviceids = chosen[k];
                pcr[k] = &cr[k];
        }
        if (r >= 0) {
                resp.n_container_responses = n;
                resp.container_responses = pcr;
                rpc_call_reply(c, &resp.base);
        } else
                rpc_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        for (size_t k = 0; chosen && k < n; k++)
                strv_free(chosen[k]);
        free(chosen);
        free(cr);
        free(pcr);
        v1beta1__preferred_allocation_request__free_unpacked(req, NULL);
}
