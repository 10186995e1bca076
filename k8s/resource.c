/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A pool as the kubelet's resource PREFIX/POOL: a gRPC server on its own
 * socket in the device-plugins directory, registered with the kubelet, and
 * the device list it streams to the kubelet (ListAndWatch) whenever sriovd
 * tells of a change. */

#include <ctype.h>

#include "messages.h"
#include "plog.h"
#include "plugin.h"
#include "util.h"

struct Stream {
        Resource *resource;
        RpcServerCall *call;
        Stream *next;
};

#define DP_SERVICE "/" PLUGIN_API_VERSION ".DevicePlugin/"

void vf_array_free(Vf *vfs, size_t n) {
        for (size_t i = 0; vfs && i < n; i++) {
                free(vfs[i].id);
                free(vfs[i].why);
        }
        free(vfs);
}

static int vf_array_copy(const Vf *from, size_t n, Vf **ret) {
        Vf *v = calloc(MAX(n, (size_t) 1), sizeof(Vf));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                v[i] = (Vf) { strdup(from[i].id), from[i].numa, from[i].healthy, from[i].why ? strdup(from[i].why) : NULL };
                if (!v[i].id || (from[i].why && !v[i].why)) {
                        vf_array_free(v, n);
                        return -ENOMEM;
                }
        }
        *ret = v;
        return 0;
}

const Vf *resource_find_vf(const Resource *r, const char *id) {
        for (size_t i = 0; i < r->n_vfs; i++)
                if (streq(r->vfs[i].id, id))
                        return &r->vfs[i];
        return NULL;
}

Resource *resource_free(Resource *r) {
        if (!r)
                return NULL;
        sd_event_source_disable_unref(r->register_retry);
        vf_array_free(r->vfs, r->n_vfs);
        free(r->pool);
        free(r->name);
        free(r->endpoint);
        free(r->socket);
        free(r->env);
        return mfree(r);
}

/* ---- ListAndWatch ---- */

static int send_list(Resource *r, RpcServerCall *c) {
        V1beta1__ListAndWatchResponse resp = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
        V1beta1__Device *devs = calloc(MAX(r->n_vfs, (size_t) 1), sizeof(*devs));
        V1beta1__Device **pdevs = calloc(MAX(r->n_vfs, (size_t) 1), sizeof(*pdevs));
        V1beta1__TopologyInfo *topo = calloc(MAX(r->n_vfs, (size_t) 1), sizeof(*topo));
        V1beta1__NUMANode *nodes = calloc(MAX(r->n_vfs, (size_t) 1), sizeof(*nodes));
        V1beta1__NUMANode **pnodes = calloc(MAX(r->n_vfs, (size_t) 1), sizeof(*pnodes));
        int k = -ENOMEM;

        if (devs && pdevs && topo && nodes && pnodes) {
                for (size_t i = 0; i < r->n_vfs; i++) {
                        v1beta1__device__init(&devs[i]);
                        devs[i].id = r->vfs[i].id;
                        devs[i].health = (char *) (r->vfs[i].healthy ? "Healthy" : "Unhealthy");
                        if (r->vfs[i].numa >= 0) {
                                v1beta1__topology_info__init(&topo[i]);
                                v1beta1__numanode__init(&nodes[i]);
                                nodes[i].id = r->vfs[i].numa;
                                pnodes[i] = &nodes[i];
                                topo[i].n_nodes = 1;
                                topo[i].nodes = &pnodes[i];
                                devs[i].topology = &topo[i];
                        }
                        pdevs[i] = &devs[i];
                }
                resp.n_devices = r->n_vfs;
                resp.devices = pdevs;
                k = rpc_call_send(c, &resp.base);
        }
        free(devs);
        free(pdevs);
        free(topo);
        free(nodes);
        free(pnodes);
        return k;
}

static void push_list(Resource *r) {
        for (Stream *s = r->streams; s; s = s->next)
                (void) send_list(r, s->call);
}

