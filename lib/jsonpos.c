/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "jsonpos.h"
#include "util.h"

typedef struct scanner {
        const char *p, *end;
        json_pos pos;
        int error;
        json_pos error_pos;
        char message[160];
        unsigned depth;
} scanner;

static void advance(scanner *s) {
        if (s->p >= s->end)
                return;
        if (*s->p == '\n') {
                s->pos.line++;
                s->pos.col = 1;
        } else if (((unsigned char) *s->p & 0xc0) != 0x80)      /* count characters, not UTF-8 bytes */
                s->pos.col++;
        s->p++;
}

static void skip_ws(scanner *s) {
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
                advance(s);
}

static void fail_at(scanner *s, const char *msg) {
        if (s->error)
                return;
        s->error = -EBADMSG;
        s->error_pos = s->pos;
        (void) snprintf(s->message, sizeof(s->message), "%s", msg);
}

/* A string; returns a copy of its raw contents (escapes kept) when want. */
static char *scan_string(scanner *s, bool want) {
        const char *start;

        if (s->p >= s->end || *s->p != '"') {
                fail_at(s, "expected a string");
                return NULL;
        }
        advance(s);
        start = s->p;
        while (s->p < s->end && *s->p != '"') {
                if (*s->p == '\\')
                        advance(s);
                advance(s);
        }
        if (s->p >= s->end) {
                fail_at(s, "unterminated string");
                return NULL;
        }
        advance(s);
        if (!want)
                return NULL;
        return strndup(start, (size_t) (s->p - 1 - start));
}

static void node_done(json_node *n) {
        for (size_t i = 0; i < n->n_children; i++)
                node_done(&n->children[i]);
        free(n->children);
        free(n->key);
}

static json_node *add_child(scanner *s, json_node *n) {
        json_node *c;

        /* grows geometrically: arrays of thousands of elements stay linear */
        if (n->n_children == n->n_allocated) {
                size_t want = n->n_allocated ? n->n_allocated * 2 : 4;

                c = reallocarray(n->children, want, sizeof(*c));
                if (!c) {
                        fail_at(s, "out of memory");
                        return NULL;
                }
                n->children = c;
                n->n_allocated = want;
        }
        c = &n->children[n->n_children++];
        *c = (json_node) {};
        return c;
}

static void scan_value(scanner *s, json_node *n);

static void scan_object(scanner *s, json_node *n) {
        advance(s);     /* { */
        skip_ws(s);
        if (s->p < s->end && *s->p == '}') {
                advance(s);
                return;
        }
        for (;;) {
                json_pos kp;
                json_node *c;
                char *key;

                skip_ws(s);
                kp = s->pos;
                key = scan_string(s, true);
                if (s->error) {
                        free(key);
                        return;
                }
                for (size_t i = 0; i < n->n_children; i++)
                        if (streq(n->children[i].key, key)) {
                                s->pos = kp;
                                fail_at(s, "duplicate key");
                                free(key);
                                return;
                        }
                c = add_child(s, n);
                if (!c) {
                        free(key);
                        return;
                }
                c->key = key;
                c->key_pos = kp;
                skip_ws(s);
                if (s->p >= s->end || *s->p != ':') {
                        fail_at(s, "expected ':'");
                        return;
                }
                advance(s);
                skip_ws(s);
                scan_value(s, c);
                if (s->error)
                        return;
                skip_ws(s);
                if (s->p < s->end && *s->p == ',') {
                        advance(s);
                        continue;
                }
                if (s->p < s->end && *s->p == '}') {
                        advance(s);
                        return;
                }
                fail_at(s, "expected ',' or '}'");
                return;
        }
}

static void scan_array(scanner *s, json_node *n) {
        advance(s);     /* [ */
        skip_ws(s);
        if (s->p < s->end && *s->p == ']') {
                advance(s);
                return;
        }
        for (;;) {
                json_node *c;

                skip_ws(s);
                c = add_child(s, n);
                if (!c)
                        return;
                scan_value(s, c);
                if (s->error)
                        return;
                skip_ws(s);
                if (s->p < s->end && *s->p == ',') {
                        advance(s);
                        continue;
                }
                if (s->p < s->end && *s->p == ']') {
                        advance(s);
                        return;
                }
                fail_at(s, "expected ',' or ']'");
                return;
        }
}

