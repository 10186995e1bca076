/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The rtnetlink subscription and each PF's link (observe.h). */

#include <net/if.h>

#include "journal.h"
#include "lanes.h"
#include "metrics.h"
#include "observe.h"
#include "vfconfig.h"

/* ---- the PF's read, on its lane ---- */

typedef struct LinkWork {
        char *ifname;                   /* NULL: the PF has no interface */
        int info_r;
        sriov_link_info info;
        int speed;
        char *rdma;
        int vfs_r;
        sriov_link vfs;
} LinkWork;

static void link_work_free(void *p) {
        LinkWork *w = p;

        free(w->ifname);
        free(w->rdma);
        sriov_link_done(&w->vfs);
        free(w);
}

/* Order: the interface (net/) → its link (RTM_GETLINK) → speed (sysfs) →
 * the RDMA device → the VFs' settings (RTM_GETLINK with RTEXT_FILTER_VF). */
static void link_execute(Job *j) {
        LinkWork *w = j->payload;
        sriov_ctx *ctx = j->daemon->ctx;

        j->r = 0;
        w->speed = -1;
        w->info_r = w->vfs_r = -ENOENT;
        (void) sriov_device_rdma(ctx, &j->addr, &w->rdma);
        if (pf_interface(ctx, &j->addr, &w->ifname) < 0)
                return;
        w->info_r = sriov_link_info_get(w->ifname, &w->info, NULL);
        if (w->info_r >= 0 && (w->info.flags & IFF_UP))
                (void) sriov_netdev_speed(ctx, w->ifname, &w->speed);
        w->vfs_r = sriov_link_get(w->ifname, &w->vfs, NULL);
}

static void link_complete(Job *j);

static const JobType link_job_type = { .name = "link-read", .execute = link_execute, .free = link_work_free };

static void merge_nothing(Job *queued, const Job *j) {
}

void linkwatch_refresh(Daemon *d, const pci_addr *pf) {
        LinkWork *w;
        Job *j;
        int r;

        if (!d->observe || d->shutting_down)
                return;
        w = calloc(1, sizeof(*w));
        j = w ? job_new(d, &link_job_type, pf, w) : NULL;
        if (!j)
                return (void) log_warning("Out of memory: the link of a PF is not read");
        j->complete = link_complete;
        r = lane_submit_coalesced(d, j, merge_nothing);
        if (r < 0 && r != -EINPROGRESS)
                log_warning_errno(r, "Cannot queue a read of a PF's link: %m");
}

/* ---- the table ---- */

static PFLink *link_get(Observe *o, const char *pf, bool create) {
        PFLink *a;

        for (size_t i = 0; i < o->n_links; i++)
                if (streq(o->links[i].pf, pf))
                        return &o->links[i];
        if (!create)
                return NULL;
        a = realloc(o->links, (o->n_links + 1) * sizeof(*a));
        if (!a)
                return NULL;
        o->links = a;
        a[o->n_links] = (PFLink) { .carrier = -1, .operstate = -1, .speed = -1 };
        (void) snprintf(a[o->n_links].pf, PCI_ADDR_STRLEN, "%s", pf);
        return &a[o->n_links++];
}

static void link_forget(Observe *o, const char *pf) {
        PFLink *l = link_get(o, pf, false);

        if (!l)
                return;
        free(l->rdma);
        *l = o->links[--o->n_links];
}

const PFLink *observe_pf_link(Daemon *d, const char *pf) {
        PFLink *l = d->observe ? link_get(d->observe, pf, false) : NULL;

        return l && l->known ? l : NULL;
}

static bool link_down(const PFLink *l) {
        return l->known && l->ifname[0] && (!l->admin_up || l->carrier == 0);
}

static bool link_equal(const PFLink *a, const PFLink *b) {
        return a->known == b->known && streq(a->ifname, b->ifname) && a->admin_up == b->admin_up &&
               a->carrier == b->carrier && a->operstate == b->operstate && a->type == b->type && a->speed == b->speed &&
               streq(strempty(a->rdma), strempty(b->rdma));
}

static void log_link_change(const PFLink *before, const PFLink *now) {
        LogFields f = { .device = now->pf, .pf = now->pf };

        if (!before->known || !now->ifname[0] || link_down(before) == link_down(now))
                return;
        if (link_down(now))
                log_event(EVENT_LINK, 4, &f, "%s (%s): link down (%s); its VFs are unhealthy", now->pf, now->ifname,
                          !now->admin_up ? "administratively down" : "no carrier");
        else
                log_event(EVENT_LINK, 6, &f, "%s (%s): link up, %d Mbit/s", now->pf, now->ifname, now->speed);
}

/* Tell the outside: the PF's properties, and the health of its VFs when
 * the link went down or came back. */
static void emit_link_change(Daemon *d, const sriov_device *pf, bool health) {
        if (!d->events || !d->events->device_changed)
                return;
        d->events->device_changed(d, SRIOV_DEVICE_CHANGED, pf);
        for (size_t i = 0; health && i < pf->n_vfs; i++)
                if (pf->vfs[i])
                        d->events->device_changed(d, SRIOV_DEVICE_CHANGED, pf->vfs[i]);
}

