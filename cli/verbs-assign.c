/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* assign, release, assignments, reconcile, verify, unquarantine, pools,
 * pool-create, pool-delete: VFs for guests, taken from pools or named,
 * with what a VMM needs to use them; the ledger of who holds which. */

#include <stdio.h>

#include "bus.h"
#include "options.h"
#include "output.h"
#include "settings.h"
#include "sriovctl.h"
#include "util.h"

/* An assignment as Assign and ListAssignments answer it. Strings point into
 * the reply. */
typedef struct Assignment {
        const char *guest, *owner, *vf, *pf, *pool, *driver, *state, *reason, *reset, *hostdev, *interface;
        int32_t vf_index, iommu_group, numa_node;       /* -1: unknown */
        char **device_nodes, **qemu_args;
        uint32_t uid, gid;                              /* VF_SETTING_NONE: the nodes were not handed over */
        int missing;                                    /* the VF is not on the host (any more) */
        VFSettings settings;
} Assignment;

#define FIELD(name, sig, member) BUS_FIELD(Assignment, name, sig, member)
static const BusField assignment_fields[] = {
        FIELD("guest", "s", guest),
        FIELD("owner", "s", owner),
        FIELD("reason", "s", reason),
        FIELD("reset", "s", reset),
        FIELD("vf", "s", vf),
        FIELD("pf", "s", pf),
        FIELD("pool", "s", pool),
        FIELD("driver", "s", driver),
        FIELD("state", "s", state),
        FIELD("libvirt_hostdev", "s", hostdev),
        FIELD("libvirt_interface", "s", interface),
        FIELD("vf_index", "i", vf_index),
        FIELD("iommu_group", "i", iommu_group),
        FIELD("numa_node", "i", numa_node),
        FIELD("device_nodes", "as", device_nodes),
        FIELD("qemu_args", "as", qemu_args),
        FIELD("uid", "u", uid),
        FIELD("gid", "u", gid),
        FIELD("missing", "b", missing),
        VF_SETTINGS_FIELDS(Assignment, settings),
};
#undef FIELD

static void assignment_done(Assignment *a) {
        a->device_nodes = strv_free(a->device_nodes);
        a->qemu_args = strv_free(a->qemu_args);
}

static int assignment_read(sd_bus_message *m, Assignment *ret) {
        *ret = (Assignment) {
                .vf_index = -1, .iommu_group = -1, .numa_node = -1,
                .uid = VF_SETTING_NONE, .gid = VF_SETTING_NONE,
                .settings = VF_SETTINGS_INIT,
        };
        return bus_read_fields(m, assignment_fields, ELEMENTSOF(assignment_fields), ret);
}

/* Every key of an assignment (sriovctl(8) lists them); the tables choose
 * the text cells they show. */
static void assignment_print(const Assignment *a) {
        print_string(PRINT_ANY, "guest", NULL, a->guest);
        print_string(PRINT_ANY, "vf", NULL, a->vf);
        print_string(PRINT_ANY, "owner", NULL, a->owner);
        print_string(PRINT_ANY, "pf", NULL, a->pf);
        print_int_or_null(PRINT_ANY, "vf_index", NULL, a->vf_index);
        print_string(PRINT_ANY, "pool", NULL, a->pool);
        print_string(PRINT_ANY, "driver", NULL, a->driver);
        print_string(PRINT_ANY, "state", NULL, a->state);
        print_string(PRINT_ANY, "reason", NULL, isempty(a->reason) ? NULL : a->reason);
        print_string(PRINT_ANY, "reset", NULL, a->reset);
        print_bool(PRINT_JSON, "missing", NULL, a->missing);
        if (a->missing)
                print_string(PRINT_TEXT, "note", NULL, "the VF is not on the host (any more)");
        print_int_or_null(PRINT_ANY, "iommu_group", NULL, a->iommu_group);
        print_int_or_null(PRINT_ANY, "numa_node", NULL, a->numa_node);
        print_strv(PRINT_ANY, "device_nodes", NULL, a->device_nodes, ", ");
        if (a->uid != VF_SETTING_NONE) {
                print_uint(PRINT_JSON, "uid", NULL, a->uid);
                print_uint(PRINT_JSON, "gid", NULL, a->gid);
                print_text_take("node_owner", strdup_printf("%u:%u", a->uid, a->gid));
        } else {
                print_string(PRINT_JSON, "uid", NULL, NULL);
                print_string(PRINT_JSON, "gid", NULL, NULL);
        }
        vf_settings_print(&a->settings, false);
        print_string(PRINT_ANY, "libvirt_hostdev", NULL, a->hostdev);
        print_string(PRINT_ANY, "libvirt_interface", NULL, a->interface);
        print_strv(PRINT_ANY, "qemu_args", NULL, a->qemu_args, " ");
}

