/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "basics.h"

/* Exit status of sriovctl; documented in sriovctl(8), keep them stable. */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,          /* anything else */
        EXIT_USAGE = 2,         /* bad command line; no call was made */
        EXIT_NOT_RUNNING = 3,   /* sriovd is not running, or the bus cannot be reached */
        EXIT_DENIED = 4,        /* not authorized */
        EXIT_NO_DEVICE = 5,     /* no such PCI function or interface */
        EXIT_INVALID = 6,       /* the daemon rejected an argument */
        EXIT_BUSY = 7,          /* device busy, operation pending, timeout */
        EXIT_PARTIAL = 8,       /* the driver enabled fewer VFs than asked */
};

/* Options that belong to one verb (Verb.options). */
enum {
        VERB_OPT_KIND = 1 << 0,
        VERB_OPT_AUTOPROBE = 1 << 1,
        VERB_OPT_KEEP_OVERRIDE = 1 << 2,
};

typedef struct Ctl {
        sd_bus *bus;
        uint64_t timeout_usec;          /* of every call */
        bool ask_password;              /* ALLOW_INTERACTIVE_AUTHORIZATION on changes */
        const char *kind;               /* list --kind, as ListDevices wants it */
        int autoprobe;                  /* enable --autoprobe; -1: not given */
        int keep_override;              /* bind --[no-]keep-override; -1: not given */
} Ctl;

/* A verb gets its positional arguments (as many as the table allows) and
 * returns the exit status. */
typedef int (*verb_fn)(Ctl *c, char **args, size_t n_args);
/* Checks the arguments before the bus is touched: 0, or EXIT_USAGE after a message. */
typedef int (*verb_check_fn)(char **args, size_t n_args);

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args;
        unsigned options;               /* VERB_OPT_* it accepts */
        bool changes;                   /* changes the host: authorized, may ask for a password */
        verb_fn fn;
        verb_check_fn check;            /* optional */
        const char *usage;              /* arguments, for --help */
        const char *help;
} Verb;

int verb_list(Ctl *c, char **args, size_t n_args);
int verb_show(Ctl *c, char **args, size_t n_args);
int verb_enable(Ctl *c, char **args, size_t n_args);
int verb_enable_check(char **args, size_t n_args);
int verb_disable(Ctl *c, char **args, size_t n_args);
int verb_bind(Ctl *c, char **args, size_t n_args);
int verb_unbind(Ctl *c, char **args, size_t n_args);
int verb_restore(Ctl *c, char **args, size_t n_args);
int verb_groups(Ctl *c, char **args, size_t n_args);
int verb_status(Ctl *c, char **args, size_t n_args);
int verb_monitor(Ctl *c, char **args, size_t n_args);

/* stderr, "sriovctl: …\n"; returns status, for "return usage_error(…)" */
int error_exit(int status, const char *fmt, ...) _printf_(2, 3);
#define usage_error(...) error_exit(EXIT_USAGE, __VA_ARGS__)
