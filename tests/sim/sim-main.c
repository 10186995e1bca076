/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sriov-sim TOPOLOGY.json MOUNTPOINT [--uevents] [--log FILE] [-d]
 *
 * FUSE glue (the low-level API: an inode is a node of the tree, its
 * nodeid the node's address, referenced while the kernel's lookup count is
 * not zero). Attribute opens, reads and writes behave as kernfs/sysfs files
 * do (permission checks against the attribute's show/store, a show()
 * snapshot taken when reading from offset 0, one store() per write(2),
 * -ENODEV once the attribute is gone).
 *
 * What the kernel may cache, and why that is safe:
 *   - the entry of every node it looks up, and the attributes of
 *     directories and links, with no timeout: every change to them is
 *     queued by sim-tree.c and told to the kernel (FUSE_NOTIFY_INVAL_ENTRY
 *     for a removed node and the nodes below it that the kernel knows,
 *     FUSE_NOTIFY_INVAL_INODE, attributes only, for a directory that gained
 *     or lost a child) before sim->lock is released, so no one can act on a
 *     change the kernel's caches have not seen; a node created again under
 *     the same name is a new node, a new inode; chmod/chown/utimens go
 *     through the kernel;
 *   - symlink targets (FUSE_CAP_CACHE_SYMLINKS): a link never changes, it
 *     is removed and created again;
 *   - nothing that does not exist (failed lookups are not cached), no
 *     attribute's contents (direct I/O: every read runs show()) and no
 *     attribute's attributes (see ll_getattr()).
 * The invalidations wait for the kernel's lookups in the directory
 * concerned, which are answered under the tree lock alone: lookup,
 * getattr, setattr, readlink and readdir never take sim->lock. */

#define FUSE_USE_VERSION 312

#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>
#include <getopt.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "sim.h"
#include "util.h"

/* no timeout: the kernel is told of every change (see above) */
#define CACHE_TIMEOUT (365.0 * 24 * 3600)

typedef struct sim_handle {
        sim_node *node;
        uid_t opener;
        pthread_mutex_t lock;
        sim_buf buf;
        bool valid;
} sim_handle;

/* a directory's entries as readdir at offset 0 found them; later offsets
 * continue in that listing */
typedef struct sim_dirent {
        char *name;
        uint64_t ino;
        mode_t type;
} sim_dirent;

typedef struct sim_dir_handle {
        pthread_mutex_t lock;
        sim_dirent *ents;
        size_t n;
} sim_dir_handle;

static sim *req_sim(fuse_req_t req) {
        return fuse_req_userdata(req);
}

static sim_node *ino_node(sim *s, fuse_ino_t ino) {
        return ino == FUSE_ROOT_ID ? s->root : (sim_node *) (uintptr_t) ino;
}

static fuse_ino_t node_ino(const sim_tree *t, const sim_node *n) {
        return n == t->root ? FUSE_ROOT_ID : (fuse_ino_t) (uintptr_t) n;
}

static void tree_lock(sim *s) {
        pthread_mutex_lock(&s->tree.lock);
}

static void tree_unlock(sim *s) {
        pthread_mutex_unlock(&s->tree.lock);
}

/* tree lock held */
static void fill_stat(const sim_node *n, struct stat *st) {
        *st = (struct stat) {
                .st_ino = n->ino,
                .st_uid = n->uid,
                .st_gid = n->gid,
                .st_nlink = 1,
                .st_blksize = SIM_PAGE_SIZE,
                .st_atim = n->mtime,
                .st_mtim = n->mtime,
                .st_ctim = n->mtime,
        };
        switch (n->type) {
        case SIM_NODE_DIR:
                st->st_mode = S_IFDIR | n->mode;
                st->st_nlink = 2;
                for (size_t i = 0; i < n->n_children; i++)
                        st->st_nlink += n->children[i]->type == SIM_NODE_DIR;
                break;
        case SIM_NODE_ATTR:
                st->st_mode = S_IFREG | n->mode;
                /* sysfs reports a page for text attributes, the real size for binary ones */
                st->st_size = n->attr->size ? (off_t) n->attr->size(n->obj) : SIM_PAGE_SIZE;
                break;
        case SIM_NODE_LINK:
                st->st_mode = S_IFLNK | 0777;
                break;
        }
}

