/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "output.h"

#define OUT_MAX_DEPTH 8

typedef struct Table {
        bool active, in_row;
        OutLayout layout;
        const char *title;
        const OutColumn *columns;
        size_t n_columns;
        char **cells;                   /* n_rows × n_columns; NULL: no value printed */
        size_t n_rows, n_alloc;
} Table;

static struct {
        OutFormat format;
        json_object *root;
        json_object *stack[OUT_MAX_DEPTH];
        size_t depth;
        Table table;
        bool printed;                   /* text: something is on stdout already */
        int error;
} out;

void out_init(OutFormat format) {
        out.format = format;
}

bool out_is_json(void) {
        return out.format != OUT_TEXT;
}

static void out_fail(int r) {
        if (out.error == 0)
                out.error = r;
}

/* ---- JSON ---- */

static bool want_json(PrintType t) {
        return out_is_json() && t != PRINT_TEXT;
}

static bool want_text(PrintType t) {
        return !out_is_json() && t != PRINT_JSON;
}

/* Adds v (NULL: null) to the current container, creating an object as the
 * root if there is none yet. Takes v. */
static void json_put(const char *key, json_object *v) {
        json_object *top;

        if (out.depth == 0) {
                if (out.root) {
                        (void) json_object_put(v);
                        out_fail(-EINVAL);       /* a second root */
                        return;
                }
                out.root = out.stack[out.depth++] = json_object_new_object();
                if (!out.root) {
                        (void) json_object_put(v);
                        out_fail(-ENOMEM);
                        return;
                }
        }
        top = out.stack[out.depth - 1];
        if (json_object_is_type(top, json_type_array)) {
                if (json_object_array_add(top, v) < 0) {
                        (void) json_object_put(v);
                        out_fail(-ENOMEM);
                }
                return;
        }
        if (!key) {
                (void) json_object_put(v);
                out_fail(-EINVAL);
                return;
        }
        if (json_object_object_add(top, key, v) < 0) {
                (void) json_object_put(v);
                out_fail(-ENOMEM);
        }
}

static void json_open(const char *key, json_object *c) {
        if (!c) {
                out_fail(-ENOMEM);
                return;
        }
        if (out.depth >= OUT_MAX_DEPTH) {
                (void) json_object_put(c);
                out_fail(-E2BIG);
                return;
        }
        if (out.depth == 0 && !out.root)
                out.root = c;
        else {
                json_put(key, c);
                if (out.error < 0)
                        return;
        }
        out.stack[out.depth++] = c;
}

void out_open_object(const char *key) {
        if (out_is_json())
                json_open(key, json_object_new_object());
}

void out_open_array(const char *key) {
        if (out_is_json())
                json_open(key, json_object_new_array());
}

void out_close(void) {
        if (out_is_json() && out.depth > 0)
                out.depth--;
}

/* ---- text ---- */

/* fmt with its first "%s" replaced by text and "%%" by "%"; NULL fmt: text
 * itself. Not printf(): the formats are not literals, and need not be. */
static char *render(const char *fmt, const char *text) {
        size_t n = 0, len = strlen(text);
        bool done = false;
        char *s;

        if (!fmt)
                fmt = "%s";
        s = malloc(strlen(fmt) + len + 1);
        if (!s)
                return NULL;
        for (const char *f = fmt; *f; f++) {
                if (f[0] == '%' && f[1] == 's' && !done) {
                        memcpy(s + n, text, len);
                        n += len;
                        done = true;
                        f++;
                } else if (f[0] == '%' && f[1] == '%') {
                        s[n++] = '%';
                        f++;
                } else
                        s[n++] = *f;
        }
        s[n] = 0;
        return s;
}

static ssize_t column_of(const char *key) {
        if (!key)
                return -1;
        for (size_t i = 0; i < out.table.n_columns; i++)
                if (streq(out.table.columns[i].key, key))
                        return (ssize_t) i;
        return -1;
}

static void text_put(const char *key, const char *fmt, const char *text) {
        Table *t = &out.table;
        char *s, **cell;
        ssize_t col;

        if (t->active) {
                col = column_of(key);
                if (col < 0 || !t->in_row)
                        return;
                cell = &t->cells[(t->n_rows - 1) * t->n_columns + (size_t) col];
                free(*cell);
                *cell = render(fmt, text);
                if (!*cell)
                        out_fail(-ENOMEM);
                return;
        }
        s = render(fmt, text);
        if (!s) {
                out_fail(-ENOMEM);
                return;
        }
        (void) fputs(s, stdout);
        free(s);
        out.printed = true;
}

/* characters on the terminal, for UTF-8 names */
static size_t text_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char) *s & 0xc0) != 0x80;
        return n;
}

static void pad(size_t n) {
        while (n-- > 0)
                (void) putchar(' ');
}

