/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfio-client: a stand-in for an unprivileged VMM. It asks sriovd for a
 * device over D-Bus (OpenDevice), receives the VFIO fds, and uses them:
 * the IOMMU's facts, a DMA map/unmap, the device's regions and its vendor id
 * read through VFIO's config region. Prints key=value lines; exit 1 with the
 * D-Bus error name on failure. Used by the real-kernel scenarios. */

#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <systemd/sd-bus.h>

#include "util.h"
#include "vfio.h"

static int drop_to(const char *spec) {
        unsigned uid, gid;

        if (sscanf(spec, "%u:%u", &uid, &gid) != 2)
                return -EINVAL;
        if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
                return negative_errno();
        return 0;
}

static int read_fds(sd_bus_message *reply, int *device, int *group, int *container, int *iommufd) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sh}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key;
                int fd;

                r = sd_bus_message_read(reply, "{sh}", &key, &fd);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return negative_errno();
                if (streq(key, "device"))
                        *device = fd;
                else if (streq(key, "group"))
                        *group = fd;
                else if (streq(key, "container"))
                        *container = fd;
                else if (streq(key, "iommufd"))
                        *iommufd = fd;
                else
                        safe_close(fd);
        }
        return sd_bus_message_exit_container(reply);
}

static int read_info(sd_bus_message *reply, char *backend, size_t backend_size, uint32_t *ioas_id) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key, *contents;
                char type;

                r = sd_bus_message_enter_container(reply, 'e', "sv");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(reply, &type, &contents);
                if (r < 0)
                        return r;
                if (streq(key, "backend")) {
                        const char *b;
                        r = sd_bus_message_read(reply, "v", "s", &b);
                        (void) snprintf(backend, backend_size, "%s", b);
                } else if (streq(key, "ioas_id"))
                        r = sd_bus_message_read(reply, "v", "u", ioas_id);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(vfio_session_freep) vfio_session *s = NULL;
        const char *backend_opt = "auto", *run_as = NULL;
        int device = -EBADF, group = -EBADF, container = -EBADF, iommufd = -EBADF, c, r;
        char backend[32] = "";
        uint32_t ioas_id = 0;
        sriov_error err = {};
        vfio_self_test t;
        static const struct option options[] = {
                { "backend", required_argument, NULL, 'b' },
                { "run-as", required_argument, NULL, 'u' },
                {}
        };

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'b':
                        backend_opt = optarg;
                        break;
                case 'u':
                        run_as = optarg;
                        break;
                default:
                        return 2;
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "usage: vfio-client [--backend auto|container|iommufd] [--run-as UID:GID] DEVICE\n");
                return 2;
        }
        if (run_as && drop_to(run_as) < 0) {
                fprintf(stderr, "cannot drop to %s: %m\n", run_as);
                return 1;
        }
        printf("uid=%u\n", (unsigned) geteuid());
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to the system bus: %s\n", strerror(-r));
                return 1;
        }
        r = sd_bus_call_method(bus, "org.sriovd.Manager1", "/org/sriovd/Manager1", "org.sriovd.Manager1", "OpenDevice",
                               &e, &reply, "sa{sv}", argv[optind], 1, "backend", "s", backend_opt);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", e.name ?: "error", e.message ?: strerror(-r));
                return 1;
        }
        r = read_fds(reply, &device, &group, &container, &iommufd);
        if (r >= 0)
                r = read_info(reply, backend, sizeof(backend), &ioas_id);
        if (r < 0) {
                fprintf(stderr, "malformed reply: %s\n", strerror(-r));
                return 1;
        }
        printf("backend=%s\n", backend);
        printf("fds=device%s%s%s\n", group >= 0 ? ",group" : "", container >= 0 ? ",container" : "",
               iommufd >= 0 ? ",iommufd" : "");

        r = vfio_session_adopt(streq(backend, "iommufd") ? VFIO_BACKEND_IOMMUFD : VFIO_BACKEND_CONTAINER, device,
                               group, streq(backend, "iommufd") ? iommufd : container, ioas_id, &s, &err);
        if (r < 0) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
        }
        if (streq(backend, "iommufd"))
                safe_close(container);
        else
                safe_close(iommufd);

        /* the device: regions, and the vendor id through the config region */
        {
                struct vfio_device_info di = { .argsz = sizeof(di) };
                struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_CONFIG_REGION_INDEX };
                uint16_t vendor = 0;

                if (ioctl(s->device_fd, VFIO_DEVICE_GET_INFO, &di) < 0) {
                        fprintf(stderr, "VFIO_DEVICE_GET_INFO: %m\n");
                        return 1;
                }
                printf("device_regions=%u\n", di.num_regions);
                if (ioctl(s->device_fd, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0 ||
                    pread(s->device_fd, &vendor, sizeof(vendor), (off_t) ri.offset) != sizeof(vendor)) {
                        fprintf(stderr, "reading config space through VFIO: %m\n");
                        return 1;
                }
                printf("config_vendor=0x%04x\n", vendor);
        }
        printf("page_sizes=0x%" PRIx64 "\n", s->page_sizes);
        for (size_t i = 0; i < s->n_valid; i++)
                printf("iova_range=0x%" PRIx64 "-0x%" PRIx64 "\n", s->valid[i].start, s->valid[i].last);
        r = vfio_session_self_test(s, &t, &err);
        if (r < 0) {
                fprintf(stderr, "DMA self-test: %s\n", err.message);
                return 1;
        }
        printf("mapped=0x%" PRIx64 "@0x%" PRIx64 "\nremap_refused=%s\nunmapped=0x%" PRIx64 "\n", t.size, t.iova,
               t.remap_refused ? "yes" : "no", t.unmapped);
        /* invalid requests are refused before the kernel sees them */
        r = vfio_map(s, 0x1001, 0x1000, &err);
        printf("misaligned_map=%s\n", errno_name(r) ?: "ok");
        printf("ok\n");
        return 0;
}
