/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* VFIO for a caller: a session with DMA remapping set up (VFIO container
 * with type1v2, or an iommufd IOAS) whose fds are handed over, the DMA
 * self-test, and the ownership of a device's VFIO nodes. */

#include <sys/stat.h>

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

/* One node handed to uid:gid; the first change of it recorded (what to give back). */
static int hand_over(Daemon *d, const sriov_device *dev, const char *node, uid_t uid, gid_t gid, bool *save) {
        struct stat st;

        if (stat(node, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();     /* ENOENT: e.g. no cdev */
        if (state_record_node(d->state, node, st.st_uid, st.st_gid, st.st_mode & 07777, dev->bdf) > 0)
                *save = true;
        if (chown(node, uid, gid) < 0 || chmod(node, 0660) < 0)
                return negative_errno();
        return 1;
}

/* One node given back as recorded. */
static int give_back(Daemon *d, const char *node, bool *save) {
        const StateNode *sn = state_find_node(d->state, node);

        if (!sn)
                return 0;
        if ((chown(node, sn->uid, sn->gid) < 0 || chmod(node, sn->mode & 07777) < 0) && errno != ENOENT)
                return negative_errno();
        (void) state_forget_node(d->state, node);
        *save = true;
        return 1;
}

int vfio_nodes_owner(Daemon *d, const sriov_device *dev, bool reset, uid_t uid, gid_t gid, char ***ret_changed,
                     const char **ret_message) {
        _cleanup_strv_free_ char **nodes = NULL, **changed = NULL;
        bool save = false;
        int r;

        r = vfio_device_nodes(d->ctx, &dev->addr, &nodes);
        if (r < 0)
                return r;
        if (!nodes) {
                *ret_message = "The device has no VFIO nodes (not bound to vfio-pci, or no IOMMU)";
                return -EBADFD;
        }
        STRV_FOREACH(n, nodes) {
                r = reset ? give_back(d, *n, &save) : hand_over(d, dev, *n, uid, gid, &save);
                if (r > 0)
                        r = strv_extend(&changed, *n);
                if (r < 0)
                        break;
        }
        if (save && state_save(d->state) < 0)
                log_error("Failed to write the state file");
        if (r < 0)
                return r;
        if (!changed && !reset) {
                *ret_message = "The device's VFIO nodes do not exist";
                return -EBADFD;
        }
        log_info("%s the VFIO nodes of %s%s", reset ? "Gave back" : "Handed over", dev->bdf,
                 reset ? "" : " to a VMM user");
        *ret_changed = TAKE_PTR(changed);
        return 0;
}
