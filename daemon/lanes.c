/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <malloc.h>
#include <sys/eventfd.h>
#include <time.h>

#include "assign.h"
#include "lanes.h"
#include "passthrough.h"
#include "reconcile.h"
#include "safety.h"
#include "vfconfig.h"

Job *job_new(Daemon *d, JobType type, const pci_addr *a) {
        Job *j = calloc(1, sizeof(*j));

        if (!j)
                return NULL;
        j->daemon = d;
        j->type = type;
        j->addr = *a;
        j->autoprobe = -1;
        return j;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        free(j->driver);
        free(j->prior_driver);
        free(j->prior_override);
        free(j->found_driver);
        free(j->found_override);
        sriov_family_free(j->family);
        iommu_host_free(j->groups);
        for (size_t i = 0; i < j->n_peers; i++) {
                free(j->peers[i].prior_driver);
                free(j->peers[i].prior_override);
        }
        free(j->peers);
        vfio_session_free(j->session);
        free(j->dma_valid);
        free(j->dma_reserved);
        assign_work_free(j->assign);
        vfconfig_work_free(j->vfconfig);
        plan_done(&j->plan);
        config_free(j->config);
        strv_free(j->assigned);
        sd_bus_message_unref(j->request);
        return mfree(j);
}

static int strdup_maybe(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

Job *job_clone_intent(const Job *j) {
        _cleanup_(job_freep) Job *c = NULL;

        /* an assignment's work is not simply run again: its completion
         * decides what follows (lane_set_intent()) */
        if (j->type == JOB_ASSIGN_PREPARE || j->type == JOB_ASSIGN_APPLY || j->type == JOB_RELEASE)
                return NULL;
        c = job_new(j->daemon, j->type, &j->addr);
        if (!c)
                return NULL;
        c->count = j->count;
        c->autoprobe = j->autoprobe;
        c->bind_flags = j->bind_flags;
        c->force = j->force;
        c->pt_flags = j->pt_flags;
        c->complete = j->complete;
        c->retry = true;
        c->dry_run = j->dry_run;
        c->config = config_ref(j->config);
        c->rule = j->rule;
        if (strdup_maybe(j->driver, &c->driver) < 0 ||
            strdup_maybe(j->prior_driver, &c->prior_driver) < 0 ||
            strdup_maybe(j->prior_override, &c->prior_override) < 0)
                return NULL;
        return TAKE_PTR(c);
}

/* What a bind or unbind finds before it changes anything. When the kernel
 * holds one of its writes past the timeout, the intent runs it again once
 * the kernel is done, and that run finds the first attempt's half (the
 * function unbound, the override already set): what the first attempt
 * found is what the function had, and what RestoreDriver must put back. */
static void remember_before(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        _cleanup_free_ char *ovr = NULL;

        if (j->retry)
                return;         /* carried over from the first attempt */
        j->prior_driver = mfree(j->prior_driver);
        j->prior_override = mfree(j->prior_override);
        (void) sysfs_dev_link_name(ctx, &j->addr, "driver", &j->prior_driver);
        if (sysfs_dev_read(ctx, &j->addr, "driver_override", &ovr) >= 0) {
                strstrip(ovr);
                if (!isempty(ovr) && !streq(ovr, "(null)"))
                        j->prior_override = TAKE_PTR(ovr);
        }
}

static void adopt_before(Job *j) {
        if (!j->retry || j->r < 0)
                return;
        free(j->found_driver);
        free(j->found_override);
        j->found_driver = TAKE_PTR(j->prior_driver);
        j->found_override = TAKE_PTR(j->prior_override);
        j->r = 1;       /* the binding did change, in two runs */
}

/* Bind, with the checks: the function's VFIO users and host use, and for a
 * user-space driver its IOMMU group (the peers bound along with
 * whole_group; all are put back if one fails). */
static int execute_bind(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        _cleanup_free_ char *cur = NULL;
        pci_addr *peers = NULL;
        size_t n_peers = 0;
        int group, r;

        if (sysfs_dev_link_name(ctx, &j->addr, "driver", &cur) >= 0 && streq(cur, j->driver))
                return sriov_bind(ctx, &j->addr, j->driver, j->bind_flags, &j->found_driver, &j->found_override,
                                  &j->error);
        r = safety_before_unbind(ctx, &j->addr, j->force, &j->error);
        if (r < 0)
                return r;
        if (driver_is_dma_managed(j->driver)) {
                r = passthrough_check(ctx, &j->addr, j->pt_flags | (j->force ? PASSTHROUGH_FORCE : 0), &peers,
                                      &n_peers, &group, &j->error);
                if (r < 0)
                        return r;
        }
        r = sriov_bind(ctx, &j->addr, j->driver, j->bind_flags, &j->found_driver, &j->found_override, &j->error);
        if (r < 0 || n_peers == 0) {
                free(peers);
                return r;
        }
        j->peers = calloc(n_peers, sizeof(*j->peers));
        if (!j->peers) {
                free(peers);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_peers; i++) {
                GroupPeer *p = &j->peers[i];
                int k;

                p->addr = peers[i];
                k = sriov_bind(ctx, &p->addr, j->driver, j->bind_flags, &p->prior_driver, &p->prior_override, &j->error);
                if (k < 0) {
                        /* put the group back as it was */
                        for (size_t b = i; b-- > 0;)
                                (void) sriov_restore_driver(ctx, &j->peers[b].addr, j->peers[b].prior_driver,
                                                            j->peers[b].prior_override, NULL);
                        (void) sriov_restore_driver(ctx, &j->addr, j->found_driver, j->found_override, NULL);
                        free(peers);
                        return k;
                }
                j->n_peers++;
        }
        free(peers);
        return 1;
}

/* SetNumVFs sets sriov_drivers_autoprobe first and goes through 0 to change
 * a non-zero count: when a later step fails, put back what the PF had (its
 * autoprobe setting, then its VF count), so that a refused change leaves it
 * as it was. A write still pending in the kernel is left alone: the lane
 * finishes the intent once the kernel is done. */
static int execute_set_numvfs(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        unsigned cur = 0, ap = 0, now = 0;
        bool have_cur, have_ap;
        sriov_error e = {};
        size_t n;
        int r, k;

        r = safety_before_numvfs(ctx, &j->addr, j->count, j->force, &j->error);
        if (r < 0)
                return r;
        have_cur = sysfs_dev_read_uint(ctx, &j->addr, "sriov_numvfs", 10, &cur) >= 0;
        have_ap = sysfs_dev_read_uint(ctx, &j->addr, "sriov_drivers_autoprobe", 10, &ap) >= 0;
        r = sriov_set_numvfs(ctx, &j->addr, j->count, j->autoprobe, &j->enabled, &j->error);
        if (r >= 0 || r == -ETIMEDOUT)
                return r;

        if (have_ap && j->autoprobe >= 0 && (ap != 0) != (j->autoprobe != 0))
                (void) sysfs_dev_write(ctx, &j->addr, "sriov_drivers_autoprobe", ap ? "1" : "0");
        if (!have_cur || sysfs_dev_read_uint(ctx, &j->addr, "sriov_numvfs", 10, &now) < 0 || now == cur)
                return r;
        k = sriov_set_numvfs(ctx, &j->addr, cur, -1, NULL, &e);
        n = strlen(j->error.message);
        if (k >= 0)
                (void) snprintf(j->error.message + n, sizeof(j->error.message) - n, "; the %u VFs it had were created again", cur);
        else
                (void) snprintf(j->error.message + n, sizeof(j->error.message) - n,
                                "; putting back its %u VFs failed too, it has %u now: %s", cur, now, e.message);
        /* the kernel still holds the put-back: the lane waits for it */
        return k == -ETIMEDOUT ? k : r;
}

static void execute_dma(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        _cleanup_(vfio_session_freep) vfio_session *s = NULL;

        j->r = vfio_session_open(ctx, &j->addr, j->vfio_flags, &s, &j->error);
        if (j->r < 0)
                return;
        if (j->type != JOB_DMA_CHECK) {
                j->session = TAKE_PTR(s);
                return;
        }
        j->r = vfio_session_self_test(s, &j->self_test, &j->error);
        /* no IOVA space, a mapping the kernel lost: the IOMMU failed the
         * test — not a pool or a driver (what those errno name) */
        if (j->r == -ENOSPC || j->r == -ENOENT)
                j->r = -EIO;
        /* the reply reports the session's ranges; the session itself is
         * closed here, before the reply: the group is free when it arrives */
        j->dma_valid = TAKE_PTR(s->valid);
        j->n_dma_valid = s->n_valid;
        s->n_valid = 0;
        j->dma_reserved = TAKE_PTR(s->reserved);
        j->n_dma_reserved = s->n_reserved;
        s->n_reserved = 0;
}

static void job_execute(Job *j) {
        sriov_ctx *ctx = j->daemon->ctx;
        Lane *l = j->lane;
        unsigned abandoned = sysfs_writes_abandoned();

        switch (j->type) {
        case JOB_SET_NUMVFS:
                j->r = execute_set_numvfs(j);
                break;
        case JOB_BIND:
                remember_before(j);
                j->r = execute_bind(j);
                adopt_before(j);
                break;
        case JOB_UNBIND:
                remember_before(j);
                j->r = safety_before_unbind(ctx, &j->addr, j->force, &j->error);
                if (j->r >= 0)
                        j->r = sriov_unbind(ctx, &j->addr, &j->found_driver, &j->error);
                adopt_before(j);
                break;
        case JOB_RESTORE:
                j->r = safety_before_unbind(ctx, &j->addr, j->force, &j->error);
                for (size_t i = 0; j->r >= 0 && i < j->n_peers; i++)
                        j->r = safety_before_unbind(ctx, &j->peers[i].addr, j->force, &j->error);
                if (j->r >= 0)
                        j->r = sriov_restore_driver(ctx, &j->addr, j->prior_driver, j->prior_override, &j->error);
                for (size_t i = 0; j->r >= 0 && i < j->n_peers; i++)
                        j->r = sriov_restore_driver(ctx, &j->peers[i].addr, j->peers[i].prior_driver,
                                                    j->peers[i].prior_override, &j->error);
                break;
        case JOB_REPROBE:
                j->r = safety_before_unbind(ctx, &j->addr, j->force, &j->error);
                if (j->r >= 0)
                        j->r = sriov_reprobe(ctx, &j->addr, &j->found_driver, &j->error);
                break;
        case JOB_OPEN_DEVICE:
        case JOB_DMA_CHECK:
                execute_dma(j);
                return;
        case JOB_ASSIGN_PREPARE:
                j->r = assign_execute_prepare(ctx, &j->addr, j->assign, &j->error);
                return;         /* nothing changed: no need to read back */
        case JOB_ASSIGN_APPLY:
                j->r = assign_execute_apply(ctx, &j->addr, j->assign, &j->error);
                break;
        case JOB_RELEASE:
                j->r = assign_execute_release(ctx, &j->addr, j->assign, &j->error);
                break;
        case JOB_VF_GET:
                j->r = vfconfig_execute(ctx, &j->addr, false, j->vfconfig, &j->error);
                return;
        case JOB_VF_SET:
                j->r = vfconfig_execute(ctx, &j->addr, true, j->vfconfig, &j->error);
                break;
        case JOB_GROUPS:
                j->r = iommu_host_scan(ctx, NULL, &j->groups);
                return;
        case JOB_APPLY:
                j->r = plan_pf(ctx, j->rule, &j->addr, !j->dry_run, j->assigned, &j->plan);
                if (j->dry_run)
                        return;
                break;
        case JOB_REFRESH:
                j->r = 0;
                if (j->trigger_seqnum > 0) {
                        bool covered;

                        pthread_mutex_lock(&j->daemon->lock);
                        covered = l->covered_seqnum >= j->trigger_seqnum;
                        pthread_mutex_unlock(&j->daemon->lock);
                        if (covered)
                                return; /* a read since then saw it all */
                }
                break;
        }
        /* Never read a device whose write is still blocked in the kernel:
         * reads may block too, and what they show is not the final state.
         * A wait that ran out (VFs that did not appear in time) holds
         * nothing: the device is read, and the lane goes on. */
        j->held = j->r == -ETIMEDOUT && sysfs_writes_abandoned() != abandoned;
        if (!j->held) {
                int r = sriov_family_load(ctx, &j->addr, &j->family);
                if (r < 0 && j->r >= 0)
                        j->r = sriov_error_set(&j->error, r, "Cannot read the device back: %s", strerror(-r));
                if (r >= 0 && pci_addr_equal(&j->addr, &l->key)) {
                        pthread_mutex_lock(&j->daemon->lock);
                        l->covered_seqnum = MAX(l->covered_seqnum, j->family->seqnum);
                        pthread_mutex_unlock(&j->daemon->lock);
                }
        }
}

static void wake_loop(Daemon *d) {
        uint64_t one = 1;

        (void) !write(d->done_fd, &one, sizeof(one));
}

static void push_done_locked(Daemon *d, Job *j) {
        j->next = NULL;
        if (d->done_tail)
                d->done_tail->next = j;
        else
                d->done_head = j;
        d->done_tail = j;
}

static void *worker(void *userdata) {
        Lane *l = userdata;
        Daemon *d = l->daemon;

        for (;;) {
                Job *j;

                pthread_mutex_lock(&d->lock);
                j = l->head;
                if (!j) {
                        l->running = false;
                        d->workers--;
                        pthread_cond_broadcast(&d->workers_cond);
                        pthread_mutex_unlock(&d->lock);
                        return NULL;
                }
                l->head = j->next;
                if (!l->head)
                        l->tail = NULL;
                pthread_mutex_unlock(&d->lock);

                job_execute(j);

                pthread_mutex_lock(&d->lock);
                push_done_locked(d, j);
                if (j->held) {
                        /* The kernel still holds a write of this lane: fail
                         * what waits behind it rather than block on it too. */
                        l->pending = true;
                        while (l->head) {
                                Job *k = l->head;

                                l->head = k->next;
                                k->r = sriov_error_set(&k->error, -EINPROGRESS,
                                                       "An earlier operation on this device is still pending in the kernel");
                                push_done_locked(d, k);
                        }
                        l->tail = NULL;
                }
                pthread_mutex_unlock(&d->lock);
                wake_loop(d);
        }
}

pci_addr daemon_lane_key(Daemon *d, const pci_addr *a) {
        const sriov_device *dev = sriov_host_find(d->host, a);
        uint32_t rid = pci_addr_rid(a);

        if (dev && dev->is_vf)
                return dev->physfn;
        if (dev)
                return *a;
        /* not known yet: a VF being created belongs to the PF whose VF
         * routing-id range holds it */
        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *pf = d->host->devices[i];
                uint32_t first, last;

                if (!pf->is_pf || pf->addr.domain != a->domain || pf->sriov.total_vfs == 0)
                        continue;
                first = pci_addr_rid(&pf->addr) + pf->sriov.offset;
                last = first + pf->sriov.stride * (pf->sriov.total_vfs - 1);
                if (rid >= first && rid <= last && pf->sriov.stride > 0 && (rid - first) % pf->sriov.stride == 0)
                        return pf->addr;
        }
        return *a;
}

