/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "basics.h"
#include "rpc.h"

/* sriovd-kubelet-plugin (docs/kubernetes.md): the kubelet's device plugin
 * API v1beta1 for sriovd's pools, one resource per pool. Everything runs on
 * one sd-event loop: the bus to sriovd (sriovd.c), the kubelet's gRPC
 * (rpc.c forwards the completions of gRPC's own thread to the loop), the
 * resources and their calls (resource.c, allocate.c), and what watches the
 * kubelet (kubelet.c: registration, inotify, cleanup through PodResources
 * and Reconcile). Nothing here touches sysfs: sriovd does the work. */

#define PLUGIN_OWNER "kubernetes"
#define PLUGIN_API_VERSION "v1beta1"

typedef enum Backend {
        BACKEND_AUTO,
        BACKEND_CONTAINER,
        BACKEND_IOMMUFD,
} Backend;

typedef struct Options {
        const char *plugin_dir;         /* the kubelet's device-plugins directory */
        const char *pod_resources;      /* the kubelet's PodResources socket */
        const char *pods_dir;           /* the kubelet's pods directory (NULL: not watched) */
        const char *prefix;             /* resource names: PREFIX/POOL */
        char **pools;                   /* only these pools (NULL: every pool) */
        uint64_t reconcile_usec;        /* the bounded interval of the cleanup */
        uint64_t grace_usec;            /* a VF allocated this recently counts as live */
        Backend backend;
        bool cdi;                       /* CDI device names in Allocate's answer */
} Options;

typedef struct Vf {
        char *id;                       /* the VF's address: the device ID and the guest name */
        int numa;                       /* -1: unknown */
        bool healthy;
        char *why;                      /* why not healthy (for the log), NULL when healthy */
} Vf;

typedef struct Stream Stream;
typedef struct Plugin Plugin;

/* One pool as a kubelet resource: its gRPC server on its socket, its
 * registration, its ListAndWatch streams. */
typedef struct Resource {
        Plugin *plugin;
        char *pool;
        char *name;                     /* PREFIX/POOL */
        char *endpoint;                 /* the socket's name in plugin_dir */
        char *socket;                   /* its path */
        char *env;                      /* PREFIX/POOL for environment names: PREFIX_POOL, upper case */
        Vf *vfs;                        /* the pool's VFs in its order */
        size_t n_vfs;
        RpcServer *server;
        bool registered;
        bool restart;                   /* start again once the server is down */
        bool removed;                   /* the pool is gone: free once the server is down */
        unsigned register_tries;
        sd_event_source *register_retry;
        Stream *streams;
        struct Resource *next;
} Resource;

/* What sriovd says of one assignment. */
typedef struct Held {
        char *guest;
        char *vf;
        char *owner;
        char *state;
} Held;

/* A VF allocated recently: live whatever PodResources says, for a while. */
typedef struct Recent {
        char *id;
        uint64_t at;
} Recent;

struct Plugin {
        Options opt;
        sd_event *event;
        sd_bus *bus;
        RpcLoop *rpc;
        Resource *resources;
        unsigned n_servers;             /* gRPC servers up or stopping */
        bool exiting;

        /* sriovd, as the last refresh saw it */
        bool sriovd_running;
        bool iommufd, vfio_container;   /* /dev/iommu, /dev/vfio/vfio exist */
        Held *held;
        size_t n_held;
        bool refreshing, refresh_again;
        sd_event_source *refresh_source;
        uint64_t n_refreshes;

        /* the kubelet */
        int inotify_fd;
        sd_event_source *inotify_source;
        int wd_plugin_dir, wd_pods_dir;
        sd_event_source *reconcile_timer;       /* the interval */
        sd_event_source *reconcile_soon;        /* a change was seen: shortly */
        bool reconciling, reconcile_again;
        unsigned allocating;                    /* Allocate calls under way: no cleanup meanwhile */
        Recent *recent;
        size_t n_recent;
        uint64_t n_reconciles;
};

/* sriovd.c: the bus */
int sriovd_connect(Plugin *p);
/* Read pools, VFs, assignments again (coalesced); resources follow. */
void sriovd_refresh_soon(Plugin *p);
const Held *sriovd_held_by(const Plugin *p, const char *vf);

/* resource.c */
/* Bring the resources in line with the pools (names: pool, vfs: per pool). */
void resources_update(Plugin *p, char **pools, Vf **vfs, size_t *n_vfs);
void resources_mark_all_unhealthy(Plugin *p, const char *why);
Resource *resource_free(Resource *r);
/* (Re)start every server and register again (the kubelet restarted). */
void resources_reregister(Plugin *p);
/* A socket of ours vanished: restart that one. */
void resources_socket_gone(Plugin *p, const char *endpoint);
void resources_shutdown(Plugin *p);
const Vf *resource_find_vf(const Resource *r, const char *id);
void vf_array_free(Vf *vfs, size_t n);

/* allocate.c: the DevicePlugin calls of a resource */
void allocate_handle(Resource *r, RpcServerCall *c, const uint8_t *data, size_t len);
void preferred_handle(Resource *r, RpcServerCall *c, const uint8_t *data, size_t len);

/* kubelet.c */
int kubelet_watch(Plugin *p);
/* Clean up now (coalesced): PodResources, then Reconcile. */
void kubelet_reconcile_soon(Plugin *p, uint64_t delay_usec);
void kubelet_register(Resource *r);
void plugin_note_allocated(Plugin *p, const char *id);
