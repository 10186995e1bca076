/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lanes.h"

/* The ledger against the host: every difference in a sentence. Made on the
 * host lane from a copy of the ledger, reading the kernel fresh (sysfs,
 * rtnetlink, /dev, /proc): a done assignment whose VF is gone, not on the
 * guest's driver, with other settings or node owners than the guest's; a
 * recorded binding whose device is gone; a VF on vfio-pci that a process
 * holds though no guest holds it in the ledger. */

typedef struct Difference {
        char *subject;                  /* the device (or node) */
        char *guest;                    /* "" when none */
        char *kind;                     /* missing, driver, settings, node-owner, held, not-ready, broken */
        char *sentence;
} Difference;

typedef struct VerifyWork VerifyWork;

/* A job that compares; its differences once it completed. */
Job *verify_job_new(Daemon *d);
const Difference *verify_differences(const Job *j, size_t *ret_n);
