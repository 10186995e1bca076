/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>

#include "sriovd-api.h"
#include "bus.h"

#define HINT_AUTH "run as root, or get the polkit authorization " SRIOVD_ACTION_MANAGE
#define HINT_TIMEOUT "the kernel is still working on it, and sriovd finishes it when the kernel does; " \
        "\"sriovctl status\" shows what is pending"
#define HINT_PENDING "an earlier change of this device is still pending in the kernel; " \
        "\"sriovctl status\" shows what is pending"
#define HINT_API "sriovctl and sriovd do not speak the same API: are they from the same release?"
#define SENTENCE_NOT_RUNNING "sriovd is not running"
#define HINT_NOT_RUNNING "start it with \"systemctl start sriovd\""
#define SENTENCE_NO_ANSWER "sriovd did not answer in time"
#define HINT_NO_ANSWER "it may still be working: see \"sriovctl status\", \"journalctl -u sriovd\", or raise --timeout"

#define HINT_ASSIGNMENTS "\"sriovctl assignments\" lists the guests and their VFs"
#define HINT_POOLS "\"sriovctl pools\" lists the pools"
#define HINT_VF_SETTINGS "\"sriovctl show VF\" lists the settings the driver of its PF reports"
#define HINT_VFIO "\"sriovctl status\" shows the IOMMU and the VFIO interfaces of the host"

/* Every D-Bus error sriovctl knows, and what becomes of it: the exit status,
 * a sentence that replaces the error's message (NULL: the message is the
 * sentence, as the daemon writes them for people; with show_message the
 * message follows the sentence), and a hint on what to do. A row with a
 * member is for the answers of that method only, and comes before the
 * row for every method. */
/* a row's status: the error's own exit status, from the bus contract */
#define BY_CONTRACT (-1)

typedef struct BusErrorInfo {
        const char *name;
        const char *member;             /* NULL: any method */
        int status;
        const char *sentence;
        bool show_message;
        const char *hint;
} BusErrorInfo;

