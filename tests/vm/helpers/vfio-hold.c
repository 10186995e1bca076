/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-hold: opens a PCI device through VFIO the way a VMM does, reports each
 * step as key=value lines, prints "held" and keeps everything open until
 * SIGTERM, SIGINT, SIGHUP or SIGUSR1; then closes and prints "released".
 *
 *   vfio-hold group BDF     only /dev/vfio/GROUP (legacy group fd)
 *   vfio-hold device BDF    container + group + SET_IOMMU(TYPE1v2) +
 *                           GROUP_GET_DEVICE_FD, and the IOMMU's IOVA ranges
 *   vfio-hold cdev BDF      only /dev/vfio/devices/vfioN (VFIO cdev, >= 6.6)
 *   vfio-hold iommufd BDF   cdev + /dev/iommu + DEVICE_BIND_IOMMUFD +
 *                           IOAS_ALLOC + DEVICE_ATTACH_IOMMUFD_PT
 *   vfio-hold --sim MODE BDF
 *                           the same against the kernel simulator mounted over
 *                           /sys (tests/vm/diff-sim): it has no /dev/vfio and no
 *                           ioctls, so a device, cdev or iommufd holder is the
 *                           simulator's VFIO user ("hold BDF" / "release BDF" on
 *                           /sys/.sim/ctl) and a group holder holds nothing (a
 *                           group fd alone does not keep the device either); no
 *                           VFIO key=value lines. It never opens anything under
 *                           /dev, so it cannot touch the host's VFIO devices.
 *
 * A failing step prints "error=STEP:ERRNO_NAME" and exits 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The iommufd and VFIO cdev uAPI is newer than bookworm's kernel headers. */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
        __u32 argsz;
        __u32 flags;
        __s32 iommufd;
        __u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
struct vfio_device_attach_iommufd_pt {
        __u32 argsz;
        __u32 flags;
        __u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif
#ifndef IOMMU_IOAS_ALLOC
struct iommu_ioas_alloc {
        __u32 size;
        __u32 flags;
        __u32 out_ioas_id;
};
#define IOMMUFD_TYPE (';')
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)
#endif

static int fail(const char *step) {
        const char *n = strerrorname_np(errno);
        printf("error=%s:%s\n", step, n ? n : "EUNKNOWN");
        return 1;
}

static int valid_bdf(const char *s) {
        unsigned d, b, s2, f;
        char tail;

        return strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &s2, &f, &tail) == 4;
}

static int iommu_group_of(const char *bdf) {
        char path[PATH_MAX], link[PATH_MAX];
        ssize_t n;

        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
        n = readlink(path, link, sizeof(link) - 1);
        if (n < 0)
                return -1;
        link[n] = '\0';
        return atoi(strrchr(link, '/') + 1);
}

/* Finds /dev/vfio/devices/vfioN through /sys/bus/pci/devices/BDF/vfio-dev/. */
static int cdev_path(const char *bdf, char *ret, size_t size) {
        char path[PATH_MAX];
        struct dirent *de;
        DIR *d;

        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
        d = opendir(path);
        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "vfio", 4) == 0) {
                        snprintf(ret, size, "/dev/vfio/devices/%s", de->d_name);
                        closedir(d);
                        return 0;
                }
        closedir(d);
        errno = ENOENT;
        return -1;
}

/* Prints the IOVA ranges and page sizes the type1 IOMMU reports. */
static void print_iommu_info(int container) {
        struct vfio_iommu_type1_info *info;
        size_t sz = sizeof(*info);

        /* The first call says how large the capability chain is. */
        for (;;) {
                info = calloc(1, sz);
                if (!info)
                        return;
                info->argsz = (uint32_t) sz;
                if (ioctl(container, VFIO_IOMMU_GET_INFO, info) < 0)
                        goto out;
                if (info->argsz <= sz)
                        break;
                sz = info->argsz;
                free(info);
        }
        printf("iommu_pgsizes=0x%llx\n", (unsigned long long) info->iova_pgsizes);
        if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || info->cap_offset == 0)
                goto out;

        for (uint32_t off = info->cap_offset; off && off + sizeof(struct vfio_info_cap_header) <= sz;) {
                struct vfio_info_cap_header *h = (void *) ((char *) info + off);

                if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
                        struct vfio_iommu_type1_info_cap_iova_range *r = (void *) h;
                        for (uint32_t i = 0; i < r->nr_iovas; i++)
                                printf("iommu_iova_range%u=0x%llx-0x%llx\n", i,
                                       (unsigned long long) r->iova_ranges[i].start,
                                       (unsigned long long) r->iova_ranges[i].end);
                } else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
                        struct vfio_iommu_type1_info_dma_avail *a = (void *) h;
                        printf("iommu_dma_avail=%u\n", a->avail);
                }
                off = h->next;
        }
out:
        free(info);
}