/* the kernel forgets nlookup of its lookups; the last one drops its reference */
static void forget_node(sim *s, sim_node *n, uint64_t nlookup) {
        bool last;

        if (n == s->root)
                return;
        tree_lock(s);
        n->nlookup -= MIN(nlookup, n->nlookup);
        last = n->nlookup == 0;
        tree_unlock(s);
        if (last)
                sim_node_unref(n);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        sim *s = req_sim(req);
        /* The entry is cached: an invalidation of it waits for this lookup
         * (the kernel holds the directory's lock across it). Its attributes
         * are not: on a first lookup the kernel has no inode yet that an
         * invalidation racing with this reply could reach, so they are
         * fetched again by GETATTR, whose answers the kernel drops when an
         * invalidation came after the request (attr_version). */
        struct fuse_entry_param e = {
                .entry_timeout = CACHE_TIMEOUT,
        };
        sim_node *n;

        /* a removed directory has no children: ENOENT, as in kernfs */
        tree_lock(s);
        n = sim_node_child(ino_node(s, parent), name);
        if (n) {
                if (n->nlookup++ == 0)
                        sim_node_ref(n);
                e.ino = node_ino(&s->tree, n);
                e.generation = n->ino;
                fill_stat(n, &e.attr);
        }
        tree_unlock(s);
        if (!n) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        /* the kernel did not take it (the request was interrupted) */
        if (fuse_reply_entry(req, &e) != 0)
                forget_node(s, n, 1);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
        sim *s = req_sim(req);

        forget_node(s, ino_node(s, ino), nlookup);
        fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
        sim *s = req_sim(req);

        for (size_t i = 0; i < count; i++)
                forget_node(s, ino_node(s, forgets[i].ino), forgets[i].nlookup);
        fuse_reply_none(req);
}

/* A removed node keeps its attributes (kernfs_iop_getattr() does not ask
 * whether the node is active). Those of directories and links are cached;
 * those of attributes are not: a read through the page cache (sendfile(),
 * splice(), mmap(); direct I/O does not cover them) that comes back short
 * makes the kernel take the end of the data for the file's size, and only
 * fresh attributes set st_size back to the page sysfs reports and drop the
 * cached data (before the next open reads the file). */
static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        sim *s = req_sim(req);
        sim_node *n = ino_node(s, ino);
        struct stat st;

        tree_lock(s);
        fill_stat(n, &st);
        tree_unlock(s);
        fuse_reply_attr(req, &st, n->type == SIM_NODE_ATTR ? 0 : CACHE_TIMEOUT);
}

/* kernfs_iop_setattr(): root may change modes, owners and times; O_TRUNC
 * and truncate(2) on an attribute are accepted and change nothing */
static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
        sim *s = req_sim(req);
        sim_node *n = ino_node(s, ino);
        struct stat st;
        int r = 0;

        tree_lock(s);
        if ((to_set & FUSE_SET_ATTR_MODE) && n->type != SIM_NODE_LINK)
                n->mode = attr->st_mode & 07777;
        if (to_set & FUSE_SET_ATTR_UID)
                n->uid = attr->st_uid;
        if (to_set & FUSE_SET_ATTR_GID)
                n->gid = attr->st_gid;
        if ((to_set & FUSE_SET_ATTR_SIZE) && n->type == SIM_NODE_DIR)
                r = -EISDIR;
        if (r >= 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)))
                (void) clock_gettime(CLOCK_REALTIME, &n->mtime);
        fill_stat(n, &st);
        tree_unlock(s);
        /* not cached: the kernel takes a setattr reply whatever was
         * invalidated meanwhile */
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_attr(req, &st, 0);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino) {
        sim *s = req_sim(req);
        sim_node *n = ino_node(s, ino);

        /* a link's target is fixed for its life, and the kernel's reference
         * keeps the node */
        if (n->type != SIM_NODE_LINK)
                fuse_reply_err(req, EINVAL);
        else
                fuse_reply_readlink(req, n->target);
}

static void dir_handle_free(sim_dir_handle *h) {
        for (size_t i = 0; i < h->n; i++)
                free(h->ents[i].name);
        h->ents = mfree(h->ents);
        h->n = 0;
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        sim_dir_handle *h = calloc(1, sizeof(*h));

        if (!h) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        pthread_mutex_init(&h->lock, NULL);
        fi->fh = (uintptr_t) h;
        if (fuse_reply_open(req, fi) != 0) {
                pthread_mutex_destroy(&h->lock);
                free(h);
        }
}

