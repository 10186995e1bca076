/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* monitor: one line per DeviceAdded/DeviceRemoved/DeviceChanged signal, as
 * it comes, until SIGINT or SIGTERM. */

#include <signal.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "sriovd-api.h"
#include "bus.h"
#include "output.h"
#include "sriovctl.h"

static const struct {
        const char *member, *event, *text;      /* text: the event, padded to align the addresses */
} events[] = {
        { "DeviceAdded", "added", "added  " },
        { "DeviceRemoved", "removed", "removed" },
        { "DeviceChanged", "changed", "changed" },
};

static int on_device_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        sd_event *event = userdata;
        const char *address, *path;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(events); i++) {
                if (!sd_bus_message_is_signal(m, SRIOVD_MANAGER_IFACE, events[i].member))
                        continue;
                r = sd_bus_message_read(m, "so", &address, &path);
                if (r < 0) {
                        fprintf(stderr, "sriovctl: ignoring a malformed %s signal: %s\n", events[i].member,
                                strerror(-r));
                        return 0;
                }
                out_open_object(NULL);
                print_string(PRINT_JSON, "event", NULL, events[i].event);
                print_string(PRINT_TEXT, NULL, "%s ", events[i].text);
                print_string(PRINT_ANY, "address", NULL, address);
                print_string(PRINT_JSON, "path", NULL, path);
                print_nl();
                out_close();
                r = out_flush();        /* now, line by line, also into a pipe */
                if (r < 0)      /* the reader went away (EPIPE), or the disk is full */
                        return sd_event_exit(event, r == -EPIPE ? EXIT_OK : EXIT_FAIL);
                break;
        }
        return 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (isempty(new_owner))
                fputs("sriovctl: sriovd left the bus; waiting for it to come back.\n", stderr);
        else if (isempty(old_owner))
                fputs("sriovctl: sriovd is back.\n", stderr);
        return 0;
}

/* sd-bus detaches the event loop when the connection closes: the loop comes as userdata */
static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        fputs("sriovctl: the connection to the system bus was lost.\n", stderr);
        return sd_event_exit(userdata, EXIT_NOT_RUNNING);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), EXIT_OK);
}

/* The event loop, ended by SIGINT or SIGTERM */
static int event_new(sd_event **ret) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        r = -sigprocmask(SIG_BLOCK, &mask, NULL);
        if (r < 0)
                return r;
        r = sd_event_default(&event);
        if (r < 0)
                return r;
        r = sd_event_add_signal(event, NULL, SIGINT, on_signal, NULL);
        if (r < 0)
                return r;
        r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(event);
        return 0;
}

/* The signals of sriovd, its leaving and coming back, and the loss of the bus */
static int subscribe(Ctl *c, sd_event *event) {
        int r;

        r = sd_bus_match_signal(c->bus, NULL, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE, NULL,
                                on_device_signal, event);
        if (r < 0)
                return r;
        r = sd_bus_add_match(c->bus, NULL,
                             "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                             "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                             "arg0='" SRIOVD_BUS_NAME "'",
                             on_owner_changed, event);
        if (r < 0)
                return r;
        return sd_bus_match_signal(c->bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                   "Disconnected", on_disconnected, event);
}

int verb_monitor(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        int r;

        r = event_new(&event);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot set up the event loop: %s", strerror(-r));

        /* subscribe first, then check that sriovd is there: no event is lost in between */
        r = subscribe(c, event);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot subscribe to the signals of sriovd: %s", strerror(-r));
        r = sd_bus_call_method(c->bus, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping",
                               &error, NULL, NULL);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot monitor sriovd");
        r = sd_bus_attach_event(c->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot set up the event loop: %s", strerror(-r));

        fputs("Monitoring sriovd; press Ctrl-C to stop.\n", stderr);
        r = sd_event_loop(event);
        (void) sd_bus_detach_event(c->bus);
        if (r < 0)
                return error_exit(EXIT_FAIL, "The event loop failed: %s", strerror(-r));
        return r;
}
