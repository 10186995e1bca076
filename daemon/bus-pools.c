/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The pools on org.sriovd.Manager1 (docs/dbus-api.md):
 *   CreatePool(s name, as selectors, a{sv} settings), DeletePool(s name),
 *   ListPools() -> a(sasa{sv}) */

#include "bus-assign.h"
#include "bus-limits.h"
#include "pools.h"

/* The selectors, after authorization: bounded, each valid. */
static int read_selectors(sd_bus_message *m, char ***ret, sd_bus_error *error) {
        _cleanup_strv_free_ char **selectors = NULL;
        int r;

        r = bus_read_strv_bounded(m, POOL_SELECTORS_MAX, SELECTOR_LEN_MAX, "selectors", &selectors, error);
        if (r < 0)
                return r;
        if (!selectors)
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "A pool needs at least one selector");
        STRV_FOREACH(sel, selectors) {
                Selector x;

                if (selector_parse(*sel, &x) < 0)
                        return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                                 "Invalid selector \"%.64s\": IFNAME#N-M, DDDD:BB:DD.F#N-M, vvvv:dddd or numa:N",
                                                 *sel);
        }
        *ret = TAKE_PTR(selectors);
        return 0;
}

static int create_pool(Daemon *d, const char *name, char **selectors, AssignRequest *req, bool mac_is_base,
                       ResetPolicy reset, sd_bus_error *error) {
        sriov_error e = {};
        StatePool *p;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p || !(p->name = strdup(name))) {
                free(p);
                return -ENOMEM;
        }
        p->selectors = selectors;
        p->driver = TAKE_PTR(req->driver);
        p->attrs = req->want;
        p->mac_is_base = mac_is_base;
        p->reset = reset;
        r = pools_create(d, p, &e);     /* takes p */
        if (r < 0)
                return bus_error_from_errno(error, r, e.message[0] ? e.message : NULL);
        return 0;
}

/* The name first; what may be long (the selectors) is read once the caller
 * is authorized, and bounded. */
static int method_create_pool(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **selectors = NULL;
        AssignRequest req = { .numa = -1 };
        Daemon *d = userdata;
        bool mac_is_base = false;
        ResetPolicy reset;
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!pool_name_is_valid(name))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                         "Invalid pool name \"%.64s\": 1-64 letters, digits, '-', '_' or '.'", name);
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        r = read_selectors(m, &selectors, error);
        if (r < 0)
                return r;
        r = bus_read_vf_options(m, true, &req, &mac_is_base, &reset, error);
        if (r < 0) {
                free(req.driver);
                return r;
        }
        r = create_pool(d, name, TAKE_PTR(selectors), &req, mac_is_base, reset, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

static int method_delete_pool(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        sriov_error e = {};
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!pool_name_is_valid(name))
                return sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid pool name \"%.64s\"", name);
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        r = pools_delete(d, name, &e);
        if (r < 0)
                return bus_error_from_errno(error, r, e.message[0] ? e.message : NULL);
        return sd_bus_reply_method_return(m, NULL);
}

static int append_settings(sd_bus_message *reply, const PoolView *p) {
        sriov_vf_config c = *p->attrs;
        char mac[18];
        int r;

        /* a MAC base is not a VF's MAC: under its own name */
        if (p->mac_is_base && (c.mask & VF_ATTR_MAC)) {
                r = sd_bus_message_append(reply, "{sv}", "mac_base", "s", vf_mac_format(c.mac, mac));
                if (r < 0)
                        return r;
                c.mask &= ~VF_ATTR_MAC;
        }
        return bus_append_vf_config(reply, &c);
}

/* The pool's VFs on the host now, in its order, and those of them quarantined. */
static int append_members(Daemon *d, sd_bus_message *reply, const PoolView *p) {
        _cleanup_strv_free_ char **vfs = NULL, **quarantined = NULL;
        int r;

        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *vf = d->host->devices[i];

                if (!pool_contains(p->selectors, vf))
                        continue;
                if (strv_extend(&vfs, vf->bdf) < 0)
                        return -ENOMEM;
                if (state_find_quarantine(d->state, vf->bdf) && strv_extend(&quarantined, vf->bdf) < 0)
                        return -ENOMEM;
        }
        r = bus_append_kv_strv(reply, "vfs", vfs);
        if (r < 0)
                return r;
        return bus_append_kv_strv(reply, "quarantined_vfs", quarantined);
}

static int append_pool(Daemon *d, sd_bus_message *reply, const PoolView *p) {
        unsigned size, used, quarantined;
        int r;

        pools_usage(d, p, &size, &used, &quarantined);
        r = sd_bus_message_open_container(reply, 'r', "sasa{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "s", p->name);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(reply, (char **) p->selectors);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}", "source", "s",
                                  p->runtime ? "runtime" : "configuration", "driver", "s", pool_driver(p), "size", "u",
                                  size, "assigned", "u", used, "quarantined", "u", quarantined, "reset", "s",
                                  reset_policy_name((ResetPolicy) p->reset));
        if (r < 0)
                return r;
        r = append_settings(reply, p);
        if (r < 0)
                return r;
        r = append_members(d, reply, p);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* A pool's entry: its name, selectors and details */
#define POOL_ENTRY_BYTES (1024 + POOL_SELECTORS_MAX * (SELECTOR_LEN_MAX + 8))

static int method_list_pools(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        PoolView v;
        int r;

        r = bus_admit(d, m, bus_cost_of(pools_count(d) * POOL_ENTRY_BYTES), error);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sasa{sv})");
        if (r < 0)
                return r;
        for (size_t i = 0; pools_get(d, i, &v); i++) {
                r = append_pool(d, reply, &v);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable pools_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CreatePool", SD_BUS_ARGS("s", name, "as", selectors, "a{sv}", settings),
                                SD_BUS_NO_RESULT, method_create_pool, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeletePool", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_delete_pool,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListPools", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sasa{sv})", pools), method_list_pools,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int bus_pools_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, pools_vtable, d);
}
