/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "ctx-internal.h"
#include "sysfs.h"
#include "util.h"


int sriov_error_set(sriov_error *e, int error, const char *fmt, ...) {
        if (e) {
                va_list ap;

                e->error = error;
                va_start(ap, fmt);
                (void) vsnprintf(e->message, sizeof(e->message), fmt, ap);
                va_end(ap);
        }
        return error;
}

static int normalize_root(const char *in, char **ret) {
        char buf[PATH_MAX];
        size_t n;

        if (isempty(in))
                return -EINVAL;
        if (!realpath(in, buf))
                return negative_errno();
        n = strlen(buf);
        while (n > 0 && buf[n - 1] == '/')
                buf[--n] = 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int sriov_ctx_new(const char *sysfs_root, sriov_ctx **ret) {
        _cleanup_(sriov_ctx_freep) sriov_ctx *c = NULL;
        struct stat st;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        pthread_mutex_init(&c->pci_lock, NULL);
        pthread_mutex_init(&c->autoprobe_lock, NULL);
        r = normalize_root(sysfs_root ?: "/sys", &c->root);
        if (r < 0)
                return r;
        if (stat(c->root, &st) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        c->dev_root = strdup("/dev");
        c->proc_root = strdup("/proc");
        if (!c->dev_root || !c->proc_root)
                return -ENOMEM;
        c->timeout_usec = SRIOV_DEFAULT_TIMEOUT_USEC;
        *ret = TAKE_PTR(c);
        return 0;
}

sriov_ctx *sriov_ctx_free(sriov_ctx *c) {
        if (!c)
                return NULL;
        pci_access_release(c);
        pthread_mutex_destroy(&c->pci_lock);
        pthread_mutex_destroy(&c->autoprobe_lock);
        free(c->root);
        free(c->dev_root);
        free(c->proc_root);
        return mfree(c);
}

const char *sriov_ctx_root(const sriov_ctx *c) {
        return isempty(c->root) ? "/" : c->root;
}

int sriov_ctx_set_dev_root(sriov_ctx *c, const char *dev_root) {
        char *n;

        if (isempty(dev_root) || dev_root[0] != '/')
                return -EINVAL;
        n = strdup(dev_root);
        if (!n)
                return -ENOMEM;
        free(c->dev_root);
        c->dev_root = n;
        return 0;
}

const char *sriov_ctx_dev_root(const sriov_ctx *c) {
        return c->dev_root;
}

int sriov_ctx_set_proc_root(sriov_ctx *c, const char *proc_root) {
        char *n;

        if (isempty(proc_root) || proc_root[0] != '/')
                return -EINVAL;
        n = strdup(proc_root);
        if (!n)
                return -ENOMEM;
        free(c->proc_root);
        c->proc_root = n;
        return 0;
}

const char *sriov_ctx_proc_root(const sriov_ctx *c) {
        return c->proc_root;
}

void sriov_ctx_set_timeout(sriov_ctx *c, uint64_t usec) {
        c->timeout_usec = usec;
}

uint64_t sriov_ctx_timeout(const sriov_ctx *c) {
        return c->timeout_usec;
}

static char *join_checked(const char *root, const char *a, const char *b, const char *attr) {
        if (attr && !sysfs_name_is_valid(attr, NAME_MAX)) {
                errno = EINVAL;
                return NULL;
        }
        return strdup_printf("%s/%s%s%s%s%s", root, a, b ? "/" : "", strempty(b), attr ? "/" : "", strempty(attr));
}

/* The device scopes of this thread, innermost first. Per thread because the
 * lanes' workers share one context; the scope lives on its opener's stack. */
static _Thread_local sysfs_dev_scope *dev_scopes;

void sysfs_dev_scope_begin(const sriov_ctx *c, const pci_addr *a, sysfs_dev_scope *s) {
        static int have_proc_fd = -1;   /* /proc/self/fd reachable: the same answer for every thread */
        char bdf[PCI_ADDR_STRLEN];

        *s = (sysfs_dev_scope) { .addr = *a, .fd = -EBADF, .prev = dev_scopes };
        dev_scopes = s;
        for (const sysfs_dev_scope *o = s->prev; o; o = o->prev)
                if (o->fd >= 0 && pci_addr_equal(&o->addr, a))
                        return;         /* an outer scope has it open */
        if (have_proc_fd < 0)
                have_proc_fd = access("/proc/self/fd", X_OK) == 0;
        if (have_proc_fd) {
                _cleanup_free_ char *p = join_checked(c->root, "bus/pci/devices", pci_addr_format(a, bdf), NULL);

                /* a device that is not there: no scope, the plain paths answer ENOENT */
                if (p)
                        s->fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
}

void sysfs_dev_scope_end(sysfs_dev_scope *s) {
        if (!s || dev_scopes != s)
                return;
        dev_scopes = s->prev;
        s->fd = safe_close(s->fd);
}

char *sysfs_dev_path(const sriov_ctx *c, const pci_addr *a, const char *attr) {
        char bdf[PCI_ADDR_STRLEN];

        for (const sysfs_dev_scope *s = dev_scopes; s; s = s->prev)
                if (s->fd >= 0 && pci_addr_equal(&s->addr, a)) {
                        char fd[32];

                        (void) snprintf(fd, sizeof(fd), "%d", s->fd);
                        return join_checked("/proc/self", "fd", fd, attr);
                }
        return join_checked(c->root, "bus/pci/devices", pci_addr_format(a, bdf), attr);
}

char *sysfs_driver_path(const sriov_ctx *c, const char *driver, const char *attr) {
        if (!driver_name_is_valid(driver)) {
                errno = EINVAL;
                return NULL;
        }
        return join_checked(c->root, "bus/pci/drivers", driver, attr);
}

char *sysfs_net_path(const sriov_ctx *c, const char *ifname, const char *attr) {
        if (!ifname_is_valid(ifname)) {
                errno = EINVAL;
                return NULL;
        }
        return join_checked(c->root, "class/net", ifname, attr);
}

char *sysfs_group_path(const sriov_ctx *c, int group, const char *attr) {
        char n[16];

        if (group < 0) {
                errno = EINVAL;
                return NULL;
        }
        (void) snprintf(n, sizeof(n), "%d", group);
        return join_checked(c->root, "kernel/iommu_groups", n, attr);
}

char *sysfs_path(const sriov_ctx *c, const char *relative) {
        return strdup_printf("%s/%s", c->root, relative);
}

char *dev_path(const sriov_ctx *c, const char *relative) {
        return strdup_printf("%s/%s", streq(c->dev_root, "/") ? "" : c->dev_root, relative);
}

#define PATH_OR_RETURN(p)                               \
        do {                                            \
                if (!(p))                               \
                        return errno == EINVAL ? -EINVAL : -ENOMEM; \
        } while (0)

int sysfs_dev_read(const sriov_ctx *c, const pci_addr *a, const char *attr, char **ret) {
        _cleanup_free_ char *p = sysfs_dev_path(c, a, attr);

        PATH_OR_RETURN(p);
        return read_one_line_file(p, ret);
}

int sysfs_dev_read_uint(const sriov_ctx *c, const pci_addr *a, const char *attr, int base, unsigned *ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = sysfs_dev_read(c, a, attr, &s);
        if (r < 0)
                return r;
        return safe_atou(strstrip(s), base, ret);
}

int sysfs_dev_write(const sriov_ctx *c, const pci_addr *a, const char *attr, const char *value) {
        _cleanup_free_ char *p = sysfs_dev_path(c, a, attr);

        PATH_OR_RETURN(p);
        return write_string_file(p, value);
}

int sysfs_dev_link_name(const sriov_ctx *c, const pci_addr *a, const char *link, char **ret) {
        _cleanup_free_ char *p = sysfs_dev_path(c, a, link);

        PATH_OR_RETURN(p);
        return readlink_basename(p, ret);
}

bool sysfs_dev_exists(const sriov_ctx *c, const pci_addr *a, const char *attr) {
        _cleanup_free_ char *p = sysfs_dev_path(c, a, attr);

        return p && access(p, F_OK) == 0;
}

/* The bounded write: the worker owns a reference to the shared record, so
 * that a write the kernel releases after we gave up finds valid memory. */
struct bounded_write {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        unsigned refs;
        bool done;
        bool abandoned;         /* the waiter gave up: report through late_cb */
        int result;
        pci_addr dev;
        char *path;
        char *value;
        sriov_late_cb late_cb;
        void *late_userdata;
};

void sriov_ctx_set_late_callback(sriov_ctx *c, sriov_late_cb cb, void *userdata) {
        c->late_cb = cb;
        c->late_userdata = userdata;
}

uint64_t sysfs_uevent_seqnum(const sriov_ctx *c) {
        _cleanup_free_ char *p = sysfs_path(c, "kernel/uevent_seqnum"), *s = NULL;
        uint64_t v;

        if (!p || read_one_line_file(p, &s) < 0 || safe_atou64(strstrip(s), 10, &v) < 0)
                return 0;
        return v;
}

static void bounded_write_unref(struct bounded_write *w) {
        bool last;

        pthread_mutex_lock(&w->lock);
        last = --w->refs == 0;
        pthread_mutex_unlock(&w->lock);
        if (!last)
                return;
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        free(w->path);
        free(w->value);
        free(w);
}

static void *bounded_write_thread(void *userdata) {
        struct bounded_write *w = userdata;
        int r;

        bool late;

        r = write_string_file(w->path, w->value);
        pthread_mutex_lock(&w->lock);
        w->result = r;
        w->done = true;
        late = w->abandoned;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        if (late && w->late_cb)
                w->late_cb(&w->dev, w->path, r, w->late_userdata);
        bounded_write_unref(w);
        return NULL;
}

/* writes this thread gave up waiting for: the kernel still holds them */
static __thread unsigned writes_abandoned;

unsigned sysfs_writes_abandoned(void) {
        return writes_abandoned;
}

void sysfs_writes_abandoned_add(unsigned n) {
        writes_abandoned += n;
}

int sysfs_write_bounded(const sriov_ctx *c, const pci_addr *dev, const char *path, const char *value) {
        uint64_t timeout_usec = c->timeout_usec;
        struct bounded_write *w;
        pthread_condattr_t ca;
        pthread_attr_t attr;
        pthread_t t;
        struct timespec deadline;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->path = strdup(path);
        w->value = strdup(value);
        if (!w->path || !w->value) {
                free(w->path);
                free(w->value);
                free(w);
                return -ENOMEM;
        }
        pthread_mutex_init(&w->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cond, &ca);
        pthread_condattr_destroy(&ca);
        w->refs = 2;
        w->dev = *dev;
        w->late_cb = c->late_cb;
        w->late_userdata = c->late_userdata;

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        r = pthread_create(&t, &attr, bounded_write_thread, w);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                w->refs = 1;
                bounded_write_unref(w);
                return -r;
        }

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t) (timeout_usec / 1000000ULL);
        deadline.tv_nsec += (long) (timeout_usec % 1000000ULL) * 1000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }

        pthread_mutex_lock(&w->lock);
        while (!w->done) {
                if (pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == ETIMEDOUT)
                        break;
        }
        r = w->done ? w->result : -ETIMEDOUT;
        w->abandoned = !w->done;
        if (w->abandoned)
                writes_abandoned++;
        pthread_mutex_unlock(&w->lock);
        bounded_write_unref(w);
        return r;
}
