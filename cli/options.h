/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "sriovctl.h"

/* The options of the verbs, one table (options.c): the command line, the
 * checks of their values, --help, and the a{sv} they become in the D-Bus
 * call all come from it. */

/* getopt_long() entries for every verb option (--no-X too for the ones that
 * have it, and the alias of those that have one), with val = OPT_VAL_BASE + id (OPT_VAL_NEGATED added for --no-X);
 * written to ret, which has room for OPT_LONGOPTS_MAX entries. */
#define OPT_VAL_BASE 0x200
#define OPT_VAL_NEGATED 0x100
#define OPT_LONGOPTS_MAX (3 * _OPT_MAX)
size_t options_longopts(struct option *ret);

/* The value of the option getopt returned as val (with optarg), into c:
 * 0, or EXIT_USAGE after a message. */
int option_parse(Ctl *c, int val, const char *arg);

/* "--kind", "--keep-override/--no-keep-override" */
const char *option_name(OptId id);
/* "[--kind pf|vf|sriov|all]" */
char *option_synopsis(OptId id);
/* --help: the options of the verbs, each with the verbs it goes with */
void options_help(FILE *f, const Verb *verbs, size_t n_verbs);

/* Appends an a{sv} of the options given on the command line that are in
 * mask and have a D-Bus key. */
int bus_append_options(sd_bus_message *m, const Ctl *c, uint64_t mask);

/* Calls a Manager method that changes the host with the arguments
 * types/... (as sd_bus_message_append() takes them), then the a{sv} of the
 * options given. */
int bus_call_with_options(Ctl *c, const char *member, sd_bus_error *error, sd_bus_message **ret_reply,
                          const char *types, ...);

/* A user or group, by name or number, as SetDeviceOwner and Assign take them. */
int parse_uid(const char *s, uint32_t *ret);
int parse_gid(const char *s, uint32_t *ret);
/* A guest name as sriovd takes it (libvirt names and UUIDs). */
bool guest_name_ok(const char *s);
