/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* enable, disable, bind, unbind, restore: the verbs that change the host.
 * sriovd authorizes them and replies when the kernel is done. */

#include "bus.h"
#include "output.h"
#include "sriovctl.h"
#include "util.h"

static int set_numvfs(Ctl *c, const char *pf, unsigned count) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t enabled;
        int r;

        if (c->autoprobe >= 0)
                r = bus_call_manager(c, "SetNumVFs", true, &error, &reply, "sua{sv}", pf, count, 1, "autoprobe",
                                     "b", c->autoprobe);
        else
                r = bus_call_manager(c, "SetNumVFs", true, &error, &reply, "sua{sv}", pf, count, 0);
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

int verb_enable_check(char **args, size_t n_args) {
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

static int call_driver_op(Ctl *c, DriverOp op, char **args, sd_bus_error *error, sd_bus_message **reply) {
        switch (op) {
        case OP_BIND:
                if (c->keep_override >= 0)
                        return bus_call_manager(c, "Bind", true, error, reply, "ssa{sv}", args[0], args[1], 1,
                                                "keep_override", "b", c->keep_override);
                return bus_call_manager(c, "Bind", true, error, reply, "ssa{sv}", args[0], args[1], 0);
        case OP_UNBIND:
                return bus_call_manager(c, "Unbind", true, error, reply, "sa{sv}", args[0], 0);
        default:
                return bus_call_manager(c, "RestoreDriver", true, error, reply, "s", args[0]);
        }
}

static int driver_op(Ctl *c, DriverOp op, char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *driver;     /* Bind, Unbind: the prior driver; RestoreDriver: the driver now */
        int r;

        r = call_driver_op(c, op, args, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &driver);
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

int verb_bind(Ctl *c, char **args, size_t n_args) {
        return driver_op(c, OP_BIND, args);
}

int verb_unbind(Ctl *c, char **args, size_t n_args) {
        return driver_op(c, OP_UNBIND, args);
}

int verb_restore(Ctl *c, char **args, size_t n_args) {
        return driver_op(c, OP_RESTORE, args);
}
