/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's string parsers, reimplemented with their exact acceptance
 * rules, because the simulator must accept and refuse what the kernel does.
 * Checked against lib/kstrtox.c (_parse_integer_fixup_radix, _kstrtoull,
 * kstrtou16, kstrtobool with the "true"/"false" extension of v5.19,
 * commit 0d6ea3ac94ca) and lib/vsprintf.c (vsscanf as used by new_id_store),
 * lib/string.c (sysfs_streq). */

#include <ctype.h>
#include <limits.h>

#include "sim.h"
#include "util.h"

static int hexdigit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* _parse_integer_fixup_radix() */
static const char *fixup_radix(const char *s, unsigned *base) {
        if (*base == 0) {
                if (s[0] == '0') {
                        if (tolower((unsigned char) s[1]) == 'x' && isxdigit((unsigned char) s[2]))
                                *base = 16;
                        else
                                *base = 8;
                } else
                        *base = 10;
        }
        if (*base == 16 && s[0] == '0' && tolower((unsigned char) s[1]) == 'x')
                s += 2;
        return s;
}

/* _parse_integer(): number of digits consumed, *overflow set on overflow */
static size_t parse_integer(const char *s, unsigned base, unsigned long long *ret, bool *overflow) {
        unsigned long long res = 0;
        size_t n = 0;

        *overflow = false;
        for (;; s++, n++) {
                int v = hexdigit(*s);

                if (v < 0 || (unsigned) v >= base)
                        break;
                if (res > (ULLONG_MAX - (unsigned) v) / base)
                        *overflow = true;
                res = res * base + (unsigned) v;
        }
        *ret = res;
        return n;
}

/* kstrtoull(): optional single '+', digits, optional single trailing '\n' */
int kstrtoull(const char *s, unsigned base, unsigned long long *ret) {
        unsigned long long v;
        bool overflow;
        size_t n;

        if (s[0] == '+')
                s++;
        s = fixup_radix(s, &base);
        n = parse_integer(s, base, &v, &overflow);
        if (overflow)
                return -ERANGE;
        if (n == 0)
                return -EINVAL;
        s += n;
        if (*s == '\n')
                s++;
        if (*s)
                return -EINVAL;
        *ret = v;
        return 0;
}

int kstrtou16(const char *s, unsigned base, uint16_t *ret) {
        unsigned long long v;
        int r;

        r = kstrtoull(s, base, &v);
        if (r < 0)
                return r;
        if (v > UINT16_MAX)
                return -ERANGE;
        *ret = (uint16_t) v;
        return 0;
}

int kstrtoint(const char *s, unsigned base, int *ret) {
        unsigned long long v;
        int r;

        if (s[0] == '-') {
                if (s[1] == '+')
                        return -EINVAL;  /* _kstrtoull() after the sign takes no '+' */
                r = kstrtoull(s + 1, base, &v);
                if (r < 0)
                        return r;
                if (v > (unsigned long long) INT_MAX + 1)
                        return -ERANGE;
                *ret = (int) -(long long) v;
                return 0;
        }
        r = kstrtoull(s, base, &v);
        if (r < 0)
                return r;
        if (v > INT_MAX)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

int kstrtobool(const char *s, bool *ret) {
        switch (s[0]) {
        case 'y': case 'Y': case 't': case 'T': case '1':
                *ret = true;
                return 0;
        case 'n': case 'N': case 'f': case 'F': case '0':
                *ret = false;
                return 0;
        case 'o': case 'O':
                switch (s[1]) {
                case 'n': case 'N':
                        *ret = true;
                        return 0;
                case 'f': case 'F':
                        *ret = false;
                        return 0;
                }
                break;
        }
        return -EINVAL;
}

/* vsscanf(buf, "%x %x %x ...") as the kernel does it: whitespace skipped
 * before each field, an optional "0x", at least one hex digit required, no
 * overflow detection (the value wraps and is truncated to the destination
 * by the caller), and the conversion stops at the first field that does not
 * start with a hex digit; trailing garbage is ignored. Returns the number of
 * fields converted. */
int ksscanf_hex(const char *s, unsigned long long *vals, size_t n) {
        size_t i;

        for (i = 0; i < n; i++) {
                unsigned long long v = 0;

                while (isspace((unsigned char) *s))
                        s++;
                if (!*s || !isxdigit((unsigned char) *s))
                        break;
                if (s[0] == '0' && tolower((unsigned char) s[1]) == 'x')
                        s += 2;
                for (; hexdigit(*s) >= 0; s++)
                        v = v * 16 + (unsigned) hexdigit(*s);
                vals[i] = v;
        }
        return (int) i;
}

/* sysfs_streq(): equal, ignoring one trailing newline on either side */
bool sysfs_streq(const char *a, const char *b) {
        while (*a && *a == *b) {
                a++;
                b++;
        }
        if (*a == *b)
                return true;
        if (*a == '\n' && a[1] == 0 && *b == 0)
                return true;
        if (*b == '\n' && b[1] == 0 && *a == 0)
                return true;
        return false;
}

/* For the operation log: C-style escapes for anything unprintable. */
char *sim_escape(const void *p, size_t n) {
        const unsigned char *s = p;
        sim_buf b = {};

        for (size_t i = 0; i < n; i++) {
                unsigned char c = s[i];

                if (c == '\n')
                        (void) sim_buf_put(&b, "\\n", 2);
                else if (c == '\t')
                        (void) sim_buf_put(&b, "\\t", 2);
                else if (c == '\\' || c == '"')
                        (void) sim_buf_printf(&b, "\\%c", c);
                else if (c < 0x20 || c >= 0x7f)
                        (void) sim_buf_printf(&b, "\\x%02x", c);
                else
                        (void) sim_buf_put(&b, &c, 1);
        }
        if (!b.data)
                return strdup("");
        if (b.oom) {
                sim_buf_free(&b);
                return NULL;
        }
        return b.data;
}

/* The reverse, for the sim-write test helper: \n \t \\ \0 \xHH. */
int sim_unescape(const char *in, char **ret, size_t *ret_len) {
        sim_buf b = {};

        for (const char *p = in; *p; p++) {
                char c = *p;

                if (c == '\\' && p[1]) {
                        p++;
                        switch (*p) {
                        case 'n': c = '\n'; break;
                        case 't': c = '\t'; break;
                        case '0': c = 0; break;
                        case '\\': c = '\\'; break;
                        case 'x':
                                if (hexdigit(p[1]) < 0 || hexdigit(p[2]) < 0) {
                                        sim_buf_free(&b);
                                        return -EINVAL;
                                }
                                c = (char) (hexdigit(p[1]) * 16 + hexdigit(p[2]));
                                p += 2;
                                break;
                        default:
                                sim_buf_free(&b);
                                return -EINVAL;
                        }
                }
                (void) sim_buf_put(&b, &c, 1);
        }
        if (b.oom) {
                sim_buf_free(&b);
                return -ENOMEM;
        }
        *ret_len = b.len;
        *ret = b.data ?: strdup("");
        return *ret ? 0 : -ENOMEM;
}
