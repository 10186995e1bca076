/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* sriovd-bench: the measuring half of bench/run, in C so that process
 * start-up does not dominate what is measured.
 *
 *   sriovd-bench calls [-c CLIENTS] [-s SECONDS] METHOD ARG
 *           D-Bus read calls (GetDevice BDF, ListDevices KIND, DescribeDevices KIND) in a loop from
 *           CLIENTS processes, each with its own bus connection
 *   sriovd-bench assign [-c CLIENTS] [-s SECONDS] POOL
 *           Assign(guest, POOL, {}) + Release(guest, "", {}) cycles, one guest
 *           per client process
 *   sriovd-bench bind [-s SECONDS] DEVICE
 *           Bind(DEVICE, "vfio-pci", {}) + RestoreDriver(DEVICE) cycles, one
 *           client (a device takes one change at a time)
 *   sriovd-bench ready [-t SECONDS] -- COMMAND [ARGS...]
 *           start COMMAND with NOTIFY_SOCKET and wait for READY=1; the
 *           command keeps running
 *   sriovd-bench time [-n RUNS] -- COMMAND [ARGS...]
 *           run COMMAND RUNS times (stdout to /dev/null), wall time of each
 *   sriovd-bench access [-n RUNS] FILE
 *           cost of one stat() and of one open+read+close of FILE (a sysfs
 *           attribute: the simulator's against the kernel's), and of one
 *           fork+exec+wait of /bin/true
 *
 * Every result is one line of JSON on stdout; diagnostics go to stderr.
 * Nothing here judges a result: benchmarks report, they do not fail on
 * slowness. The exit status is 0 when the measurement was made, 1 when it
 * could not be (a call failed, the command did not start). */

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "basics.h"

#define DEST "org.sriovd.Manager1"
#define PATH "/org/sriovd/Manager1"
#define IFACE "org.sriovd.Manager1"

#define MAX_CLIENTS 64
#define MAX_SAMPLES 400000              /* per client; later calls are counted, not sampled */

extern char **environ;

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* What each client process reports, in memory shared with the parent. */
typedef struct ClientResult {
        uint64_t calls;
        uint64_t errors;
        uint64_t elapsed_usec;
        uint64_t n_samples;
        char first_error[256];
        uint32_t samples[MAX_SAMPLES];  /* microseconds per call (or cycle) */
} ClientResult;

typedef int (*client_fn)(sd_bus *bus, unsigned client, const char *arg, char *err, size_t errlen);

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return (x > y) - (x < y);
}

/* One read call of the Manager with one string argument. */
static int call_read(sd_bus *bus, const char *member, const char *arg, char *err, size_t errlen) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, DEST, PATH, IFACE, member, &e, &reply, "s", arg);
        if (r < 0)
                (void) snprintf(err, errlen, "%s \"%s\": %s", member, arg, e.message ?: strerror(-r));
        return r;
}

static int call_get_device(sd_bus *bus, unsigned client, const char *arg, char *err, size_t errlen) {
        return call_read(bus, "GetDevice", arg, err, errlen);
}

static int call_list_devices(sd_bus *bus, unsigned client, const char *arg, char *err, size_t errlen) {
        return call_read(bus, "ListDevices", arg, err, errlen);
}

static int call_describe_devices(sd_bus *bus, unsigned client, const char *arg, char *err, size_t errlen) {
        return call_read(bus, "DescribeDevices", arg, err, errlen);
}

/* One Assign + Release cycle for guest "bench-CLIENT" from pool arg. */
static int call_assign_release(sd_bus *bus, unsigned client, const char *arg, char *err, size_t errlen) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *reply2 = NULL;
        char guest[32];
        int r;

        (void) snprintf(guest, sizeof(guest), "bench-%u", client);
        r = sd_bus_call_method(bus, DEST, PATH, IFACE, "Assign", &e, &reply, "ssa{sv}", guest, arg, 0);
        if (r < 0) {
                (void) snprintf(err, errlen, "Assign %s %s: %s", guest, arg, e.message ?: strerror(-r));
                return r;
        }
        r = sd_bus_call_method(bus, DEST, PATH, IFACE, "Release", &e, &reply2, "ssa{sv}", guest, "", 0);
        if (r < 0)
                (void) snprintf(err, errlen, "Release %s: %s", guest, e.message ?: strerror(-r));
        return r;
}

