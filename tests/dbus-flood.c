/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dbus-flood: hostile load on sriovd at the rate the bus allows, for
 * tests/daemon/hostile.sh and bench/.
 *
 *   dbus-flood [-k KIND] -c CLIENTS -s SECONDS [-u UID [-a]] BDF
 *
 * Forks CLIENTS processes, each with its own connection to the system bus
 * (DBUS_SYSTEM_BUS_ADDRESS); with -u, every odd client (with -a, every
 * client) switches to UID before it connects. KIND:
 *   mixed   (default) each client cycles through good reads (GetDevice BDF,
 *           ListDevices "", DescribeDevices ""), path tricks ("../x", an
 *           embedded "/"), an oversized name, a call with the wrong
 *           signature, and — unprivileged — a mutating call it is not
 *           allowed to make. Every reply is checked: the reads must succeed
 *           (an unprivileged client's may also be refused for its share:
 *           LimitsExceeded), everything else must fail with a named error of
 *           the expected family.
 *   noread  each client sends ListDevices "" calls for SECONDS as fast as
 *           its connection takes them and never reads an answer (the
 *           caller whose answers pile up).
 *   open    each client loops on the open expensive calls: Apply(true)
 *           (a dry run of the whole configuration) and Rescan; refusals
 *           for its share are expected.
 *   bigpool each client makes one CreatePool("flood", BIGPOOL_SELECTORS
 *           selectors) and prints how long the answer took and its error
 *           name ("-" on success).
 * Prints "calls N ok N wrong N limited N" and exits 1 if any reply was not
 * what it should be or a client could not run. */

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
        unsigned long calls, ok, wrong, limited;
} Totals;

typedef enum Kind {
        KIND_MIXED,
        KIND_NOREAD,
        KIND_OPEN,
        KIND_BIGPOOL,
} Kind;

#define LIMITED "org.sriovd.Error.LimitsExceeded"

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* want NULL: success wanted; else the error name must start with want.
 * may_limit: a refusal for the caller's share is as good (counted apart). */
static void check_limited(Totals *t, int r, const sd_bus_error *e, const char *want, bool may_limit, const char *what) {
        bool good;

        t->calls++;
        if (may_limit && r < 0 && e->name && streq(e->name, LIMITED)) {
                t->limited++;
                return;
        }
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

static void check(Totals *t, int r, const sd_bus_error *e, const char *want, const char *what) {
        check_limited(t, r, e, want, false, what);
}

static void mixed_loop(sd_bus *bus, const char *bdf, double end, bool unprivileged, Totals *t) {
        char big[4096];
        int r;

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;

        while (now() < end) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;

                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "GetDevice", &e, NULL, "s", bdf);
                check(t, r, &e, NULL, "GetDevice");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "ListDevices", &e, NULL, "s", "");
                check_limited(t, r, &e, NULL, unprivileged, "ListDevices");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "DescribeDevices", &e, NULL, "s", "");
                check_limited(t, r, &e, NULL, unprivileged, "DescribeDevices");
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
}

/* Calls sent, answers never read: they pile up in the socket and then in
 * the bus; the connection stays until the end. */
#define NOREAD_CALLS 200
static int send_listing(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "ListDevices");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", "");
        if (r < 0)
                return r;
        return sd_bus_send(bus, m, NULL);
}

static void noread_loop(sd_bus *bus, double end, Totals *t) {
        for (unsigned i = 0; i < NOREAD_CALLS; i++) {
                int r = send_listing(bus);

                t->calls++;
                if (r < 0) {
                        t->wrong++;
                        return;
                }
                t->ok++;
        }
        (void) sd_bus_flush(bus);
        fprintf(stderr, "sent %u\n", NOREAD_CALLS);
        while (now() < end)
                (void) usleep(100000);  /* holding the connection, not synchronising */
}

static void open_loop(sd_bus *bus, double end, bool unprivileged, Totals *t) {
        while (now() < end) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                int r;

                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "Apply", &e, NULL, "b", 1);
                check_limited(t, r, &e, NULL, unprivileged, "Apply(true)");
                sd_bus_error_free(&e);
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "Rescan", &e, NULL, "");
                check_limited(t, r, &e, NULL, unprivileged, "Rescan");
                sd_bus_error_free(&e);
        }
}

/* One CreatePool with a selector list as long as the bus lets through. */
#define BIGPOOL_SELECTORS 300000
static int create_big_pool(sd_bus *bus, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "CreatePool");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", "flood");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "s");
        if (r < 0)
                return r;
        for (unsigned i = 0; i < BIGPOOL_SELECTORS; i++) {
                r = sd_bus_message_append(m, "s", "ens1f0#0");
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a{sv}", 0);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, 120 * 1000000ULL, e, NULL);
}

static void bigpool_once(sd_bus *bus, Totals *t) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        double t0 = now();
        int r;

        r = create_big_pool(bus, &e);
        printf("bigpool %.3f s %s\n", now() - t0, r >= 0 ? "-" : (e.name ?: strerror(-r)));
        fflush(stdout);
        t->calls++;
        t->ok += r < 0 && e.name && strncmp(e.name, "org.sriovd.Error.", 17) == 0;
        t->wrong += !(r < 0 && e.name && strncmp(e.name, "org.sriovd.Error.", 17) == 0);
        sd_bus_error_free(&e);
}

static int client(Kind kind, const char *bdf, double seconds, bool unprivileged, uid_t uid, Totals *t) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
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
        end = now() + seconds;
        switch (kind) {
        case KIND_MIXED:
                mixed_loop(bus, bdf, end, unprivileged, t);
                break;
        case KIND_NOREAD:
                noread_loop(bus, end, t);
                break;
        case KIND_OPEN:
                open_loop(bus, end, unprivileged, t);
                break;
        case KIND_BIGPOOL:
                bigpool_once(bus, t);
                break;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        Totals *shared, sum = {};
        unsigned clients = 8;
        double seconds = 10;
        uid_t uid = 0;
        bool have_uid = false, all = false;
        Kind kind = KIND_MIXED;
        int c, failed = 0;

        while ((c = getopt(argc, argv, "ak:c:s:u:")) >= 0)
                switch (c) {
                case 'a':
                        all = true;
                        break;
                case 'k':
                        if (streq(optarg, "mixed"))
                                kind = KIND_MIXED;
                        else if (streq(optarg, "noread"))
                                kind = KIND_NOREAD;
                        else if (streq(optarg, "open"))
                                kind = KIND_OPEN;
                        else if (streq(optarg, "bigpool"))
                                kind = KIND_BIGPOOL;
                        else
                                return 2;
                        break;
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
                fprintf(stderr, "usage: dbus-flood [-k mixed|noread|open|bigpool] [-c CLIENTS] [-s SECONDS] [-u UID [-a]] BDF\n");
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
                        _exit(client(kind, argv[optind], seconds, have_uid && (all || i % 2 == 1), uid, &shared[i]) < 0 ? 1 : 0);
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
                sum.limited += shared[i].limited;
        }
        printf("calls %lu ok %lu wrong %lu limited %lu clients_failed %d\n", sum.calls, sum.ok, sum.wrong, sum.limited,
               failed);
        return sum.wrong == 0 && failed == 0 && sum.calls > 0 ? 0 : 1;
}