/* ---- assign ---- */

static const OutColumn assign_columns[] = {
        { "guest", "Guest" },
        { "owner", "Lease holder" },
        { "vf", "VF" },
        { "pf", "PF" },
        { "vf_index", "VF index" },
        { "pool", "Pool" },
        { "driver", "Driver" },
        { "state", "State" },
        { "reason", "Reason" },
        { "reset", "Reset between guests" },
        { "iommu_group", "IOMMU group" },
        { "numa_node", "NUMA node" },
        { "device_nodes", "Device nodes" },
        { "node_owner", "Node owner" },
        VF_SETTINGS_COLUMNS,
        { "libvirt_hostdev", "libvirt hostdev" },
        { "libvirt_interface", "libvirt interface" },
        { "qemu_args", "QEMU arguments" },
};

static int check_guest(const char *verb, const char *guest) {
        if (!guest_name_ok(guest))
                return usage_error("%s: invalid guest name \"%s\": 1 to 64 letters, digits, '_', '.', ':' or '-', "
                                   "starting with a letter or digit.", verb, guest);
        return 0;
}

int verb_assign_check(const Ctl *c, char **args, size_t n_args) {
        const char *format = ctl_string(c, OPT_FORMAT, "text");

        if (isempty(args[1]))
                return usage_error("assign: which pool or VF?");
        if (c->format != OUT_TEXT && !streq(format, "text"))
                return usage_error("--format %s does not go with --json: the JSON has every part.", format);
        return check_guest("assign", args[0]);
}

int verb_assign(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(assignment_done) Assignment a = {};
        const char *format = ctl_string(c, OPT_FORMAT, "text");
        int r;

        r = bus_call_with_options(c, "Assign", &error, &reply, "ss", args[0], args[1]);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot assign %s to %s", args[1], args[0]);
        r = assignment_read(reply, &a);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the assignment: %s", strerror(-r));

        /* just what a VMM's configuration wants, to redirect into a file */
        if (streq(format, "libvirt"))
                print_string(PRINT_TEXT, NULL, "%s\n", a.hostdev);
        else if (streq(format, "libvirt-interface"))
                print_string(PRINT_TEXT, NULL, "%s\n", a.interface);
        else if (streq(format, "qemu"))
                print_strv(PRINT_TEXT, NULL, "%s\n", a.qemu_args, " ");
        else {
                out_open_object(NULL);
                out_table_begin(NULL, NULL, OUT_RECORD, assign_columns, ELEMENTSOF(assign_columns));
                out_row_begin();
                assignment_print(&a);
                out_table_end();
                out_close();
        }
        return EXIT_OK;
}

/* ---- release ---- */

int verb_release_check(const Ctl *c, char **args, size_t n_args) {
        return check_guest("release", args[0]);
}