static const BusErrorInfo bus_errors[] = {
        /* sriovd names errors after the errno of the failure (bus-errors.c),
         * so some mean something else for some methods: "no mapping at the
         * IOVA" is ENOENT, named NoDriver; "no free IOVA space for the
         * self-test" is ENOSPC, named PoolExhausted */
        { SRIOVD_ERROR_NO_DRIVER, "DmaCheck", EXIT_FAIL, NULL, false, HINT_VFIO },
        { SRIOVD_ERROR_POOL_EXHAUSTED, "DmaCheck", EXIT_FAIL, NULL, false, HINT_VFIO },
        { SRIOVD_ERROR_NOT_SUPPORTED, "DmaCheck", EXIT_NOT_SUPPORTED, NULL, false, HINT_VFIO },
        /* and some hints are better for some methods */
        { SRIOVD_ERROR_NOT_FOUND, "Assign", EXIT_NO_DEVICE, NULL, false,
          HINT_POOLS ", \"sriovctl list --kind vf\" the VFs" },
        { SRIOVD_ERROR_NOT_FOUND, "Release", EXIT_NO_DEVICE, NULL, false, HINT_ASSIGNMENTS },
        { SRIOVD_ERROR_NOT_FOUND, "DeletePool", EXIT_NO_DEVICE, NULL, false, HINT_POOLS },
        { SRIOVD_ERROR_NOT_SUPPORTED, "SetVFConfig", EXIT_NOT_SUPPORTED, NULL, false, HINT_VF_SETTINGS },
        { SRIOVD_ERROR_NOT_SUPPORTED, "Assign", EXIT_NOT_SUPPORTED, NULL, false,
          HINT_VF_SETTINGS "; assign without that setting" },
        { SRIOVD_ERROR_NOT_SRIOV, "Assign", EXIT_INVALID, NULL, false, NULL },
        { SRIOVD_ERROR_NOT_SRIOV, "SetVFConfig", EXIT_INVALID, NULL, false, NULL },
        { SRIOVD_ERROR_VFS_ASSIGNED, "SetVFConfig", EXIT_BUSY, NULL, false,
          HINT_ASSIGNMENTS "; release the VF first" },
        { SRIOVD_ERROR_DEVICE_BUSY, "DeletePool", EXIT_BUSY, NULL, false, HINT_ASSIGNMENTS },
        { SRIOVD_ERROR_READ_ONLY, "DeletePool", EXIT_INVALID, NULL, false,
          "change the configuration files, then \"sriovctl reload\"" },
        { SRIOVD_ERROR_NOT_VFIO, "SetDeviceOwner", EXIT_INVALID, NULL, false,
          "it must be bound to vfio-pci, and the kernel must have made its nodes: " HINT_VFIO },
        { SRIOVD_ERROR_INVALID_ARGUMENT, NULL, BY_CONTRACT, NULL, false, NULL },
        { SRIOVD_ERROR_NO_SUCH_DEVICE, NULL, BY_CONTRACT, NULL, false,
          "\"sriovctl list --kind all\" shows every PCI function and its interfaces" },
        { SRIOVD_ERROR_NOT_SRIOV, NULL, BY_CONTRACT, NULL, false,
          "\"sriovctl list --kind pf\" shows the SR-IOV physical functions" },
        { SRIOVD_ERROR_OUT_OF_RANGE, NULL, BY_CONTRACT, NULL, false,
          "\"sriovctl show PF\" shows how many VFs the PF supports" },
        { SRIOVD_ERROR_DEVICE_BUSY, NULL, BY_CONTRACT, NULL, false,
          "something uses the device (a guest, a VFIO user, the driver); try again when it is done" },
        { SRIOVD_ERROR_NO_DRIVER, NULL, BY_CONTRACT, NULL, false,
          "load the driver's kernel module (modprobe) or bind the PF to its driver first" },
        { SRIOVD_ERROR_BIND_FAILED, NULL, BY_CONTRACT, NULL, false,
          "the kernel log (journalctl -k) says why the driver did not take the device" },
        { SRIOVD_ERROR_VFS_ASSIGNED, NULL, BY_CONTRACT, NULL, false, "detach the VFs from their guests first" },
        { SRIOVD_ERROR_TIMEOUT, NULL, BY_CONTRACT, NULL, false, HINT_TIMEOUT },
        { SRIOVD_ERROR_OPERATION_PENDING, NULL, BY_CONTRACT, NULL, false, HINT_PENDING },
        { SRIOVD_ERROR_ACCESS_DENIED, NULL, BY_CONTRACT, NULL, false, HINT_AUTH },
        { SRIOVD_ERROR_INVALID_CONFIG, NULL, BY_CONTRACT, NULL, false,
          "\"sriovd --check-config\" shows where the configuration is wrong" },
        { SRIOVD_ERROR_GROUP_NOT_VIABLE, NULL, BY_CONTRACT, NULL, false,
          "\"sriovctl groups\" shows which function of the IOMMU group is in the way" },
        { SRIOVD_ERROR_DEVICE_IN_USE, NULL, BY_CONTRACT, NULL, false, NULL },
        { SRIOVD_ERROR_NO_IOMMU, NULL, BY_CONTRACT, NULL, false, "\"sriovctl groups\" says what to change" },
        { SRIOVD_ERROR_NOT_VFIO, NULL, BY_CONTRACT, NULL, false, "bind it to vfio-pci first" },
        { SRIOVD_ERROR_NOT_FOUND, NULL, BY_CONTRACT, NULL, false, HINT_POOLS ", \"sriovctl assignments\" the guests" },
        { SRIOVD_ERROR_READ_ONLY, NULL, BY_CONTRACT, NULL, false, NULL },
        { SRIOVD_ERROR_POOL_EXHAUSTED, NULL, BY_CONTRACT, NULL, false,
          "\"sriovctl pools\" shows how many VFs each pool has free; release one, enable more VFs, "
          "or ask another pool" },
        { SRIOVD_ERROR_NOT_SUPPORTED, NULL, BY_CONTRACT, NULL, false, NULL },
        { SRIOVD_ERROR_STATE_UNAVAILABLE, NULL, BY_CONTRACT, NULL, false,
          "free space in sriovd's state directory, or make it writable (journalctl -u sriovd says which); nothing was changed" },
        { SRIOVD_ERROR_LIMITS_EXCEEDED, NULL, BY_CONTRACT, NULL, false,
          "wait a moment and ask again, or ask for less (one kind of functions, one lease holder); "
          "root is never held to a share" },
        { SRIOVD_ERROR_FAILED, NULL, BY_CONTRACT, NULL, false, NULL },
        { SD_BUS_ERROR_ACCESS_DENIED, NULL, EXIT_DENIED, "permission denied by the D-Bus policy", false, HINT_AUTH },
        { SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, NULL, EXIT_DENIED, "authentication is required", false,
          "run as root, or without --no-ask-password on a terminal to be asked for a password" },
        { SD_BUS_ERROR_SERVICE_UNKNOWN, NULL, EXIT_NOT_RUNNING, SENTENCE_NOT_RUNNING, false, HINT_NOT_RUNNING },
        { SD_BUS_ERROR_NAME_HAS_NO_OWNER, NULL, EXIT_NOT_RUNNING, SENTENCE_NOT_RUNNING, false, HINT_NOT_RUNNING },
        { "org.freedesktop.DBus.Error.Spawn.", NULL, EXIT_NOT_RUNNING, "sriovd could not be started", true,
          "\"journalctl -u sriovd\" says why" },
        /* also when sriovd went away in the middle of the call: say what the bus said */
        { SD_BUS_ERROR_NO_REPLY, NULL, EXIT_BUSY, "sriovd did not answer", true,
          "sriovd stopped or is still working: \"sriovctl status\" and \"journalctl -u sriovd\" tell" },
        { SD_BUS_ERROR_TIMEOUT, NULL, EXIT_BUSY, SENTENCE_NO_ANSWER, false, HINT_NO_ANSWER },
        { SD_BUS_ERROR_DISCONNECTED, NULL, EXIT_NOT_RUNNING, "the connection to the system bus was lost", false, NULL },
        { SD_BUS_ERROR_UNKNOWN_METHOD, NULL, EXIT_FAIL, NULL, false, HINT_API },
        { SD_BUS_ERROR_UNKNOWN_OBJECT, NULL, EXIT_FAIL, NULL, false, HINT_API },
        { SD_BUS_ERROR_UNKNOWN_INTERFACE, NULL, EXIT_FAIL, NULL, false, HINT_API },
        { SD_BUS_ERROR_UNKNOWN_PROPERTY, NULL, EXIT_FAIL, NULL, false, HINT_API },
        { SD_BUS_ERROR_INVALID_ARGS, NULL, EXIT_INVALID, NULL, false, NULL },
        { SD_BUS_ERROR_NO_MEMORY, NULL, EXIT_FAIL, "out of memory", false, NULL },
};