Lane *daemon_lane_for(Daemon *d, const pci_addr *a) {
        pci_addr key = daemon_lane_key(d, a);
        Lane *l;

        for (l = d->lanes; l; l = l->next)
                if (pci_addr_equal(&l->key, &key))
                        return l;
        l = calloc(1, sizeof(*l));
        if (!l)
                return NULL;
        l->key = key;
        l->daemon = d;
        pthread_mutex_lock(&d->lock);
        l->next = d->lanes;
        d->lanes = l;
        pthread_mutex_unlock(&d->lock);
        return l;
}

uint64_t lane_covered_seqnum(Daemon *d, Lane *l) {
        uint64_t s;

        pthread_mutex_lock(&d->lock);
        s = l->covered_seqnum;
        pthread_mutex_unlock(&d->lock);
        return s;
}

int lane_submit_refresh(Daemon *d, const pci_addr *a, uint64_t seqnum, bool then_apply) {
        Lane *l = daemon_lane_for(d, a);
        Job *j;
        int r;

        if (!l)
                return -ENOMEM;
        pthread_mutex_lock(&d->lock);
        for (j = l->head; j; j = j->next)
                if (j->type == JOB_REFRESH && pci_addr_equal(&j->addr, a)) {
                        j->trigger_seqnum = seqnum && j->trigger_seqnum ? MAX(seqnum, j->trigger_seqnum) : 0;
                        j->then_apply = j->then_apply || then_apply;
                        pthread_mutex_unlock(&d->lock);
                        return 0;
                }
        pthread_mutex_unlock(&d->lock);

        j = job_new(d, JOB_REFRESH, a);
        if (!j)
                return -ENOMEM;
        j->lane = l;
        j->trigger_seqnum = seqnum;
        j->then_apply = then_apply;
        r = lane_submit(d, j);
        if (r < 0)
                job_free(j);
        return r;
}