/* tree lock held */
static int dir_handle_fill(sim_dir_handle *h, const sim_node *n) {
        size_t k = 0;

        h->ents = calloc(n->n_children + 2, sizeof(*h->ents));
        if (!h->ents)
                return -ENOMEM;
        h->ents[k++] = (sim_dirent) { strdup("."), n->ino, S_IFDIR };
        h->ents[k++] = (sim_dirent) { strdup(".."), n->parent ? n->parent->ino : n->ino, S_IFDIR };
        for (size_t i = 0; i < n->n_children; i++) {
                const sim_node *c = n->children[i];

                if (c->hidden)
                        continue;
                h->ents[k++] = (sim_dirent) {
                        strdup(c->name), c->ino,
                        c->type == SIM_NODE_DIR ? S_IFDIR : c->type == SIM_NODE_LINK ? S_IFLNK : S_IFREG,
                };
        }
        h->n = k;
        for (size_t i = 0; i < k; i++)
                if (!h->ents[i].name)
                        return -ENOMEM;
        return 0;
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        sim *s = req_sim(req);
        sim_dir_handle *h = (sim_dir_handle *) (uintptr_t) fi->fh;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = 0;

        buf = malloc(MAX(size, (size_t) 1));
        if (!buf) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        pthread_mutex_lock(&h->lock);
        /* like the high-level library did: the listing is taken at offset 0
         * (opendir, rewinddir) */
        if (off == 0 || !h->ents) {
                dir_handle_free(h);
                tree_lock(s);
                r = dir_handle_fill(h, ino_node(s, ino));
                tree_unlock(s);
                if (r < 0)
                        dir_handle_free(h);
        }
        for (size_t i = off < 0 ? h->n : (size_t) off; r >= 0 && i < h->n; i++) {
                struct stat st = { .st_ino = h->ents[i].ino, .st_mode = h->ents[i].type };
                size_t l = fuse_add_direntry(req, buf + len, size - len, h->ents[i].name, &st, (off_t) i + 1);

                if (l > size - len)
                        break;
                len += l;
        }
        pthread_mutex_unlock(&h->lock);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_buf(req, buf, len);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        sim_dir_handle *h = (sim_dir_handle *) (uintptr_t) fi->fh;

        dir_handle_free(h);
        pthread_mutex_destroy(&h->lock);
        free(h);
        fuse_reply_err(req, 0);
}

/* sysfs serializes nothing per file: two writers of drivers/vfio-pci/unbind
 * each wait for their own device only. FUSE takes the inode lock for every
 * write unless the open reply carries FOPEN_PARALLEL_DIRECT_WRITES (Linux
 * 6.2), which libfuse 3.14 cannot set. The session's I/O is therefore ours:
 * a thread about to reply to an open says so, and the reply it writes gets
 * the flag on its way out. */
static _Thread_local bool replying_open;

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata) {
        return read(fd, buf, len);
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata) {
        if (replying_open && count >= 2 && iov[0].iov_len == sizeof(struct fuse_out_header) &&
            ((const struct fuse_out_header *) iov[0].iov_base)->error == 0 &&
            iov[1].iov_len >= sizeof(struct fuse_open_out))
                ((struct fuse_open_out *) iov[1].iov_base)->open_flags |= FOPEN_PARALLEL_DIRECT_WRITES;
        replying_open = false;
        return writev(fd, iov, count);
}

/* kernfs_fop_open(): a file opened for writing needs a store, for reading
 * a show, even for root, whatever the mode bits say; a node that is gone
 * (reached through an fd of it, /proc/self/fd/N) is -ENODEV */
static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        sim *s = req_sim(req);
        sim_node *n = ino_node(s, ino);
        sim_handle *h;
        int acc = fi->flags & O_ACCMODE;
        bool removed;

        if (n->type == SIM_NODE_DIR) {
                fuse_reply_err(req, EISDIR);
                return;
        }
        if (n->type != SIM_NODE_ATTR ||
            (acc != O_RDONLY && !n->attr->store && !n->attr->write) ||
            (acc != O_WRONLY && !n->attr->show && !n->attr->read)) {
                fuse_reply_err(req, EACCES);
                return;
        }
        tree_lock(s);
        removed = n->removed;
        tree_unlock(s);
        if (removed) {
                fuse_reply_err(req, ENODEV);
                return;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        h->node = sim_node_ref(n);
        h->opener = fuse_req_ctx(req)->uid;
        pthread_mutex_init(&h->lock, NULL);
        fi->fh = (uintptr_t) h;
        fi->direct_io = 1;
        fi->keep_cache = 0;
        replying_open = true;
        if (fuse_reply_open(req, fi) != 0) {
                sim_node_unref(h->node);
                pthread_mutex_destroy(&h->lock);
                free(h);
        }
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        sim_handle *h = (sim_handle *) (uintptr_t) fi->fh;

        sim_node_unref(h->node);
        sim_buf_free(&h->buf);
        pthread_mutex_destroy(&h->lock);
        free(h);
        fuse_reply_err(req, 0);
}

