/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "assign.h"
#include "cdi.h"
#include "jsonw.h"

#define CDI_VERSION "0.5.0"
#define CDI_FILE_PREFIX "sriovd.io-vf_"

static bool cdi_enabled(const Daemon *d) {
        return !isempty(d->config.cdi_dir);
}

/* A device name CDI accepts everywhere: the address with '-' for ':'. */
static void device_name(const char *vf, char ret[static PCI_ADDR_STRLEN]) {
        (void) snprintf(ret, PCI_ADDR_STRLEN, "%s", vf);
        for (char *c = ret; *c; c++)
                if (*c == ':')
                        *c = '-';
}

static char *spec_file(const char *vf) {
        char name[PCI_ADDR_STRLEN];

        device_name(vf, name);
        return strdup_printf(CDI_FILE_PREFIX "%s.json", name);
}

static bool wants_spec(const StateAssignment *a) {
        return a->phase == ASSIGN_DONE && a->readiness == READY;
}

static void node(JsonW *w, const char *path, const char *host_path, const StateAssignment *a) {
        jsonw_begin_object(w, NULL);
        jsonw_string(w, "path", path);
        jsonw_string(w, "hostPath", host_path);
        if (a->set_owner) {
                jsonw_uint(w, "uid", a->uid);
                jsonw_uint(w, "gid", a->gid);
        }
        jsonw_end_object(w);
}

/* The spec: the VF's group node and the VFIO container node (the container
 * backend, which every VFIO kernel has), and the VF's address. */
static int spec_text(Daemon *d, const StateAssignment *a, const AssignmentVmm *v, char **ret) {
        _cleanup_free_ char *container = NULL, *group = NULL, *env = NULL;
        char name[PCI_ADDR_STRLEN];
        const char *dev_root = sriov_ctx_dev_root(d->ctx);
        JsonW w = {};

        STRV_FOREACH(n, v->device_nodes)
                if (!strstr(*n, "/vfio/devices/"))
                        group = strdup_printf("/dev/vfio/%d", v->vf->iommu_group);
        if (!group)
                return -ENODEV;
        container = strdup_printf("%s/vfio/vfio", streq(dev_root, "/") ? "" : dev_root);
        env = strdup_printf("SRIOVD_VF=%s", a->vf);
        if (!container || !env)
                return -ENOMEM;
        device_name(a->vf, name);
        jsonw_begin_object(&w, NULL);
        jsonw_string(&w, "cdiVersion", CDI_VERSION);
        jsonw_string(&w, "kind", CDI_KIND);
        jsonw_begin_array(&w, "devices");
        jsonw_begin_object(&w, NULL);
        jsonw_string(&w, "name", name);
        jsonw_begin_object(&w, "containerEdits");
        jsonw_strv(&w, "env", (char *[]) { env, NULL });
        jsonw_begin_array(&w, "deviceNodes");
        STRV_FOREACH(n, v->device_nodes)
                if (!strstr(*n, "/vfio/devices/"))
                        node(&w, group, *n, a);
        node(&w, "/dev/vfio/vfio", container, a);
        jsonw_end_array(&w);
        jsonw_end_object(&w);
        jsonw_end_object(&w);
        jsonw_end_array(&w);
        jsonw_end_object(&w);
        return jsonw_finish(&w, ret, NULL);
}

