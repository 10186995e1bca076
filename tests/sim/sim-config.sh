#!/bin/bash
# The config attribute: synthesized configuration space with the SR-IOV
# capability tracking sriov_numvfs, VF ids reading 0xffff, 64 bytes for
# readers without CAP_SYS_ADMIN, writes accepted and dropped.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
require_cmd setpriv util-linux
require_cmd od coreutils
sim_start "$TOPO/x710.json"
USERS_BIN=$(mktemp -d /tmp/sim-config.XXXXXX)       # sim-write for nobody (tests/lib/users.sh)
on_exit 'sim_cleanup; rm -rf "$USERS_BIN"'
PF=$(dev 0000:3b:00.0)

# cfg OFFSET SIZE [FILE]: little-endian value, in hex
cfg() {
        local v
        v=$(od -A n -t x1 -j "$1" -N "$2" "${3:-$PF/config}" | tr -d ' \n')
        echo "$v" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s", $i; print "" }'
}

# ext_cap ID: offset of a PCIe extended capability
ext_cap() {
        local off=256 hdr
        while [ "$off" -ne 0 ]; do
                hdr=$(cfg $off 4 "${2:-$PF/config}")
                [ $((16#${hdr: -4})) -eq $(("$1")) ] && { echo $off; return; }
                off=$((16#$hdr >> 20))
        done
        echo 0
}

expect_eq "$(stat -L -c %s "$PF/config")" 4096 "config size"
expect_eq "$(head -c 8192 "$PF/config" | wc -c)" 4096 "bytes root reads"
expect_eq "$(cfg 0 4)" 15728086 "vendor/device"
expect_eq "$(cfg 0x0a 2)" 0200 "class"
expect_eq "$(cfg 0x0e 1)" 80 "header type: multi-function endpoint"
expect_eq "$(cfg 0x2c 4)" 00078086 "subsystem ids"
expect_eq "$(cfg 0x06 2)" 0010 "status: capability list"
sr=$(ext_cap 0x10)
[ "$sr" -gt 0 ] || fail "no SR-IOV capability"
[ "$(ext_cap 0x0d)" -gt 0 ] || fail "no ACS capability on an ACS function"
expect_eq "$(cfg $((sr + 0x0e)) 2)" 0040 TotalVFs
expect_eq "$(cfg $((sr + 0x0c)) 2)" 0040 InitialVFs
expect_eq "$(cfg $((sr + 0x10)) 2)" 0000 "NumVFs while disabled"
expect_eq "$(cfg $((sr + 0x08)) 2)" 0000 "SR-IOV control while disabled"
expect_eq "$(cfg $((sr + 0x14)) 2)" 0010 "First VF Offset"
expect_eq "$(cfg $((sr + 0x16)) 2)" 0001 "VF Stride"
expect_eq "$(cfg $((sr + 0x1a)) 2)" 154c "VF Device ID"
expect_write "$PF/sriov_numvfs" 3 0
expect_eq "$(cfg $((sr + 0x10)) 2)" 0003 "NumVFs while enabled"
expect_eq "$(cfg $((sr + 0x08)) 2)" 0009 "VF Enable and VF MSE"
VF=$(dev 0000:3b:02.0)
expect_eq "$(cfg 0 4 "$VF/config")" ffffffff "VF vendor/device in config space"
expect_eq "$(rd "$VF/vendor"):$(rd "$VF/device")" 0x8086:0x154c "VF ids in sysfs"
expect_eq "$(cfg 0x0e 1 "$VF/config")" 00 "VF header type"
expect_eq "$(ext_cap 0x10 "$VF/config")" 0 "SR-IOV capability on a VF"
expect_write "$PF/sriov_numvfs" 0 0
expect_eq "$(cfg $((sr + 0x08)) 2)" 0000 "SR-IOV control after disable"

# bridges: type 1 header with the bus numbers
RP=$(dev 0000:3a:00.0)
expect_eq "$(cfg 0x0e 1 "$RP/config")" 01 "bridge header type"
expect_eq "$(cfg 0x18 3 "$RP/config")" 3b3b3a "primary/secondary/subordinate"

# no CAP_SYS_ADMIN: 64 bytes (and nothing past them)
expect_eq "$(as_nobody cat "$PF/config" | wc -c)" 64 "bytes nobody reads"
expect_eq "$(as_nobody dd if="$PF/config" bs=1 skip=100 count=4 2>/dev/null | wc -c)" 0 \
        "nobody reading past 64"
expect_eq "$(as_nobody cat "$PF/vendor")" 0x8086 "nobody reads attributes"
expect_eq "$(as_nobody "$(command -v sim-write)" "$PF/sriov_numvfs" 1)" EACCES \
        "nobody writing sriov_numvfs"
expect_eq "$(as_nobody "$(command -v sim-write)" "$SIM_ROOT/.sim/ctl" clear)" EACCES \
        "nobody writing .sim/ctl"
# writes are accepted and dropped
expect_write "$PF/config" "\xff\xff" 0
expect_eq "$(cfg 0 2)" 8086 "config after a write"
sim_stop
exit 0
