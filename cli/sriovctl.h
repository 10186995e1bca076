/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "basics.h"
#include "output.h"
#include "sriovd-api.h"

/* The options that belong to verbs (Verb.options is a mask of OPT(id)).
 * options.c describes each: its value, its D-Bus key, its help. */
typedef enum OptId {
        OPT_KIND,
        OPT_AUTOPROBE,
        OPT_KEEP_OVERRIDE,
        OPT_WHOLE_GROUP,
        OPT_ALLOW_NOIOMMU,
        OPT_FORCE,
        OPT_DRY_RUN,
        OPT_UID,
        OPT_GID,
        OPT_NUMA_NODE,
        OPT_NUMA_POLICY,
        OPT_TOKEN,
        OPT_DRIVER,
        OPT_MAC,
        OPT_MAC_BASE,
        OPT_VLAN,
        OPT_QOS,
        OPT_VLAN_PROTO,
        OPT_MAX_TX_RATE,
        OPT_MIN_TX_RATE,
        OPT_SPOOFCHK,
        OPT_TRUST,
        OPT_LINK_STATE,
        OPT_QUERY_RSS,
        OPT_BRING_PF_UP,
        OPT_FORMAT,
        OPT_BACKEND,
        OPT_RESET,
        OPT_OWNER,
        OPT_VF_RESET,
        OPT_PF,
        OPT_POOL,
        OPT_GUEST,
        OPT_WATCH,
        OPT_SAMPLES,
        OPT_OPENMETRICS,
        OPT_OUTPUT,
        _OPT_MAX,
} OptId;

#define OPT(id) (UINT64_C(1) << (id))
/* the VF's own settings, as GetVFConfig reports them (MAC base aside) */
#define OPTS_VF_ATTRS                                                                                      \
        (OPT(OPT_MAC) | OPT(OPT_VLAN) | OPT(OPT_QOS) | OPT(OPT_VLAN_PROTO) | OPT(OPT_MAX_TX_RATE) |        \
         OPT(OPT_MIN_TX_RATE) | OPT(OPT_SPOOFCHK) | OPT(OPT_TRUST) | OPT(OPT_LINK_STATE) | OPT(OPT_QUERY_RSS))

typedef struct OptValue {
        union {
                const char *s;          /* as given (argv outlives everything) */
                uint32_t u;
                int32_t i;
                bool b;
        };
} OptValue;

typedef struct Ctl {
        sd_bus *bus;
        uint64_t timeout_usec;          /* of every call */
        bool ask_password;              /* ALLOW_INTERACTIVE_AUTHORIZATION on changes */
        OutFormat format;
        uint64_t given;                 /* OPT(id) of the options on the command line */
        OptValue opt[_OPT_MAX];
} Ctl;

static inline bool ctl_has(const Ctl *c, OptId id) {
        return c->given & OPT(id);
}
/* a string option's value, or def when it was not given */
static inline const char *ctl_string(const Ctl *c, OptId id, const char *def) {
        return ctl_has(c, id) ? c->opt[id].s : def;
}

/* A verb gets its positional arguments (as many as the table allows) and
 * returns the exit status. */
typedef int (*verb_fn)(Ctl *c, char **args, size_t n_args);
/* Checks the arguments before the bus is touched: 0, or EXIT_USAGE after a message. */
typedef int (*verb_check_fn)(const Ctl *c, char **args, size_t n_args);

typedef struct Verb {
        const char *name;
        const char *args;               /* the positional arguments, for --help and messages */
        unsigned min_args, max_args;
        uint64_t options;               /* OPT(id) it accepts */
        bool changes;                   /* changes the host: authorized, may ask for a password */
        verb_fn fn;
        verb_check_fn check;            /* optional */
        const char *help;
} Verb;

int verb_list(Ctl *c, char **args, size_t n_args);
int verb_show(Ctl *c, char **args, size_t n_args);
int verb_enable(Ctl *c, char **args, size_t n_args);
int verb_enable_check(const Ctl *c, char **args, size_t n_args);
int verb_disable(Ctl *c, char **args, size_t n_args);
int verb_bind(Ctl *c, char **args, size_t n_args);
int verb_bind_check(const Ctl *c, char **args, size_t n_args);
int verb_unbind(Ctl *c, char **args, size_t n_args);
int verb_restore(Ctl *c, char **args, size_t n_args);
int verb_set(Ctl *c, char **args, size_t n_args);
int verb_set_check(const Ctl *c, char **args, size_t n_args);
int verb_groups(Ctl *c, char **args, size_t n_args);
int verb_status(Ctl *c, char **args, size_t n_args);
int verb_monitor(Ctl *c, char **args, size_t n_args);
int verb_apply(Ctl *c, char **args, size_t n_args);
int verb_reload(Ctl *c, char **args, size_t n_args);
int verb_assign(Ctl *c, char **args, size_t n_args);
int verb_assign_check(const Ctl *c, char **args, size_t n_args);
int verb_release(Ctl *c, char **args, size_t n_args);
int verb_release_check(const Ctl *c, char **args, size_t n_args);
int verb_assignments(Ctl *c, char **args, size_t n_args);
int verb_pools(Ctl *c, char **args, size_t n_args);
int verb_pool_create(Ctl *c, char **args, size_t n_args);
int verb_pool_delete(Ctl *c, char **args, size_t n_args);
int verb_reconcile(Ctl *c, char **args, size_t n_args);
int verb_reconcile_check(const Ctl *c, char **args, size_t n_args);
int verb_verify(Ctl *c, char **args, size_t n_args);
int verb_unquarantine(Ctl *c, char **args, size_t n_args);
int verb_dma_check(Ctl *c, char **args, size_t n_args);
int verb_owner(Ctl *c, char **args, size_t n_args);
int verb_owner_check(const Ctl *c, char **args, size_t n_args);
int verb_stats(Ctl *c, char **args, size_t n_args);
int verb_stats_check(const Ctl *c, char **args, size_t n_args);
int verb_metrics(Ctl *c, char **args, size_t n_args);

/* status: the PFs and VFs that are not healthy, and the VF settings
 * changed by hand that sriovd caught (verbs-observe.c) */
void status_print_health(Ctl *c);
void status_print_caught_drift(Ctl *c);

/* dma-check: the reserved regions of an IOMMU group (as groups prints them) */
void print_group_regions(Ctl *c, int32_t group);
/* An a(tts) of ranges at m (start, inclusive end, type) under key: JSON objects, one text cell. */
int print_ranges(sd_bus_message *m, const char *key);

/* stderr, "sriovctl: …\n"; returns status, for "return usage_error(…)" */
int error_exit(int status, const char *fmt, ...) _printf_(2, 3);
#define usage_error(...) error_exit(EXIT_USAGE, __VA_ARGS__)
/* stderr, "sriovctl: warning: …\n": something the caller should know, on success too */
void warning(const char *fmt, ...) _printf_(1, 2);