static int open_dir(Daemon *d, bool create) {
        int fd;

        if (create && mkdir(d->config.cdi_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = open(d->config.cdi_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int write_all_fd(int fd, const char *text) {
        size_t n = strlen(text);

        while (n > 0) {
                ssize_t k = write(fd, text, n);

                if (k < 0)
                        return -errno;
                text += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Written beside it, then renamed over it: a runtime never reads half a spec. */
static int write_spec(Daemon *d, const StateAssignment *a) {
        _cleanup_(assignment_vmm_done) AssignmentVmm v = {};
        _cleanup_free_ char *text = NULL, *file = NULL, *tmp = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        int r;

        r = assignment_vmm(d, a, &v);
        if (r < 0)
                return r;
        r = spec_text(d, a, &v, &text);
        if (r < 0)
                return r;
        file = spec_file(a->vf);
        tmp = file ? strdup_printf(".%s.tmp", file) : NULL;
        if (!tmp)
                return -ENOMEM;
        dfd = open_dir(d, true);
        if (dfd < 0)
                return dfd;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        r = write_all_fd(fd, text);
        if (r < 0) {
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        if (renameat(dfd, tmp, dfd, file) < 0) {
                r = -errno;
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        return 0;
}

static int remove_spec(Daemon *d, const char *vf) {
        _cleanup_free_ char *file = spec_file(vf), *path = NULL;

        path = file ? strdup_printf("%s/%s", d->config.cdi_dir, file) : NULL;
        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

void cdi_update(Daemon *d, const StateAssignment *a, bool gone) {
        int r;

        if (!cdi_enabled(d))
                return;
        if (!gone && wants_spec(a)) {
                r = write_spec(d, a);
                if (r == -ENODEV)
                        r = remove_spec(d, a->vf);      /* no VFIO nodes (no IOMMU): nothing to inject */
                if (r < 0)
                        log_warning_errno(r, "Cannot write the CDI spec of %s in %s (it is not usable by CDI name): %m",
                                          a->vf, d->config.cdi_dir);
                return;
        }
        r = remove_spec(d, a->vf);
        if (r < 0)
                log_warning_errno(r, "Cannot remove the CDI spec of %s from %s: %m", a->vf, d->config.cdi_dir);
}

/* The VF a file of ours names, if it is one ("sriovd.io-vf_0000-3b-02.2.json"). */
static bool file_vf(const char *file, char ret[static PCI_ADDR_STRLEN]) {
        size_t n = strlen(file), p = strlen(CDI_FILE_PREFIX);
        pci_addr a;

        if (n <= p + 5 || !strneq(file, CDI_FILE_PREFIX, p) || !streq(file + n - 5, ".json") ||
            n - p - 5 >= PCI_ADDR_STRLEN)
                return false;
        memcpy(ret, file + p, n - p - 5);
        ret[n - p - 5] = 0;
        for (char *c = ret; *c; c++)
                if (*c == '-')
                        *c = ':';
        return pci_addr_parse(ret, &a) >= 0;
}

static void remove_strays(Daemon *d) {
        _cleanup_close_ int dfd = open_dir(d, true);
        DIR *dir;
        struct dirent *de;
        char vf[PCI_ADDR_STRLEN];

        if (dfd < 0) {
                log_warning_errno(dfd, "Cannot open the CDI directory %s: %m", d->config.cdi_dir);
                return;
        }
        dir = fdopendir(TAKE_FD(dfd));
        if (!dir)
                return;
        while ((de = readdir(dir))) {
                const StateAssignment *a;

                if (!file_vf(de->d_name, vf))
                        continue;
                a = state_find_assignment_by_vf(d->state, vf);
                if (a && wants_spec(a))
                        continue;
                log_info("Removing the CDI spec of %s: it is assigned to no ready guest", vf);
                if (unlinkat(dirfd(dir), de->d_name, 0) < 0 && errno != ENOENT)
                        log_warning_errno(-errno, "Cannot remove %s/%s: %m", d->config.cdi_dir, de->d_name);
        }
        closedir(dir);
}

void cdi_sync_all(Daemon *d) {
        if (!cdi_enabled(d))
                return;
        remove_strays(d);
        for (size_t i = 0; i < d->state->n_assignments; i++)
                if (wants_spec(&d->state->assignments[i]))
                        cdi_update(d, &d->state->assignments[i], false);
}

char *cdi_device_name(Daemon *d, const char *vf) {
        _cleanup_free_ char *file = NULL, *path = NULL;
        char name[PCI_ADDR_STRLEN];

        if (!cdi_enabled(d))
                return NULL;
        file = spec_file(vf);
        path = file ? strdup_printf("%s/%s", d->config.cdi_dir, file) : NULL;
        if (!path || access(path, F_OK) < 0)
                return NULL;
        device_name(vf, name);
        return strdup_printf(CDI_KIND "=%s", name);
}
