/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sriov-sim TOPOLOGY.json MOUNTPOINT [--uevents] [--log FILE] [-d]
 *
 * FUSE glue: paths are resolved in the node tree; attribute opens, reads
 * and writes behave as kernfs/sysfs files do (permission checks against
 * the attribute's show/store, a show() snapshot taken when reading from
 * offset 0, one store() per write(2), -ENODEV once the attribute is gone).
 * Caching is off throughout, because the tree changes under writes. */

#define FUSE_USE_VERSION 312

#include <fcntl.h>
#include <fuse3/fuse.h>
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

typedef struct sim_handle {
        sim_node *node;
        uid_t opener;
        pthread_mutex_t lock;
        sim_buf buf;
        bool valid;
} sim_handle;

static sim *fuse_sim(void) {
        return fuse_get_context()->private_data;
}

static sim_node *resolve_ref(sim *s, const char *path) {
        sim_node *n;

        sim_lock(s);
        n = sim_node_ref(sim_node_resolve(s->root, path));
        sim_unlock(s);
        return n;
}

static void fill_stat(const sim_node *n, struct stat *st) {
        *st = (struct stat) {
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

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
        sim *s = fuse_sim();
        sim_node *n;

        sim_lock(s);
        n = fi ? ((sim_handle *) (uintptr_t) fi->fh)->node : sim_node_resolve(s->root, path);
        if (n)
                fill_stat(n, st);
        sim_unlock(s);
        return n ? 0 : -ENOENT;
}

static int op_readlink(const char *path, char *buf, size_t size) {
        sim *s = fuse_sim();
        sim_node *n;
        int r = 0;

        if (size == 0)
                return -EINVAL;
        sim_lock(s);
        n = sim_node_resolve(s->root, path);
        if (!n)
                r = -ENOENT;
        else if (n->type != SIM_NODE_LINK)
                r = -EINVAL;
        else
                (void) snprintf(buf, size, "%s", n->target);
        sim_unlock(s);
        return r;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
        sim *s = fuse_sim();
        _cleanup_strv_free_ char **names = NULL;
        sim_node *n;
        int r = 0;

        sim_lock(s);
        n = sim_node_resolve(s->root, path);
        if (!n)
                r = -ENOENT;
        else if (n->type != SIM_NODE_DIR)
                r = -ENOTDIR;
        else
                for (size_t i = 0; i < n->n_children && r >= 0; i++)
                        if (!n->children[i]->hidden)
                                r = strv_extend(&names, n->children[i]->name);
        sim_unlock(s);
        if (r < 0)
                return r;
        (void) filler(buf, ".", NULL, 0, 0);
        (void) filler(buf, "..", NULL, 0, 0);
        STRV_FOREACH(name, names)
                if (filler(buf, *name, NULL, 0, 0))
                        break;
        return 0;
}

/* kernfs_fop_open(): a file opened for writing needs a store, for reading
 * a show, even for root, whatever the mode bits say */
static int op_open(const char *path, struct fuse_file_info *fi) {
        sim *s = fuse_sim();
        sim_node *n = resolve_ref(s, path);
        sim_handle *h;
        int acc = fi->flags & O_ACCMODE;

        if (!n)
                return -ENOENT;
        if (n->type == SIM_NODE_DIR) {
                sim_node_unref(n);
                return -EISDIR;
        }
        if (n->type != SIM_NODE_ATTR ||
            (acc != O_RDONLY && !n->attr->store && !n->attr->write) ||
            (acc != O_WRONLY && !n->attr->show && !n->attr->read)) {
                sim_node_unref(n);
                return -EACCES;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                sim_node_unref(n);
                return -ENOMEM;
        }
        h->node = n;
        h->opener = fuse_get_context()->uid;
        pthread_mutex_init(&h->lock, NULL);
        fi->fh = (uintptr_t) h;
        fi->direct_io = 1;
        fi->keep_cache = 0;
        return 0;
}

static int op_release(const char *path, struct fuse_file_info *fi) {
        sim_handle *h = (sim_handle *) (uintptr_t) fi->fh;

        sim_node_unref(h->node);
        sim_buf_free(&h->buf);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return 0;
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

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
        sim *s = fuse_sim();
        sim_handle *h = (sim_handle *) (uintptr_t) fi->fh;
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

static int op_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
        sim *s = fuse_sim();
        sim_handle *h = (sim_handle *) (uintptr_t) fi->fh;
        sim_node *n = h->node;
        _cleanup_free_ char *p = NULL, *kbuf = NULL;
        bool removed;
        int r;

        if (size == 0)
                return 0;
        sim_writer = fuse_get_context()->pid;
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

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
        sim *s = fuse_sim();
        sim_node *n;
        int r = 0;

        /* O_TRUNC on an attribute is accepted and changes nothing, as on sysfs */
        sim_lock(s);
        n = fi ? ((sim_handle *) (uintptr_t) fi->fh)->node : sim_node_resolve(s->root, path);
        if (!n)
                r = -ENOENT;
        else if (n->type == SIM_NODE_DIR)
                r = -EISDIR;
        sim_unlock(s);
        return r;
}

/* kernfs_iop_setattr(): root may change modes, owners and times */
static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
        sim *s = fuse_sim();
        sim_node *n;

        sim_lock(s);
        n = sim_node_resolve(s->root, path);
        if (n && n->type != SIM_NODE_LINK)
                n->mode = mode & 07777;
        sim_unlock(s);
        return n ? 0 : -ENOENT;
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
        sim *s = fuse_sim();
        sim_node *n;

        sim_lock(s);
        n = sim_node_resolve(s->root, path);
        if (n) {
                if (uid != (uid_t) -1)
                        n->uid = uid;
                if (gid != (gid_t) -1)
                        n->gid = gid;
        }
        sim_unlock(s);
        return n ? 0 : -ENOENT;
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
        sim *s = fuse_sim();
        sim_node *n;

        sim_lock(s);
        n = sim_node_resolve(s->root, path);
        if (n)
                (void) clock_gettime(CLOCK_REALTIME, &n->mtime);
        sim_unlock(s);
        return n ? 0 : -ENOENT;
}