/* One Bind to vfio-pci and back, of the device arg. */
static int call_bind_restore(sd_bus *bus, unsigned client, const char *arg, char *err, size_t errlen) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *reply2 = NULL;
        int r;

        r = sd_bus_call_method(bus, DEST, PATH, IFACE, "Bind", &e, &reply, "ssa{sv}", arg, "vfio-pci", 0);
        if (r < 0) {
                (void) snprintf(err, errlen, "Bind %s: %s", arg, e.message ?: strerror(-r));
                return r;
        }
        r = sd_bus_call_method(bus, DEST, PATH, IFACE, "RestoreDriver", &e, &reply2, "s", arg);
        if (r < 0)
                (void) snprintf(err, errlen, "RestoreDriver %s: %s", arg, e.message ?: strerror(-r));
        return r;
}

static int open_bus(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        /* long calls (ListDevices of thousands of devices, Assign on a slow
         * kernel) must not be cut off by the 25 s default */
        r = sd_bus_set_method_call_timeout(bus, 120 * 1000000ULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

/* A client process: connect, wait for the start signal (the go pipe
 * closing), call until the deadline. */
_noreturn_ static void client_main(unsigned client, client_fn fn, const char *arg, double seconds, int go_fd,
                                   ClientResult *res) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        uint64_t start, deadline;
        char c;
        int r;

        r = open_bus(&bus);
        if (r < 0) {
                (void) snprintf(res->first_error, sizeof(res->first_error), "Cannot connect to the bus: %s", strerror(-r));
                res->errors++;
                _exit(1);
        }
        (void) !read(go_fd, &c, 1);    /* EOF: everyone starts now */
        start = now_usec();
        deadline = start + (uint64_t) (seconds * 1e6);
        for (;;) {
                uint64_t t0 = now_usec(), t1;
                char err[256] = "";

                if (t0 >= deadline)
                        break;
                r = fn(bus, client, arg, err, sizeof(err));
                t1 = now_usec();
                if (r < 0) {
                        if (res->errors++ == 0)
                                (void) snprintf(res->first_error, sizeof(res->first_error), "%s", err);
                        if (res->errors >= 100)
                                break;  /* something is broken: no point hammering on */
                        continue;
                }
                res->calls++;
                if (res->n_samples < MAX_SAMPLES)
                        res->samples[res->n_samples++] = (uint32_t) MIN(t1 - t0, (uint64_t) UINT32_MAX);
        }
        res->elapsed_usec = now_usec() - start;
        _exit(res->errors > 0 && res->calls == 0 ? 1 : 0);
}

static double percentile(const uint32_t *sorted, size_t n, double p) {
        if (n == 0)
                return 0;
        return sorted[MIN((size_t) (p * (double) (n - 1) + 0.5), n - 1)];
}

static int run_clients(const char *what, client_fn fn, const char *arg, unsigned clients, double seconds) {
        size_t size = sizeof(ClientResult) * clients;
        ClientResult *res;
        pid_t pids[MAX_CLIENTS];
        uint64_t calls = 0, errors = 0, max_elapsed = 0, n = 0;
        _cleanup_free_ uint32_t *all = NULL;
        const char *first_error = NULL;
        int go[2], failed = 0;

        res = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (res == MAP_FAILED) {
                fprintf(stderr, "Cannot allocate the result area: %m\n");
                return -errno;
        }
        if (pipe2(go, O_CLOEXEC) < 0) {
                fprintf(stderr, "pipe: %m\n");
                return -errno;
        }
        for (unsigned i = 0; i < clients; i++) {
                pids[i] = fork();
                if (pids[i] < 0) {
                        fprintf(stderr, "fork: %m\n");
                        return -errno;
                }
                if (pids[i] == 0) {
                        (void) close(go[1]);
                        client_main(i, fn, arg, seconds, go[0], &res[i]);
                }
        }
        (void) close(go[0]);
        /* give every client time to connect before the clock starts */
        (void) usleep(200 * 1000);
        (void) close(go[1]);
        for (unsigned i = 0; i < clients; i++) {
                int status;

                if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed++;
        }

        for (unsigned i = 0; i < clients; i++) {
                calls += res[i].calls;
                errors += res[i].errors;
                n += res[i].n_samples;
                max_elapsed = MAX(max_elapsed, res[i].elapsed_usec);
                if (!first_error && res[i].first_error[0])
                        first_error = res[i].first_error;
        }
        all = malloc(sizeof(*all) * MAX(n, (uint64_t) 1));
        if (!all)
                return -ENOMEM;
        n = 0;
        for (unsigned i = 0; i < clients; i++) {
                memcpy(all + n, res[i].samples, sizeof(*all) * res[i].n_samples);
                n += res[i].n_samples;
        }
        qsort(all, n, sizeof(*all), cmp_u32);

        printf("{\"what\": \"%s\", \"arg\": \"%s\", \"clients\": %u, \"seconds\": %.3f, \"calls\": %llu, "
               "\"errors\": %llu, \"rate\": %.1f, \"lat_us\": {\"p50\": %.0f, \"p90\": %.0f, \"p99\": %.0f, \"max\": %.0f}",
               what, arg, clients, (double) max_elapsed / 1e6, (unsigned long long) calls, (unsigned long long) errors,
               max_elapsed > 0 ? (double) calls * 1e6 / (double) max_elapsed : 0.0, percentile(all, n, 0.5),
               percentile(all, n, 0.9), percentile(all, n, 0.99), n ? (double) all[n - 1] : 0.0);
        if (first_error) {
                printf(", \"first_error\": \"");
                for (const char *p = first_error; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                putchar('\\');
                        putchar((unsigned char) *p < 0x20 ? ' ' : *p);
                }
                printf("\"");
        }
        printf("}\n");
        (void) munmap(res, size);
        if (calls == 0 || failed == (int) clients) {
                fprintf(stderr, "%s: no call succeeded%s%s\n", what, first_error ? ": " : "", strempty(first_error));
                return -EIO;
        }
        return 0;
}

/* ---- ready: start a service with NOTIFY_SOCKET and wait for READY=1 ---- */

static int cmd_ready(double timeout, char **argv) {
        char dir[] = "/tmp/sriovd-bench-notify.XXXXXX";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        posix_spawn_file_actions_t fa;
        _cleanup_close_ int fd = -EBADF;
        uint64_t t0, deadline;
        pid_t pid;
        int r;

        if (!mkdtemp(dir)) {
                fprintf(stderr, "mkdtemp: %m\n");
                return -errno;
        }
        (void) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = -errno;
                fprintf(stderr, "Cannot create the notify socket: %m\n");
                (void) rmdir(dir);
                return r;
        }
        if (setenv("NOTIFY_SOCKET", sa.sun_path, 1) < 0)
                return -errno;

        /* the service's stdout goes where our stderr goes: our stdout is the
         * result, read by a shell that waits for it to close */
        if (posix_spawn_file_actions_init(&fa) != 0 || posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO) != 0)
                return -ENOMEM;
        t0 = now_usec();
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        (void) unsetenv("NOTIFY_SOCKET");
        if (r != 0) {
                fprintf(stderr, "Cannot start %s: %s\n", argv[0], strerror(r));
                r = -r;
                goto finish;
        }
        deadline = t0 + (uint64_t) (timeout * 1e6);
        r = -ETIMEDOUT;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_usec();
                char buf[4096];
                ssize_t l;
                int status;

                if (now >= deadline) {
                        fprintf(stderr, "%s did not send READY=1 within %.0f s\n", argv[0], timeout);
                        break;
                }
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        fprintf(stderr, "%s exited before it was ready\n", argv[0]);
                        r = -ECHILD;
                        break;
                }
                if (poll(&p, 1, 100) <= 0)
                        continue;
                l = recv(fd, buf, sizeof(buf) - 1, 0);
                if (l <= 0)
                        continue;
                buf[l] = 0;
                for (char *line = buf, *next; line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        if (streq(line, "READY=1")) {
                                printf("{\"pid\": %d, \"ready_ms\": %.1f}\n", (int) pid, (double) (now_usec() - t0) / 1e3);
                                r = 0;
                                goto finish;
                        }
                }
        }
