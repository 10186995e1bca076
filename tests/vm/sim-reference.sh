#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The differential check without a VM, for every `make check`: the kernel
# scenarios of tests/vm run on the simulator (tests/sim/sriov-sim with the
# guest's topology, mounted over /sys in a private namespace) and each
# transcript is compared with the committed transcript of the real kernel
# (tests/vm/reference). A difference fails; 77 without root, FUSE or
# unshare. `make check-vm` compares with the kernels of that run instead.
# See tests/vm/README.md.
set -euo pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
exec "${BASH:-bash}" "$top_srcdir/tests/vm/diff-sim" \
        --sim "$top_builddir/tests/sim/sriov-sim" \
        --against "$top_srcdir/tests/vm/reference" \
        --out "$top_builddir/tests/vm/out"
