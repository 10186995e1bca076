/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "groups.h"
#include "host.h"
#include "sysfs.h"
#include "tests.h"
#include "util.h"

static void test_numbers(void) {
        unsigned u;
        int i;

        CHECK_INT(safe_atou("42", 10, &u), 0);
        CHECK_INT(u, 42);
        CHECK_INT(safe_atou("0x10", 0, &u), 0);
        CHECK_INT(u, 16);
        CHECK_INT(safe_atou("-1", 10, &u), -EINVAL);
        CHECK_INT(safe_atou(" 1", 10, &u), -EINVAL);
        CHECK_INT(safe_atou("1 ", 10, &u), -EINVAL);
        CHECK_INT(safe_atou("", 10, &u), -EINVAL);
        CHECK_INT(safe_atou("4294967296", 10, &u), -ERANGE);
        CHECK_INT(safe_atoi("-1", 10, &i), 0);
        CHECK_INT(i, -1);
        CHECK_INT(parse_boolean("on"), 1);
        CHECK_INT(parse_boolean("0"), 0);
        CHECK_INT(parse_boolean("maybe"), -EINVAL);
}

static void test_strv(void) {
        _cleanup_strv_free_ char **l = NULL;

        CHECK_INT(strv_extend(&l, "b"), 0);
        CHECK_INT(strv_extend(&l, "a"), 0);
        strv_sort(l);
        CHECK_STR(l[0], "a");
        CHECK_STR(l[1], "b");
        CHECK(l[2] == NULL);
        CHECK(strv_contains(l, "b"));
        CHECK(!strv_contains(l, "c"));
        CHECK_INT(strv_length(l), 2);
}

static void test_files(void) {
        char dir[] = "/tmp/sriovd-test-XXXXXX";
        _cleanup_free_ char *p = NULL, *s = NULL;
        struct stat st;

        CHECK(mkdtemp(dir) != NULL);
        p = strdup_printf("%s/f", dir);
        CHECK_INT(write_file_atomic(p, "hello\nworld\n", 12, 0600), 0);
        CHECK_INT(read_one_line_file(p, &s), 0);
        CHECK_STR(s, "hello");
        CHECK_INT(stat(p, &st), 0);
        CHECK_INT(st.st_mode & 0777, 0600);
        free(s);
        s = NULL;
        CHECK_INT(read_full_file(p, &s, NULL, 4), -EFBIG);
        CHECK_INT(unlink(p), 0);
        CHECK_INT(read_one_line_file(p, &s), -ENOENT);
        CHECK_INT(rmdir(dir), 0);
}

static void test_regions(void) {
        iommu_region *r = NULL;
        size_t n = 0;

        CHECK_INT(iommu_parse_reserved_regions("0x00000000fee00000 0x00000000feefffff msi\n"
                                               "0x00000000000a0000 0x00000000000bffff direct-relaxable\n",
                                               &r, &n), 0);
        CHECK_INT(n, 2);
        if (n == 2) {
                CHECK_INT(r[0].start, 0xfee00000ULL);
                CHECK_INT(r[0].end, 0xfeefffffULL);
                CHECK_STR(r[0].type, "msi");
                CHECK_STR(r[1].type, "direct-relaxable");
        }
        for (size_t i = 0; i < n; i++)
                free(r[i].type);
        free(r);
        CHECK_INT(iommu_parse_reserved_regions("", &r, &n), 0);
        CHECK_INT(n, 0);
        CHECK_INT(iommu_parse_reserved_regions("0x10 0x01 msi\n", &r, &n), -EBADMSG);
        CHECK_INT(iommu_parse_reserved_regions("garbage\n", &r, &n), -EBADMSG);
}

static void test_errno_names(void) {
        CHECK_STR(errno_name(-EBUSY), "EBUSY");
        CHECK_STR(errno_name(ERANGE), "ERANGE");
        CHECK_INT(errno_from_name("ENOENT"), ENOENT);
        CHECK_INT(errno_from_name("EWHATEVER"), -EINVAL);
}

/* A write the kernel holds (here: a FIFO nobody reads) times out and counts
 * as abandoned; a write that finishes does not, so a caller can tell a
 * held write from a bounded wait that ran out. */
static void test_bounded_write(void) {
        _cleanup_(sriov_ctx_freep) sriov_ctx *c = NULL;
        char dir[] = "/tmp/sriov-test-XXXXXX", fifo[64], file[64];
        unsigned before;
        int fd;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_INT(sriov_ctx_new(dir, &c), 0);
        sriov_ctx_set_timeout(c, 200 * 1000);
        (void) snprintf(file, sizeof(file), "%s/attr", dir);
        (void) snprintf(fifo, sizeof(fifo), "%s/held", dir);
        CHECK_INT(mkfifo(fifo, 0600), 0);
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        close(fd);
        before = sysfs_writes_abandoned();
        CHECK_INT(sysfs_write_bounded(c, &(pci_addr) {}, file, "1"), 0);
        CHECK_INT(sysfs_writes_abandoned(), before);
        CHECK_INT(sysfs_write_bounded(c, &(pci_addr) {}, fifo, "1"), -ETIMEDOUT);
        CHECK_INT(sysfs_writes_abandoned(), before + 1);
        /* let the abandoned writer finish */
        fd = open(fifo, O_RDONLY | O_NONBLOCK);
        CHECK(fd >= 0);
        for (int i = 0; i < 200; i++) {
                char b[4];

                if (read(fd, b, sizeof(b)) > 0)
                        break;
                usleep(10000);
        }
        close(fd);
        (void) unlink(fifo);
        (void) unlink(file);
        (void) rmdir(dir);
}

/* Names are remembered per ids; dropping libpci's pci.ids does not lose
 * them, and ids not seen before load it again. */
static void test_pci_names(void) {
        _cleanup_(sriov_ctx_freep) sriov_ctx *ctx = NULL;
        char *v = NULL, *d = NULL, *k = NULL, *d2 = NULL;

        CHECK_INT(sriov_ctx_new(NULL, &ctx), 0);
        if (!ctx)
                return;
        CHECK_INT(pci_names_lookup(ctx, 0x8086, 0x1572, 0x020000, &v, &d, &k), 0);
        if (!d) {
                /* no pci.ids on this machine: nothing to compare */
                fprintf(stderr, "test_pci_names: no name for 8086:1572, pci.ids missing? skipped\n");
                goto out;
        }
        CHECK_STR(v, "Intel Corporation");
        CHECK_STR(k, "Ethernet controller");
        sriov_ctx_drop_pci_ids(ctx);
        /* cached */
        CHECK_INT(pci_names_lookup(ctx, 0x8086, 0x1572, 0x020000, NULL, &d2, NULL), 0);
        CHECK_STR(d2, d);
        d2 = mfree(d2);
        /* new ids after the drop: libpci loads pci.ids again */
        CHECK_INT(pci_names_lookup(ctx, 0x8086, 0x1889, 0x020000, NULL, &d2, NULL), 0);
        CHECK(d2 && strstr(d2, "Virtual Function"));
out:
        free(v);
        free(d);
        free(k);
        free(d2);
}

int main(void) {
        test_pci_names();
        test_numbers();
        test_strv();
        test_files();
        test_regions();
        test_errno_names();
        test_bounded_write();
        TEST_MAIN_END();
}
