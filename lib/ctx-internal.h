/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The context's insides, shared by the lib/ files only. */

#include <pthread.h>
#include <stdint.h>

#include "sysfs.h"

struct pci_access;

struct sriov_ctx {
        char *root;                     /* absolute, no trailing slash */
        char *dev_root;
        char *proc_root;
        uint64_t timeout_usec;
        sriov_late_cb late_cb;
        void *late_userdata;

        /* libpci is not thread-safe; one handle per context, behind a lock,
         * created on first use. */
        pthread_mutex_t pci_lock;
        struct pci_access *pacc;
        int pacc_error;
        /* names found, by ids: pci.ids parsed is ~2 MB of heap in libpci, the
         * few ids a host has are a few hundred bytes here (pcilib.c) */
        struct pci_name_entry *names;
        size_t n_names;

        /* PFs whose sriov_drivers_autoprobe reprobes of their VFs turned
         * on for their probes, and how many are under way (ops.c): the last
         * one turns it off again, so that parallel reprobes do not turn it
         * off under each other's probe */
        pthread_mutex_t autoprobe_lock;
        struct autoprobe_hold *autoprobe_holds;
};

void pci_access_release(struct sriov_ctx *c);