/* the method of the last call, for the rows of one method */
static char call_member[64];

static const BusErrorInfo *bus_error_info(const sd_bus_error *e) {
        if (!sd_bus_error_is_set(e))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(bus_errors); i++) {
                const char *n = bus_errors[i].name;
                size_t len = strlen(n);

                if (bus_errors[i].member && !streq(bus_errors[i].member, call_member))
                        continue;
                /* a name ending in "." stands for the family (Spawn.*) */
                if (n[len - 1] == '.' ? strneq(e->name, n, len) : streq(e->name, n))
                        return &bus_errors[i];
        }
        return NULL;
}

int bus_error_status(const sd_bus_error *e, int r) {
        const BusErrorInfo *i = bus_error_info(e);
        const SriovdError *c;

        if (i && i->status != BY_CONTRACT)
                return i->status;
        c = sd_bus_error_is_set(e) ? sriovd_error_find(e->name) : NULL;
        if (c)
                return c->exit_status;
        /* no named error: a failure of our side of the connection */
        switch (-r) {
        case ETIMEDOUT:
                return EXIT_BUSY;
        case ECONNRESET:
        case ECONNREFUSED:
        case ENOTCONN:
        case EPIPE:
        case ENOENT:
                return EXIT_NOT_RUNNING;
        default:
                return EXIT_FAIL;
        }
}