finish:
        (void) unlink(sa.sun_path);
        (void) rmdir(dir);
        return r;
}

/* ---- time: wall time of a command, several runs ---- */

static int cmd_time(unsigned runs, char **argv) {
        posix_spawn_file_actions_t fa;
        int r = 0;

        if (posix_spawn_file_actions_init(&fa) != 0 ||
            posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) != 0)
                return -ENOMEM;
        printf("{\"runs_ms\": [");
        for (unsigned i = 0; i < runs; i++) {
                uint64_t t0 = now_usec();
                pid_t pid;
                int status;

                r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
                if (r != 0) {
                        fprintf(stderr, "Cannot start %s: %s\n", argv[0], strerror(r));
                        r = -r;
                        break;
                }
                if (waitpid(pid, &status, 0) < 0) {
                        r = -errno;
                        break;
                }
                printf("%s%.2f", i ? ", " : "", (double) (now_usec() - t0) / 1e3);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "%s failed (status %d)\n", argv[0], status);
                        r = -EIO;
                        break;
                }
        }
        printf("]}\n");
        posix_spawn_file_actions_destroy(&fa);
        return r;
}

/* ---- access: what one sysfs access and one process cost here ---- */

static int cmd_access(unsigned runs, const char *file) {
        char *true_argv[] = { (char *) "true", NULL };
        uint64_t t0, t_stat, t_read, t_spawn;
        unsigned spawns = MAX(runs / 20, 5u);
        char buf[4096];

        t0 = now_usec();
        for (unsigned i = 0; i < runs; i++) {
                struct stat st;

                if (stat(file, &st) < 0) {
                        fprintf(stderr, "Cannot stat %s: %m\n", file);
                        return -errno;
                }
        }
        t_stat = now_usec() - t0;
        t0 = now_usec();
        for (unsigned i = 0; i < runs; i++) {
                _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);

                if (fd < 0 || read(fd, buf, sizeof(buf)) < 0) {
                        fprintf(stderr, "Cannot read %s: %m\n", file);
                        return -errno;
                }
        }
        t_read = now_usec() - t0;
        t0 = now_usec();
        for (unsigned i = 0; i < spawns; i++) {
                pid_t pid;
                int status;

                if (posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ) != 0 || waitpid(pid, &status, 0) < 0)
                        return -EIO;
        }
        t_spawn = now_usec() - t0;
        printf("{\"file\": \"%s\", \"stat_us\": %.1f, \"read_us\": %.1f, \"spawn_ms\": %.2f}\n", file,
               (double) t_stat / runs, (double) t_read / runs, (double) t_spawn / spawns / 1e3);
        return 0;
}

