/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The kubelet: registering each resource (again when the kubelet restarts:
 * its socket is created anew, which inotify tells), and the cleanup the
 * device plugin API has no call for: the VFs of pods that no longer exist
 * are found through the PodResources API and given back by sriovd's
 * Reconcile (owner "kubernetes"): at start, when the kubelet's pods or its
 * checkpoint change, when sriovd comes back, and at a bounded interval. */

#include <sys/inotify.h>

#include "messages.h"
#include "plog.h"
#include "plugin.h"
#include "sriovd-api.h"
#include "util.h"

#define KUBELET_SOCKET "kubelet.sock"
#define KUBELET_CHECKPOINT "kubelet_internal_checkpoint"
#define CALL_TIMEOUT_USEC (10 * 1000000ULL)
#define REGISTER_TRIES 6
/* a burst of pods going is one cleanup */
#define RECONCILE_DEBOUNCE_USEC (250 * 1000ULL)

/* ---- registration ---- */

typedef struct Registering {
        Plugin *plugin;
        char *pool;
        RpcServer *server;              /* the server it is for (a restart makes another) */
} Registering;

static Resource *find_resource(Plugin *p, const char *pool) {
        for (Resource *r = p->resources; r; r = r->next)
                if (streq(r->pool, pool))
                        return r;
        return NULL;
}

static int on_register_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Resource *r = userdata;

        r->register_retry = sd_event_source_disable_unref(r->register_retry);
        kubelet_register(r);
        return 0;
}

static void on_registered(void *userdata, grpc_status_code status, const char *details, const uint8_t *data,
                          size_t len) {
        Registering *g = userdata;
        Resource *r = find_resource(g->plugin, g->pool);

        if (!r || r->server != g->server || r->removed)
                goto out;       /* it was for a server that is gone */
        if (status == GRPC_STATUS_OK) {
                log_info("%s: registered with the kubelet", r->name);
                r->registered = true;
                r->register_tries = 0;
                goto out;
        }
        log_warning("%s: the kubelet refused or did not answer the registration (status %d: %s)%s", r->name,
                    (int) status, strempty(details),
                    r->register_tries < REGISTER_TRIES ? "; trying again shortly" : "; waiting for the kubelet to restart");
        if (r->register_tries < REGISTER_TRIES)
                (void) sd_event_add_time_relative(g->plugin->event, &r->register_retry, CLOCK_MONOTONIC,
                                                  (1ULL << r->register_tries++) * 500000ULL, 0, on_register_retry, r);
out:
        free(g->pool);
        free(g);
}

void kubelet_register(Resource *r) {
        Plugin *p = r->plugin;
        V1beta1__RegisterRequest req = V1BETA1__REGISTER_REQUEST__INIT;
        V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
        _cleanup_free_ char *path = strdup_printf("%s/" KUBELET_SOCKET, p->opt.plugin_dir);
        Registering *g = calloc(1, sizeof(*g));
        int k;

        if (!path || !g || !(g->pool = strdup(r->pool))) {
                free(g);
                return;
        }
        g->plugin = p;
        g->server = r->server;
        o.get_preferred_allocation_available = true;
        req.version = (char *) PLUGIN_API_VERSION;
        req.endpoint = r->endpoint;
        req.resource_name = r->name;
        req.options = &o;
        k = rpc_client_call(p->rpc, path, "/" PLUGIN_API_VERSION ".Registration/Register", &req.base,
                            CALL_TIMEOUT_USEC, on_registered, g);
        if (k < 0) {
                log_warning_errno(k, "%s: cannot call the kubelet: %m", r->name);
                free(g->pool);
                free(g);
        }
}

/* ---- the cleanup ---- */

void plugin_note_allocated(Plugin *p, const char *id) {
        uint64_t now = now_usec();
        size_t k = 0;
        Recent *l;

        for (size_t i = 0; i < p->n_recent; i++) {
                if (now - p->recent[i].at > p->opt.grace_usec || streq(p->recent[i].id, id)) {
                        free(p->recent[i].id);
                        continue;
                }
                p->recent[k++] = p->recent[i];
        }
        p->n_recent = k;
        l = reallocarray(p->recent, k + 1, sizeof(Recent));
        if (!l)
                return;
        p->recent = l;
        p->recent[k] = (Recent) { strdup(id), now };
        if (p->recent[k].id)
                p->n_recent++;
}