bool lane_is_pending(Daemon *d, Lane *l) {
        bool p;

        pthread_mutex_lock(&d->lock);
        p = l->pending;
        pthread_mutex_unlock(&d->lock);
        return p;
}

bool lane_is_busy(Daemon *d, Lane *l) {
        bool b;

        pthread_mutex_lock(&d->lock);
        b = l->pending || l->running || l->head;
        pthread_mutex_unlock(&d->lock);
        return b;
}

int lane_submit(Daemon *d, Job *j) {
        Lane *l = j->lane ?: daemon_lane_for(d, &j->addr);
        pthread_attr_t attr;
        pthread_t t;
        int r = 0;

        if (!l)
                return -ENOMEM;
        j->lane = l;
        pthread_mutex_lock(&d->lock);
        if (l->pending) {
                pthread_mutex_unlock(&d->lock);
                return -EINPROGRESS;
        }
        j->next = NULL;
        if (l->tail)
                l->tail->next = j;
        else
                l->head = j;
        l->tail = j;
        if (!l->running) {
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                r = -pthread_create(&t, &attr, worker, l);
                pthread_attr_destroy(&attr);
                if (r < 0) {
                        /* take the job back out */
                        l->head = l->tail = NULL;
                } else {
                        l->running = true;
                        d->workers++;
                }
        }
        pthread_mutex_unlock(&d->lock);
        return r;
}

