/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* enable, disable, bind, unbind, restore, set: the verbs that change the
 * host. sriovd authorizes them and replies when the kernel is done. */

#include "bus.h"
#include "options.h"
#include "output.h"
#include "settings.h"
#include "sriovctl.h"
#include "steps.h"
#include "util.h"

static int set_numvfs(Ctl *c, const char *pf, unsigned count) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t enabled;
        int r;

        r = bus_call_with_options(c, "SetNumVFs", &error, &reply, "su", pf, count);
        if (r < 0)
                return count > 0 ? bus_error_exit(&error, r, "Cannot enable %u VFs on %s", count, pf)
                                 : bus_error_exit(&error, r, "Cannot disable the VFs of %s", pf);
        r = sd_bus_message_read(reply, "u", &enabled);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the reply of sriovd: %s", strerror(-r));

        out_open_object(NULL);
        print_string(PRINT_ANY, "pf", "%s: ", pf);
        print_uint(PRINT_JSON, "requested", NULL, count);
        if (enabled > 0)
                print_uint(PRINT_ANY, "enabled", enabled == 1 ? "%s VF enabled" : "%s VFs enabled", enabled);
        else
                print_uint(PRINT_ANY, "enabled", "VFs disabled", enabled);
        print_nl();
        out_close();
        if (enabled < count) {
                fprintf(stderr, "sriovctl: the driver of %s enabled only %u of the %u VFs asked for.\n"
                        "Hint: the driver or the firmware limits the VFs; the kernel log (journalctl -k) may say "
                        "why.\n",
                        pf, enabled, count);
                return EXIT_PARTIAL;
        }
        return EXIT_OK;
}

int verb_enable_check(const Ctl *c, char **args, size_t n_args) {
        unsigned count;

        if (safe_atou(args[1], 10, &count) < 0)
                return usage_error("enable: COUNT must be a whole number of VFs, not \"%s\".", args[1]);
        return 0;
}

int verb_enable(Ctl *c, char **args, size_t n_args) {
        unsigned count = 0;

        (void) safe_atou(args[1], 10, &count);  /* checked by verb_enable_check() */
        return set_numvfs(c, args[0], count);
}

int verb_disable(Ctl *c, char **args, size_t n_args) {
        return set_numvfs(c, args[0], 0);
}

/* Bind, Unbind and RestoreDriver: the same shape of call (DEV first, one
 * driver name in the reply), different words around it. */
typedef enum DriverOp {
        OP_BIND,
        OP_UNBIND,
        OP_RESTORE,
} DriverOp;

/* The call, and the driver name of its reply (*ret_driver points into *reply) */
static int call_driver_op(Ctl *c, DriverOp op, char **args, sd_bus_error *error, sd_bus_message **reply,
                          const char **ret_driver) {
        int r;

        switch (op) {
        case OP_BIND:
                r = bus_call_with_options(c, "Bind", error, reply, "ss", args[0], args[1]);
                break;
        case OP_UNBIND:
                r = bus_call_with_options(c, "Unbind", error, reply, "s", args[0]);
                break;
        default:
                r = bus_call_manager(c, "RestoreDriver", true, error, reply, "s", args[0]);
                break;
        }
        if (r < 0)
                return r;
        return sd_bus_message_read(*reply, "s", ret_driver);
}

static int driver_op(Ctl *c, DriverOp op, char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *driver;     /* Bind, Unbind: the prior driver; RestoreDriver: the driver now */
        int r;

        r = call_driver_op(c, op, args, &error, &reply, &driver);
        if (r < 0)
                return op == OP_BIND ? bus_error_exit(&error, r, "Cannot bind %s to %s", args[0], args[1])
                        : op == OP_UNBIND ? bus_error_exit(&error, r, "Cannot unbind %s", args[0])
                        : bus_error_exit(&error, r, "Cannot restore the driver of %s", args[0]);

        out_open_object(NULL);
        print_string(PRINT_ANY, "device", "%s: ", args[0]);
        if (op == OP_RESTORE)
                print_string(PRINT_ANY, "driver", isempty(driver) ? "no driver bound" : "driver %s bound", driver);
        else {
                /* "bound to vfio-pci (was iavf)", "unbound (had no driver)" */
                print_string(PRINT_ANY, "driver", op == OP_BIND ? "bound to %s" : "unbound",
                             op == OP_BIND ? args[1] : NULL);
                print_string(PRINT_ANY, "prior_driver", isempty(driver) ? " (had no driver)" : " (was %s)", driver);
        }
        print_nl();
        out_close();
        return EXIT_OK;
}

/* Several devices: one BindDevices or RestoreDrivers call, a step per
 * device in the reply (done or failed, with why), as Apply answers. */