static void print_rows(const Table *t) {
        _cleanup_free_ size_t *width = calloc(t->n_columns, sizeof(size_t));
        const char *indent = t->title ? "  " : "";
        size_t last = 0;

        if (!width) {
                out_fail(-ENOMEM);
                return;
        }
        if (t->n_rows == 0)
                return;
        for (size_t c = 0; c < t->n_columns; c++) {
                if (t->columns[c].flags & OUT_COLUMN_BELOW)
                        continue;
                width[c] = text_width(t->columns[c].header);
                for (size_t r = 0; r < t->n_rows; r++)
                        width[c] = MAX(width[c], text_width(t->cells[r * t->n_columns + c] ?: "-"));
                last = c;
        }
        if (out.printed && t->title)
                (void) putchar('\n');
        if (t->title)
                printf("%s:\n", t->title);
        for (ssize_t r = -1; r < (ssize_t) t->n_rows; r++) {
                (void) fputs(indent, stdout);
                for (size_t c = 0; c <= last; c++) {
                        const OutColumn *col = &t->columns[c];
                        const char *s = r < 0 ? col->header : t->cells[(size_t) r * t->n_columns + c] ?: "-";
                        size_t fill = width[c] - text_width(s);

                        if (col->flags & OUT_COLUMN_BELOW)
                                continue;
                        if (col->flags & OUT_COLUMN_RIGHT)
                                pad(fill);
                        (void) fputs(s, stdout);
                        if (c < last)
                                pad((col->flags & OUT_COLUMN_RIGHT ? 0 : fill) + 2);
                }
                (void) putchar('\n');
                /* notes under the row, from the second column on: the first stays clear */
                for (size_t c = 0; r >= 0 && c < t->n_columns; c++) {
                        const char *s = t->cells[(size_t) r * t->n_columns + c];

                        if (!(t->columns[c].flags & OUT_COLUMN_BELOW) || isempty(s) || streq(s, "-"))
                                continue;
                        (void) fputs(indent, stdout);
                        pad(width[0] + 2);
                        printf("%s: %s\n", t->columns[c].header, s);
                }
        }
        out.printed = true;
}

static void print_record(const Table *t) {
        size_t width = 0;

        /* align on the labels that are shown */
        for (size_t r = 0; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_columns; c++)
                        if (t->cells[r * t->n_columns + c])
                                width = MAX(width, text_width(t->columns[c].header));
        for (size_t r = 0; r < t->n_rows; r++) {
                if (r > 0 || out.printed)
                        (void) putchar('\n');
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *s = t->cells[r * t->n_columns + c];

                        if (!s)
                                continue;       /* not printed for this one: not its kind of line */
                        pad(width - text_width(t->columns[c].header));
                        printf("%s: ", t->columns[c].header);
                        /* more lines: under the first */
                        for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1) {
                                printf("%.*s\n", (int) (nl - s), s);
                                pad(width + 2);
                        }
                        printf("%s\n", s);
                }
                out.printed = true;
        }
}

/* ---- tables ---- */

void out_table_begin(const char *key, const char *title, OutLayout layout, const OutColumn *columns, size_t n_columns) {
        Table *t = &out.table;

        if (t->active) {
                out_fail(-EBUSY);
                return;
        }
        *t = (Table) {
                .active = true,
                .layout = layout,
                .title = title,
                .columns = columns,
                .n_columns = n_columns,
        };
        if (layout == OUT_ROWS)
                out_open_array(key);
}

void out_row_begin(void) {
        Table *t = &out.table;

        if (!t->active || t->in_row) {
                out_fail(-EINVAL);
                return;
        }
        if (t->layout == OUT_ROWS)
                out_open_object(NULL);
        if (out_is_json()) {
                t->in_row = true;
                return;
        }
        if (t->n_rows >= t->n_alloc) {
                size_t n = MAX(16u, t->n_alloc * 2);
                char **c = realloc(t->cells, n * t->n_columns * sizeof(char *));

                if (!c) {
                        out_fail(-ENOMEM);
                        return;
                }
                t->cells = c;
                t->n_alloc = n;
        }
        memset(&t->cells[t->n_rows * t->n_columns], 0, t->n_columns * sizeof(char *));
        t->n_rows++;
        t->in_row = true;
}

void out_row_end(void) {
        Table *t = &out.table;

        if (!t->in_row)
                return;
        t->in_row = false;
        if (t->layout == OUT_ROWS)
                out_close();
}