int lane_set_intent(Daemon *d, Job *j) {
        Lane *l = j->lane ?: daemon_lane_for(d, &j->addr);

        if (!l)
                return -ENOMEM;
        if (!lane_is_pending(d, l))
                return -ESRCH;
        j->lane = l;
        job_free(l->intent);
        l->intent = j;
        return 0;
}

void lanes_late_write(const char *path, const char *value, int result, void *userdata) {
        Daemon *d = userdata;
        LateWrite *w;
        pci_addr a;
        const char *p;

        /* The device is named by the value (unbind, drivers_probe) or by the
         * path (bus/pci/devices/BDF/sriov_numvfs). */
        if (pci_addr_parse(value, &a) < 0) {
                char bdf[PCI_ADDR_STRLEN] = "";

                p = strstr(path, "/bus/pci/devices/");
                if (!p)
                        return;
                p += strlen("/bus/pci/devices/");
                (void) snprintf(bdf, sizeof(bdf), "%.*s", (int) strcspn(p, "/"), p);
                if (pci_addr_parse(bdf, &a) < 0)
                        return;
        }
        w = calloc(1, sizeof(*w));
        if (!w)
                return;
        w->addr = a;
        w->result = result;
        w->path = strdup(path);
        pthread_mutex_lock(&d->lock);
        w->next = d->late_head;
        d->late_head = w;
        pthread_mutex_unlock(&d->lock);
        wake_loop(d);
}

