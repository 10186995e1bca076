/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sysfs-io: one read or one write(2) on a sysfs attribute, reporting the
 * kernel's answer as an errno name, for the guest scenarios of tests/vm.
 *
 *   sysfs-io [-t MS] [-o FILE] write PATH DATA
 *   sysfs-io [-t MS] [-o FILE] [-l] read PATH
 *
 * DATA is written with a single write(2) call, exactly as given after C-style
 * escapes are decoded (\n \t \0 \\ \xHH), so "" is a zero-length write and
 * "\0" is what Python's dpdk-devbind sends. Output, one line:
 *   write: "ok" | "short N" | errno name ("EBUSY") | "pending"
 *   read:  the content (trailing newline kept as read) | errno name | "pending"
 * With -t the operation runs in a child; if it has not returned after MS
 * milliseconds the parent prints "pending" and exits 3 while the child keeps
 * waiting in the kernel (a sriov_numvfs write can sleep uninterruptibly).
 * With -o the final result is also written to FILE when the operation
 * returns, so a caller can learn how a pending operation ended. With -l a
 * read prints its content as one line: trailing newlines dropped, the
 * others turned into spaces (what the scenarios' rd() records; one process
 * instead of a pipeline, which counts under emulation).
 *
 * Exit status: 0 success, 1 the kernel returned an error, 2 usage or
 * internal error, 3 still pending.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF_MAX 65536

static const char *errno_name(int e) {
        const char *n = strerrorname_np(e);
        return n ? n : "EUNKNOWN";
}

/* Decodes C-style escapes of s into buf; returns the decoded length or -1. */
static ssize_t unescape(const char *s, char *buf, size_t size) {
        size_t n = 0;

        for (; *s; s++) {
                char c = *s;

                if (n >= size)
                        return -1;
                if (c == '\\') {
                        s++;
                        switch (*s) {
                        case 'n': c = '\n'; break;
                        case 't': c = '\t'; break;
                        case '0': c = '\0'; break;
                        case '\\': c = '\\'; break;
                        case 'x': {
                                char hex[3] = { s[1], s[1] ? s[2] : '\0', '\0' }, *end;
                                unsigned long v = strtoul(hex, &end, 16);

                                if (!isxdigit((unsigned char) hex[0]) || *end)
                                        return -1;
                                c = (char) v;
                                s += 2;
                                break;
                        }
                        default:
                                return -1;
                        }
                }
                buf[n++] = c;
        }
        return (ssize_t) n;
}

/* Performs the operation; writes the one-line result to out (NUL-terminated)
 * and returns the exit status. */
static int do_op(bool is_write, const char *path, const char *data, size_t len, char *out, size_t outsz) {
        int fd = open(path, (is_write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
        if (fd < 0) {
                snprintf(out, outsz, "%s\n", errno_name(errno));
                return 1;
        }

        if (is_write) {
                ssize_t k = write(fd, data, len);
                int e = errno;

                close(fd);
                if (k < 0) {
                        snprintf(out, outsz, "%s\n", errno_name(e));
                        return 1;
                }
                if ((size_t) k != len) {
                        snprintf(out, outsz, "short %zd\n", k);
                        return 1;
                }
                snprintf(out, outsz, "ok\n");
                return 0;
        }

        ssize_t k = read(fd, out, outsz - 1);
        int e = errno;
        close(fd);
        if (k < 0) {
                snprintf(out, outsz, "%s\n", errno_name(e));
                return 1;
        }
        out[k] = '\0';
        return 0;
}

/* -l: the content as one line */
static void one_line(char *out) {
        size_t n = strlen(out);

        while (n > 0 && out[n - 1] == '\n')
                out[--n] = '\0';
        for (size_t i = 0; i < n; i++)
                if (out[i] == '\n')
                        out[i] = ' ';
        out[n] = '\n';
        out[n + 1] = '\0';
}

static void save(const char *file, const char *result) {
        FILE *f;

        if (!file)
                return;
        f = fopen(file, "we");
        if (!f)
                return;
        fputs(result, f);
        fclose(f);
}

static int usage(void) {
        fputs("usage: sysfs-io [-t MS] [-o FILE] write PATH DATA\n"
              "       sysfs-io [-t MS] [-o FILE] [-l] read PATH\n", stderr);
        return 2;
}

int main(int argc, char *argv[]) {
        static char data[BUF_MAX], out[BUF_MAX];
        const char *outfile = NULL;
        long timeout_ms = -1;
        ssize_t len = 0;
        bool is_write, line = false;
        int c;

        while ((c = getopt(argc, argv, "+t:o:l")) >= 0)
                switch (c) {
                case 't':
                        timeout_ms = strtol(optarg, NULL, 10);
                        break;
                case 'o':
                        outfile = optarg;
                        break;
                case 'l':
                        line = true;
                        break;
                default:
                        return usage();
                }

        argc -= optind;
        argv += optind;
        if (argc == 3 && strcmp(argv[0], "write") == 0) {
                is_write = true;
                len = unescape(argv[2], data, sizeof(data));
                if (len < 0) {
                        fprintf(stderr, "sysfs-io: bad escape in '%s'\n", argv[2]);
                        return 2;
                }
        } else if (argc == 2 && strcmp(argv[0], "read") == 0)
                is_write = false;
        else
                return usage();

        if (timeout_ms < 0) {
                int r = do_op(is_write, argv[1], data, (size_t) len, out, sizeof(out) - 1);
                if (line && !is_write)
                        one_line(out);
                save(outfile, out);
                fputs(out, stdout);
                return r;
        }

        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                perror("sysfs-io: pipe");
                return 2;
        }

        pid_t pid = fork();
        if (pid < 0) {
                perror("sysfs-io: fork");
                return 2;
        }
        if (pid == 0) {
                /* The child may outlive the parent: let go of the caller's
                 * stdout so that a $(...) capture does not wait for it. */
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        (void) dup2(null, STDOUT_FILENO);
                        (void) dup2(null, STDERR_FILENO);
                }
                close(pipefd[0]);
                (void) signal(SIGPIPE, SIG_IGN);
                int r = do_op(is_write, argv[1], data, (size_t) len, out, sizeof(out) - 1);
                if (line && !is_write)
                        one_line(out);
                save(outfile, out);
                size_t n = strlen(out);
                /* First byte: exit status; then the result text. */
                char st = (char) r;
                (void) !write(pipefd[1], &st, 1);
                (void) !write(pipefd[1], out, n);
                _exit(r);
        }

        close(pipefd[1]);
        struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
        int k = poll(&p, 1, (int) timeout_ms);
        if (k <= 0) {
                puts("pending");
                return 3;
        }

        size_t n = 0;
        for (;;) {
                ssize_t m = read(pipefd[0], out + n, sizeof(out) - 1 - n);
                if (m <= 0)
                        break;
                n += (size_t) m;
        }
        (void) waitpid(pid, NULL, 0);
        if (n == 0) {
                puts("EUNKNOWN");
                return 2;
        }
        out[n] = '\0';
        fputs(out + 1, stdout);
        return out[0];
}
