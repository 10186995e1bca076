/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "sriovctl.h"

/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured). On
 * failure prints why and returns the exit status (> 0); 0 on success. */
int bus_connect(Ctl *c);

/* A call of a method of the Manager with the arguments types/... (as
 * sd_bus_message_append() takes them; types NULL: none yet), to fill further
 * and then send with bus_call(): for arguments that cannot be given in one
 * go (the a{sv} of options, bus_append_options()). Calls that change the
 * host (changes) carry ALLOW_INTERACTIVE_AUTHORIZATION unless
 * --no-ask-password. */
int bus_new_manager_call(Ctl *c, const char *member, bool changes, sd_bus_message **ret, const char *types, ...);
int bus_new_manager_callv(Ctl *c, const char *member, bool changes, sd_bus_message **ret, const char *types,
                          va_list ap);
/* Sends m with c->timeout_usec; the method is remembered for bus_error_exit(). */
int bus_call(Ctl *c, sd_bus_message *m, sd_bus_error *error, sd_bus_message **ret_reply);

/* Calls a method of the Manager with c->timeout_usec. Calls that change the
 * host (changes) carry ALLOW_INTERACTIVE_AUTHORIZATION unless
 * --no-ask-password. types/...: as sd_bus_message_append(). */
int bus_call_manager(Ctl *c, const char *member, bool changes, sd_bus_error *error, sd_bus_message **ret_reply,
                     const char *types, ...);

/* Reads an a{sv} into a struct: every property in fields with the expected
 * signature is stored at base + offset ('s': const char *, pointing into
 * the message, which must outlive the struct; 'as': char **, allocated;
 * 'b': int; 'q': uint16_t; 'u': uint32_t; 'i': int32_t). Other properties
 * are skipped, so newer daemons with more properties are fine. */
typedef struct BusField {
        const char *name;
        const char *signature;
        size_t offset;
} BusField;
#define BUS_FIELD(type, name, signature, member) { name, signature, offsetof(type, member) }
int bus_read_fields(sd_bus_message *m, const BusField *fields, size_t n_fields, void *base);

/* Reads an array of structs a(ROW) at m: fn is called for each struct,
 * inside it, and reads all of it. Returns the number of structs, or a
 * negative errno (fn's too). */
typedef int (*bus_row_fn)(sd_bus_message *m, void *userdata);
int bus_read_array(sd_bus_message *m, const char *row, bus_row_fn fn, void *userdata);

/* The properties of the Manager (GetAll), read into base. */
int bus_get_manager_properties(Ctl *c, const BusField *fields, size_t n_fields, void *base, sd_bus_error *error,
                               sd_bus_message **ret_reply);

/* Prints "sriovctl: CONTEXT: sentence" (and a hint) for a failed call and
 * returns the exit status that the error maps to. r: the call's return.
 * What an error means may depend on the method that answered it: the last
 * one called. */
int bus_error_exit(const sd_bus_error *e, int r, const char *context_fmt, ...) _printf_(3, 4);
/* The exit status an error maps to (the one table of bus.c). */
int bus_error_status(const sd_bus_error *e, int r);

/* polkit's text agent (pkttyagent), so that a password can be asked on the
 * terminal; only for a non-root caller with a terminal. */
void polkit_agent_open(pid_t *ret_pid);
void polkit_agent_close(pid_t pid);
