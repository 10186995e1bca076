/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The netlink VF information parser: IFLA_VFINFO_LIST payloads (first byte
 * even), whole RTM_NEWLINK messages (1 mod 4), or RTM_NEWLINK/RTM_DELLINK
 * read for VF counters and link facts (3 mod 4), as the kernel would send them. */
#include "fuzz.h"
#include "linkmon.h"
#include "vfattr.h"
#include "vfstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        void *copy;

        if (size < 1 || size > 65536)
                return 0;
        /* an exact-size copy so that ASan sees any overread */
        copy = malloc(size - 1 ?: 1);
        if (!copy)
                return 0;
        memcpy(copy, data + 1, size - 1);
        if (data[0] % 2 == 0) {
                sriov_vf_config *v = NULL;
                size_t n = 0;

                if (vf_info_list_parse(copy, size - 1, &v, &n) >= 0) {
                        for (size_t i = 0; i < n; i++)
                                if (v[i].vlan > 4095 || v[i].qos > 7 || v[i].link_state > 2)
                                        abort();
                        free(v);
                }
        } else if (data[0] % 4 == 1) {
                sriov_link l;

                if (vf_link_msg_parse(copy, size - 1, &l) >= 0)
                        sriov_link_done(&l);
        } else {
                /* VF counters and link notifications (issue 18) */
                sriov_link_stats s;
                sriov_link_info li;

                if (vf_stats_msg_parse(copy, size - 1, &s) >= 0)
                        sriov_link_stats_done(&s);
                (void) sriov_link_info_parse(copy, size - 1, &li);
        }
        free(copy);
        return 0;
}
