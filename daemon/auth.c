/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "auth.h"

typedef struct AuthQuery {
        Daemon *daemon;
        sd_bus_message *request;
        auth_done_t done;
        void *userdata;
        bool interactive;
        uid_t uid;
        char *action;
} AuthQuery;

static AuthQuery *auth_query_free(AuthQuery *q) {
        if (!q)
                return NULL;
        sd_bus_message_unref(q->request);
        free(q->action);
        return mfree(q);
}

int auth_caller_uid(sd_bus_message *m, uid_t *ret) {
        sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                r = sd_bus_creds_get_uid(creds, &uid);
        sd_bus_creds_unref(creds);
        if (r < 0)
                return r;
        *ret = uid;
        return 0;
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AuthQuery *q = userdata;
        const sd_bus_error *e;
        int authorized = 0, challenge = 0, r;

        e = sd_bus_message_get_error(reply);
        if (e) {
                /* polkit is not running (or failed): only root may proceed,
                 * and root never gets here */
                log_debug("polkit CheckAuthorization failed: %s: %s", e->name, strna(e->message));
                q->done(q->daemon, q->request, -EACCES,
                        sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)
                        ? "Not authorized: only root may do this when polkit is not running"
                        : "Not authorized: polkit could not be asked",
                        q->userdata);
                goto finish;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                q->done(q->daemon, q->request, -EACCES, "Not authorized: malformed reply from polkit", q->userdata);
                goto finish;
        }
        if (authorized)
                q->done(q->daemon, q->request, 1, NULL, q->userdata);
        else if (challenge && !q->interactive)
                q->done(q->daemon, q->request, -EBADR,
                        "Authentication is required; call again allowing interactive authorization", q->userdata);
        else
                q->done(q->daemon, q->request, -EACCES, "Not authorized by polkit", q->userdata);
finish:
        log_debug("Authorization of uid %u for %s answered", (unsigned) q->uid, q->action);
        return 0;
}

static void auth_query_destroy(void *userdata) {
        auth_query_free(userdata);
}

int auth_check(Daemon *d, sd_bus_message *m, const char *action, auth_done_t done, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus_slot *slot = NULL;
        AuthQuery *q;
        const char *sender;
        uid_t uid;
        int r;

        r = auth_caller_uid(m, &uid);
        if (r < 0) {
                done(d, m, -EACCES, "Not authorized: the caller's identity is unknown", userdata);
                return 0;
        }
        if (uid == 0) {
                done(d, m, 1, NULL, userdata);
                return 0;
        }
        sender = sd_bus_message_get_sender(m);
        if (!sender) {
                done(d, m, -EACCES, "Not authorized: the caller has no bus name", userdata);
                return 0;
        }

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->daemon = d;
        q->request = sd_bus_message_ref(m);
        q->done = done;
        q->userdata = userdata;
        q->uid = uid;
        q->interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;
        q->action = strdup(action);
        if (!q->action) {
                auth_query_free(q);
                return -ENOMEM;
        }

        r = sd_bus_message_new_method_call(d->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender,
                                          action, 0, q->interactive ? 1u : 0u, "");
        if (r >= 0)
                /* a password prompt may take a while */
                r = sd_bus_call_async(d->bus, &slot, call, on_polkit_reply, q,
                                      q->interactive ? 5 * 60 * 1000000ULL : 25 * 1000000ULL);
        if (r < 0) {
                auth_query_free(q);
                return r;
        }
        /* the slot owns the query from now on */
        (void) sd_bus_slot_set_destroy_callback(slot, auth_query_destroy);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return 0;
}
