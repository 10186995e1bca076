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
};

void pci_access_release(struct sriov_ctx *c);
