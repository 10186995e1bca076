/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A driver change for a set of devices in one call, each device's a job of
 * its own: devices of different PFs, and the VFs of one PF up to its lane's
 * workers, change at once.
 *
 *   BindDevices(as devices, s driver, a{sv} options) -> a(ssss) steps
 *   RestoreDrivers(as devices) -> a(ssss) steps
 *
 * The whole call is checked first (every device resolves, none twice, no
 * bridge, the driver name, the options): a bad one is refused with its
 * named error and nothing changes. Then each device goes its way as a Bind
 * or RestoreDriver would, journaled before its first write, and the reply
 * comes when the last is done: one step per device, in the order asked,
 * (device, "driver", "driver PRIOR -> NOW", "" or "ERROR.NAME: message"). */

#include "binding.h"
#include "bus-device.h"

/* Devices in one call at most (a host has a few thousand functions). */
#define BATCH_MAX 4096

typedef struct Batch Batch;

typedef struct BatchRow {
        Batch *batch;
        pci_addr addr;
        char bdf[PCI_ADDR_STRLEN];
        char *prior;                    /* the driver before ("" none): the bind's, or the model's at the call */
        char *now;                      /* the driver after */
        char *error;                    /* "Name: message", NULL when done */
} BatchRow;

struct Batch {
        sd_bus_message *request;
        bool restore;
        size_t n, outstanding;
        BatchRow rows[];
};

static void batch_free(Batch *b) {
        for (size_t i = 0; i < b->n; i++) {
                free(b->rows[i].prior);
                free(b->rows[i].now);
                free(b->rows[i].error);
        }
        sd_bus_message_unref(b->request);
        free(b);
}

static int append_row(sd_bus_message *reply, size_t i, const void *userdata) {
        const BatchRow *row = &((const Batch *) userdata)->rows[i];
        _cleanup_free_ char *change = strdup_printf("driver %s -> %s", isempty(row->prior) ? "none" : row->prior,
                                                    isempty(row->now) ? "none" : row->now);

        if (!change)
                return -ENOMEM;
        return sd_bus_message_append(reply, "(ssss)", row->bdf, "driver", change, strempty(row->error));
}

static void batch_reply(Batch *b) {
        int r;

        r = bus_send_array(b->request, "(ssss)", b->n, append_row, b);
        if (r < 0)
                log_debug_errno(r, "Cannot reply to %s (the caller left?): %m", b->restore ? "RestoreDrivers" : "BindDevices");
        batch_free(b);
}

static void row_failed(BatchRow *row, int r, const char *message) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        (void) bus_error_from_errno(&e, r, message);
        free(row->error);
        row->error = strdup_printf("%s: %s", e.name, strempty(e.message));
}

/* A device's job is over: its row, and the reply after the last. */
static void row_done(Job *j) {
        BatchRow *row = j->userdata;
        Batch *b = row->batch;
        const sriov_device *dev = sriov_host_find(j->daemon->host, &j->addr);

        if (j->r < 0)
                row_failed(row, j->r, j->error.error ? j->error.message : NULL);
        /* a bind says what it found; a restore's is what the call saw */
        if (j->type == &bind_job_type) {
                free(row->prior);
                row->prior = strdup(strempty(((BindWork *) j->payload)->found_driver));
        }
        row->now = strdup(dev ? strempty(dev->driver) : "");
        if (--b->outstanding == 0)
                batch_reply(b);
}

/* The devices of the call, each resolved once and named once; nothing else
 * is looked at before every one of them is right. */