unsigned lanes_wait_idle(Daemon *d, uint64_t timeout_usec) {
        struct timespec deadline;
        unsigned n;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += (time_t) (timeout_usec / 1000000ULL);
        deadline.tv_nsec += (long) (timeout_usec % 1000000ULL) * 1000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&d->lock);
        while (d->workers > 0)
                if (pthread_cond_timedwait(&d->workers_cond, &d->lock, &deadline) != 0)
                        break;
        n = d->workers;
        pthread_mutex_unlock(&d->lock);
        return n;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata);

int lanes_setup(Daemon *d) {
        int r;

        pthread_mutex_init(&d->lock, NULL);
        pthread_cond_init(&d->workers_cond, NULL);
        d->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d->done_fd < 0)
                return negative_errno();
        r = sd_event_add_io(d->event, &d->done_source, d->done_fd, EPOLLIN, on_done, d);
        if (r < 0)
                return r;
        sriov_ctx_set_late_callback(d->ctx, lanes_late_write, d);
        return 0;
}

void lanes_done(Daemon *d) {
        while (d->lanes) {
                Lane *l = d->lanes;

                d->lanes = l->next;
                job_free(l->intent);
                free(l->pending_what);
                sd_event_source_unref(l->retry_source);
                while (l->head) {
                        Job *j = l->head;
                        l->head = j->next;
                        job_free(j);
                }
                free(l);
        }
        while (d->done_head) {
                Job *j = d->done_head;
                d->done_head = j->next;
                job_free(j);
        }
        while (d->late_head) {
                LateWrite *w = d->late_head;
                d->late_head = w->next;
                free(w->path);
                free(w);
        }
        d->done_source = sd_event_source_disable_unref(d->done_source);
        d->done_fd = safe_close(d->done_fd);
        pthread_cond_destroy(&d->workers_cond);
        pthread_mutex_destroy(&d->lock);
}

