/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **k = l; *k; k++)
                free(*k);
        free(l);
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int strv_push(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c;

        if (!value)
                return -EINVAL;
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        char *v = strdup(value);

        if (!v)
                return -ENOMEM;
        return strv_push(l, v);
}

char **strv_copy(char * const *l) {
        char **c = NULL;

        STRV_FOREACH(k, l)
                if (strv_extend(&c, *k) < 0)
                        return strv_free(c);
        return c;
}

bool strv_contains(char * const *l, const char *s) {
        STRV_FOREACH(k, l)
                if (streq(*k, s))
                        return true;
        return false;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void strv_sort(char **l) {
        size_t n = strv_length(l);

        if (n > 1)
                qsort(l, n, sizeof(char *), cmp_str);
}

char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

char *strstrip(char *s) {
        size_t n = strlen(s);

        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = 0;
        return s;
}

bool string_is_printable(const char *s, size_t max_len) {
        size_t n = 0;

        for (; *s; s++, n++) {
                if (n >= max_len)
                        return false;
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        return false;
        }
        return true;
}

int safe_atou64(const char *s, int base, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (isempty(s) || isspace((unsigned char) s[0]) || s[0] == '-' || s[0] == '+')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, base);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || end == s || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou(const char *s, int base, unsigned *ret) {
        uint64_t v;
        int r;

        r = safe_atou64(s, base, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int safe_atoi(const char *s, int base, int *ret) {
        long v;
        char *end;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, base);
        if (errno == ERANGE || v > INT_MAX || v < INT_MIN)
                return -ERANGE;
        if (errno != 0 || end == s || *end)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int parse_boolean(const char *s) {
        if (!s)
                return -EINVAL;
        if (streq(s, "1") || streq(s, "yes") || streq(s, "y") || streq(s, "true") || streq(s, "on"))
                return 1;
        if (streq(s, "0") || streq(s, "no") || streq(s, "n") || streq(s, "false") || streq(s, "off"))
                return 0;
        return -EINVAL;
}

int read_full_file(const char *path, char **ret, size_t *ret_size, size_t max_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        for (;;) {
                ssize_t n;

                if (alloc - size < 4097) {
                        size_t na = alloc ? alloc * 2 : 4097;
                        char *nb;

                        if (na > max_size + 1)
                                na = max_size + 1;
                        if (na <= size)
                                return -EFBIG;
                        nb = realloc(buf, na);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc = na;
                }
                n = read(fd, buf + size, alloc - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size >= max_size)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_one_line_file(const char *path, char **ret) {
        char *buf, *nl;
        int r;

        r = read_full_file(path, &buf, NULL, 64 * 1024);
        if (r < 0)
                return r;
        nl = strchr(buf, '\n');
        if (nl)
                *nl = 0;
        *ret = buf;
        return 0;
}

int write_buffer_file(const char *path, const void *buf, size_t len) {
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        do
                n = write(fd, buf, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int write_string_file(const char *path, const char *s) {
        return write_buffer_file(path, s, strlen(s));
}

int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode) {
        _cleanup_free_ char *tmp = NULL, *dir = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        const char *slash;
        const char *p = buf;
        size_t left = len;

        slash = strrchr(path, '/');
        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        tmp = strdup_printf("%s.tmp.%d", path, (int) getpid());
        if (!dir || !tmp)
                return -ENOMEM;

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();
        while (left > 0) {
                ssize_t n = write(fd, p, left);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = negative_errno();
                        (void) unlink(tmp);
                        return r;
                }
                p += n;
                left -= (size_t) n;
        }
        if (fsync(fd) < 0 || close(TAKE_FD(fd)) < 0) {
                int r = negative_errno();
                (void) unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0) {
                int r = negative_errno();
                (void) unlink(tmp);
                return r;
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        if (fsync(dfd) < 0)
                return negative_errno();
        return 0;
}

int readlink_malloc(const char *path, char **ret) {
        size_t l = 256;

        for (;;) {
                _cleanup_free_ char *c = malloc(l);
                ssize_t n;

                if (!c)
                        return -ENOMEM;
                n = readlink(path, c, l);
                if (n < 0)
                        return negative_errno();
                if ((size_t) n < l) {
                        c[n] = 0;
                        *ret = TAKE_PTR(c);
                        return 0;
                }
                if (l > 64 * 1024)
                        return -ENAMETOOLONG;
                l *= 2;
        }
}

int readlink_basename(const char *path, char **ret) {
        _cleanup_free_ char *t = NULL;
        const char *b;
        char *c;
        int r;

        r = readlink_malloc(path, &t);
        if (r < 0)
                return r;
        b = strrchr(t, '/');
        b = b ? b + 1 : t;
        if (isempty(b))
                return -EINVAL;
        c = strdup(b);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

void sleep_usec(uint64_t usec) {
        struct timespec ts = {
                .tv_sec = (time_t) (usec / 1000000ULL),
                .tv_nsec = (long) (usec % 1000000ULL) * 1000L,
        };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static const struct {
        int err;
        const char *name;
} errno_names[] = {
        { EPERM, "EPERM" },   { ENOENT, "ENOENT" }, { EIO, "EIO" },         { ENXIO, "ENXIO" },
        { E2BIG, "E2BIG" },   { EBADF, "EBADF" },   { EAGAIN, "EAGAIN" },   { ENOMEM, "ENOMEM" },
        { EACCES, "EACCES" }, { EBUSY, "EBUSY" },   { EEXIST, "EEXIST" },   { ENODEV, "ENODEV" },
        { EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },   { ENOSYS, "ENOSYS" },
        { ENOTSUP, "EOPNOTSUPP" }, { ETIMEDOUT, "ETIMEDOUT" }, { EINTR, "EINTR" },
        { ENAMETOOLONG, "ENAMETOOLONG" }, { ENOTDIR, "ENOTDIR" }, { ELOOP, "ELOOP" },
        { EADDRINUSE, "EADDRINUSE" }, { ENOTCONN, "ENOTCONN" }, { ECANCELED, "ECANCELED" },
        { ESTALE, "ESTALE" }, { EALREADY, "EALREADY" }, { EINPROGRESS, "EINPROGRESS" },
        { EPROTONOSUPPORT, "EPROTONOSUPPORT" }, { ENETDOWN, "ENETDOWN" }, { EBADMSG, "EBADMSG" },
        { EXDEV, "EXDEV" }, { ENODATA, "ENODATA" }, { EBADFD, "EBADFD" }, { EFBIG, "EFBIG" },
        { EMSGSIZE, "EMSGSIZE" }, { EPROTO, "EPROTO" }, { ENOTTY, "ENOTTY" }, { EOVERFLOW, "EOVERFLOW" },
        { EPROBE_DEFER_COMPAT, "EPROBE_DEFER" },
};

const char *errno_name(int err) {
        if (err < 0)
                err = -err;
        for (size_t i = 0; i < ELEMENTSOF(errno_names); i++)
                if (errno_names[i].err == err)
                        return errno_names[i].name;
        return NULL;
}

int errno_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(errno_names); i++)
                if (streq(errno_names[i].name, name))
                        return errno_names[i].err;
        if (streq(name, "ENOTSUP"))
                return ENOTSUP;
        return -EINVAL;
}
