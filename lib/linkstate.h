/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sysfs.h"

/* Take an interface administratively down (what sriov_link_set_up() undoes
 * the other way: the PF whose link an assignment brought up). */
int sriov_link_set_down(const char *ifname, sriov_error *err);
