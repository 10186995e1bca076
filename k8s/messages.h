/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kubelet's messages, as protoc-c generates them from deviceplugin.proto
 * and podresources.proto. protoc-c names the member for the service method
 * Register "register", a C keyword: it is renamed while the header is read
 * (and when the generated code is compiled, k8s/local.mk). */
#define register register_
#include "deviceplugin.pb-c.h"
#include "podresources.pb-c.h"
#undef register
