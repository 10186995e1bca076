/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "assign.h"
#include "netuse.h"
#include "ops.h"
#include "verify.h"
#include "vfconfig.h"
#include "vfio.h"

/* What the ledger says, copied for the worker. */
typedef struct Expect {
        char vf[PCI_ADDR_STRLEN];
        char guest[GUEST_NAME_MAX + 1];
        char *driver;
        sriov_vf_config want;
        bool set_owner;
        uid_t uid;
        gid_t gid;
        Readiness readiness;
        char *reason;
} Expect;

struct VerifyWork {
        Expect *expect;
        size_t n_expect;
        char **records;                 /* devices with a binding record */
        Difference *diff;
        size_t n_diff;
};

static void verify_work_free(void *p) {
        VerifyWork *w = p;

        for (size_t i = 0; i < w->n_expect; i++) {
                free(w->expect[i].driver);
                free(w->expect[i].reason);
        }
        free(w->expect);
        strv_free(w->records);
        for (size_t i = 0; i < w->n_diff; i++) {
                free(w->diff[i].subject);
                free(w->diff[i].guest);
                free(w->diff[i].kind);
                free(w->diff[i].sentence);
        }
        free(w->diff);
        free(w);
}

static void differ(VerifyWork *w, const char *subject, const char *guest, const char *kind, const char *fmt, ...)
        _printf_(5, 6);
static void differ(VerifyWork *w, const char *subject, const char *guest, const char *kind, const char *fmt, ...) {
        Difference *n = realloc(w->diff, (w->n_diff + 1) * sizeof(*n));
        va_list ap;

        if (!n)
                return;
        w->diff = n;
        n = &w->diff[w->n_diff];
        *n = (Difference) { strdup(subject), strdup(strempty(guest)), strdup(kind), NULL };
        va_start(ap, fmt);
        if (vasprintf(&n->sentence, fmt, ap) < 0)
                n->sentence = NULL;
        va_end(ap);
        if (n->subject && n->guest && n->kind && n->sentence)
                w->n_diff++;
}

static void check_settings(sriov_ctx *ctx, VerifyWork *w, const Expect *e, const pci_addr *vf) {
        _cleanup_(sriov_link_done) sriov_link link = {};
        _cleanup_free_ char *ifname = NULL;
        const sriov_vf_config *have = NULL;
        pci_addr pf;
        unsigned diff;
        int idx;

        idx = vf_index_of(ctx, vf, &pf, NULL);
        if (idx < 0 || pf_interface(ctx, &pf, &ifname) < 0 || sriov_link_get(ifname, &link, NULL) < 0) {
                differ(w, e->vf, e->guest, "settings", "%s: its settings cannot be read back", e->vf);
                return;
        }
        for (size_t i = 0; i < link.n_vfs; i++)
                if (link.vfs[i].vf == (uint32_t) idx)
                        have = &link.vfs[i];
        diff = have ? vf_config_diff(&e->want, have) : e->want.mask;
        for (unsigned b = 1; b <= VF_ATTR_QUERY_RSS; b <<= 1)
                if (diff & b)
                        differ(w, e->vf, e->guest, "settings", "%s: its %s is not the one guest %s was given", e->vf,
                               vf_attr_name(b), e->guest);
}

static void check_nodes(sriov_ctx *ctx, VerifyWork *w, const Expect *e, const pci_addr *vf) {
        _cleanup_strv_free_ char **nodes = NULL;

        if (!e->set_owner || vfio_device_nodes(ctx, vf, &nodes) < 0)
                return;
        STRV_FOREACH(n, nodes) {
                struct stat st;

                if (stat(*n, &st) < 0)
                        continue;       /* a cdev the kernel lists but does not make */
                if (st.st_uid != e->uid || st.st_gid != e->gid)
                        differ(w, *n, e->guest, "node-owner", "%s belongs to %u:%u, not to guest %s's %u:%u", *n,
                               (unsigned) st.st_uid, (unsigned) st.st_gid, e->guest, (unsigned) e->uid,
                               (unsigned) e->gid);
        }
}