static void stream_closed(void *userdata, RpcServerCall *c) {
        Stream *s = userdata, **pp;

        for (pp = &s->resource->streams; *pp; pp = &(*pp)->next)
                if (*pp == s) {
                        *pp = s->next;
                        break;
                }
        log_debug("%s: the kubelet closed ListAndWatch", s->resource->name);
        free(s);
}

static void list_and_watch(Resource *r, RpcServerCall *c) {
        Stream *s = calloc(1, sizeof(*s));

        if (!s) {
                rpc_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
                return;
        }
        *s = (Stream) { r, c, r->streams };
        r->streams = s;
        rpc_call_stream(c, stream_closed, s);
        log_info("%s: the kubelet watches the devices (%zu VFs)", r->name, r->n_vfs);
        (void) send_list(r, c);
}

/* ---- the calls ---- */

static void reply_options(RpcServerCall *c) {
        V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

        o.pre_start_required = false;
        o.get_preferred_allocation_available = true;
        rpc_call_reply(c, &o.base);
}

static void on_call(void *userdata, RpcServerCall *c, const char *method, const uint8_t *data, size_t len) {
        Resource *r = userdata;
        V1beta1__PreStartContainerResponse empty = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;

        if (!strneq(method, DP_SERVICE, strlen(DP_SERVICE))) {
                rpc_call_fail(c, GRPC_STATUS_UNIMPLEMENTED, "unknown method %s", method);
                return;
        }
        method += strlen(DP_SERVICE);
        if (streq(method, "GetDevicePluginOptions"))
                reply_options(c);
        else if (streq(method, "ListAndWatch"))
                list_and_watch(r, c);
        else if (streq(method, "GetPreferredAllocation"))
                preferred_handle(r, c, data, len);
        else if (streq(method, "Allocate"))
                allocate_handle(r, c, data, len);
        else if (streq(method, "PreStartContainer"))
                rpc_call_reply(c, &empty.base);
        else
                rpc_call_fail(c, GRPC_STATUS_UNIMPLEMENTED, "unknown method %s", method);
}

/* ---- the server's life ---- */

static int resource_start(Resource *r) {
        int r2;

        r2 = rpc_server_new(r->plugin->rpc, r->socket, on_call, r, &r->server);
        if (r2 < 0)
                return log_error_errno(r2, "%s: cannot listen on %s: %m", r->name, r->socket);
        r->plugin->n_servers++;
        r->registered = false;
        kubelet_register(r);
        return 0;
}

static void unlink_resource(Plugin *p, Resource *r) {
        for (Resource **pp = &p->resources; *pp; pp = &(*pp)->next)
                if (*pp == r) {
                        *pp = r->next;
                        return;
                }
}

static void server_stopped(void *userdata) {
        Resource *r = userdata;
        Plugin *p = r->plugin;

        r->server = NULL;
        if (--p->n_servers == 0 && p->exiting)
                (void) sd_event_exit(p->event, 0);
        if (r->removed) {
                resource_free(r);
                return;
        }
        if (r->restart) {
                r->restart = false;
                (void) resource_start(r);
        }
}

static void resource_restart(Resource *r) {
        if (!r->server) {
                (void) resource_start(r);
                return;
        }
        if (r->restart)
                return;
        r->restart = true;
        rpc_server_stop(r->server, server_stopped, r);
}

static void resource_remove(Plugin *p, Resource *r) {
        log_info("%s: the pool is gone; its resource too", r->name);
        unlink_resource(p, r);
        r->removed = true;
        if (r->server)
                rpc_server_stop(r->server, server_stopped, r);
        else
                resource_free(r);
}

static char *env_name(const char *prefix, const char *pool) {
        char *s = strdup_printf("%s_%s", prefix, pool);

        for (char *c = s; c && *c; c++)
                *c = isalnum((unsigned char) *c) ? (char) toupper((unsigned char) *c) : '_';
        return s;
}