static void usage(void) {
        fprintf(stderr,
                "Usage: sriovd-bench calls [-c CLIENTS] [-s SECONDS] GetDevice|ListDevices|DescribeDevices ARG\n"
                "       sriovd-bench assign [-c CLIENTS] [-s SECONDS] POOL\n"
                "       sriovd-bench bind [-s SECONDS] DEVICE\n"
                "       sriovd-bench ready [-t SECONDS] -- COMMAND [ARGS...]\n"
                "       sriovd-bench time [-n RUNS] -- COMMAND [ARGS...]\n"
                "       sriovd-bench access [-n RUNS] FILE\n");
}

int main(int argc, char *argv[]) {
        unsigned clients = 1, runs = 5;
        double seconds = 5, timeout = 300;
        const char *verb;
        int c, r;

        if (argc < 2) {
                usage();
                return 2;
        }
        verb = argv[1];
        optind = 2;
        while ((c = getopt(argc, argv, "+c:s:t:n:")) >= 0)
                switch (c) {
                case 'c':
                        clients = (unsigned) atoi(optarg);
                        break;
                case 's':
                        seconds = atof(optarg);
                        break;
                case 't':
                        timeout = atof(optarg);
                        break;
                case 'n':
                        runs = (unsigned) atoi(optarg);
                        break;
                default:
                        usage();
                        return 2;
                }
        if (clients < 1 || clients > MAX_CLIENTS || !(seconds > 0) || !(timeout > 0) || runs < 1) {
                fprintf(stderr, "Invalid option value\n");
                return 2;
        }
        (void) signal(SIGPIPE, SIG_IGN);

        if (streq(verb, "calls") && argc - optind == 2) {
                client_fn fn = streq(argv[optind], "GetDevice") ? call_get_device :
                               streq(argv[optind], "ListDevices") ? call_list_devices :
                               streq(argv[optind], "DescribeDevices") ? call_describe_devices : NULL;

                if (!fn) {
                        usage();
                        return 2;
                }
                r = run_clients(argv[optind], fn, argv[optind + 1], clients, seconds);
        } else if (streq(verb, "assign") && argc - optind == 1)
                r = run_clients("Assign+Release", call_assign_release, argv[optind], clients, seconds);
        else if (streq(verb, "bind") && argc - optind == 1)
                r = run_clients("Bind+RestoreDriver", call_bind_restore, argv[optind], 1, seconds);
        else if (streq(verb, "ready") && argc - optind >= 1)
                r = cmd_ready(timeout, argv + optind);
        else if (streq(verb, "time") && argc - optind >= 1)
                r = cmd_time(runs, argv + optind);
        else if (streq(verb, "access") && argc - optind == 1)
                r = cmd_access(runs, argv[optind]);
        else {
                usage();
                return 2;
        }
        (void) fflush(stdout);
        return r < 0 ? 1 : 0;
}