static int show_node(sim *s, sim_node *n, sim_buf *out) {
        const sim_attr *a = n->attr;
        int r;

        if (a->flags & SIM_ATTR_DEVICE_LOCK)
                pthread_mutex_lock(&((sim_device *) n->obj)->lock);
        if (!(a->flags & SIM_ATTR_NOLOCK))
                sim_lock(s);
        r = n->removed ? -ENODEV : a->show(n->obj, out);
        if (!(a->flags & SIM_ATTR_NOLOCK))
                sim_unlock(s);
        if (a->flags & SIM_ATTR_DEVICE_LOCK)
                pthread_mutex_unlock(&((sim_device *) n->obj)->lock);
        /* sysfs_emit() stops at a page */
        if (r >= 0 && !a->unbounded && out->len >= SIM_PAGE_SIZE)
                out->len = SIM_PAGE_SIZE - 1;
        return r;
}

static int read_node(sim *s, sim_handle *h, char *buf, size_t size, off_t off) {
        sim_node *n = h->node;
        int r = 0;

        if (n->attr->read) {
                sim_lock(s);
                r = n->removed ? -ENODEV : (int) n->attr->read(n->obj, h->opener, buf, size, off);
                sim_unlock(s);
                return r;
        }
        if (off < 0)
                return -EINVAL;
        pthread_mutex_lock(&h->lock);
        /* like seq_file: show() runs for a read at offset 0, later reads
         * continue in that snapshot */
        if (off == 0 || !h->valid) {
                h->buf.len = 0;
                h->buf.oom = false;
                r = show_node(s, n, &h->buf);
                h->valid = r >= 0;
        }
        if (r >= 0) {
                size_t avail = (size_t) off < h->buf.len ? h->buf.len - (size_t) off : 0;

                r = (int) MIN(size, avail);
                if (r > 0)
                        memcpy(buf, h->buf.data + off, (size_t) r);
        }
        pthread_mutex_unlock(&h->lock);
        return r;
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        _cleanup_free_ char *buf = malloc(MAX(size, (size_t) 1));
        int r;

        if (!buf) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        r = read_node(req_sim(req), (sim_handle *) (uintptr_t) fi->fh, buf, size, off);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_buf(req, buf, (size_t) r);
}

static int write_node(sim *s, sim_node *n, const char *buf, size_t size, off_t off) {
        _cleanup_free_ char *p = NULL, *kbuf = NULL;
        bool removed;
        int r;

        if (size == 0)
                return 0;
        sim_lock(s);
        p = sim_node_path(n);
        removed = n->removed;
        sim_unlock(s);
        if (!p)
                return -ENOMEM;

        if (n->attr->write) {
                sim_lock(s);
                r = n->removed ? -ENODEV : (int) n->attr->write(n->obj, buf, size, off);
                sim_unlock(s);
        } else if (size > SIM_PAGE_SIZE)
                r = -E2BIG;     /* sysfs attributes are written atomically, one page at most */
        else {
                /* the kernel copies the write into a page and NUL-terminates it */
                kbuf = malloc(size + 1);
                if (!kbuf)
                        return -ENOMEM;
                memcpy(kbuf, buf, size);
                kbuf[size] = 0;
                r = removed ? -ENODEV : n->attr->store(n->obj, kbuf, size);
                if (r >= 0)
                        r = (int) size;
        }
        sim_log_write(s, p, buf, size, MIN(r, 0));
        return r;
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
        sim_handle *h = (sim_handle *) (uintptr_t) fi->fh;
        int r;

        sim_writer = fuse_req_ctx(req)->pid;
        r = write_node(req_sim(req), h->node, buf, size, off);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_write(req, (size_t) r);
}

static void ll_eperm(fuse_req_t req) {
        fuse_reply_err(req, EPERM);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
        ll_eperm(req);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
        ll_eperm(req);
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
        ll_eperm(req);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned flags) {
        ll_eperm(req);
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
        ll_eperm(req);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
        fuse_reply_err(req, EACCES);
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
        fuse_reply_err(req, EACCES);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn) {
        if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
                conn->want |= FUSE_CAP_CACHE_SYMLINKS;
}