int verb_release(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **released = NULL;
        const char *vf = n_args > 1 ? args[1] : "";
        int r;

        r = bus_call_with_options(c, "Release", &error, &reply, "ss", args[0], vf);
        if (r < 0)
                return isempty(vf) ? bus_error_exit(&error, r, "Cannot release the VFs of %s", args[0])
                                   : bus_error_exit(&error, r, "Cannot release %s from %s", vf, args[0]);
        r = sd_bus_message_read_strv(reply, &released);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the reply of sriovd: %s", strerror(-r));

        out_open_object(NULL);
        print_string(PRINT_JSON, "guest", NULL, args[0]);
        print_strv(PRINT_JSON, "released", NULL, released, ",");
        STRV_FOREACH(v, released) {
                print_string(PRINT_TEXT, NULL, "%s: ", args[0]);
                print_string(PRINT_TEXT, NULL, "released %s\n", *v);
        }
        out_close();
        return EXIT_OK;
}

/* ---- assignments ---- */

static const OutColumn assignments_columns[] = {
        { "guest", "GUEST" },
        { "owner", "OWNER" },
        { "vf", "VF" },
        { "pf", "PF" },
        { "pool", "POOL" },
        { "state", "STATE" },
        { "driver", "DRIVER" },
        { "iommu_group", "GROUP", OUT_COLUMN_RIGHT },
        { "numa_node", "NUMA", OUT_COLUMN_RIGHT },
        { "reason", "reason", OUT_COLUMN_BELOW },
        { "note", "note", OUT_COLUMN_BELOW },
};

/* (ssssa{sv}): guest, VF, pool, state, and the rest */
static int print_assignment_row(sd_bus_message *m, void *userdata) {
        _cleanup_(assignment_done) Assignment a = {};
        const char *guest, *vf, *pool, *state;
        int r;

        r = sd_bus_message_read(m, "ssss", &guest, &vf, &pool, &state);
        if (r < 0)
                return r;
        r = assignment_read(m, &a);
        if (r < 0)
                return r;
        a.guest = guest;
        a.vf = vf;
        a.pool = pool;
        a.state = state;
        out_row_begin();
        assignment_print(&a);
        out_row_end();
        return 0;
}

/* A table of what a List method answers, a(ROW): one row each, or the
 * sentence none when there are none. */
typedef struct ListTable {
        const char *member, *what, *key;
        const char *arg;                /* the method's one string argument, NULL: none */
        const OutColumn *columns;
        size_t n_columns;
        const char *row;
        bus_row_fn print_row;
        const char *none;
} ListTable;

static int list_table(Ctl *c, const ListTable *t) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = t->arg ? bus_call_manager(c, t->member, false, &error, &reply, "s", t->arg)
                   : bus_call_manager(c, t->member, false, &error, &reply, NULL);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot list the %s", t->what);
        out_open_object(NULL);
        out_table_begin(t->key, NULL, OUT_ROWS, t->columns, t->n_columns);
        r = bus_read_array(reply, t->row, t->print_row, NULL);
        out_table_end();
        out_close();
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the %s: %s", t->what, strerror(-r));
        if (r == 0)
                print_string(PRINT_TEXT, NULL, "%s\n", t->none);
        return EXIT_OK;
}

int verb_assignments(Ctl *c, char **args, size_t n_args) {
        return list_table(c, &(const ListTable) {
                .member = "ListAssignments", .what = "assignments", .key = "assignments",
                .arg = ctl_string(c, OPT_OWNER, ""),
                .columns = assignments_columns, .n_columns = ELEMENTSOF(assignments_columns),
                .row = "ssssa{sv}", .print_row = print_assignment_row,
                .none = "No VFs are assigned to guests.",
        });
}

/* ---- pools ---- */

typedef struct Pool {
        const char *source, *driver, *reset;
        uint32_t size, assigned, quarantined;
        VFSettings settings;
} Pool;

