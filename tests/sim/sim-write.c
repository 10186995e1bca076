/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-write PATH VALUE: open PATH for writing and write VALUE with a single
 * write(2), the way a sysfs client does; VALUE may use \n \t \\ \0 \xHH.
 * Prints "0" on success or the errno name (EBUSY, ...) of the open or the
 * write, and exits 0 either way (2 on a usage error). */

#include <fcntl.h>
#include <stdio.h>

#include "sim.h"
#include "util.h"

int main(int argc, char *argv[]) {
        _cleanup_free_ char *value = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len;
        ssize_t n;
        int r;

        if (argc != 3) {
                fprintf(stderr, "Usage: sim-write PATH VALUE\n");
                return 2;
        }
        r = sim_unescape(argv[2], &value, &len);
        if (r < 0) {
                fprintf(stderr, "sim-write: bad escape in value\n");
                return 2;
        }
        fd = open(argv[1], O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                printf("%s\n", errno_name(errno) ?: "EUNKNOWN");
                return 0;
        }
        n = write(fd, value, len);
        if (n < 0)
                printf("%s\n", errno_name(errno) ?: "EUNKNOWN");
        else if ((size_t) n != len)
                printf("SHORT\n");
        else
                printf("0\n");
        return 0;
}
