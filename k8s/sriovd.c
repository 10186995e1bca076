/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The plugin's side of sriovd's bus (docs/dbus-api.md): what the pools hold
 * and how each VF is (ListPools, ListDevices, ListAssignments and the
 * manager's properties, read again whenever sriovd signals a change), and
 * sriovd coming and going. */

#include "plog.h"
#include "plugin.h"
#include "sriovd-api.h"
#include "util.h"

/* One refresh: four calls in parallel, then one decision. */
typedef struct Refresh {
        Plugin *p;
        unsigned outstanding;
        bool failed;
        char **pools;                   /* the pools' names, in sriovd's order */
        char ***members;                /* each pool's VFs */
        char ***quarantined;
        char **dev_ids;                 /* VFs, and for each: */
        int *dev_numa;
        char **dev_pending;
        Held *held;
        size_t n_held;
        bool running, iommufd, container;
} Refresh;

static void held_free(Held *h, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(h[i].guest);
                free(h[i].vf);
                free(h[i].owner);
                free(h[i].state);
        }
        free(h);
}

static void refresh_free(Refresh *f) {
        size_t n = strv_length(f->pools);

        for (size_t i = 0; i < n; i++) {
                strv_free(f->members ? f->members[i] : NULL);
                strv_free(f->quarantined ? f->quarantined[i] : NULL);
        }
        free(f->members);
        free(f->quarantined);
        strv_free(f->pools);
        for (size_t i = 0; f->dev_pending && i < strv_length(f->dev_ids); i++)
                free(f->dev_pending[i]);
        free(f->dev_pending);
        strv_free(f->dev_ids);
        free(f->dev_numa);
        held_free(f->held, f->n_held);
        free(f);
}

/* Skip what an a{sv} entry holds unless its key is wanted with that type. */
static int read_variant(sd_bus_message *m, const char *want_type, void *ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (!streq(contents, want_type))
                return sd_bus_message_skip(m, "v");
        r = sd_bus_message_enter_container(m, 'v', want_type);
        if (r < 0)
                return r;
        r = streq(want_type, "as") ? sd_bus_message_read_strv(m, ret) : sd_bus_message_read_basic(m, want_type[0], ret);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* ---- the answers ---- */

static int read_pool(sd_bus_message *m, Refresh *f, size_t i) {
        const char *key;
        int r;

        r = sd_bus_message_skip(m, "as");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "vfs"))
                        r = read_variant(m, "as", &f->members[i]);
                else if (streq(key, "quarantined_vfs"))
                        r = read_variant(m, "as", &f->quarantined[i]);
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
        return sd_bus_message_exit_container(m);
}

static int read_pools(sd_bus_message *m, Refresh *f) {
        const char *name;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sasa{sv})");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "sasa{sv}")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (strv_extend(&f->pools, name) < 0 ||
                    !(f->members = reallocarray(f->members, n + 1, sizeof(char **))) ||
                    !(f->quarantined = reallocarray(f->quarantined, n + 1, sizeof(char **))))
                        return -ENOMEM;
                f->members[n] = f->quarantined[n] = NULL;
                r = read_pool(m, f, n++);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return r;
}

static int read_device(sd_bus_message *m, Refresh *f, size_t i) {
        const char *key, *pending = NULL;
        int r;

        f->dev_numa[i] = -1;
        f->dev_pending[i] = NULL;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "NUMANode"))
                        r = read_variant(m, "i", &f->dev_numa[i]);
                else if (streq(key, "Pending"))
                        r = read_variant(m, "s", &pending);
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
        if (!isempty(pending) && !(f->dev_pending[i] = strdup(pending)))
                return -ENOMEM;
        return sd_bus_message_exit_container(m);
}

static int read_devices(sd_bus_message *m, Refresh *f) {
        const char *addr, *path;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(soa{sv})");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "soa{sv}")) > 0) {
                r = sd_bus_message_read(m, "so", &addr, &path);
                if (r < 0)
                        return r;
                if (strv_extend(&f->dev_ids, addr) < 0 || !(f->dev_numa = reallocarray(f->dev_numa, n + 1, sizeof(int))) ||
                    !(f->dev_pending = reallocarray(f->dev_pending, n + 1, sizeof(char *))))
                        return -ENOMEM;
                r = read_device(m, f, n++);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return r;
}

static int read_owner(sd_bus_message *m, char **ret) {
        const char *key, *owner = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                r = streq(key, "owner") ? read_variant(m, "s", &owner) : sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        *ret = strdup(owner ?: "");
        if (!*ret)
                return -ENOMEM;
        return sd_bus_message_exit_container(m);
}