static void reconcile_over(Plugin *p) {
        p->reconciling = false;
        p->n_reconciles++;
        if (p->reconcile_again) {
                p->reconcile_again = false;
                kubelet_reconcile_soon(p, 0);
        }
}

static int on_reconciled(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Plugin *p = userdata;
        const char *guest, *vf;
        unsigned n = 0;
        int r;

        if (sd_bus_message_is_method_error(m, NULL)) {
                log_warning("sriovd's Reconcile failed: %s", sd_bus_message_get_error(m)->message);
                reconcile_over(p);
                return 0;
        }
        r = sd_bus_message_enter_container(m, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(ss)", &guest, &vf)) > 0) {
                log_info("Released %s: the pod that had it is gone", vf);
                n++;
        }
        log_debug("Cleanup done: %u VF(s) released", n);
        reconcile_over(p);
        return 0;
}

static bool is_ours(const Plugin *p, const char *resource_name) {
        size_t n = strlen(p->opt.prefix);

        return strneq(resource_name, p->opt.prefix, n) && resource_name[n] == '/';
}

/* Every device of ours that a pod has, and those allocated a moment ago
 * (the kubelet records an allocation only once Allocate has answered). */
static int live_ids(Plugin *p, const V1__ListPodResourcesResponse *l, char ***ret) {
        _cleanup_strv_free_ char **live = NULL;
        uint64_t now = now_usec();

        for (size_t i = 0; i < l->n_pod_resources; i++)
                for (size_t j = 0; j < l->pod_resources[i]->n_containers; j++) {
                        const V1__ContainerResources *c = l->pod_resources[i]->containers[j];

                        for (size_t k = 0; k < c->n_devices; k++) {
                                if (!is_ours(p, c->devices[k]->resource_name))
                                        continue;
                                for (size_t d = 0; d < c->devices[k]->n_device_ids; d++)
                                        if (strv_extend(&live, c->devices[k]->device_ids[d]) < 0)
                                                return -ENOMEM;
                        }
                }
        for (size_t i = 0; i < p->n_recent; i++)
                if (now - p->recent[i].at <= p->opt.grace_usec && strv_extend(&live, p->recent[i].id) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(live);
        return 0;
}

static int call_reconcile(Plugin *p, char **live) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(p->bus, &m, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE,
                                           "Reconcile");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", PLUGIN_OWNER);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, live);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a{sv}", 0);
        if (r < 0)
                return r;
        return sd_bus_call_async(p->bus, NULL, m, on_reconciled, p, 0);
}

static void on_listed(void *userdata, grpc_status_code status, const char *details, const uint8_t *data, size_t len) {
        Plugin *p = userdata;
        V1__ListPodResourcesResponse *l = NULL;
        _cleanup_strv_free_ char **live = NULL;
        int r;

        if (status != GRPC_STATUS_OK) {
                /* without the kubelet's word nothing is released */
                log_warning("Cannot list the pods' resources (status %d: %s); not cleaning up now", (int) status,
                            strempty(details));
                reconcile_over(p);
                return;
        }
        l = v1__list_pod_resources_response__unpack(NULL, len, data);
        r = l ? live_ids(p, l, &live) : -EBADMSG;
        v1__list_pod_resources_response__free_unpacked(l, NULL);
        if (r >= 0)
                r = call_reconcile(p, live);
        if (r < 0) {
                log_warning_errno(r, "Cannot clean up: %m");
                reconcile_over(p);
                return;
        }
        log_debug("Cleanup: %zu device(s) of ours in use by pods", strv_length(live));
}

static void reconcile_start(Plugin *p) {
        V1__ListPodResourcesRequest req = V1__LIST_POD_RESOURCES_REQUEST__INIT;
        int r;

        if (p->reconciling) {
                p->reconcile_again = true;
                return;
        }
        if (p->allocating > 0) {
                /* after the allocations under way: their pods are not listed yet */
                kubelet_reconcile_soon(p, 200000);
                return;
        }
        p->reconciling = true;
        r = rpc_client_call(p->rpc, p->opt.pod_resources, "/v1.PodResourcesLister/List", &req.base,
                            CALL_TIMEOUT_USEC, on_listed, p);
        if (r < 0) {
                log_warning_errno(r, "Cannot call the kubelet's PodResources: %m");
                reconcile_over(p);
        }
}

