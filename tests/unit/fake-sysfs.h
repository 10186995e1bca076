/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small fake sysfs tree in a temporary directory, for what reads sysfs
 * through an sriov_ctx (plan_pf()): one PF at PF with VFs at 0000:3b:02.n,
 * each with the files and links lib/host.c reads — uevent (ids, class,
 * driver), driver_override, numa_node, the driver link; the PF's sriov_*
 * attributes, net/IFNAME and virtfnN links; each VF's physfn link. No
 * config space: libpci finds none, and the SR-IOV capability is not
 * compared. Building the tree cannot fail: if it does, the test aborts. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "tests.h"
#include "util.h"

#define PF "0000:3b:00.0"               /* its VF n is at 0000:3b:02.n (offset 16, stride 1) */

typedef struct Tree {
        char root[32];
        sriov_ctx *ctx;
} Tree;

static inline void must(bool ok, const char *what) {
        if (!ok) {
                fprintf(stderr, "%s: %s\n", what, strerror(errno));
                abort();
        }
}

/* root/RELATIVE (printf-style) */
static inline char *tree_path(const Tree *t, const char *fmt, ...) _printf_(2, 3);
static inline char *tree_path(const Tree *t, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&rel, fmt, ap);
        va_end(ap);
        must(r >= 0, "vasprintf");
        return strdup_printf("%s/%s", t->root, rel);
}

static inline void tree_mkdir(const Tree *t, const char *rel) {
        _cleanup_free_ char *p = tree_path(t, "%s", rel);

        must(mkdir(p, 0755) == 0, p);
}

/* bus/pci/devices/BDF/ATTR with value and a newline, as sysfs shows it */
static inline void put(const Tree *t, const char *bdf, const char *attr, const char *value) {
        _cleanup_free_ char *p = tree_path(t, "bus/pci/devices/%s/%s", bdf, attr);
        _cleanup_free_ char *text = strdup_printf("%s\n", value);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        must(fd >= 0, p);
        must(write(fd, text, strlen(text)) == (ssize_t) strlen(text), p);
}

static inline void put_uint(const Tree *t, const char *bdf, const char *attr, unsigned value) {
        char s[16];

        (void) snprintf(s, sizeof(s), "%u", value);
        put(t, bdf, attr, s);
}

/* bus/pci/devices/BDF/NAME -> target */
static inline void put_link(const Tree *t, const char *bdf, const char *name, const char *target) {
        _cleanup_free_ char *p = tree_path(t, "bus/pci/devices/%s/%s", bdf, name);

        must(symlink(target, p) == 0, p);
}

static inline void tree_begin(Tree *t) {
        snprintf(t->root, sizeof(t->root), "/tmp/fake-sysfs.XXXXXX");
        must(mkdtemp(t->root), "mkdtemp");
        tree_mkdir(t, "bus");
        tree_mkdir(t, "bus/pci");
        tree_mkdir(t, "bus/pci/devices");
        tree_mkdir(t, "bus/pci/drivers");
        must(sriov_ctx_new(t->root, &t->ctx) >= 0, "sriov_ctx_new");
}

static inline int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static inline void tree_end(Tree *t) {
        t->ctx = sriov_ctx_free(t->ctx);
        CHECK_INT(nftw(t->root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
        CHECK(access(t->root, F_OK) < 0);
}

/* A PCI function: its uevent (ids, class, driver), driver link and override. */
static inline void add_function(const Tree *t, const char *bdf, const char *id, const char *driver,
                                const char *override) {
        _cleanup_free_ char *dir = tree_path(t, "bus/pci/devices/%s", bdf);
        _cleanup_free_ char *uevent = NULL, *target = NULL;

        must(mkdir(dir, 0755) == 0, dir);
        uevent = strdup_printf("%s%s%sPCI_CLASS=20000\nPCI_ID=%s\nPCI_SUBSYS_ID=8086:0000\nPCI_SLOT_NAME=%s",
                               driver ? "DRIVER=" : "", strempty(driver), driver ? "\n" : "", id, bdf);
        put(t, bdf, "uevent", uevent);
        put(t, bdf, "driver_override", override ?: "(null)");
        put(t, bdf, "numa_node", "0");
        if (driver) {
                target = strdup_printf("../../../bus/pci/drivers/%s", driver);
                put_link(t, bdf, "driver", target);
        }
}

/* The PF: total and enabled VFs, autoprobe (-1: no such attribute), its interface (NULL: none). */
static inline void add_pf(const Tree *t, unsigned num_vfs, int autoprobe, const char *ifname) {
        add_function(t, PF, "8086:1572", "i40e", NULL);
        put_uint(t, PF, "sriov_totalvfs", 8);
        put_uint(t, PF, "sriov_numvfs", num_vfs);
        put_uint(t, PF, "sriov_offset", 16);
        put_uint(t, PF, "sriov_stride", 1);
        put(t, PF, "sriov_vf_device", "154c");
        if (autoprobe >= 0)
                put_uint(t, PF, "sriov_drivers_autoprobe", (unsigned) autoprobe);
        if (ifname) {
                _cleanup_free_ char *net = tree_path(t, "bus/pci/devices/" PF "/net"),
                        *dev = tree_path(t, "bus/pci/devices/" PF "/net/%s", ifname);

                must(mkdir(net, 0755) == 0, net);
                must(mkdir(dev, 0755) == 0, dev);
        }
}

/* VF n of the PF (n < 8), with its physfn and the PF's virtfnN links. */
static inline void add_vf(const Tree *t, unsigned n, const char *driver, const char *override) {
        char bdf[PCI_ADDR_STRLEN], link[16], target[32];

        (void) snprintf(bdf, sizeof(bdf), "0000:3b:02.%u", n);
        add_function(t, bdf, "8086:154c", driver, override);
        put_link(t, bdf, "physfn", "../" PF);
        (void) snprintf(link, sizeof(link), "virtfn%u", n);
        (void) snprintf(target, sizeof(target), "../%s", bdf);
        put_link(t, PF, link, target);
}

/* ---- planning ---- */

/* Plan the PF rule {"match": {"bdf": PF}, RULE} for the tree's PF. */
static inline void plan(const Tree *t, const char *rule, char **assigned, Plan *ret) {
        _cleanup_free_ char *text = strdup_printf("{\"pfs\": [{\"match\": {\"bdf\": \"" PF "\"}%s%s}]}",
                                                  *rule ? ", " : "", rule);
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));
        ConfigErrors e = {};
        pci_addr a;

        must(c && text, "calloc");
        c->n_ref = 1;
        CHECK_INT(config_parse_text("test.conf", text, strlen(text), c, &e), 0);
        CHECK(!e.messages);
        config_errors_done(&e);
        CHECK_INT(pci_addr_parse(PF, &a), 0);
        *ret = (Plan) {};
        if (c->n_pfs == 1)
                CHECK_INT(plan_pf(t->ctx, &c->pfs[0], &a, assigned, ret, NULL), 0);
}

/* The plan as "KIND BDF: DETAIL" lines. */
static inline char *steps(const Plan *p) {
        char *s = strdup("");

        for (size_t i = 0; s && i < p->n_steps; i++) {
                char *n = strdup_printf("%s%s %s: %s\n", s, step_kind_name(p->steps[i].kind), p->steps[i].bdf,
                                        strna(p->steps[i].detail));
                free(s);
                s = n;
        }
        if (!s)
                abort();
        return s;
}

#define CHECK_STEPS(p, expected)                                        \
        do {                                                            \
                _cleanup_free_ char *_s = steps(p);                     \
                CHECK_STR(_s, expected);                                \
        } while (0)