static void link_update(Daemon *d, const sriov_device *pf, const PFLink *now) {
        PFLink *l = link_get(d->observe, pf->bdf, true);
        PFLink before;

        if (!l)
                return;
        before = *l;
        if (link_equal(&before, now))
                return;
        free(l->rdma);
        *l = *now;
        l->rdma = now->rdma ? strdup(now->rdma) : NULL;
        log_link_change(&before, l);
        emit_link_change(d, pf, link_down(&before) != link_down(l) || !before.known);
}

static void link_from_work(const sriov_device *pf, const LinkWork *w, PFLink *ret) {
        *ret = (PFLink) { .known = true, .carrier = -1, .operstate = -1, .speed = w->speed, .rdma = w->rdma };
        (void) snprintf(ret->pf, PCI_ADDR_STRLEN, "%s", pf->bdf);
        if (!w->ifname || w->info_r < 0)
                return;
        (void) snprintf(ret->ifname, sizeof(ret->ifname), "%s", w->ifname);
        ret->admin_up = w->info.flags & IFF_UP;
        ret->carrier = w->info.carrier;
        ret->operstate = w->info.operstate;
        ret->type = w->info.type;
}

static void link_complete(Job *j) {
        Daemon *d = j->daemon;
        LinkWork *w = j->payload;
        const sriov_device *pf = sriov_host_find(d->host, &j->addr);
        Lane *l = j->lane;
        PFLink now;

        if (!pf || !pf->is_pf || !d->observe)
                return;
        link_from_work(pf, w, &now);
        link_update(d, pf, &now);
        /* sriovd's own work on this PF queued since: compare after it */
        if (l && lane_is_busy(d, l)) {
                linkwatch_refresh(d, &j->addr);
                return;
        }
        if (d->ready_sent && w->vfs_r >= 0)
                drift_check(d, pf, &w->vfs);
}

/* ---- notifications ---- */

static const sriov_device *pf_of_interface(Daemon *d, const char *ifname) {
        for (size_t i = 0; i < d->host->n_devices; i++) {
                const sriov_device *dev = d->host->devices[i];

                if (!dev->is_pf)
                        continue;
                STRV_FOREACH(n, dev->netdevs)
                        if (streq(*n, ifname))
                                return dev;
        }
        return NULL;
}

/* What the notification says, at once (the read on the lane brings the
 * speed and the VFs' settings); a PF's interface only. */
static void on_notification(const sriov_link_info *info, void *userdata) {
        Daemon *d = userdata;
        const sriov_device *pf = pf_of_interface(d, info->ifname);
        PFLink *cur, now;

        d->observe->n_notifications++;
        if (!pf)
                return;
        cur = link_get(d->observe, pf->bdf, false);
        if (cur && cur->known && !info->deleted) {
                now = *cur;
                now.admin_up = info->flags & IFF_UP;
                now.carrier = info->carrier;
                now.operstate = info->operstate;
                now.type = info->type;
                if (!now.admin_up || now.carrier == 0)
                        now.speed = -1;
                link_update(d, pf, &now);
        }
        linkwatch_refresh(d, &pf->addr);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;
        int r;

        r = sriov_linkmon_read(d->observe->mon, on_notification, d);
        if (r == -ENOBUFS) {
                /* the kernel dropped some: read every PF again */
                d->observe->n_resyncs++;
                log_notice("Link notifications were lost (the socket overran); reading every PF again");
                observe_read_all(d);
        } else if (r < 0)
                log_warning_errno(r, "Cannot read link notifications: %m");
        return 0;
}

int observe_setup(Daemon *d) {
        Observe *o = calloc(1, sizeof(*o));
        int r;

        if (!o)
                return -ENOMEM;
        d->observe = o;
        r = metrics_new(&o->metrics);
        if (r < 0)
                return r;
        r = sriov_linkmon_open(&o->mon);
        if (r < 0) {
                log_warning_errno(r, "Cannot subscribe to link notifications, PF links and drift are not watched: %m");
                return 0;
        }
        r = sd_event_add_io(d->event, &o->source, sriov_linkmon_fd(o->mon), EPOLLIN, on_readable, d);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(o->source, "link-notifications");
        return 0;
}

void observe_done(Daemon *d) {
        Observe *o = d->observe;

        if (!o)
                return;
        sd_event_source_disable_unref(o->source);
        sriov_linkmon_free(o->mon);
        for (size_t i = 0; i < o->n_links; i++)
                free(o->links[i].rdma);
        free(o->links);
        drift_forget_pf(d, NULL);
        metrics_free(o->metrics);
        d->observe = mfree(o);
}

void observe_read_all(Daemon *d) {
        for (size_t i = 0; d->observe && i < d->host->n_devices; i++)
                if (d->host->devices[i]->is_pf)
                        linkwatch_refresh(d, &d->host->devices[i]->addr);
}

void observe_device_changed(Daemon *d, sriov_change change, const sriov_device *dev) {
        if (!d->observe)
                return;
        if (dev->is_pf && change == SRIOV_DEVICE_REMOVED) {
                link_forget(d->observe, dev->bdf);
                drift_forget_pf(d, dev->bdf);
        } else if (dev->is_pf)
                linkwatch_refresh(d, &dev->addr);
}
