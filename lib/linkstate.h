/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sysfs.h"

/* An interface administratively up (a PF whose driver wants it up for VF
 * settings), or down again (the PF whose link an assignment brought up). */
int sriov_link_set_up(const char *ifname, sriov_error *err);
int sriov_link_set_down(const char *ifname, sriov_error *err);
