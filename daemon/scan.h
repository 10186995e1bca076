/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "groups.h"
#include "host.h"

/* `sriovd --scan`: the host model, printed for people or as JSON. */
int scan_to_json(const sriov_host *host, const iommu_host *iommu, json_object **ret);
int scan_print(FILE *f, const sriov_host *host, const iommu_host *iommu);
int run_scan(const char *sysfs_root, const char *dev_root, bool json);
