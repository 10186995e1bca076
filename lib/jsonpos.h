/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* JSON with positions: json-c parses (and reports syntax errors at their
 * offset); this index records, for every value in the document, where it
 * starts (line and column, both from 1), and for object members where their
 * key starts, so that a later semantic check can say file:line:col. The
 * index mirrors the document: objects in member order, arrays in element
 * order — the order json-c keeps. Duplicate keys are refused here, since
 * json-c would silently keep the last. */

typedef struct json_pos {
        unsigned line, col;
} json_pos;

typedef struct json_node json_node;
struct json_node {
        json_pos pos;                   /* of the value */
        json_pos key_pos;               /* of the member's key, when in an object */
        char *key;                      /* when in an object */
        json_node *children;            /* members / elements, in order */
        size_t n_children, n_allocated;
};

typedef struct json_doc {
        json_object *root;
        json_node *index;
} json_doc;

/* Parse text. On a syntax error (or duplicate key), returns -EBADMSG with
 * *ret_pos and ret_message (optional, buffer of size message_size) set. */
int json_doc_parse(const char *text, size_t len, json_doc *ret, json_pos *ret_pos, char *ret_message,
                   size_t message_size);
void json_doc_done(json_doc *d);

/* The member of an object node by key, or the i-th element of an array node. */
const json_node *json_node_member(const json_node *n, const char *key);
const json_node *json_node_element(const json_node *n, size_t i);