int bus_error_exit(const sd_bus_error *e, int r, const char *context_fmt, ...) {
        const BusErrorInfo *i = bus_error_info(e);
        const char *message = sd_bus_error_is_set(e) && !isempty(e->message) ? e->message : NULL;
        va_list ap;

        fputs("sriovctl: ", stderr);
        va_start(ap, context_fmt);
        vfprintf(stderr, context_fmt, ap);
        va_end(ap);
        if (i && i->sentence)
                fprintf(stderr, ": %s%s%s\n", i->sentence, i->show_message && message ? ": " : "",
                        i->show_message ? strempty(message) : "");
        else if (message)
                fprintf(stderr, ": %s\n", message);
        else if (sd_bus_error_is_set(e))
                fprintf(stderr, ": %s\n", e->name);     /* an unknown error without words: its name is all we have */
        else
                fprintf(stderr, ": %s\n", strerror(r < 0 ? -r : EIO));
        if (i && i->hint)
                fprintf(stderr, "Hint: %s\n", i->hint);
        return bus_error_status(e, r);
}

int bus_connect(Ctl *c) {
        const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        int r;

        r = sriovd_errors_register();
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot register the D-Bus error names: %s", strerror(-r));
        r = sd_bus_open_system(&c->bus);
        if (r < 0)
                return error_exit(EXIT_NOT_RUNNING, "Cannot connect to the system bus (%s): %s\n"
                                  "Hint: is dbus running? DBUS_SYSTEM_BUS_ADDRESS chooses another bus.",
                                  address ?: "unix:path=/run/dbus/system_bus_socket", strerror(-r));
        return 0;
}

