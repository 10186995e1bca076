/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <time.h>

#include "bus-util.h"

/* A question to polkit about one method call. It stays until the handler,
 * run again with the same message once polkit answered, collects the answer. */
typedef struct AuthQuery {
        struct AuthQuery *next;
        Daemon *daemon;
        sd_bus_message *request;
        char *action;
        bool interactive;
        bool answered;
        int result;                     /* 1 authorized; -EACCES, -EBADR (interaction needed) */
        const char *message;            /* why not (static) */
        uint64_t answered_usec;
} AuthQuery;

/* an answer no handler collected (the handler refused the call before it
 * asked again, say) goes after this long */
#define AUTH_ANSWER_KEEP_USEC (60 * 1000000ULL)

static AuthQuery *auth_query_free(AuthQuery *q) {
        if (!q)
                return NULL;
        sd_bus_message_unref(q->request);
        free(q->action);
        return mfree(q);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(AuthQuery *, auth_query_free);

static void auth_query_unlink(Daemon *d, AuthQuery *q) {
        for (AuthQuery **p = &d->auth_queries; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        return;
                }
}

static void auth_queries_gc(Daemon *d) {
        uint64_t now = now_usec();

        for (AuthQuery **p = &d->auth_queries; *p;) {
                AuthQuery *q = *p;

                if (q->answered && now - q->answered_usec > AUTH_ANSWER_KEEP_USEC) {
                        *p = q->next;
                        auth_query_free(q);
                } else
                        p = &q->next;
        }
}

void bus_polkit_done(Daemon *d) {
        while (d->auth_queries) {
                AuthQuery *q = d->auth_queries;

                d->auth_queries = q->next;
                auth_query_free(q);
        }
}

int bus_caller_uid(sd_bus_message *m, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uint64_t mask = SD_BUS_CREDS_EUID;
        uid_t uid;
        int r;

        /* never SD_BUS_CREDS_AUGMENT: what /proc says of the sender now is
         * racy (it may have exec'd a setuid program since it sent the call);
         * what the bus says was fixed when the sender connected */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0) {
                mask = SD_BUS_CREDS_UID;
                r = sd_bus_creds_get_uid(creds, &uid);
        }
        if (r < 0)
                return r;
        if (sd_bus_creds_get_augmented_mask(creds) & mask)
                return -EPERM;
        *ret = uid;
        return 0;
}

static void answer(AuthQuery *q, int result, const char *message) {
        q->result = result;
        q->message = message;
        q->answered = true;
        q->answered_usec = now_usec();
}

/* CheckAuthorization's (bba{ss}): authorized, challenge (and details, unread) */
static int read_result(sd_bus_message *reply, int *ret_authorized, int *ret_challenge) {
        int r;

        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r < 0)
                return r;
        return sd_bus_message_read(reply, "bb", ret_authorized, ret_challenge);
}

/* The call again, from its first argument: its handler collects the answer. */
static int call_again(sd_bus_message *request) {
        int r;

        r = sd_bus_message_rewind(request, true);
        if (r < 0)
                return r;
        return sd_bus_enqueue_for_read(sd_bus_message_get_bus(request), request);
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AuthQuery *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        if (e) {
                /* polkit is not running (or failed): only root may proceed,
                 * and root never gets here */
                log_debug("polkit CheckAuthorization failed: %s: %s", e->name, strna(e->message));
                answer(q, -EACCES, sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)
                       ? "Not authorized: only root may do this when polkit is not running"
                       : "Not authorized: polkit could not be asked");
        } else {
                r = read_result(reply, &authorized, &challenge);
                if (r < 0)
                        answer(q, -EACCES, "Not authorized: malformed reply from polkit");
                else if (authorized)
                        answer(q, 1, NULL);
                else if (challenge && !q->interactive)
                        answer(q, -EBADR, "Authentication is required; call again allowing interactive authorization");
                else
                        answer(q, -EACCES, "Not authorized by polkit");
        }
        log_debug("Authorization for %s answered: %s", q->action, q->result > 0 ? "yes" : "no");
        r = call_again(q->request);
        if (r < 0) {
                log_warning_errno(r, "Cannot go on with a call polkit answered: %m");
                bus_reply_errno(q->request, r, NULL);
                auth_query_unlink(q->daemon, q);
                auth_query_free(q);
        }
        return 0;
}

static int ask_polkit(Daemon *d, sd_bus_message *m, const char *action, const char *sender) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(auth_query_freep) AuthQuery *q = NULL;
        int r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (AuthQuery) { .daemon = d, .request = sd_bus_message_ref(m), .action = strdup(action),
                           .interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0 };
        if (!q->action)
                return -ENOMEM;
        r = sd_bus_message_new_method_call(d->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0,
                                  q->interactive ? 1u : 0u, "");
        if (r < 0)
                return r;
        /* a password prompt may take a while */
        r = sd_bus_call_async(d->bus, NULL, call, on_polkit_reply, q,
                              q->interactive ? 5 * 60 * 1000000ULL : 25 * 1000000ULL);
        if (r < 0)
                return r;
        q->next = d->auth_queries;
        d->auth_queries = TAKE_PTR(q);
        return 0;
}

int bus_verify_polkit(Daemon *d, sd_bus_message *m, const char *action, sd_bus_error *error) {
        const char *sender;
        uid_t uid;
        int r;

        auth_queries_gc(d);
        for (AuthQuery *q = d->auth_queries; q; q = q->next) {
                if (q->request != m || !streq(q->action, action))
                        continue;
                if (!q->answered)
                        return 0;
                r = q->result;
                auth_query_unlink(d, q);
                if (r < 0) {
                        /* who was refused what: the journal is the audit trail */
                        log_notice("Not authorized: %s from %s (%s): %s", strna(sd_bus_message_get_member(m)),
                                   strna(sd_bus_message_get_sender(m)), action, strna(q->message));
                        (void) bus_error_from_errno(error, r, q->message);
                }
                auth_query_free(q);
                return r > 0 ? 1 : r;
        }
        r = bus_caller_uid(m, &uid);
        if (r < 0)
                return bus_error_from_errno(error, -EACCES, "Not authorized: the caller's identity is unknown");
        if (uid == 0)
                return 1;
        sender = sd_bus_message_get_sender(m);
        if (!sender)
                return bus_error_from_errno(error, -EACCES, "Not authorized: the caller has no bus name");
        r = ask_polkit(d, m, action, sender);
        if (r < 0)
                return r;
        return 0;
}