static int driver_op_many(Ctl *c, DriverOp op, char **devices, size_t n, const char *driver) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(steps_done) ApplySteps p = {};
        int r;

        r = bus_new_manager_call(c, op == OP_BIND ? "BindDevices" : "RestoreDrivers", true, &m, NULL);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append_basic(m, 's', devices[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0 && op == OP_BIND) {
                r = sd_bus_message_append(m, "s", driver);
                if (r >= 0)
                        r = bus_append_options(m, c, UINT64_MAX);
        }
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot make the call: %s", strerror(-r));
        r = bus_call(c, m, &error, &reply);
        if (r < 0)
                return op == OP_BIND ? bus_error_exit(&error, r, "Cannot bind %zu devices to %s", n, driver)
                                     : bus_error_exit(&error, r, "Cannot restore the drivers of %zu devices", n);
        r = steps_read(reply, false, &p);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the reply of sriovd: %s", strerror(-r));
        out_open_object(NULL);
        steps_print(&p, "steps", NULL, true);
        print_uint(PRINT_JSON, "failed", NULL, p.n_failed);
        out_close();
        if (p.n_failed == 0)
                return EXIT_OK;
        return error_exit(EXIT_PARTIAL, "%zu of the %zu devices failed; the others were done.", p.n_failed,
                          p.n_steps);
}

int verb_bind_check(const Ctl *c, char **args, size_t n_args) {
        if (n_args > 2 && (c->given & OPT(OPT_WHOLE_GROUP)))
                return usage_error("bind: --whole-group binds one device with its group's peers; give one DEV.");
        return 0;
}

int verb_bind(Ctl *c, char **args, size_t n_args) {
        if (n_args > 2)
                return driver_op_many(c, OP_BIND, args, n_args - 1, args[n_args - 1]);
        return driver_op(c, OP_BIND, args);
}

int verb_unbind(Ctl *c, char **args, size_t n_args) {
        return driver_op(c, OP_UNBIND, args);
}

int verb_restore(Ctl *c, char **args, size_t n_args) {
        if (n_args > 1)
                return driver_op_many(c, OP_RESTORE, args, n_args, NULL);
        return driver_op(c, OP_RESTORE, args);
}

/* ---- set ---- */

static const OutColumn set_columns[] = {
        { "vf", "VF" },
        { "pf_netdev", "PF interface" },
        { "vf_index", "VF index" },
        VF_SETTINGS_COLUMNS,
};

int verb_set_check(const Ctl *c, char **args, size_t n_args) {
        if (!(c->given & OPTS_VF_ATTRS))
                return usage_error("set: nothing to set; give --mac, --vlan, --qos, --vlan-proto, --max-tx-rate, "
                                   "--min-tx-rate, --spoofchk, --trust, --link-state or --query-rss.");
        return 0;
}

/* SetVFConfig VF: the settings, then the options of the call */
static int call_set_vf_config(Ctl *c, const char *vf, sd_bus_error *error, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = bus_new_manager_call(c, "SetVFConfig", true, &m, "s", vf);
        if (r < 0)
                return r;
        r = bus_append_options(m, c, OPTS_VF_ATTRS);
        if (r < 0)
                return r;
        r = bus_append_options(m, c, ~OPTS_VF_ATTRS);
        if (r < 0)
                return r;
        return bus_call(c, m, error, ret_reply);
}

int verb_set(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(vf_config_done) VFConfig after = {};
        int r;

        r = call_set_vf_config(c, args[0], &error, &reply);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot change the settings of %s", args[0]);
        r = vf_config_read(reply, &after);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the settings of %s: %s", args[0], strerror(-r));

        /* what the kernel reports now */
        out_open_object(NULL);
        out_table_begin(NULL, NULL, OUT_RECORD, set_columns, ELEMENTSOF(set_columns));
        out_row_begin();
        print_string(PRINT_ANY, "vf", NULL, args[0]);
        print_string(PRINT_ANY, "pf_netdev", NULL, after.pf_netdev);
        if (after.vf_index != VF_SETTING_NONE)
                print_uint(PRINT_ANY, "vf_index", NULL, after.vf_index);
        vf_settings_print(&after.settings, false);
        print_strv(PRINT_JSON, "ignored", NULL, after.ignored, ",");
        print_bool(PRINT_JSON, "zero_mac_fallback", NULL, after.zero_mac_fallback);
        out_table_end();
        out_close();

        if (after.zero_mac_fallback)
                warning("the driver of %s refused the zero MAC address; sriovd set %s instead.",
                        strna(after.pf_netdev), strna(after.settings.mac));
        if (strv_length(after.ignored) > 0) {
                _cleanup_free_ char *names = NULL;

                for (char **i = after.ignored; *i; i++) {
                        char *n = strdup_printf("%s%s%s", strempty(names), names ? ", " : "", *i);

                        if (!n)
                                return error_exit(EXIT_FAIL, "Out of memory.");
                        free(names);
                        names = n;
                }
                warning("the driver of %s accepted but did not apply: %s.", strna(after.pf_netdev), names);
                return EXIT_PARTIAL;
        }
        return EXIT_OK;
}