int bus_new_manager_callv(Ctl *c, const char *member, bool changes, sd_bus_message **ret, const char *types,
                          va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(c->bus, &m, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH, SRIOVD_MANAGER_IFACE,
                                           member);
        if (r < 0)
                return r;
        if (types) {
                r = sd_bus_message_appendv(m, types, ap);
                if (r < 0)
                        return r;
        }
        if (changes) {
                r = sd_bus_message_set_allow_interactive_authorization(m, c->ask_password);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int bus_new_manager_call(Ctl *c, const char *member, bool changes, sd_bus_message **ret, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_new_manager_callv(c, member, changes, ret, types, ap);
        va_end(ap);
        return r;
}

int bus_call(Ctl *c, sd_bus_message *m, sd_bus_error *error, sd_bus_message **ret_reply) {
        (void) snprintf(call_member, sizeof(call_member), "%s", strempty(sd_bus_message_get_member(m)));
        return sd_bus_call(c->bus, m, c->timeout_usec, error, ret_reply);
}

int bus_call_manager(Ctl *c, const char *member, bool changes, sd_bus_error *error, sd_bus_message **ret_reply,
                     const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_new_manager_callv(c, member, changes, &m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return bus_call(c, m, error, ret_reply);
}

static int read_field(sd_bus_message *m, const BusField *f, void *base) {
        void *p = (uint8_t *) base + f->offset;

        switch (f->signature[0]) {
        case 's':
                return sd_bus_message_read_basic(m, 's', (const char **) p);
        case 'a': {
                char **l = NULL;
                int r;

                r = sd_bus_message_read_strv(m, &l);
                if (r < 0)
                        return r;
                strv_free(*(char ***) p);
                *(char ***) p = l;
                return 0;
        }
        default:        /* b, q, u, i: read straight into the field of that size */
                return sd_bus_message_read_basic(m, f->signature[0], p);
        }
}

/* The sv of one entry at m: into its field, or skipped when no field has
 * that name and signature */
static int read_entry(sd_bus_message *m, const BusField *fields, size_t n_fields, void *base) {
        const BusField *f = NULL;
        const char *name, *contents;
        int r;

        r = sd_bus_message_read_basic(m, 's', &name);
        if (r < 0)
                return r;
        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_fields && !f; i++)
                if (streq(fields[i].name, name) && streq(fields[i].signature, contents))
                        f = &fields[i];
        if (!f)
                return sd_bus_message_skip(m, "v");
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        r = read_field(m, f, base);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_read_fields(sd_bus_message *m, const BusField *fields, size_t n_fields, void *base) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = read_entry(m, fields, n_fields, base);
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

int bus_read_array(sd_bus_message *m, const char *row, bus_row_fn fn, void *userdata) {
        char array[128];
        int n = 0, r;

        (void) snprintf(array, sizeof(array), "(%s)", row);
        r = sd_bus_message_enter_container(m, 'a', array);
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', row)) > 0) {
                r = fn(m, userdata);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                n++;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return n;
}

int bus_get_manager_properties(Ctl *c, const BusField *fields, size_t n_fields, void *base, sd_bus_error *error,
                               sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(c->bus, &m, SRIOVD_BUS_NAME, SRIOVD_MANAGER_PATH,
                                           "org.freedesktop.DBus.Properties", "GetAll");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", SRIOVD_MANAGER_IFACE);
        if (r < 0)
                return r;
        r = bus_call(c, m, error, &reply);
        if (r < 0)
                return r;
        r = bus_read_fields(reply, fields, n_fields, base);
        if (r < 0)
                return r;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* ---- polkit agent ---- */

#define PKTTYAGENT "/usr/bin/pkttyagent"

void polkit_agent_open(pid_t *ret_pid) {
        char fd_arg[16], pid_arg[16];
        int pipe_fds[2];
        pid_t pid, parent = getpid();

        *ret_pid = 0;
        if (geteuid() == 0 || !isatty(STDIN_FILENO) || access(PKTTYAGENT, X_OK) < 0)
                return;
        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return;
        pid = fork();
        if (pid < 0) {
                (void) close(pipe_fds[0]);
                (void) close(pipe_fds[1]);
                return;
        }
        if (pid == 0) {
                /* the agent closes the notify fd once it is registered with polkit */
                (void) fcntl(pipe_fds[1], F_SETFD, 0);
                (void) snprintf(fd_arg, sizeof(fd_arg), "%d", pipe_fds[1]);
                (void) snprintf(pid_arg, sizeof(pid_arg), "%d", (int) parent);
                execl(PKTTYAGENT, PKTTYAGENT, "--notify-fd", fd_arg, "--fallback", "--process", pid_arg,
                      (char *) NULL);
                _exit(127);
        }
        (void) close(pipe_fds[1]);
        /* bounded: an agent that hangs must not block the command */
        for (;;) {
                struct pollfd p = { .fd = pipe_fds[0], .events = POLLIN };
                int n = poll(&p, 1, 10 * 1000);
                char c;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || read(pipe_fds[0], &c, 1) <= 0)
                        break;          /* timeout, or EOF: registered (or gone) */
        }
        (void) close(pipe_fds[0]);
        *ret_pid = pid;
}

void polkit_agent_close(pid_t pid) {
        if (pid <= 0)
                return;
        (void) kill(pid, SIGTERM);
        (void) waitpid(pid, NULL, 0);
}