static const struct fuse_lowlevel_ops sim_ops = {
        .init = ll_init,
        .lookup = ll_lookup,
        .forget = ll_forget,
        .forget_multi = ll_forget_multi,
        .getattr = ll_getattr,
        .setattr = ll_setattr,
        .readlink = ll_readlink,
        .opendir = ll_opendir,
        .readdir = ll_readdir,
        .releasedir = ll_releasedir,
        .open = ll_open,
        .release = ll_release,
        .read = ll_read,
        .write = ll_write,
        .mkdir = ll_mkdir,
        .rmdir = ll_unlink,
        .unlink = ll_unlink,
        .symlink = ll_symlink,
        .rename = ll_rename,
        .link = ll_link,
        .create = ll_create,
        .mknod = ll_mknod,
};

/* sim_tree's hook: sim->lock held, so nothing that depends on the change
 * runs before the kernel dropped what it cached. Errors are expected
 * (ENOENT: the kernel no longer has the directory or the entry). */
static void kernel_forget_cached(sim_tree *t, sim_node *dir, sim_node *child) {
        struct fuse_session *se = t->userdata;

        if (child)
                (void) fuse_lowlevel_notify_inval_entry(se, node_ino(t, dir), child->name, strlen(child->name));
        else
                (void) fuse_lowlevel_notify_inval_inode(se, node_ino(t, dir), -1, 0);
}