static int read_assignments(sd_bus_message *m, Refresh *f) {
        const char *guest, *vf, *pool, *state;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(ssssa{sv})");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "ssssa{sv}")) > 0) {
                Held *h;

                r = sd_bus_message_read(m, "ssss", &guest, &vf, &pool, &state);
                if (r < 0)
                        return r;
                h = reallocarray(f->held, f->n_held + 1, sizeof(Held));
                if (!h)
                        return -ENOMEM;
                f->held = h;
                h = &f->held[f->n_held++];
                *h = (Held) { strdup(guest), strdup(vf), NULL, strdup(state) };
                if (!h->guest || !h->vf || !h->state)
                        return -ENOMEM;
                r = read_owner(m, &h->owner);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return r;
}

static int read_manager(sd_bus_message *m, Refresh *f) {
        const char *key, *state = NULL;
        int iommufd = 0, container = 0, r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "State"))
                        r = read_variant(m, "s", &state);
                else if (streq(key, "IOMMUFD"))
                        r = read_variant(m, "b", &iommufd);
                else if (streq(key, "VFIOContainer"))
                        r = read_variant(m, "b", &container);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        f->running = state && streq(state, "running");
        f->iommufd = iommufd;
        f->container = container;
        return r;
}

/* ---- putting it together ---- */

static int vf_numa(const Refresh *f, const char *vf, const char **ret_pending) {
        for (size_t i = 0; f->dev_ids && f->dev_ids[i]; i++)
                if (streq(f->dev_ids[i], vf)) {
                        *ret_pending = f->dev_pending[i];
                        return f->dev_numa[i];
                }
        *ret_pending = NULL;
        return -1;
}

static const Held *find_held(const Held *h, size_t n, const char *vf) {
        for (size_t i = 0; i < n; i++)
                if (streq(h[i].vf, vf))
                        return &h[i];
        return NULL;
}

/* Healthy: sriovd runs; the VF is not quarantined, has no kernel operation
 * pending, and is free or the kubelet's pod's and not failed (assigned to
 * another owner's guest, it is not the kubelet's to give). */
static char *vf_health(const Refresh *f, size_t pool, const char *vf, const char *pending) {
        const Held *h = find_held(f->held, f->n_held, vf);

        if (!f->running)
                return strdup("sriovd is not running");
        if (strv_contains(f->quarantined[pool], vf))
                return strdup("quarantined (its reset failed; an administrator clears it)");
        if (pending)
                return strdup_printf("a kernel operation is pending: %s", pending);
        if (!h)
                return NULL;
        if (!streq(h->owner, PLUGIN_OWNER))
                return strdup_printf("assigned to %s of owner %s", h->guest, h->owner);
        /* being made or undone for a pod is no fault of the VF: only a
         * VF that is not back (not-ready) or cannot be (broken) is */
        if (streq(h->state, "not-ready") || streq(h->state, "broken"))
                return strdup_printf("its assignment is %s", h->state);
        return NULL;
}

