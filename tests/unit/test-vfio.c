/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The checks made before a DMA mapping reaches the kernel. */
#include "tests.h"
#include "vfio.h"

int main(void) {
        /* as the 6.1 kernel reports under QEMU's VT-d: the MSI window cut out */
        const vfio_range valid[] = {
                { .start = 0x0, .last = 0xfedfffffULL },
                { .start = 0xfef00000ULL, .last = 0xffffffffffffULL },
        };
        const vfio_range reserved[] = { { .start = 0xfee00000ULL, .last = 0xfeefffffULL, .type = "msi" } };
        const vfio_mapping maps[] = { { .iova = 0x40000000ULL, .size = 0x200000 } };
        const uint64_t pgs = 0x40201000ULL;     /* 4K, 2M, 1G */
        sriov_error e = {};

#define CHECK_MAP(iova, size, want) \
        CHECK_INT(vfio_check_map(valid, 2, reserved, 1, maps, 1, pgs, (iova), (size), &e), (want))

        CHECK_MAP(0x100000, 0x200000, 0);
        CHECK_MAP(0x40200000ULL, 0x1000, 0);                    /* right after the existing mapping */
        CHECK_MAP(0x1001, 0x1000, -EINVAL);                     /* misaligned IOVA */
        CHECK(strstr(e.message, "page size 0x1000") != NULL);
        CHECK_MAP(0x1000, 0x1800, -EINVAL);                     /* misaligned size */
        CHECK_MAP(0x1000, 0, -EINVAL);
        CHECK_MAP(0xfee00000ULL, 0x1000, -ERANGE);              /* the MSI window is not a valid range */
        CHECK_MAP(0xfedff000ULL, 0x2000, -ERANGE);              /* straddles the end of a range */
        CHECK_MAP(0x1000000000000ULL, 0x1000, -ERANGE);         /* beyond the aperture */
        CHECK_MAP(0xfffffffffffff000ULL, 0x2000, -ERANGE);      /* wraps */
        CHECK_MAP(0x401ff000ULL, 0x2000, -EEXIST);              /* overlaps the existing mapping */
        CHECK(strstr(e.message, "0x40000000") != NULL);

        /* a reserved region inside a valid range (e.g. RMRR "direct") */
        {
                const vfio_range v[] = { { .start = 0, .last = UINT64_MAX } };
                const vfio_range r[] = { { .start = 0xa0000, .last = 0xbffff, .type = "direct" } };

                CHECK_INT(vfio_check_map(v, 1, r, 1, NULL, 0, pgs, 0x9f000, 0x2000, &e), -EADDRINUSE);
                CHECK(strstr(e.message, "direct") != NULL);
                CHECK_INT(vfio_check_map(v, 1, r, 1, NULL, 0, pgs, 0xc0000, 0x1000, &e), 0);
        }
        TEST_MAIN_END();
}
