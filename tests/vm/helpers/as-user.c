/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * as-user: runs a command as another user, the way an unprivileged VMM is
 * started (busybox's setpriv cannot change ids, and the guest has no su):
 *
 *   as-user UID GID COMMAND [ARG...]
 *
 * RLIMIT_MEMLOCK is raised to unlimited first (a VFIO user pins the memory
 * it maps for DMA), then the supplementary groups are dropped, the gid and
 * the uid set (real, effective and saved), and COMMAND executed. It fails
 * (status 127, a message on stderr) when any step fails: it never runs the
 * command with more privilege than asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int parse_id(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v > 0xfffffffeUL)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int main(int argc, char **argv) {
        const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
        unsigned uid, gid;

        if (argc < 4 || parse_id(argv[1], &uid) < 0 || parse_id(argv[2], &gid) < 0) {
                fprintf(stderr, "usage: as-user UID GID COMMAND [ARG...]\n");
                return 127;
        }
        if (setrlimit(RLIMIT_MEMLOCK, &unlimited) < 0) {
                fprintf(stderr, "as-user: setrlimit(RLIMIT_MEMLOCK): %s\n", strerror(errno));
                return 127;
        }
        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
                fprintf(stderr, "as-user: cannot become %u:%u: %s\n", uid, gid, strerror(errno));
                return 127;
        }
        if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
                fprintf(stderr, "as-user: the ids did not change to %u:%u\n", uid, gid);
                return 127;
        }
        execvp(argv[3], argv + 3);
        fprintf(stderr, "as-user: cannot run %s: %s\n", argv[3], strerror(errno));
        return 127;
}
