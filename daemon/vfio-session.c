/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* VFIO for a caller: a session with DMA remapping set up (VFIO container
 * with type1v2, or an iommufd IOAS) whose fds are handed over, the DMA
 * self-test, and the ownership of a device's VFIO nodes. */

#include <sys/stat.h>

#include "ledger.h"
#include "state.h"
#include "vfio-session.h"

static void vfio_work_free(void *p) {
        VfioWork *w = p;

        vfio_session_free(w->session);
        free(w->valid);
        free(w->reserved);
        free(w);
}

static void open_execute(Job *j) {
        VfioWork *w = j->payload;

        j->r = vfio_session_open(j->daemon->ctx, &j->addr, w->flags, &w->session, &j->error);
}

static void dma_check_execute(Job *j) {
        _cleanup_(vfio_session_freep) vfio_session *s = NULL;
        VfioWork *w = j->payload;

        j->r = vfio_session_open(j->daemon->ctx, &j->addr, w->flags, &s, &j->error);
        if (j->r < 0)
                return;
        j->r = vfio_session_self_test(s, &w->self_test, &j->error);
        /* no IOVA space, a mapping the kernel lost: the IOMMU failed the
         * test — not a pool or a driver (what those errno name) */
        if (j->r == -ENOSPC || j->r == -ENOENT)
                j->r = -EIO;
        /* the reply reports the session's ranges; the session itself is
         * closed here, before the reply: the group is free when it arrives */
        w->valid = TAKE_PTR(s->valid);
        w->n_valid = s->n_valid;
        s->n_valid = 0;
        w->reserved = TAKE_PTR(s->reserved);
        w->n_reserved = s->n_reserved;
        s->n_reserved = 0;
}

const JobType open_device_job_type = { .name = "open-device", .execute = open_execute, .free = vfio_work_free };
const JobType dma_check_job_type = { .name = "dma-check", .execute = dma_check_execute, .free = vfio_work_free };

/* Before a node changes hands: what it has now (the first change only). */
static int record_node(Daemon *d, const sriov_device *dev, const char *node) {
        struct stat st;

        if (stat(node, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();     /* ENOENT: e.g. no cdev */
        return state_record_node(d->state, node, st.st_uid, st.st_gid, st.st_mode & 07777, dev->bdf);
}

static int hand_over(const char *node, uid_t uid, gid_t gid) {
        if (chown(node, uid, gid) < 0 || chmod(node, 0660) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return 1;
}

/* One node given back as recorded. */
static int give_back(Daemon *d, const char *node) {
        const StateNode *sn = state_find_node(d->state, node);

        if (!sn)
                return 0;
        if ((chown(node, sn->uid, sn->gid) < 0 || chmod(node, sn->mode & 07777) < 0) && errno != ENOENT)
                return negative_errno();
        (void) state_forget_node(d->state, node);
        return 1;
}

/* Hand over: every node recorded (on disk) before the first changes hands. */
static int hand_over_all(Daemon *d, const sriov_device *dev, char **nodes, uid_t uid, gid_t gid, char ***changed,
                         sriov_error *e) {
        int r;

        STRV_FOREACH(n, nodes) {
                r = record_node(d, dev, *n);
                if (r < 0)
                        return sriov_error_set(e, r, "Cannot look at %s: %s", *n, strerror(-r));
        }
        r = ledger_commit(d, e);
        if (r < 0)
                return r;
        STRV_FOREACH(n, nodes) {
                r = hand_over(*n, uid, gid);
                if (r > 0)
                        r = strv_extend(changed, *n);
                if (r < 0)
                        return sriov_error_set(e, r, "Cannot hand %s over: %s", *n, strerror(-r));
        }
        return 0;
}

static int give_back_all(Daemon *d, char **nodes, char ***changed, sriov_error *e) {
        int r = 0;

        STRV_FOREACH(n, nodes) {
                r = give_back(d, *n);
                if (r > 0)
                        r = strv_extend(changed, *n);
                if (r < 0)
                        break;
        }
        ledger_save(d);
        return r < 0 ? sriov_error_set(e, r, "Cannot give the nodes back: %s", strerror(-r)) : 0;
}

int vfio_nodes_owner(Daemon *d, const sriov_device *dev, bool reset, uid_t uid, gid_t gid, char ***ret_changed,
                     sriov_error *e) {
        _cleanup_strv_free_ char **nodes = NULL, **changed = NULL;
        int r;

        r = vfio_device_nodes(d->ctx, &dev->addr, &nodes);
        if (r < 0)
                return r;
        if (!nodes)
                return sriov_error_set(e, -EBADFD, "The device has no VFIO nodes (not bound to vfio-pci, or no IOMMU)");
        r = reset ? give_back_all(d, nodes, &changed, e) : hand_over_all(d, dev, nodes, uid, gid, &changed, e);
        if (r < 0)
                return r;
        if (!changed && !reset)
                return sriov_error_set(e, -EBADFD, "The device's VFIO nodes do not exist");
        log_info("%s the VFIO nodes of %s%s", reset ? "Gave back" : "Handed over", dev->bdf,
                 reset ? "" : " to a VMM user");
        *ret_changed = TAKE_PTR(changed);
        return 0;
}