static Resource *resource_new(Plugin *p, const char *pool) {
        Resource *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        r->plugin = p;
        r->pool = strdup(pool);
        r->name = strdup_printf("%s/%s", p->opt.prefix, pool);
        r->endpoint = strdup_printf("sriovd-%s.sock", pool);
        r->socket = strdup_printf("%s/sriovd-%s.sock", p->opt.plugin_dir, pool);
        r->env = env_name(p->opt.prefix, pool);
        if (!r->pool || !r->name || !r->endpoint || !r->socket || !r->env)
                return resource_free(r);
        r->next = p->resources;
        p->resources = r;
        log_info("%s: a resource for pool %s, on %s", r->name, pool, r->socket);
        (void) resource_start(r);
        return r;
}

static Resource *find_resource(Plugin *p, const char *pool) {
        for (Resource *r = p->resources; r; r = r->next)
                if (streq(r->pool, pool))
                        return r;
        return NULL;
}

static bool same_vfs(const Vf *a, size_t na, const Vf *b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (!streq(a[i].id, b[i].id) || a[i].healthy != b[i].healthy || a[i].numa != b[i].numa)
                        return false;
        return true;
}

static void log_health(const Resource *r, const Vf *vfs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const Vf *old = resource_find_vf(r, vfs[i].id);

                if (!old)
                        log_info("%s: %s is new, %s%s", r->name, vfs[i].id, vfs[i].healthy ? "healthy" : "unhealthy: ",
                                 vfs[i].healthy ? "" : vfs[i].why);
                else if (old->healthy != vfs[i].healthy)
                        log_info("%s: %s is %s%s", r->name, vfs[i].id, vfs[i].healthy ? "healthy again" : "unhealthy: ",
                                 vfs[i].healthy ? "" : vfs[i].why);
        }
}

static void resource_set_vfs(Resource *r, const Vf *vfs, size_t n) {
        Vf *copy;

        if (same_vfs(r->vfs, r->n_vfs, vfs, n) || vf_array_copy(vfs, n, &copy) < 0)
                return;
        log_health(r, vfs, n);
        vf_array_free(r->vfs, r->n_vfs);
        r->vfs = copy;
        r->n_vfs = n;
        push_list(r);
}

static bool pool_wanted(const Plugin *p, const char *pool) {
        return !p->opt.pools || strv_contains(p->opt.pools, pool);
}

void resources_update(Plugin *p, char **pools, Vf **vfs, size_t *n_vfs) {
        Resource *next;

        for (size_t i = 0; pools && pools[i]; i++) {
                Resource *r;

                if (!pool_wanted(p, pools[i]))
                        continue;
                r = find_resource(p, pools[i]) ?: resource_new(p, pools[i]);
                if (r && vfs[i])
                        resource_set_vfs(r, vfs[i], n_vfs[i]);
        }
        for (Resource *r = p->resources; r; r = next) {
                next = r->next;
                if (!strv_contains(pools, r->pool))
                        resource_remove(p, r);
        }
}

void resources_mark_all_unhealthy(Plugin *p, const char *why) {
        for (Resource *r = p->resources; r; r = r->next) {
                Vf *copy = NULL;

                if (vf_array_copy(r->vfs, r->n_vfs, &copy) < 0)
                        continue;
                for (size_t i = 0; i < r->n_vfs; i++) {
                        copy[i].healthy = false;
                        free(copy[i].why);
                        copy[i].why = strdup(why);
                }
                resource_set_vfs(r, copy, r->n_vfs);
                vf_array_free(copy, r->n_vfs);
        }
}

void resources_reregister(Plugin *p) {
        for (Resource *r = p->resources; r; r = r->next)
                resource_restart(r);
}

void resources_socket_gone(Plugin *p, const char *endpoint) {
        for (Resource *r = p->resources; r; r = r->next)
                /* not when it is there again: a server replaces a stale socket itself */
                if (streq(r->endpoint, endpoint) && r->server && !r->restart && access(r->socket, F_OK) < 0) {
                        log_info("%s: its socket was removed; serving and registering again", r->name);
                        resource_restart(r);
                }
}

void resources_shutdown(Plugin *p) {
        while (p->resources)
                resource_remove(p, p->resources);
}
