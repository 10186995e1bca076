/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The node tree, in the role of kernfs: directories, attributes and
 * symlinks. Every mutation happens under sim->lock and the tree lock;
 * references (open file handles, the kernel's lookups, nodes pointing at
 * owners) are atomic so that they can be dropped anywhere. A removed node is
 * detached at once and answers -ENODEV to open handles, like a deactivated
 * kernfs node; what the kernel cached of it is queued for invalidation
 * (sim_tree in sim.h). */

#include <stdio.h>
#include <time.h>

#include "sim.h"
#include "util.h"

int sim_buf_put(sim_buf *b, const void *p, size_t n) {
        if (b->oom)
                return -ENOMEM;
        if (b->len + n + 1 > b->alloc) {
                size_t na = MAX(b->alloc * 2, b->len + n + 1);
                char *d = realloc(b->data, MAX(na, (size_t) 256));

                if (!d) {
                        b->oom = true;
                        return -ENOMEM;
                }
                b->data = d;
                b->alloc = MAX(na, (size_t) 256);
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

int sim_buf_printf(sim_buf *b, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0) {
                b->oom = true;
                return -ENOMEM;
        }
        return sim_buf_put(b, s, (size_t) r);
}

void sim_buf_free(sim_buf *b) {
        b->data = mfree(b->data);
        b->len = b->alloc = 0;
        b->oom = false;
}

void *sim_kobj_ref(void *obj) {
        sim_kobj *k = obj;

        if (k)
                __atomic_add_fetch(&k->ref, 1, __ATOMIC_RELAXED);
        return obj;
}

void sim_kobj_unref(void *obj) {
        sim_kobj *k = obj;

        if (k && __atomic_sub_fetch(&k->ref, 1, __ATOMIC_ACQ_REL) == 0 && k->release)
                k->release(k);
}

static sim_node *node_alloc(const char *name, sim_node_type type, mode_t mode) {
        sim_node *n = calloc(1, sizeof(*n));

        if (!n)
                return NULL;
        n->name = strdup(name);
        if (!n->name)
                return mfree(n);
        n->type = type;
        n->mode = mode;
        n->ref = 1;
        (void) clock_gettime(CLOCK_REALTIME, &n->mtime);
        return n;
}

sim_node *sim_node_ref(sim_node *n) {
        if (n)
                __atomic_add_fetch(&n->ref, 1, __ATOMIC_RELAXED);
        return n;
}

void sim_node_unref(sim_node *n) {
        if (!n || __atomic_sub_fetch(&n->ref, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        /* children hold a reference on nothing: a node is freed only after
         * sim_node_remove() detached it and dropped every child */
        free(n->children);
        sim_kobj_unref(n->obj);
        free(n->target);
        free(n->name);
        free(n);
}

sim_node *sim_node_new_root(sim_tree *t) {
        sim_node *n = node_alloc("", SIM_NODE_DIR, 0755);

        if (!n)
                return NULL;
        pthread_mutex_init(&t->lock, NULL);
        n->tree = t;
        n->ino = t->next_ino = 1;
        t->root = n;
        return n;
}

/* Whether the kernel may have cached the node: it looked it up and has not
 * forgotten it yet. The root is always known once mounted. Tree lock held. */
static bool node_known(const sim_tree *t, const sim_node *n) {
        return n == t->root ? t->forget_cached != NULL : n->nlookup > 0;
}

/* tree lock held */
static void queue_inval(sim_tree *t, sim_node *dir, sim_node *child) {
        if (!child) {
                if (dir->attr_inval_queued)
                        return;
                dir->attr_inval_queued = true;
        }
        if (t->n_pending == t->n_alloc) {
                size_t na = t->n_alloc ? t->n_alloc * 2 : 64;
                sim_inval *a = realloc(t->pending, na * sizeof(*a));

                if (!a) {
                        /* a change the kernel would never hear of: its
                         * cache would answer wrongly from now on */
                        fputs("sriov-sim: out of memory for a cache invalidation\n", stderr);
                        abort();
                }
                t->pending = a;
                t->n_alloc = na;
        }
        t->pending[t->n_pending++] = (sim_inval) { sim_node_ref(dir), sim_node_ref(child) };
}

/* every entry of the subtree the kernel may have in its dentry cache, top
 * first: dropping the top prunes the unused ones below, the others are
 * pinned (an open file, a directory fd) and are dropped one by one */
static void queue_removed(sim_tree *t, sim_node *n) {
        if (n->nlookup > 0 && n->parent)
                queue_inval(t, n->parent, n);
        for (size_t i = 0; i < n->n_children; i++)
                queue_removed(t, n->children[i]);
}

/* sim->lock held (the only queuer), tree lock not held */
void sim_tree_flush(sim_tree *t) {
        sim_inval *l;
        size_t n;

        pthread_mutex_lock(&t->lock);
        l = t->pending;
        n = t->n_pending;
        t->pending = NULL;
        t->n_pending = t->n_alloc = 0;
        for (size_t i = 0; i < n; i++)
                if (!l[i].child)
                        l[i].dir->attr_inval_queued = false;
        pthread_mutex_unlock(&t->lock);

        for (size_t i = 0; i < n; i++) {
                if (t->forget_cached)
                        t->forget_cached(t, l[i].dir, l[i].child);
                sim_node_unref(l[i].child);
                sim_node_unref(l[i].dir);
        }
        free(l);
}

sim_node *sim_node_child(sim_node *parent, const char *name) {
        if (!parent || parent->type != SIM_NODE_DIR)
                return NULL;
        for (size_t i = 0; i < parent->n_children; i++)
                if (streq(parent->children[i]->name, name))
                        return parent->children[i];
        return NULL;
}

static sim_node *node_attach(sim_node *parent, sim_node *n) {
        sim_tree *t;

        if (!n)
                return NULL;
        if (!parent || sim_node_child(parent, n->name)) {
                /* sysfs refuses duplicates (-EEXIST); so do we */
                sim_node_unref(n);
                return NULL;
        }
        t = parent->tree;
        pthread_mutex_lock(&t->lock);
        if (parent->n_children == parent->n_alloc) {
                size_t na = parent->n_alloc ? parent->n_alloc * 2 : 8;
                sim_node **c = realloc(parent->children, na * sizeof(*c));

                if (!c) {
                        pthread_mutex_unlock(&t->lock);
                        sim_node_unref(n);
                        return NULL;
                }
                parent->children = c;
                parent->n_alloc = na;
        }
        parent->children[parent->n_children++] = n;
        n->parent = parent;
        n->tree = t;
        n->ino = ++t->next_ino;
        parent->mtime = n->mtime;
        /* st_mtime, and st_nlink for a directory */
        if (node_known(t, parent))
                queue_inval(t, parent, NULL);
        pthread_mutex_unlock(&t->lock);
        return n;
}

sim_node *sim_dir_new(sim_node *parent, const char *name) {
        return node_attach(parent, node_alloc(name, SIM_NODE_DIR, 0755));
}

sim_node *sim_dir_get(sim_node *parent, const char *name) {
        sim_node *n = sim_node_child(parent, name);

        if (n)
                return n->type == SIM_NODE_DIR ? n : NULL;
        return sim_dir_new(parent, name);
}

sim_node *sim_attr_new(sim_node *parent, const sim_attr *attr, void *obj) {
        sim_node *n = node_alloc(attr->name, SIM_NODE_ATTR, attr->mode);

        if (!n)
                return NULL;
        n->attr = attr;
        n->obj = sim_kobj_ref(obj);
        return node_attach(parent, n);
}

int sim_attrs_new(sim_node *parent, const sim_attr *attrs, size_t n, void *obj) {
        for (size_t i = 0; i < n; i++)
                if (!sim_attr_new(parent, &attrs[i], obj))
                        return -ENOMEM;
        return 0;
}

sim_node *sim_link_new(sim_node *parent, const char *name, sim_node *target) {
        sim_node *n;

        n = node_alloc(name, SIM_NODE_LINK, 0777);
        if (!n)
                return NULL;
        n->target = sim_relative_link(parent, target);
        if (!n->target) {
                sim_node_unref(n);
                return NULL;
        }
        return node_attach(parent, n);
}

static void node_detach_all(sim_node *n) {
        n->removed = true;
        for (size_t i = 0; i < n->n_children; i++) {
                sim_node *c = n->children[i];

                node_detach_all(c);
                c->parent = NULL;
                sim_node_unref(c);
        }
        n->n_children = 0;
}

void sim_node_remove(sim_node *n) {
        sim_tree *t;
        sim_node *p;

        if (!n || n->removed)
                return;
        t = n->tree;
        pthread_mutex_lock(&t->lock);
        p = n->parent;
        queue_removed(t, n);
        if (p && node_known(t, p))
                queue_inval(t, p, NULL);
        node_detach_all(n);
        if (p) {
                for (size_t i = 0; i < p->n_children; i++)
                        if (p->children[i] == n) {
                                memmove(p->children + i, p->children + i + 1,
                                        (p->n_children - i - 1) * sizeof(sim_node *));
                                p->n_children--;
                                break;
                        }
                (void) clock_gettime(CLOCK_REALTIME, &p->mtime);
        }
        n->parent = NULL;
        pthread_mutex_unlock(&t->lock);
        sim_node_unref(n);
}

void sim_node_remove_child(sim_node *parent, const char *name) {
        sim_node_remove(sim_node_child(parent, name));
}

void sim_node_remove_if_empty(sim_node *n) {
        if (n && n->type == SIM_NODE_DIR && n->n_children == 0)
                sim_node_remove(n);
}

sim_node *sim_node_resolve(sim_node *root, const char *path) {
        sim_node *n = root;
        const char *p = path;

        while (n && *p) {
                const char *e;
                char comp[256];
                size_t l;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                e = strchrnul(p, '/');
                l = (size_t) (e - p);
                if (l >= sizeof(comp))
                        return NULL;
                memcpy(comp, p, l);
                comp[l] = 0;
                n = sim_node_child(n, comp);
                p = e;
        }
        return n;
}

static size_t node_depth(const sim_node *n) {
        size_t d = 0;

        for (; n && n->parent; n = n->parent)
                d++;
        return d;
}

char *sim_node_path(const sim_node *n) {
        size_t depth = node_depth(n), len = 0;
        const sim_node *k;
        char *s, *p;

        if (depth == 0)
                return strdup("/");
        for (k = n; k->parent; k = k->parent)
                len += strlen(k->name) + 1;
        s = malloc(len + 1);
        if (!s)
                return NULL;
        p = s + len;
        *p = 0;
        for (k = n; k->parent; k = k->parent) {
                size_t l = strlen(k->name);

                p -= l;
                memcpy(p, k->name, l);
                *--p = '/';
        }
        return s;
}

static bool node_is_ancestor(const sim_node *a, const sim_node *n) {
        for (; n; n = n->parent)
                if (n == a)
                        return true;
        return false;
}

/* kernfs_get_target_path(): climb from the link's directory with "../" until
 * we reach an ancestor of the target, then descend to it. */
char *sim_relative_link(const sim_node *link_parent, const sim_node *target) {
        const sim_node *base = link_parent, *k;
        sim_buf b = {};
        size_t up = 0, depth_base, depth_t;
        const sim_node **chain;

        while (base->parent && !node_is_ancestor(base, target->parent)) {
                up++;
                base = base->parent;
        }
        for (size_t i = 0; i < up; i++)
                (void) sim_buf_put(&b, "../", 3);

        depth_base = node_depth(base);
        depth_t = node_depth(target);
        if (depth_t < depth_base) {
                sim_buf_free(&b);
                return NULL;
        }
        chain = calloc(depth_t - depth_base + 1, sizeof(*chain));
        if (!chain) {
                sim_buf_free(&b);
                return NULL;
        }
        k = target;
        for (size_t i = depth_t - depth_base; i > 0; i--) {
                chain[i - 1] = k;
                k = k->parent;
        }
        for (size_t i = 0; i < depth_t - depth_base; i++) {
                if (i > 0)
                        (void) sim_buf_put(&b, "/", 1);
                (void) sim_buf_put(&b, chain[i]->name, strlen(chain[i]->name));
        }
        free(chain);
        if (b.oom || !b.data) {
                sim_buf_free(&b);
                return NULL;
        }
        return b.data;
}