static int op_mkdir(const char *path, mode_t mode) {
        return -EPERM;
}

static int op_unlink(const char *path) {
        return -EPERM;
}

static int op_symlink(const char *target, const char *path) {
        return -EPERM;
}

static int op_rename(const char *from, const char *to, unsigned flags) {
        return -EPERM;
}

static int op_link(const char *from, const char *to) {
        return -EPERM;
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
        return -EACCES;
}

static int op_mknod(const char *path, mode_t mode, dev_t dev) {
        return -EACCES;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
        cfg->entry_timeout = 0;
        cfg->attr_timeout = 0;
        cfg->negative_timeout = 0;
        cfg->direct_io = 1;
        cfg->kernel_cache = 0;
        cfg->auto_cache = 0;
        return fuse_get_context()->private_data;
}

static const struct fuse_operations sim_ops = {
        .init = op_init,
        .getattr = op_getattr,
        .readlink = op_readlink,
        .readdir = op_readdir,
        .open = op_open,
        .release = op_release,
        .read = op_read,
        .write = op_write,
        .truncate = op_truncate,
        .chmod = op_chmod,
        .chown = op_chown,
        .utimens = op_utimens,
        .mkdir = op_mkdir,
        .rmdir = op_unlink,
        .unlink = op_unlink,
        .symlink = op_symlink,
        .rename = op_rename,
        .link = op_link,
        .create = op_create,
        .mknod = op_mknod,
};

/* sysfs serializes nothing per file: two writers of drivers/vfio-pci/unbind
 * each wait for their own device only. FUSE takes the inode lock for every
 * write unless the open reply carries FOPEN_PARALLEL_DIRECT_WRITES (Linux
 * 6.2), which libfuse 3.14 cannot set. The session's I/O is therefore ours:
 * the unique ids of FUSE_OPEN requests are noted on the way in, and their
 * successful replies get the flag on the way out. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t open_uniques[256];
static size_t n_open_uniques;

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata) {
        ssize_t n = read(fd, buf, len);

        if (n >= (ssize_t) sizeof(struct fuse_in_header) && ((struct fuse_in_header *) buf)->opcode == FUSE_OPEN) {
                pthread_mutex_lock(&open_lock);
                if (n_open_uniques < ELEMENTSOF(open_uniques))
                        open_uniques[n_open_uniques++] = ((struct fuse_in_header *) buf)->unique;
                pthread_mutex_unlock(&open_lock);
        }
        return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata) {
        if (count >= 1 && iov[0].iov_len == sizeof(struct fuse_out_header)) {
                const struct fuse_out_header *out = iov[0].iov_base;
                bool open_reply = false;

                pthread_mutex_lock(&open_lock);
                for (size_t i = 0; i < n_open_uniques; i++)
                        if (open_uniques[i] == out->unique) {
                                open_uniques[i] = open_uniques[--n_open_uniques];
                                open_reply = true;
                                break;
                        }
                pthread_mutex_unlock(&open_lock);
                if (open_reply && out->error == 0 && count >= 2 && iov[1].iov_len >= sizeof(struct fuse_open_out))
                        ((struct fuse_open_out *) iov[1].iov_base)->open_flags |= FOPEN_PARALLEL_DIRECT_WRITES;
        }
        return writev(fd, iov, count);
}

static int mount_fuse(struct fuse *f, const char *mnt) {
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
        r = fuse_session_custom_io(fuse_get_session(f), &io, fd);
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
        struct fuse *f;
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
        f = fuse_new(&args, &sim_ops, sizeof(sim_ops), s);
        if (!f)
                return EXIT_FAILURE;
        r = mount_fuse(f, mnt);
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
        r = fuse_loop_mt(f, cfg);
        /* The loop ends when the file system was unmounted from outside (or
         * by the signal thread, which exits by itself). */
        if (__atomic_load_n(&terminating, __ATOMIC_ACQUIRE))
                for (;;)
                        pause();
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}
