/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

static bool grow(JsonW *w, size_t more) {
        size_t want;
        char *n;

        if (w->error)
                return false;
        if (w->len + more + 1 <= w->alloc)
                return true;
        want = MAX(w->alloc * 2, w->len + more + 1);
        want = MAX(want, (size_t) 4096);
        n = realloc(w->buf, want);
        if (!n) {
                w->error = -ENOMEM;
                return false;
        }
        w->buf = n;
        w->alloc = want;
        return true;
}

static void put(JsonW *w, const char *s, size_t n) {
        if (!grow(w, n))
                return;
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        w->buf[w->len] = 0;
}

static void putc_(JsonW *w, char c) {
        put(w, &c, 1);
}

/* The length of the UTF-8 sequence at s (1-4), 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *s) {
        unsigned c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

static void put_quoted(JsonW *w, const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        putc_(w, '"');
        while (*p) {
                const unsigned char *run = p;
                size_t n;

                /* the common case: a run of printable ASCII copied at once */
                while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
                        p++;
                if (p > run)
                        put(w, (const char *) run, (size_t) (p - run));
                if (!*p)
                        break;
                if (*p == '"' || *p == '\\') {
                        char e[2] = { '\\', (char) *p };

                        put(w, e, 2);
                        p++;
                } else if (*p < 0x20) {
                        char e[8];
                        const char *named = *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : *p == '\r' ? "\\r" :
                                            *p == '\b' ? "\\b" : *p == '\f' ? "\\f" : NULL;

                        if (named)
                                put(w, named, 2);
                        else {
                                (void) snprintf(e, sizeof(e), "\\u%04x", *p);
                                put(w, e, 6);
                        }
                        p++;
                } else if ((n = utf8_len(p)) > 0) {
                        put(w, (const char *) p, n);
                        p += n;
                } else {
                        put(w, "\xef\xbf\xbd", 3);      /* U+FFFD for a byte that starts no character */
                        p++;
                }
        }
        putc_(w, '"');
}

/* Before a value: the comma, the key. */
static void lead(JsonW *w, const char *key) {
        if (w->error)
                return;
        if (w->depth > 0) {
                if (!w->first[w->depth - 1])
                        putc_(w, ',');
                w->first[w->depth - 1] = false;
        }
        if (key) {
                put_quoted(w, key);
                putc_(w, ':');
        }
}

static void open_(JsonW *w, const char *key, char c) {
        lead(w, key);
        if (w->error)
                return;
        if (w->depth >= JSONW_MAX_DEPTH) {
                w->error = -E2BIG;
                return;
        }
        putc_(w, c);
        w->first[w->depth++] = true;
}

static void close_(JsonW *w, char c) {
        if (w->error)
                return;
        if (w->depth == 0) {
                w->error = -EINVAL;
                return;
        }
        w->depth--;
        putc_(w, c);
}

void jsonw_begin_object(JsonW *w, const char *key) {
        open_(w, key, '{');
}

void jsonw_end_object(JsonW *w) {
        close_(w, '}');
}

void jsonw_begin_array(JsonW *w, const char *key) {
        open_(w, key, '[');
}

void jsonw_end_array(JsonW *w) {
        close_(w, ']');
}

void jsonw_string(JsonW *w, const char *key, const char *s) {
        lead(w, key);
        if (s)
                put_quoted(w, s);
        else
                put(w, "null", 4);
}

void jsonw_string_or_null(JsonW *w, const char *key, const char *s) {
        jsonw_string(w, key, isempty(s) ? NULL : s);
}

void jsonw_int(JsonW *w, const char *key, int64_t v) {
        char b[24];

        lead(w, key);
        put(w, b, (size_t) snprintf(b, sizeof(b), "%" PRIi64, v));
}

void jsonw_uint(JsonW *w, const char *key, uint64_t v) {
        char b[24];

        lead(w, key);
        put(w, b, (size_t) snprintf(b, sizeof(b), "%" PRIu64, v));
}

void jsonw_bool(JsonW *w, const char *key, bool v) {
        lead(w, key);
        if (v)
                put(w, "true", 4);
        else
                put(w, "false", 5);
}

void jsonw_null(JsonW *w, const char *key) {
        lead(w, key);
        put(w, "null", 4);
}

void jsonw_hex(JsonW *w, const char *key, unsigned v, int width) {
        char b[24];

        lead(w, key);
        put(w, b, (size_t) snprintf(b, sizeof(b), "\"0x%0*x\"", MIN(MAX(width, 1), 8), v));
}

void jsonw_strv(JsonW *w, const char *key, char * const *l) {
        jsonw_begin_array(w, key);
        for (; l && *l; l++)
                jsonw_string(w, NULL, *l);
        jsonw_end_array(w);
}

void jsonw_done(JsonW *w) {
        free(w->buf);
        *w = (JsonW) {};
}

int jsonw_finish(JsonW *w, char **ret, size_t *ret_len) {
        int r = w->error;

        if (r == 0 && (w->depth != 0 || !w->buf))
                r = -EINVAL;            /* unbalanced, or nothing written */
        if (r < 0) {
                jsonw_done(w);
                return r;
        }
        *ret = w->buf;
        if (ret_len)
                *ret_len = w->len;
        *w = (JsonW) {};
        return 0;
}
