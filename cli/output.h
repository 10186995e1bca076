/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* sriovctl's one output path, in the manner of iproute2's print_*(PRINT_ANY, …):
 * every value is emitted once, with its JSON key and its text format, and
 * the output mode decides what becomes of it.
 *
 *   JSON: values go into the current object (or array) of a tree that is
 *         written to stdout by out_flush().
 *   text: outside a table, the format is written to stdout at once; inside a
 *         table, the formatted value becomes the cell of the column whose key
 *         it has (values whose key is not a column are JSON-only), and the
 *         table is written, aligned, when it ends.
 *
 * A text format holds at most one "%s", where the value goes ("%%" is a
 * percent sign); numbers and booleans are rendered first ("yes"/"no" for
 * booleans). An empty string or a null shows as "-" in text and as null in
 * JSON.
 *
 * Allocation failures are remembered and reported by out_flush(), so that
 * callers need not check every print. */

typedef enum PrintType {
        PRINT_ANY,
        PRINT_TEXT,
        PRINT_JSON,
} PrintType;

typedef enum OutFormat {
        OUT_TEXT,
        OUT_JSON_PRETTY,
        OUT_JSON_SHORT,         /* one line: what monitor needs, and scripts like */
} OutFormat;

typedef enum OutLayout {
        OUT_ROWS,               /* text: a header line and aligned rows; JSON: an array of objects */
        OUT_RECORD,             /* text: "Label: value" lines, labels aligned right; JSON: keys of the current object */
} OutLayout;

enum {
        OUT_COLUMN_RIGHT = 1 << 0,      /* rows: align right (numbers) */
        OUT_COLUMN_BELOW = 1 << 1,      /* rows: "header: value" on a line of its own under the row, when not empty */
};

typedef struct OutColumn {
        const char *key;
        const char *header;     /* rows: upper case header; record: label */
        unsigned flags;
} OutColumn;

void out_init(OutFormat format);
bool out_is_json(void);
/* Write what is pending (the JSON document, one line in OUT_JSON_SHORT) and
 * start afresh. Negative errno if anything failed, even earlier. */
int out_flush(void);
void out_free(void);
/* A whole JSON document made elsewhere (the daemon's DescribeDevices) as
 * the output: written as it is in one-line mode, indented in pretty mode.
 * Nothing else may be printed as JSON with it. -EBADMSG if it is not JSON. */
int out_json_document(const char *text);

/* JSON containers; key NULL inside an array (or for the root). No-ops in text. */
void out_open_object(const char *key);
void out_open_array(const char *key);
void out_close(void);

/* Tables. For OUT_ROWS the key names the JSON array of rows (NULL: the root
 * is the array) and the title, if any, is printed above the text table; an
 * empty table prints nothing in text. For OUT_RECORD, key and title are
 * unused: the values go into the current JSON object. One table at a time. */
void out_table_begin(const char *key, const char *title, OutLayout layout, const OutColumn *columns, size_t n_columns);
void out_row_begin(void);
void out_row_end(void);
void out_table_end(void);

void print_string(PrintType t, const char *key, const char *fmt, const char *value);
void print_uint(PrintType t, const char *key, const char *fmt, uint64_t value);
void print_int(PrintType t, const char *key, const char *fmt, int64_t value);
/* A negative value means "unknown": null in JSON, "-" in text. */
void print_int_or_null(PrintType t, const char *key, const char *fmt, int64_t value);
void print_bool(PrintType t, const char *key, const char *fmt, bool value);
/* "0x%0*x" (a string in JSON, like the ids of sriovd --scan) */
void print_hex(PrintType t, const char *key, const char *fmt, uint64_t value, int width);
/* A JSON array of strings; in text the strings joined by sep. */
void print_strv(PrintType t, const char *key, const char *fmt, char * const *l, const char *sep);
/* Text only, without a format: s, from strdup_printf() and taken; NULL (out
 * of memory) shows "-". */
void print_text_take(const char *key, char *s);
/* Text only: a newline outside tables. */
void print_nl(void);