static int hold_group(const char *bdf, int with_device) {
        char path[PATH_MAX];
        int group, container = -1, gfd, dfd;

        group = iommu_group_of(bdf);
        if (group < 0)
                return fail("iommu_group");
        printf("group=%d\n", group);

        if (with_device) {
                container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
                if (container < 0)
                        return fail("open_container");
                printf("api_version=%d\n", ioctl(container, VFIO_GET_API_VERSION));
                printf("type1v2=%d\n", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
        }

        snprintf(path, sizeof(path), "/dev/vfio/%d", group);
        gfd = open(path, O_RDWR | O_CLOEXEC);
        if (gfd < 0)
                return fail("open_group");

        struct vfio_group_status st = { .argsz = sizeof(st) };
        if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &st) < 0)
                return fail("group_get_status");
        printf("viable=%d\n", !!(st.flags & VFIO_GROUP_FLAGS_VIABLE));

        if (with_device) {
                if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container) < 0)
                        return fail("group_set_container");
                if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
                        return fail("set_iommu");
                print_iommu_info(container);
                dfd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, bdf);
                if (dfd < 0)
                        return fail("group_get_device_fd");

                struct vfio_device_info di = { .argsz = sizeof(di) };
                if (ioctl(dfd, VFIO_DEVICE_GET_INFO, &di) < 0)
                        return fail("device_get_info");
                printf("device_flags=0x%x\nnum_regions=%u\nnum_irqs=%u\n", di.flags, di.num_regions, di.num_irqs);
        }
        return 0;
}

static int hold_cdev(const char *bdf, int bind) {
        char path[PATH_MAX];
        int dfd, iommufd;

        if (cdev_path(bdf, path, sizeof(path)) < 0)
                return fail("find_cdev");
        printf("cdev=%s\n", path);
        dfd = open(path, O_RDWR | O_CLOEXEC);
        if (dfd < 0)
                return fail("open_cdev");
        if (!bind)
                return 0;

        iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
        if (iommufd < 0)
                return fail("open_iommu");

        struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };
        if (ioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &b) < 0)
                return fail("bind_iommufd");
        printf("devid=%u\n", b.out_devid);

        struct iommu_ioas_alloc a = { .size = sizeof(a) };
        if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &a) < 0)
                return fail("ioas_alloc");
        printf("ioas=%u\n", a.out_ioas_id);

        struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = a.out_ioas_id };
        if (ioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0)
                return fail("attach_pt");
        printf("attached_pt=%u\n", at.pt_id);
        return 0;
}

/* The simulator's control file: one command per write(2). */
static int sim_ctl(const char *verb, const char *bdf) {
        char cmd[64];
        int fd, n;
        ssize_t k;

        fd = open("/sys/.sim/ctl", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = snprintf(cmd, sizeof(cmd), "%s %s", verb, bdf);
        k = write(fd, cmd, (size_t) n);
        if (k < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
        }
        close(fd);
        return 0;
}

static int hold_sim(const char *mode, const char *bdf) {
        int group;

        group = iommu_group_of(bdf);
        if (group < 0)
                return fail("iommu_group");
        printf("group=%d\n", group);
        if (strcmp(mode, "group") == 0)
                return 0;
        if (strcmp(mode, "device") != 0 && strcmp(mode, "cdev") != 0 && strcmp(mode, "iommufd") != 0) {
                fputs("vfio-hold: unknown mode\n", stderr);
                return 2;
        }
        if (sim_ctl("hold", bdf) < 0)
                return fail("sim_hold");
        return 0;
}

int main(int argc, char *argv[]) {
        const char *mode;
        sigset_t ss;
        int sig, r, sim = 0;

        if (argc == 4 && strcmp(argv[1], "--sim") == 0) {
                sim = 1;
                argc--;
                argv++;
        }
        if (argc != 3 || !valid_bdf(argv[2])) {
                fputs("usage: vfio-hold [--sim] group|device|cdev|iommufd DDDD:BB:DD.F\n", stderr);
                return 2;
        }
        mode = argv[1];

        /* Block the release signals before anything else so none is lost. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigaddset(&ss, SIGUSR1);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        setvbuf(stdout, NULL, _IOLBF, 0);

        if (sim)
                r = hold_sim(mode, argv[2]);
        else if (strcmp(mode, "group") == 0)
                r = hold_group(argv[2], 0);
        else if (strcmp(mode, "device") == 0)
                r = hold_group(argv[2], 1);
        else if (strcmp(mode, "cdev") == 0)
                r = hold_cdev(argv[2], 0);
        else if (strcmp(mode, "iommufd") == 0)
                r = hold_cdev(argv[2], 1);
        else {
                fputs("vfio-hold: unknown mode\n", stderr);
                return 2;
        }
        if (r != 0)
                return r;

        puts("held");
        (void) sigwait(&ss, &sig);
        /* Exiting closes every fd; the kernel's release path runs then. The
         * simulator's VFIO user lets go explicitly. */
        if (sim && strcmp(mode, "group") != 0 && sim_ctl("release", argv[2]) < 0)
                return fail("sim_release");
        puts("released");
        return 0;
}