static void check_assignment(sriov_ctx *ctx, VerifyWork *w, const Expect *e) {
        _cleanup_free_ char *drv = NULL;
        pci_addr vf;

        if (e->readiness != READY) {
                differ(w, e->vf, e->guest, readiness_name(e->readiness), "%s, assigned to %s, is %s: %s", e->vf,
                       e->guest, readiness_name(e->readiness), strna(e->reason));
                return;
        }
        if (pci_addr_parse(e->vf, &vf) < 0 || !sysfs_dev_exists(ctx, &vf, NULL)) {
                differ(w, e->vf, e->guest, "missing", "%s, assigned to %s, is not on the host", e->vf, e->guest);
                return;
        }
        (void) sysfs_dev_link_name(ctx, &vf, "driver", &drv);
        if (!drv || !e->driver || !streq(drv, e->driver))
                differ(w, e->vf, e->guest, "driver", "%s, assigned to %s, is bound to %s instead of %s", e->vf,
                       e->guest, drv ?: "no driver", strna(e->driver));
        if (e->want.mask)
                check_settings(ctx, w, e, &vf);
        check_nodes(ctx, w, e, &vf);
}

static bool expected(const VerifyWork *w, const char *bdf) {
        for (size_t i = 0; i < w->n_expect; i++)
                if (streq(w->expect[i].vf, bdf))
                        return true;
        return false;
}

/* VFs on vfio-pci that a process holds, though no guest holds them here. */
static void check_holders(sriov_ctx *ctx, VerifyWork *w, const sriov_host *h) {
        for (size_t i = 0; i < h->n_devices; i++) {
                const sriov_device *dev = h->devices[i];
                vfio_use u;

                if (!dev->is_vf || !driver_is_vfio(dev->driver) || expected(w, dev->bdf))
                        continue;
                /* the kernel first: a group node that opens is held by nobody */
                if (sriov_vfio_held(ctx, &dev->addr, &u) < 0 || !u.held)
                        continue;
                if (u.n > 0)
                        differ(w, dev->bdf, "", "held", "%s is held by process %d (%s) through %s, but no guest holds it in the ledger",
                               dev->bdf, (int) u.first.pid, u.first.comm, u.first.node);
                else
                        differ(w, dev->bdf, "", "held", "%s is held through %s by a process sriovd cannot name (in another PID namespace, or holding only a device fd), but no guest holds it in the ledger",
                               dev->bdf, u.group_node);
        }
}

static void verify_execute(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        _cleanup_(sriov_host_freep) sriov_host *h = NULL;
        VerifyWork *w = j->payload;

        for (size_t i = 0; i < w->n_expect; i++)
                check_assignment(ctx, w, &w->expect[i]);
        STRV_FOREACH(b, w->records) {
                pci_addr a;

                if (pci_addr_parse(*b, &a) >= 0 && !sysfs_dev_exists(ctx, &a, NULL))
                        differ(w, *b, "", "missing", "%s has a recorded binding, but it is not on the host", *b);
        }
        /* without a scan, no holders to compare */
        if (sriov_host_scan(ctx, &h) >= 0)
                check_holders(ctx, w, h);
        j->r = 0;
}

static const JobType verify_job_type = { .name = "verify", .execute = verify_execute, .free = verify_work_free };

static int copy_expect(const StateAssignment *a, Expect *e) {
        *e = (Expect) { .want = a->want, .set_owner = a->set_owner, .uid = a->uid, .gid = a->gid,
                        .readiness = a->readiness };
        memcpy(e->vf, a->vf, sizeof(e->vf));
        memcpy(e->guest, a->guest, sizeof(e->guest));
        if ((a->driver && !(e->driver = strdup(a->driver))) || (a->reason && !(e->reason = strdup(a->reason))))
                return -ENOMEM;
        return 0;
}

Job *verify_job_new(Daemon *d) {
        VerifyWork *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        w->expect = calloc(d->state->n_assignments + 1, sizeof(*w->expect));
        if (!w->expect) {
                verify_work_free(w);
                return NULL;
        }
        for (size_t i = 0; i < d->state->n_assignments; i++) {
                const StateAssignment *a = &d->state->assignments[i];

                if (a->phase != ASSIGN_DONE)
                        continue;
                if (copy_expect(a, &w->expect[w->n_expect++]) < 0) {
                        verify_work_free(w);
                        return NULL;
                }
        }
        for (size_t i = 0; i < d->state->n_devices; i++)
                if (strv_extend(&w->records, d->state->devices[i].bdf) < 0) {
                        verify_work_free(w);
                        return NULL;
                }
        return job_new(d, &verify_job_type, &LANE_HOST_KEY, w);
}

const Difference *verify_differences(const Job *j, size_t *ret_n) {
        const VerifyWork *w = j->payload;

        *ret_n = w->n_diff;
        return w->diff;
}