static int on_reconcile_soon(sd_event_source *s, uint64_t usec, void *userdata) {
        reconcile_start(userdata);
        return 0;
}

static int on_reconcile_interval(sd_event_source *s, uint64_t usec, void *userdata) {
        Plugin *p = userdata;

        (void) sd_event_source_set_time_relative(s, p->opt.reconcile_usec);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        reconcile_start(p);
        return 0;
}

void kubelet_reconcile_soon(Plugin *p, uint64_t delay_usec) {
        uint64_t now, due;

        if (sd_event_now(p->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        if (p->reconcile_soon) {
                int enabled = SD_EVENT_OFF;

                (void) sd_event_source_get_enabled(p->reconcile_soon, &enabled);
                if (enabled != SD_EVENT_OFF && sd_event_source_get_time(p->reconcile_soon, &due) >= 0 &&
                    due <= now + delay_usec)
                        return;         /* sooner already */
                (void) sd_event_source_set_time(p->reconcile_soon, now + delay_usec);
                (void) sd_event_source_set_enabled(p->reconcile_soon, SD_EVENT_ONESHOT);
                return;
        }
        (void) sd_event_add_time(p->event, &p->reconcile_soon, CLOCK_MONOTONIC, now + delay_usec, 0,
                                 on_reconcile_soon, p);
}

/* ---- what inotify tells ---- */

static void on_plugin_dir_event(Plugin *p, const struct inotify_event *e) {
        bool created = e->mask & (IN_CREATE | IN_MOVED_TO), removed = e->mask & (IN_DELETE | IN_MOVED_FROM);

        if (streq(e->name, KUBELET_SOCKET) && created) {
                log_info("The kubelet (re)started: serving and registering every resource again");
                resources_reregister(p);
                kubelet_reconcile_soon(p, RECONCILE_DEBOUNCE_USEC);
        } else if (streq(e->name, KUBELET_CHECKPOINT) && (e->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)))
                kubelet_reconcile_soon(p, RECONCILE_DEBOUNCE_USEC);
        else if (removed)
                resources_socket_gone(p, e->name);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Plugin *p = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0)
                for (char *c = buf; c < buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) c;

                        if (e->wd == p->wd_plugin_dir && e->len > 0)
                                on_plugin_dir_event(p, e);
                        else if (e->wd == p->wd_pods_dir && (e->mask & (IN_DELETE | IN_MOVED_FROM)))
                                /* a pod's directory went: the kubelet cleaned a pod up */
                                kubelet_reconcile_soon(p, RECONCILE_DEBOUNCE_USEC);
                        c += sizeof(*e) + e->len;
                }
        return 0;
}

int kubelet_watch(Plugin *p) {
        int r;

        p->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (p->inotify_fd < 0)
                return log_error_errno(-errno, "Cannot use inotify: %m");
        p->wd_plugin_dir = inotify_add_watch(p->inotify_fd, p->opt.plugin_dir,
                                             IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
                                             IN_ONLYDIR);
        if (p->wd_plugin_dir < 0)
                return log_error_errno(-errno, "Cannot watch %s: %m", p->opt.plugin_dir);
        p->wd_pods_dir = -1;
        if (!isempty(p->opt.pods_dir)) {
                p->wd_pods_dir = inotify_add_watch(p->inotify_fd, p->opt.pods_dir,
                                                   IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
                if (p->wd_pods_dir < 0)
                        log_warning_errno(-errno, "Cannot watch %s (pods going away are then seen at the interval): %m",
                                          p->opt.pods_dir);
        }
        r = sd_event_add_io(p->event, &p->inotify_source, p->inotify_fd, EPOLLIN, on_inotify, p);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(p->event, &p->reconcile_timer, CLOCK_MONOTONIC, p->opt.reconcile_usec, 0,
                                       on_reconcile_interval, p);
        if (r < 0)
                return r;
        /* at start: what went while the plugin was not there */
        kubelet_reconcile_soon(p, 0);
        return 0;
}
