/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sriov_vfio_held() where the kernel cannot answer: the group node is a
 * regular file (test trees), a FIFO, or a character device that is not the
 * kernel's VFIO group. Each must fall back to the /proc scan, never block
 * and never open the node. (The kernel's own answer, EBUSY or an open that
 * succeeds, is tested on real kernels: tests/vm/scenarios/sriovd-release-busy.) */
#include <signal.h>
#include <sys/stat.h>

#include "fake-sysfs.h"
#include "netuse.h"

#define VF "0000:3b:02.0"

/* PROC/PID with comm and fd/FD -> target */
static void add_process(const Tree *t, unsigned pid, const char *comm, unsigned fd, const char *target) {
        _cleanup_free_ char *dir = tree_path(t, "proc/%u", pid), *fds = tree_path(t, "proc/%u/fd", pid);
        _cleanup_free_ char *cp = tree_path(t, "proc/%u/comm", pid), *lp = tree_path(t, "proc/%u/fd/%u", pid, fd);

        must(mkdir(dir, 0755) == 0, dir);
        must(mkdir(fds, 0755) == 0, fds);
        must(mknod(cp, S_IFREG | 0644, 0) == 0 && write_string_file(cp, comm) >= 0, cp);
        must(symlink(target, lp) == 0, lp);
}

static void check_scanned(const Tree *t, bool held, unsigned pid) {
        vfio_use u;

        CHECK_INT(sriov_vfio_held(t->ctx, &(pci_addr) { 0, 0x3b, 2, 0 }, &u), 0);
        CHECK(u.scanned);
        CHECK(!u.group_free);
        CHECK(!u.group_busy);
        CHECK_INT(u.held, held);
        CHECK_INT(u.n, held ? 1 : 0);
        if (held) {
                CHECK_INT(u.first.pid, (int) pid);
                CHECK_STR(u.first.comm, "qemu");
        }
}

int main(void) {
        _cleanup_free_ char *proc = NULL, *devroot = NULL, *node = NULL;
        Tree t;
        vfio_use u;

        /* a hang (an open of the FIFO without O_NONBLOCK) fails the test */
        alarm(30);
        tree_begin(&t);
        add_pf(&t, 1, 0, NULL);
        add_vf(&t, 0, "vfio-pci", "vfio-pci");
        tree_mkdir(&t, "proc");
        tree_mkdir(&t, "dev");
        tree_mkdir(&t, "dev/vfio");
        proc = tree_path(&t, "proc");
        devroot = tree_path(&t, "dev");
        node = tree_path(&t, "dev/vfio/7");
        CHECK_INT(sriov_ctx_set_proc_root(t.ctx, proc), 0);
        CHECK_INT(sriov_ctx_set_dev_root(t.ctx, devroot), 0);

        /* no IOMMU group, no cdev: nothing to hold, nothing scanned */
        CHECK_INT(sriov_vfio_held(t.ctx, &(pci_addr) { 0, 0x3b, 2, 0 }, &u), 0);
        CHECK(!u.held && !u.scanned && u.n == 0);

        put_link(&t, VF, "iommu_group", "../../../../kernel/iommu_groups/7");
        /* the group's node missing: the scan */
        check_scanned(&t, false, 0);

        /* a regular file (test trees): the scan, which finds the holder */
        must(mknod(node, S_IFREG | 0600, 0) == 0, node);
        check_scanned(&t, false, 0);
        add_process(&t, 4242, "qemu", 17, node);
        check_scanned(&t, true, 4242);

        /* a FIFO at the node's path: never opened (an open for reading
         * would wait for a writer), the scan answers */
        must(unlink(node) == 0, node);
        must(mkfifo(node, 0600) == 0, node);
        check_scanned(&t, true, 4242);

        /* a character device that is not this kernel's VFIO group, even
         * with a sysfs class entry claiming its number: the scan */
        must(unlink(node) == 0, node);
        must(symlink("/dev/null", node) == 0, node);
        check_scanned(&t, true, 4242);
        tree_mkdir(&t, "class");
        tree_mkdir(&t, "class/vfio");
        tree_mkdir(&t, "class/vfio/7");
        {
                _cleanup_free_ char *p = tree_path(&t, "class/vfio/7/dev");
                struct stat st;

                must(stat("/dev/null", &st) == 0, "/dev/null");
                must(mknod(p, S_IFREG | 0644, 0) == 0 && write_string_file(p, "1:3") >= 0, p);
                CHECK(S_ISCHR(st.st_mode));
        }
        check_scanned(&t, true, 4242);

        tree_end(&t);
        TEST_MAIN_END();
}
