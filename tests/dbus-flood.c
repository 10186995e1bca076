/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dbus-flood: hostile load on sriovd at the rate the bus allows, for
 * tests/daemon/hostile.sh.
 *
 *   dbus-flood -c CLIENTS -s SECONDS [-u UID] BDF
 *
 * Forks CLIENTS processes, each with its own connection to the system bus
 * (DBUS_SYSTEM_BUS_ADDRESS). Client i cycles through good reads
 * (GetDevice BDF, ListDevices "", DescribeDevices ""), path tricks ("../x", an embedded "/"),
 * an oversized name, a call with the wrong signature, and — as UID when -u
 * is given, which every odd client switches to before it connects — a
 * mutating call it is not allowed to make. Every reply is checked: the
 * reads must succeed, everything else must fail with a named error of the
 * expected family. Prints "calls N ok N wrong N" and exits 1 if any reply
 * was not what it should be or a client could not run. */

#include <getopt.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "basics.h"

#define DEST "org.sriovd.Manager1"
#define PATH "/org/sriovd/Manager1"
#define IFACE "org.sriovd.Manager1"

typedef struct Totals {
        unsigned long calls, ok, wrong;
} Totals;

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* want NULL: success wanted; else the error name must start with want */
static void check(Totals *t, int r, const sd_bus_error *e, const char *want, const char *what) {
        bool good;

        t->calls++;
        if (!want)
                good = r >= 0;
        else
                good = r < 0 && e->name && strncmp(e->name, want, strlen(want)) == 0;
        if (good) {
                t->ok++;
                return;
        }
        if (t->wrong++ < 3)
                fprintf(stderr, "dbus-flood: %s: %s (wanted %s)\n", what,
                        r >= 0 ? "succeeded" : (e->name ?: strerror(-r)), want ?: "success");
}

static int client(const char *bdf, double seconds, bool unprivileged, uid_t uid, Totals *t) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        char big[4096];
        double end;
        int r;

        if (unprivileged && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)) {
                fprintf(stderr, "dbus-flood: cannot become uid %u: %m\n", (unsigned) uid);
                return -errno;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "dbus-flood: cannot connect to the system bus: %s\n", strerror(-r));
                return r;
        }
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;

        end = now() + seconds;
        while (now() < end) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;

                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "GetDevice", &e, NULL, "s", bdf);
                check(t, r, &e, NULL, "GetDevice");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "ListDevices", &e, NULL, "s", "");
                check(t, r, &e, NULL, "ListDevices");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "DescribeDevices", &e, NULL, "s", "");
                check(t, r, &e, NULL, "DescribeDevices");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "GetDevice", &e, NULL, "s", "../x");
                check(t, r, &e, "org.sriovd.Error.", "GetDevice ../x");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "GetDevice", &e, NULL, "s", "0000:00:00.0/../../x");
                check(t, r, &e, "org.sriovd.Error.", "GetDevice with a path");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "GetDevice", &e, NULL, "s", big);
                check(t, r, &e, "org.sriovd.Error.", "GetDevice of 4 kB");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "SetNumVFs", &e, NULL, "i", 5);
                check(t, r, &e, "org.freedesktop.DBus.Error.InvalidArgs", "SetNumVFs(i)");
                sd_bus_error_free(&e);
                if (unprivileged) {
                        r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "SetNumVFs");
                        if (r >= 0)
                                r = sd_bus_message_append(m, "sua{sv}", bdf, 1, 0);
                        /* not interactive: polkit, if any, must not wait for an agent */
                        if (r >= 0)
                                r = sd_bus_call(bus, m, 0, &e, NULL);
                        check(t, r, &e, "org.sriovd.Error.AccessDenied", "SetNumVFs as an unprivileged user");
                        sd_bus_error_free(&e);
                }
        }
        return 0;
}

int main(int argc, char *argv[]) {
        Totals *shared, sum = {};
        unsigned clients = 8;
        double seconds = 10;
        uid_t uid = 0;
        bool have_uid = false;
        int c, failed = 0;

        while ((c = getopt(argc, argv, "c:s:u:")) >= 0)
                switch (c) {
                case 'c':
                        clients = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        seconds = strtod(optarg, NULL);
                        break;
                case 'u':
                        uid = (uid_t) strtoul(optarg, NULL, 10);
                        have_uid = true;
                        break;
                default:
                        return 2;
                }
        if (optind + 1 != argc || clients == 0 || clients > 256 || !(seconds > 0)) {
                fprintf(stderr, "usage: dbus-flood [-c CLIENTS] [-s SECONDS] [-u UID] BDF\n");
                return 2;
        }
        shared = mmap(NULL, clients * sizeof(Totals), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED)
                return 1;
        memset(shared, 0, clients * sizeof(Totals));
        for (unsigned i = 0; i < clients; i++) {
                pid_t pid = fork();

                if (pid < 0)
                        return 1;
                if (pid == 0)
                        _exit(client(argv[optind], seconds, have_uid && i % 2 == 1, uid, &shared[i]) < 0 ? 1 : 0);
        }
        for (unsigned i = 0; i < clients; i++) {
                int status;

                if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed++;
        }
        for (unsigned i = 0; i < clients; i++) {
                sum.calls += shared[i].calls;
                sum.ok += shared[i].ok;
                sum.wrong += shared[i].wrong;
        }
        printf("calls %lu ok %lu wrong %lu clients_failed %d\n", sum.calls, sum.ok, sum.wrong, failed);
        return sum.wrong == 0 && failed == 0 && sum.calls > 0 ? 0 : 1;
}
