/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "conffile.h"
#include "pool.h"
#include "util.h"

int selector_parse(const char *s, Selector *ret) {
        _cleanup_free_ char *head = NULL;
        const char *hash;
        Selector sel = { .first = 0, .last = UINT16_MAX, .numa = -1 };
        int r;

        if (isempty(s) || strlen(s) > 64)
                return -EINVAL;
        if (strneq(s, "numa:", 5)) {
                unsigned n;

                if (safe_atou(s + 5, 10, &n) < 0 || n > 1023)
                        return -EINVAL;
                sel.kind = SEL_NUMA;
                sel.numa = (int) n;
                *ret = sel;
                return 0;
        }
        hash = strchr(s, '#');
        head = hash ? strndup(s, (size_t) (hash - s)) : strdup(s);
        if (!head)
                return -ENOMEM;
        if (hash) {
                r = parse_vf_range(hash + 1, &sel.first, &sel.last);
                if (r < 0)
                        return r;
        }
        if (pci_addr_parse(head, &sel.pf) >= 0)
                sel.kind = SEL_PF_BDF;
        else if (!hash && parse_pci_id_pair(head, &sel.vendor, &sel.device) >= 0)
                sel.kind = SEL_VF_ID;
        else if (ifname_is_valid(head) && !strchr(head, ':')) {
                sel.kind = SEL_PF_INTERFACE;
                memcpy(sel.interface, head, strlen(head) + 1);
        } else
                return -EINVAL;
        *ret = sel;
        return 0;
}

bool selector_matches(const Selector *sel, const sriov_device *vf) {
        if (!vf->is_vf)
                return false;
        switch (sel->kind) {
        case SEL_NUMA:
                return vf->numa_node == sel->numa;
        case SEL_VF_ID:
                return vf->vendor == sel->vendor && vf->device == sel->device;
        case SEL_PF_BDF:
                return pci_addr_equal(&vf->physfn, &sel->pf) && vf->vf_index >= 0 &&
                        (unsigned) vf->vf_index >= sel->first && (unsigned) vf->vf_index <= sel->last;
        case SEL_PF_INTERFACE:
                return vf->pf && strv_contains(vf->pf->netdevs, sel->interface) && vf->vf_index >= 0 &&
                        (unsigned) vf->vf_index >= sel->first && (unsigned) vf->vf_index <= sel->last;
        }
        return false;
}

bool pool_contains(char * const *selectors, const sriov_device *vf) {
        bool any_source = false, in_source = false, any_numa = false, in_numa = false;

        STRV_FOREACH(s, selectors) {
                Selector sel;

                if (selector_parse(*s, &sel) < 0)
                        continue;
                if (sel.kind == SEL_NUMA) {
                        any_numa = true;
                        in_numa = in_numa || selector_matches(&sel, vf);
                } else {
                        any_source = true;
                        in_source = in_source || selector_matches(&sel, vf);
                }
        }
        if (!vf->is_vf || (!any_source && !any_numa))
                return false;
        return (!any_source || in_source) && (!any_numa || in_numa);
}

const char *pool_driver(const PoolView *p) {
        return p && p->driver_want == DRIVER_NAMED && p->driver ? p->driver : "vfio-pci";
}

/* Why no member is free: all assigned (the common case, said plainly), or
 * how many of them each reason holds. */
static void set_exhausted(const PoolView *p, size_t members, const size_t held[_MEMBER_USE_MAX], sriov_error *e) {
        static const char *const why[_MEMBER_USE_MAX] = {
                [MEMBER_ASSIGNED] = "assigned",
                [MEMBER_QUARANTINED] = "quarantined (their reset between guests failed)",
                [MEMBER_PENDING] = "waiting for a kernel write on their PF",
        };
        char parts[256] = "";
        size_t n = 0;

        if (held[MEMBER_ASSIGNED] == members) {
                sriov_error_set(e, -ENOSPC, "Pool %s is exhausted: all %zu VFs are assigned", p->name, members);
                return;
        }
        for (MemberUse u = MEMBER_ASSIGNED; u < _MEMBER_USE_MAX; u++)
                if (why[u] && held[u] > 0 && n < sizeof(parts))
                        n += (size_t) snprintf(parts + n, sizeof(parts) - n, "%s%zu %s", n ? ", " : "", held[u], why[u]);
        sriov_error_set(e, -ENOSPC, "Pool %s is exhausted: of its %zu VFs, %s", p->name, members, parts);
}

const sriov_device *pool_pick(const sriov_host *h, const PoolView *p, int numa, NumaPolicy policy,
                              MemberUse (*use_of)(const sriov_device *vf, void *userdata), void *userdata,
                              size_t *ret_position, sriov_error *e) {
        const sriov_device *best = NULL;
        size_t members = 0, free_members = 0, held[_MEMBER_USE_MAX] = {};

        for (size_t i = 0; i < h->n_devices; i++) {
                const sriov_device *vf = h->devices[i];
                MemberUse use;
                bool on_node;

                if (!pool_contains(p->selectors, vf))
                        continue;
                members++;
                use = use_of(vf, userdata);
                held[use]++;
                if (use != MEMBER_FREE)
                        continue;
                free_members++;
                on_node = numa < 0 || vf->numa_node == numa;
                if (policy == NUMA_REQUIRED && !on_node)
                        continue;
                if (!best || (policy == NUMA_PREFERRED && on_node && !(numa < 0 || best->numa_node == numa))) {
                        best = vf;
                        *ret_position = members - 1;
                }
        }
        if (best)
                return best;
        if (members == 0)
                sriov_error_set(e, -ENOSPC, "Pool %s has no VFs on this host (are VFs enabled?)", p->name);
        else if (free_members == 0)
                set_exhausted(p, members, held, e);
        else
                sriov_error_set(e, -ENOSPC, "Pool %s has %zu free VFs, none on NUMA node %d (policy: required)",
                                p->name, free_members, numa);
        return NULL;
}
