/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basics.h"
#include "fileio.h"

int read_regular_file(const char *path, bool nofollow, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
        if (fd < 0)
                return errno == ENXIO ? -EBADF : negative_errno();      /* ENXIO: a FIFO or socket without a peer */
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        if ((uint64_t) st.st_size > max_size)
                return -EFBIG;
        /* what it has now; a file that grows while it is read is cut at max_size */
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (size < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + size, (size_t) st.st_size - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

const char *read_regular_file_error(int r) {
        switch (r) {
        case -EISDIR:
                return "it is a directory";
        case -ELOOP:
                return "it is a symbolic link";
        case -EBADF:
                return "it is not a regular file (a FIFO, socket or device)";
        case -EFBIG:
                return "it is too large";
        default:
                return strerror(r < 0 ? -r : r);
        }
}

int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *slash = '/';
        }
        return 0;
}