static int pool_vfs(const Refresh *f, size_t pool, Vf **ret, size_t *ret_n) {
        size_t n = strv_length(f->members[pool]);
        Vf *v = calloc(MAX(n, (size_t) 1), sizeof(Vf));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *vf = f->members[pool][i], *pending;

                v[i].numa = vf_numa(f, vf, &pending);
                v[i].id = strdup(vf);
                v[i].why = vf_health(f, pool, vf, pending);
                v[i].healthy = !v[i].why;
                if (!v[i].id) {
                        vf_array_free(v, n);
                        return -ENOMEM;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void refresh_apply(Plugin *p, Refresh *f) {
        size_t n = strv_length(f->pools);
        Vf **vfs = calloc(n + 1, sizeof(Vf *));
        size_t *n_vfs = calloc(n + 1, sizeof(size_t));

        if (!vfs || !n_vfs) {
                free(vfs);
                free(n_vfs);
                return;
        }
        if (p->sriovd_running != f->running)
                log_info("sriovd is %s", f->running ? "running" : "not running (yet)");
        p->sriovd_running = f->running;
        p->iommufd = f->iommufd;
        p->vfio_container = f->container;
        for (size_t i = 0; i < n; i++)
                if (pool_vfs(f, i, &vfs[i], &n_vfs[i]) < 0)
                        vfs[i] = NULL;
        held_free(p->held, p->n_held);
        p->held = TAKE_PTR(f->held);
        p->n_held = f->n_held;
        f->n_held = 0;
        resources_update(p, f->pools, vfs, n_vfs);
        for (size_t i = 0; i < n; i++)
                vf_array_free(vfs[i], n_vfs[i]);
        free(vfs);
        free(n_vfs);
}

static void refresh_done(Refresh *f) {
        Plugin *p = f->p;

        if (--f->outstanding > 0)
                return;
        p->refreshing = false;
        p->n_refreshes++;
        log_debug("sriovd read again (%s)", f->failed ? "failed" : "ok");
        if (f->failed) {
                if (p->sriovd_running)
                        log_info("sriovd is not there: every VF is unhealthy until it is back");
                p->sriovd_running = false;
                resources_mark_all_unhealthy(p, "sriovd is not running");
        } else
                refresh_apply(p, f);
        refresh_free(f);
        if (p->refresh_again) {
                p->refresh_again = false;
                sriovd_refresh_soon(p);
        }
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error, int (*parse)(sd_bus_message *, Refresh *)) {
        Refresh *f = userdata;
        int r;

        if (sd_bus_message_is_method_error(m, NULL)) {
                log_debug("Reading sriovd failed: %s", sd_bus_message_get_error(m)->message);
                f->failed = true;
        } else {
                r = parse(m, f);
                if (r < 0) {
                        log_warning_errno(r, "Cannot read sriovd's answer: %m");
                        f->failed = true;
                }
        }
        refresh_done(f);
        return 0;
}

static int on_pools(sd_bus_message *m, void *u, sd_bus_error *e) { return on_reply(m, u, e, read_pools); }
static int on_devices(sd_bus_message *m, void *u, sd_bus_error *e) { return on_reply(m, u, e, read_devices); }
static int on_assignments(sd_bus_message *m, void *u, sd_bus_error *e) { return on_reply(m, u, e, read_assignments); }
static int on_manager(sd_bus_message *m, void *u, sd_bus_error *e) { return on_reply(m, u, e, read_manager); }

static int refresh_start(Plugin *p) {
        Refresh *f = calloc(1, sizeof(*f));
        int r;

        if (!f)
                return -ENOMEM;
        f->p = p;
        f->outstanding = 1;     /* until every call is out */
        p->refreshing = true;
#define CALL(cb, member, ...)                                                                                    \
        r = sd_bus_call_method_async(p->bus, NULL, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE,   \
                                     member, cb, f, __VA_ARGS__);                                                \
        if (r < 0)                                                                                              \
                f->failed = true;                                                                               \
        else                                                                                                    \
                f->outstanding++;
        CALL(on_pools, "ListPools", NULL);
        CALL(on_devices, "ListDevices", "s", "vf");
        CALL(on_assignments, "ListAssignments", "s", "");
#undef CALL
        r = sd_bus_call_method_async(p->bus, NULL, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH,
                                     "org.freedesktop.DBus.Properties", "GetAll", on_manager, f, "s",
                                     SRIOVD_MANAGER_IFACE);
        if (r < 0)
                f->failed = true;
        else
                f->outstanding++;
        refresh_done(f);
        return 0;
}

static int on_refresh_due(sd_event_source *s, void *userdata) {
        Plugin *p = userdata;

        log_debug("refresh due%s", p->refreshing ? " (one is under way)" : "");
        if (p->refreshing) {
                p->refresh_again = true;
                return 0;
        }
        return refresh_start(p);
}

void sriovd_refresh_soon(Plugin *p) {
        if (p->refreshing) {
                p->refresh_again = true;
                return;
        }
        (void) sd_event_source_set_enabled(p->refresh_source, SD_EVENT_ONESHOT);
}

const Held *sriovd_held_by(const Plugin *p, const char *vf) {
        return find_held(p->held, p->n_held, vf);
}

/* ---- signals ---- */

static int on_sriovd_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Plugin *p = userdata;

        log_debug("sriovd signals %s", strna(sd_bus_message_get_member(m)));
        sriovd_refresh_soon(p);
        return 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Plugin *p = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0)
                return 0;
        log_info("sriovd %s the bus", isempty(new) ? "left" : "is on");
        sriovd_refresh_soon(p);
        if (!isempty(new))
                /* its leases may have changed while it was away */
                kubelet_reconcile_soon(p, 0);
        return 0;
}

int sriovd_connect(Plugin *p) {
        int r;

        r = sd_bus_open_system(&p->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");
        r = sd_bus_attach_event(p->bus, p->event, 0);
        if (r < 0)
                return r;
        /* every signal of sriovd's manager: devices, assignments. Not by
         * sender: sd-bus compares a signal's sender (a unique name) with
         * the match's locally, and a well-known name never equals it; a
         * signal someone else sends there only costs a refresh. */
        r = sd_bus_match_signal_async(p->bus, NULL, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, NULL,
                                      on_sriovd_signal, NULL, p);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(p->bus, NULL, NULL, SRIOVD_MANAGER_PATH,
                                      "org.freedesktop.DBus.Properties", "PropertiesChanged", on_sriovd_signal, NULL, p);
        if (r < 0)
                return r;
        r = sd_bus_add_match_async(p->bus, NULL,
                                   "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                   "member='NameOwnerChanged',arg0='" SRIOVD_BUS_NAME "'",
                                   on_owner_changed, NULL, p);
        if (r < 0)
                return r;
        r = sd_event_add_defer(p->event, &p->refresh_source, on_refresh_due, p);
        if (r < 0)
                return r;
        sriovd_refresh_soon(p);
        return 0;
}