static void scan_value(scanner *s, json_node *n) {
        n->pos = s->pos;
        if (s->p >= s->end) {
                fail_at(s, "unexpected end of input");
                return;
        }
        if (++s->depth > 64) {
                fail_at(s, "nested too deeply");
                return;
        }
        switch (*s->p) {
        case '{':
                scan_object(s, n);
                break;
        case '[':
                scan_array(s, n);
                break;
        case '"':
                (void) scan_string(s, false);
                break;
        default:
                /* numbers, true, false, null: json-c checked their syntax */
                while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
                        advance(s);
        }
        s->depth--;
}

static json_pos offset_to_pos(const char *text, size_t off) {
        json_pos p = { 1, 1 };

        for (size_t i = 0; i < off && text[i]; i++) {
                if (text[i] == '\n') {
                        p.line++;
                        p.col = 1;
                } else if (((unsigned char) text[i] & 0xc0) != 0x80)
                        p.col++;
        }
        return p;
}

int json_doc_parse(const char *text, size_t len, json_doc *ret, json_pos *ret_pos, char *ret_message,
                   size_t message_size) {
        json_tokener *tok;
        json_object *root;
        enum json_tokener_error jerr;
        scanner s = { .p = text, .end = text + len, .pos = { 1, 1 } };
        json_node *index;

        if (strlen(text) != len) {
                if (ret_pos)
                        *ret_pos = offset_to_pos(text, strlen(text));
                if (ret_message)
                        (void) snprintf(ret_message, message_size, "NUL byte in the file");
                return -EBADMSG;
        }
        tok = json_tokener_new_ex(64);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        root = json_tokener_parse_ex(tok, text, (int) len);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_continue) {
                jerr = json_tokener_error_parse_eof;
        }
        if (!root || jerr != json_tokener_success) {
                size_t off = json_tokener_get_parse_end(tok);

                if (ret_pos)
                        *ret_pos = offset_to_pos(text, off);
                if (ret_message)
                        (void) snprintf(ret_message, message_size, "%s", json_tokener_error_desc(jerr));
                json_object_put(root);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        /* nothing but white space after the document */
        {
                size_t off = json_tokener_get_parse_end(tok);

                while (off < len && strchr(" \t\r\n", text[off]))
                        off++;
                if (off < len) {
                        if (ret_pos)
                                *ret_pos = offset_to_pos(text, off);
                        if (ret_message)
                                (void) snprintf(ret_message, message_size, "trailing characters after the document");
                        json_object_put(root);
                        json_tokener_free(tok);
                        return -EBADMSG;
                }
        }
        json_tokener_free(tok);

        index = calloc(1, sizeof(*index));
        if (!index) {
                json_object_put(root);
                return -ENOMEM;
        }
        skip_ws(&s);
        scan_value(&s, index);
        if (s.error) {
                if (ret_pos)
                        *ret_pos = s.error_pos;
                if (ret_message)
                        (void) snprintf(ret_message, message_size, "%s", s.message);
                node_done(index);
                free(index);
                json_object_put(root);
                return s.error;
        }
        *ret = (json_doc) { .root = root, .index = index };
        return 0;
}

void json_doc_done(json_doc *d) {
        if (d->index) {
                node_done(d->index);
                free(d->index);
        }
        json_object_put(d->root);
        *d = (json_doc) {};
}

const json_node *json_node_member(const json_node *n, const char *key) {
        for (size_t i = 0; n && i < n->n_children; i++)
                if (n->children[i].key && streq(n->children[i].key, key))
                        return &n->children[i];
        return NULL;
}

const json_node *json_node_element(const json_node *n, size_t i) {
        return n && i < n->n_children ? &n->children[i] : NULL;
}