static const BusField pool_fields[] = {
        BUS_FIELD(Pool, "source", "s", source),
        BUS_FIELD(Pool, "driver", "s", driver),
        BUS_FIELD(Pool, "size", "u", size),
        BUS_FIELD(Pool, "assigned", "u", assigned),
        BUS_FIELD(Pool, "quarantined", "u", quarantined),
        BUS_FIELD(Pool, "reset", "s", reset),
        VF_SETTINGS_FIELDS(Pool, settings),
        /* a pool's MAC is the base of its VFs' MACs: sriovd names it
         * "mac_base" (older releases "mac"); listed as the pool's "mac" */
        BUS_FIELD(Pool, "mac_base", "s", settings.mac),
};

static const OutColumn pool_columns[] = {
        { "name", "POOL" },
        { "source", "SOURCE" },
        { "driver", "DRIVER" },
        { "used", "USED", OUT_COLUMN_RIGHT },
        { "quarantined", "QUARANTINED", OUT_COLUMN_RIGHT },
        { "reset", "RESET" },
        { "selectors", "SELECTORS" },
        { "settings", "SETTINGS" },
};

/* (sasa{sv}): name, selectors, the rest */
static int print_pool(sd_bus_message *m, void *userdata) {
        _cleanup_strv_free_ char **selectors = NULL;
        Pool p = { .settings = VF_SETTINGS_INIT };
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, &selectors);
        if (r < 0)
                return r;
        r = bus_read_fields(m, pool_fields, ELEMENTSOF(pool_fields), &p);
        if (r < 0)
                return r;
        out_row_begin();
        print_string(PRINT_ANY, "name", NULL, name);
        print_strv(PRINT_ANY, "selectors", NULL, selectors, " ");
        print_string(PRINT_ANY, "source", NULL, p.source);
        print_string(PRINT_ANY, "driver", NULL, p.driver);
        print_uint(PRINT_JSON, "size", NULL, p.size);
        print_uint(PRINT_JSON, "assigned", NULL, p.assigned);
        print_text_take("used", strdup_printf("%u/%u", p.assigned, p.size));
        print_uint(PRINT_ANY, "quarantined", NULL, p.quarantined);
        print_string(PRINT_ANY, "reset", NULL, p.reset);
        vf_settings_print(&p.settings, false);
        out_row_end();
        return 0;
}

int verb_pools(Ctl *c, char **args, size_t n_args) {
        return list_table(c, &(const ListTable) {
                .member = "ListPools", .what = "pools", .key = "pools",
                .columns = pool_columns, .n_columns = ELEMENTSOF(pool_columns),
                .row = "sasa{sv}", .print_row = print_pool,
                .none = "No pools: the configuration files declare none, and none was created.",
        });
}

/* CreatePool NAME SELECTOR...: the selectors are the rest of argv, which
 * ends with NULL */
static int call_create_pool(Ctl *c, char **args, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = bus_new_manager_call(c, "CreatePool", true, &m, "s", args[0]);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, args + 1);
        if (r < 0)
                return r;
        r = bus_append_options(m, c, UINT64_MAX);
        if (r < 0)
                return r;
        return bus_call(c, m, error, NULL);
}

int verb_pool_create(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = call_create_pool(c, args, &error);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot create pool %s", args[0]);

        out_open_object(NULL);
        print_string(PRINT_ANY, "pool", "%s: pool created\n", args[0]);
        print_strv(PRINT_JSON, "selectors", NULL, args + 1, ",");
        out_close();
        return EXIT_OK;
}

int verb_pool_delete(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call_manager(c, "DeletePool", true, &error, NULL, "s", args[0]);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot delete pool %s", args[0]);

        out_open_object(NULL);
        print_string(PRINT_ANY, "pool", "%s: pool deleted\n", args[0]);
        out_close();
        return EXIT_OK;
}

/* ---- the ledger: leases, verification, quarantine ---- */

int verb_reconcile_check(const Ctl *c, char **args, size_t n_args) {
        STRV_FOREACH(g, args + 1)
                if (!guest_name_ok(*g))
                        return usage_error("reconcile: invalid guest name \"%s\".", *g);
        return 0;
}