static int mount_fuse(struct fuse_session *se, const char *mnt) {
        static const struct fuse_custom_io io = {
                .read = io_read,
                .writev = io_writev,
        };
        char opts[256];
        int fd, r;

        fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        (void) snprintf(opts, sizeof(opts),
                        "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions", fd);
        if (mount("sriov-sim", mnt, "fuse.sriov-sim", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
                r = negative_errno();
                safe_close(fd);
                return r;
        }
        r = fuse_session_custom_io(se, &io, fd);
        if (r < 0) {
                (void) umount2(mnt, MNT_DETACH);
                safe_close(fd);
        }
        return r;
}

/* SIGTERM/SIGINT/SIGHUP: detach the mount and leave at once. Requests that
 * are blocked in the simulator (a removal waiting for a VFIO user) cannot be
 * unwound cleanly; the kernel aborts them when the connection goes. */
static bool terminating;
static const int term_signals[] = { SIGTERM, SIGINT, SIGHUP };

typedef struct sig_ctx {
        const char *mnt;
        sigset_t set;
} sig_ctx;

static void *signal_thread(void *userdata) {
        sig_ctx *c = userdata;
        int sig;

        for (;;)
                if (sigwait(&c->set, &sig) == 0)
                        break;
        __atomic_store_n(&terminating, true, __ATOMIC_RELEASE);
        (void) umount2(c->mnt, MNT_DETACH);
        _exit(EXIT_SUCCESS);
}

static bool same_netns_as_pid1(void) {
        struct stat a, b;

        if (stat("/proc/self/ns/net", &a) < 0 || stat("/proc/1/ns/net", &b) < 0)
                return false;
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: sriov-sim TOPOLOGY.json MOUNTPOINT [OPTIONS]\n"
                "Serve the sysfs tree of a simulated SR-IOV host at MOUNTPOINT until\n"
                "unmounted or sent SIGTERM/SIGINT.\n\n"
                "  --uevents   send uevents as udevd re-broadcasts them (netlink group 2);\n"
                "              only in a network namespace of its own (unshare -n)\n"
                "  --log FILE  append every write to FILE (as .sim/log)\n"
                "  --rtnl SOCKET  answer NETLINK_ROUTE for the simulated net devices on\n"
                "              SOCKET, to processes run with libsim-rtnl.so\n"
                "  -d          FUSE debug output\n"
                "  -h, --help  this text\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "uevents", no_argument, NULL, 'u' },
                { "log", required_argument, NULL, 'l' },
                { "rtnl", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *log_path = NULL, *rtnl_path = NULL, *topology, *mnt;
        bool uevents = false, debug = false;
        struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
        struct fuse_loop_config *cfg;
        struct fuse_session *se;
        pthread_t sigthread;
        sig_ctx sc;
        sim *s;
        int c, r;

        while ((c = getopt_long(argc, argv, "dh", options, NULL)) >= 0)
                switch (c) {
                case 'u':
                        uevents = true;
                        break;
                case 'l':
                        log_path = optarg;
                        break;
                case 'r':
                        rtnl_path = optarg;
                        break;
                case 'd':
                        debug = true;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                default:
                        usage(stderr);
                        return EXIT_FAILURE;
                }
        if (argc - optind != 2) {
                usage(stderr);
                return EXIT_FAILURE;
        }
        topology = argv[optind];
        mnt = argv[optind + 1];

        s = sim_new();
        if (!s) {
                fprintf(stderr, "sriov-sim: out of memory\n");
                return EXIT_FAILURE;
        }
        if (sim_topology_load(s, topology) < 0)
                return EXIT_FAILURE;
        if (uevents) {
                if (same_netns_as_pid1()) {
                        fprintf(stderr, "sriov-sim: refusing --uevents in PID 1's network namespace: "
                                "the host's udev listeners would receive simulated events; "
                                "run it under unshare -n\n");
                        return EXIT_FAILURE;
                }
                r = sim_uevent_open(s);
                if (r < 0) {
                        fprintf(stderr, "sriov-sim: uevent socket: %s\n", strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        if (log_path) {
                r = sim_log_open(s, log_path);
                if (r < 0) {
                        fprintf(stderr, "sriov-sim: %s: %s\n", log_path, strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        r = sim_boot(s);
        if (r < 0) {
                fprintf(stderr, "sriov-sim: %s: cannot build the tree: %s\n", topology, strerror(-r));
                return EXIT_FAILURE;
        }

        /* every thread (FUSE workers included) inherits this mask; the
         * signal thread alone takes the signals */
        sigemptyset(&sc.set);
        for (size_t i = 0; i < ELEMENTSOF(term_signals); i++) {
                /* a shell starts background jobs with SIGINT ignored, and an
                 * ignored signal never reaches sigwait() */
                (void) signal(term_signals[i], SIG_DFL);
                sigaddset(&sc.set, term_signals[i]);
        }
        pthread_sigmask(SIG_BLOCK, &sc.set, NULL);

        /* after the mask: its threads leave the signals to the signal thread */
        if (rtnl_path) {
                r = sim_rtnl_start(s, rtnl_path);
                if (r < 0) {
                        fprintf(stderr, "sriov-sim: %s: %s\n", rtnl_path, strerror(-r));
                        return EXIT_FAILURE;
                }
        }

        if (fuse_opt_add_arg(&args, argv[0]) < 0 ||
            (debug && fuse_opt_add_arg(&args, "-d") < 0)) {
                fprintf(stderr, "sriov-sim: out of memory\n");
                return EXIT_FAILURE;
        }
        se = fuse_session_new(&args, &sim_ops, sizeof(sim_ops), s);
        if (!se)
                return EXIT_FAILURE;
        r = mount_fuse(se, mnt);
        if (r < 0) {
                fprintf(stderr, "sriov-sim: cannot mount at %s: %s\n", mnt, strerror(-r));
                return EXIT_FAILURE;
        }
        sc.mnt = mnt;
        r = pthread_create(&sigthread, NULL, signal_thread, &sc);
        if (r != 0) {
                (void) umount2(mnt, MNT_DETACH);
                fprintf(stderr, "sriov-sim: cannot start the signal thread: %s\n", strerror(r));
                return EXIT_FAILURE;
        }

        cfg = fuse_loop_cfg_create();
        if (!cfg) {
                (void) umount2(mnt, MNT_DETACH);
                return EXIT_FAILURE;
        }
        /* a blocked store (removal waiting for a VFIO user) occupies a
         * worker; keep plenty so that readers and .sim/ctl still answer */
        fuse_loop_cfg_set_max_threads(cfg, 512);
        fuse_loop_cfg_set_idle_threads(cfg, 16);
        /* from now on the kernel may look nodes up, and is told when they change */
        sim_lock(s);
        pthread_mutex_lock(&s->tree.lock);
        s->tree.userdata = se;
        s->tree.forget_cached = kernel_forget_cached;
        pthread_mutex_unlock(&s->tree.lock);
        sim_unlock(s);
        r = fuse_session_loop_mt(se, cfg);
        /* The loop ends when the file system was unmounted from outside (or
         * by the signal thread, which exits by itself). */
        if (__atomic_load_n(&terminating, __ATOMIC_ACQUIRE))
                for (;;)
                        pause();
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}