static Lane *lane_find(Daemon *d, const pci_addr *key) {
        for (Lane *l = d->lanes; l; l = l->next)
                if (pci_addr_equal(&l->key, key))
                        return l;
        return NULL;
}

static void handle_job(Daemon *d, Job *j) {
        if (j->type == JOB_REFRESH) {
                char bdf[PCI_ADDR_STRLEN];

                if (j->family)
                        log_debug("Re-read %s%s", pci_addr_format(&j->addr, bdf),
                                  j->family->n_vfs ? " and its VFs" : "");
                else
                        log_debug("Skipped re-reading %s: a newer read covers its events", pci_addr_format(&j->addr, bdf));
        }
        if (j->family) {
                int r = daemon_merge_family(d, TAKE_PTR(j->family));
                if (r < 0)
                        log_warning_errno(r, "Failed to update the device model: %m");
        }
        if (j->held) {
                /* remember what to finish once the kernel is done */
                job_free(j->lane->intent);
                j->lane->intent = j->type == JOB_REFRESH ? NULL : job_clone_intent(j);
                free(j->lane->pending_what);
                j->lane->pending_what = strdup(j->error.error ? j->error.message : "a kernel write");
                log_warning("%s", j->lane->pending_what);
        }
        if (j->type == JOB_REFRESH && j->then_apply)
                daemon_reapply(d, &j->addr, "it reappeared or its driver was bound again");
        if (j->complete)
                j->complete(j);
        job_free(j);
}