static void table_free(Table *t) {
        for (size_t i = 0; t->cells && i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
        *t = (Table) {};
}

void out_table_end(void) {
        Table *t = &out.table;

        if (!t->active)
                return;
        out_row_end();
        if (!out_is_json()) {
                if (t->layout == OUT_ROWS)
                        print_rows(t);
                else
                        print_record(t);
        } else if (t->layout == OUT_ROWS)
                out_close();
        table_free(t);
}

/* ---- values ---- */

static void emit(PrintType t, const char *key, const char *fmt, const char *text, json_object *v) {
        if (want_json(t))
                json_put(key, v);
        else
                (void) json_object_put(v);
        if (want_text(t))
                text_put(key, fmt, text);
}

void print_string(PrintType t, const char *key, const char *fmt, const char *value) {
        json_object *v = NULL;

        if (want_json(t) && !isempty(value) && !(v = json_object_new_string(value))) {
                out_fail(-ENOMEM);
                return;
        }
        emit(t, key, fmt, isempty(value) ? "-" : value, v);
}

void print_uint(PrintType t, const char *key, const char *fmt, uint64_t value) {
        char buf[24];
        json_object *v = NULL;

        /* json-c < 0.14 has no unsigned 64-bit numbers; ours fit anyway */
        if (want_json(t) && !(v = json_object_new_int64((int64_t) MIN(value, (uint64_t) INT64_MAX)))) {
                out_fail(-ENOMEM);
                return;
        }
        (void) snprintf(buf, sizeof(buf), "%" PRIu64, value);
        emit(t, key, fmt, buf, v);
}

void print_int(PrintType t, const char *key, const char *fmt, int64_t value) {
        char buf[24];
        json_object *v = NULL;

        if (want_json(t) && !(v = json_object_new_int64(value))) {
                out_fail(-ENOMEM);
                return;
        }
        (void) snprintf(buf, sizeof(buf), "%" PRIi64, value);
        emit(t, key, fmt, buf, v);
}

void print_int_or_null(PrintType t, const char *key, const char *fmt, int64_t value) {
        if (value < 0)
                emit(t, key, fmt, "-", NULL);
        else
                print_int(t, key, fmt, value);
}

void print_bool(PrintType t, const char *key, const char *fmt, bool value) {
        json_object *v = NULL;

        if (want_json(t) && !(v = json_object_new_boolean(value))) {
                out_fail(-ENOMEM);
                return;
        }
        emit(t, key, fmt, value ? "yes" : "no", v);
}

void print_hex(PrintType t, const char *key, const char *fmt, uint64_t value, int width) {
        char buf[24];

        (void) snprintf(buf, sizeof(buf), "0x%0*" PRIx64, width, value);
        print_string(t, key, fmt, buf);
}

void print_strv(PrintType t, const char *key, const char *fmt, char * const *l, const char *sep) {
        _cleanup_free_ char *text = NULL;
        json_object *v = NULL;
        size_t n = 0, len = 0;

        if (want_json(t)) {
                v = json_object_new_array();
                if (!v) {
                        out_fail(-ENOMEM);
                        return;
                }
                STRV_FOREACH(s, l)
                        if (json_append(v, json_object_new_string(*s)) < 0) {
                                (void) json_object_put(v);
                                out_fail(-ENOMEM);
                                return;
                        }
        }
        if (want_text(t)) {
                STRV_FOREACH(s, l)
                        len += strlen(*s) + strlen(sep);
                text = malloc(len + 2);
                if (!text) {
                        (void) json_object_put(v);
                        out_fail(-ENOMEM);
                        return;
                }
                text[0] = 0;
                STRV_FOREACH(s, l)
                        n += (size_t) sprintf(text + n, "%s%s", n > 0 ? sep : "", *s);
                if (n == 0)
                        strcpy(text, "-");
        }
        emit(t, key, fmt, text ?: "", v);
}

void print_text_take(const char *key, char *s) {
        print_string(PRINT_TEXT, key, NULL, s);
        free(s);
}

void print_nl(void) {
        if (!out_is_json() && !out.table.active) {
                (void) putchar('\n');
                out.printed = true;
        }
}

int out_flush(void) {
        int r;

        out_table_end();
        if (out.root && out.error == 0) {
                const char *s = json_object_to_json_string_ext(out.root, out.format == OUT_JSON_SHORT
                                                               ? JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE
                                                               : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE);

                if (s)
                        (void) puts(s);
                else
                        out_fail(-ENOMEM);
        }
        (void) json_object_put(out.root);
        out.root = NULL;
        out.depth = 0;
        if (fflush(stdout) != 0 || ferror(stdout))
                out_fail(errno > 0 ? -errno : -EIO);
        r = out.error;
        out.error = 0;
        return r;
}

int out_json_document(const char *text) {
        json_object *o;

        if (out.root || out.depth > 0)
                return -EBUSY;
        if (out.format == OUT_JSON_SHORT) {
                /* the common case, and a large document: no parse, no copy */
                if (fputs(text, stdout) < 0 || putchar('\n') < 0)
                        out_fail(errno > 0 ? -errno : -EIO);
                return 0;
        }
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                (void) json_object_put(o);
                return -EBADMSG;
        }
        out.root = o;                   /* out_flush() prints it */
        return 0;
}

void out_free(void) {
        table_free(&out.table);
        (void) json_object_put(out.root);
        out.root = NULL;
        out.depth = 0;
}
