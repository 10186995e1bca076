/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Each fuzz target defines this; built with libFuzzer (clang,
 * tools/fuzz) or with replay.c (any compiler, in make check) which feeds it
 * the seed corpus and every regression reproducer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