/* After the host was read or large families were read again (a uevent
 * storm: every PF with its thousands of VFs, read while the old model is
 * still in use), once the work is done and nothing waits: drop libpci's
 * parsed pci.ids (~2 MB; the names found are remembered per ids, lib/
 * pcilib.c) and give the heap's free pages back. With 2048 VFs this was
 * 8.4 MiB RSS after the storm, 1.5 MiB more than when started on the same
 * host (docs/benchmarks.md); and after a large reply (DescribeDevices,
 * ListDevices of thousands) has left. Checked after every event loop
 * iteration (a post source, which never wakes the loop up); the work is
 * done only when it is due. */
void daemon_trim_when_idle(Daemon *d) {
        uint64_t queued = 0;
        bool idle;

        if (!d->trim_due || d->n_dirty > 0 ||
            (d->bus && sd_bus_get_n_queued_write(d->bus, &queued) >= 0 && queued > 0))
                return;
        pthread_mutex_lock(&d->lock);
        idle = d->workers == 0 && !d->done_head;
        pthread_mutex_unlock(&d->lock);
        if (!idle)
                return;
        d->trim_due = false;
        sriov_ctx_drop_pci_ids(d->ctx);
        (void) malloc_trim(0);
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;
        LateWrite *late, *keep = NULL;
        uint64_t v;
        Job *jobs;

        (void) !read(fd, &v, sizeof(v));

        pthread_mutex_lock(&d->lock);
        jobs = d->done_head;
        d->done_head = d->done_tail = NULL;
        late = d->late_head;
        d->late_head = NULL;
        pthread_mutex_unlock(&d->lock);

        while (jobs) {
                Job *j = jobs;

                jobs = j->next;
                handle_job(d, j);
        }

        while (late) {
                LateWrite *w = late;
                const sriov_device *dev = sriov_host_find(d->host, &w->addr);
                pci_addr key = dev && dev->is_vf ? dev->physfn : w->addr;
                Lane *l = lane_find(d, &key);
                bool pending, running;

                late = w->next;
                if (!l) {
                        free(w->path);
                        free(w);
                        continue;
                }
                pthread_mutex_lock(&d->lock);
                pending = l->pending;
                running = l->running;
                if (pending)
                        l->pending = false;
                pthread_mutex_unlock(&d->lock);
                if (pending)
                        l->pending_what = mfree(l->pending_what);
                if (!pending && running) {
                        /* the worker has not reported the timeout yet */
                        w->next = keep;
                        keep = w;
                        continue;
                }
                if (w->result < 0)
                        log_warning_errno(w->result, "The pending kernel write to %s finished late and failed: %m", w->path);
                else
                        log_notice("The pending kernel write to %s finished late", w->path);
                if (pending) {
                        Job *intent = TAKE_PTR(l->intent);
                        int r;

                        if (!intent)
                                intent = job_new(d, JOB_REFRESH, &key);
                        if (intent) {
                                intent->lane = l;
                                r = lane_submit(d, intent);
                                if (r < 0) {
                                        log_warning_errno(r, "Cannot finish the pending operation: %m");
                                        job_free(intent);
                                }
                        }
                }
                daemon_mark_dirty(d, &w->addr, 0);
                free(w->path);
                free(w);
        }
        if (keep) {
                pthread_mutex_lock(&d->lock);
                for (LateWrite *w = keep, *n; w; w = n) {
                        n = w->next;
                        w->next = d->late_head;
                        d->late_head = w;
                }
                pthread_mutex_unlock(&d->lock);
        }
        return 0;
}