/* a(ss): guest, VF */
static int print_released_pair(sd_bus_message *m, void *userdata) {
        const bool *dry_run = userdata;
        const char *guest, *vf;
        int r;

        r = sd_bus_message_read(m, "ss", &guest, &vf);
        if (r < 0)
                return r;
        out_row_begin();
        print_string(PRINT_ANY, "guest", NULL, guest);
        print_string(PRINT_ANY, "vf", NULL, vf);
        print_string(PRINT_TEXT, "action", NULL, *dry_run ? "would be released" : "released");
        out_row_end();
        return 0;
}

static const OutColumn reconcile_columns[] = {
        { "guest", "GUEST" },
        { "vf", "VF" },
        { "action", "" },
};

/* Reconcile(owner, live guests, {"dry_run"}) */
static int call_reconcile(Ctl *c, char **args, bool dry_run, sd_bus_error *error, sd_bus_message **reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = bus_new_manager_call(c, "Reconcile", !dry_run, &m, "s", args[0]);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, args + 1);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a{sv}", 1, "dry_run", "b", dry_run);
        if (r < 0)
                return r;
        return bus_call(c, m, error, reply);
}

int verb_reconcile(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        bool dry_run = ctl_has(c, OPT_DRY_RUN);
        int r;

        r = call_reconcile(c, args, dry_run, &error, &reply);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot reconcile the assignments of %s", args[0]);
        out_open_object(NULL);
        print_string(PRINT_JSON, "owner", NULL, args[0]);
        print_bool(PRINT_JSON, "dry_run", NULL, dry_run);
        out_table_begin("released", NULL, OUT_ROWS, reconcile_columns, ELEMENTSOF(reconcile_columns));
        r = bus_read_array(reply, "ss", print_released_pair, &dry_run);
        out_table_end();
        out_close();
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the reply of sriovd: %s", strerror(-r));
        if (r == 0)
                print_string(PRINT_TEXT, NULL, "%s\n", "Every VF of the lease holder is held by a live guest.");
        return EXIT_OK;
}

/* (ssss): subject, guest, kind, sentence */
static int print_difference(sd_bus_message *m, void *userdata) {
        const char *subject, *guest, *kind, *sentence;
        int r;

        r = sd_bus_message_read(m, "ssss", &subject, &guest, &kind, &sentence);
        if (r < 0)
                return r;
        out_row_begin();
        print_string(PRINT_JSON, "subject", NULL, subject);
        print_string(PRINT_JSON, "guest", NULL, isempty(guest) ? NULL : guest);
        print_string(PRINT_ANY, "kind", NULL, kind);
        print_string(PRINT_ANY, "difference", NULL, sentence);
        out_row_end();
        return 0;
}

static const OutColumn verify_columns[] = {
        { "kind", "KIND" },
        { "difference", "DIFFERENCE" },
};

int verb_verify(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = bus_call_manager(c, "Verify", false, &error, &reply, NULL);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot verify the ledger");
        out_open_object(NULL);
        out_table_begin("differences", NULL, OUT_ROWS, verify_columns, ELEMENTSOF(verify_columns));
        r = bus_read_array(reply, "ssss", print_difference, NULL);
        out_table_end();
        print_bool(PRINT_JSON, "clean", NULL, r == 0);
        out_close();
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the reply of sriovd: %s", strerror(-r));
        if (r == 0) {
                print_string(PRINT_TEXT, NULL, "%s\n", "The ledger and the host agree.");
                return EXIT_OK;
        }
        return EXIT_DIFFERS;
}

int verb_unquarantine(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call_manager(c, "ClearQuarantine", true, &error, NULL, "s", args[0]);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot take %s out of quarantine", args[0]);
        out_open_object(NULL);
        print_string(PRINT_ANY, "vf", "%s: out of quarantine; it goes to guests again\n", args[0]);
        out_close();
        return EXIT_OK;
}