static int read_devices(Daemon *d, sd_bus_message *m, bool restore, Batch **ret, sd_bus_error *error) {
        _cleanup_strv_free_ char **refs = NULL;
        Batch *b;
        size_t n;
        int r;

        r = bus_read_strv_bounded(m, BATCH_MAX, 256, "devices", &refs, error);
        if (r < 0)
                return r;
        n = strv_length(refs);
        if (n == 0)
                return sd_bus_error_set(error, SRIOVD_ERROR_INVALID_ARGUMENT, "No device given");
        b = calloc(1, sizeof(*b) + n * sizeof(BatchRow));
        if (!b)
                return -ENOMEM;
        b->restore = restore;
        for (size_t i = 0; i < n; i++) {
                const sriov_device *dev;

                r = bus_resolve_device(d, refs[i], &dev, error);
                if (r >= 0 && dev->is_bridge)
                        r = sd_bus_error_setf(error, SRIOVD_ERROR_NOT_SRIOV,
                                              "%s is a PCI bridge; sriovd does not rebind bridges", dev->bdf);
                for (size_t k = 0; r >= 0 && k < i; k++)
                        if (pci_addr_equal(&b->rows[k].addr, &dev->addr))
                                r = sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                                      "%s is named twice (\"%s\" and \"%s\")", dev->bdf, refs[k],
                                                      refs[i]);
                if (r < 0) {
                        batch_free(b);
                        return r;
                }
                b->rows[i] = (BatchRow) { .batch = b, .addr = dev->addr, .prior = strdup(strempty(dev->driver)) };
                memcpy(b->rows[i].bdf, dev->bdf, sizeof(b->rows[i].bdf));
                b->n++;
        }
        *ret = b;
        return 0;
}

/* Each row's job (a bind to driver with o, or without a driver a
 * restore), journaled and queued; the reply when the last is done. */
static int start_batch(Daemon *d, sd_bus_message *m, Batch *b, const char *driver, const BindOptions *o) {
        b->request = sd_bus_message_ref(m);
        b->outstanding = 1;     /* until every job is started */
        for (size_t i = 0; i < b->n; i++) {
                BatchRow *row = &b->rows[i];
                Job *j = driver ? bus_bind_job_new(d, &row->addr, driver, o) : binding_restore_job_new(d, &row->addr);
                int r;

                if (!j) {
                        row_failed(row, -ENOMEM, "Out of memory");
                        continue;
                }
                j->userdata = row;
                j->done = row_done;
                b->outstanding++;
                r = binding_start(d, j);
                if (r < 0) {
                        b->outstanding--;
                        row_failed(row, j->r, j->error.error ? j->error.message : NULL);
                        job_free(j);
                }
        }
        if (--b->outstanding == 0)
                batch_reply(b);
        return 1;
}

static int method_bind_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        BindOptions o = {};
        const char *driver;
        int r;
        Batch *b = NULL;

        r = read_devices(d, m, false, &b, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &driver);
        if (r >= 0)
                r = bus_read_bind_options(m, &o, error);
        if (r >= 0 && !driver_name_is_valid(driver))
                r = sd_bus_error_setf(error, SRIOVD_ERROR_INVALID_ARGUMENT, "Invalid driver name \"%.64s\"", driver);
        /* a group's peers bound along could be devices of the call too */
        if (r >= 0 && o.whole_group)
                r = sd_bus_error_set(error, SRIOVD_ERROR_INVALID_ARGUMENT,
                                     "whole_group is for one device (Bind): its group's peers are bound along");
        if (r >= 0)
                r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r <= 0) {
                batch_free(b);
                return r < 0 ? r : 1;
        }
        if (o.noiommu)
                log_warning("%zu devices: unsafe no-IOMMU passthrough requested by %s", b->n,
                            strna(sd_bus_message_get_sender(m)));
        return start_batch(d, m, b, driver, &o);
}

static int method_restore_drivers(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        Batch *b = NULL;
        int r;

        r = read_devices(d, m, true, &b, error);
        if (r < 0)
                return r;
        r = bus_verify_polkit(d, m, SRIOVD_ACTION_MANAGE, error);
        if (r <= 0) {
                batch_free(b);
                return r < 0 ? r : 1;
        }
        return start_batch(d, m, b, NULL, NULL);
}

static const sd_bus_vtable batch_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("BindDevices", SD_BUS_ARGS("as", devices, "s", driver, "a{sv}", options),
                                SD_BUS_RESULT("a(ssss)", steps), method_bind_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestoreDrivers", SD_BUS_ARGS("as", devices), SD_BUS_RESULT("a(ssss)", steps),
                                method_restore_drivers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int bus_batch_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, batch_vtable, d);
}
