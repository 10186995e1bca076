#!/bin/bash
# The kernel caches the simulator's entries, and the attributes of its
# directories and links, with no timeout (README: "FUSE details"); every
# change drops what it cached before the write that made it returns. Here:
# every kind of change, each after the names concerned were looked up (and
# so cached): a driver's links and net devices going, VFs destroyed and
# created again at the same addresses in another state, an IOMMU group id
# freed by one PF and taken by another, hot-unplug and rescan, a renamed
# net device, chmod; and attribute contents that stay uncached, read through
# the page cache too (sendfile).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
set -euo pipefail
require_root
sim_start "$TOPO/x710.json"
M=$SIM_ROOT
PF=$(dev 0000:3b:00.0)
PF1=$(dev 0000:3b:00.1)
VF=$M/devices/pci0000:3a/0000:3a:00.0/0000:3b:02.0

gone() {
        if [ -e "$1" ] || [ -L "$1" ]; then
                fail "${1#"$M"/} is still there ($2)"
        fi
}

there() {
        [ -e "$1" ] || fail "${1#"$M"/} is missing ($2)"
}

group_of() {
        basename "$(link_target "$(dev "$1")/iommu_group")"
}

# the names looked up once are in the kernel's cache from here on
warm() {
        local p
        for p in "$@"; do
                stat "$p" > /dev/null 2>&1 || :
                stat -L "$p" > /dev/null 2>&1 || :
        done
}

# --- a VF with a driver, a net device and a group; everything looked up ---
expect_write "$PF/sriov_numvfs" 2 0
expect_eq "$(driver_of 0000:3b:02.0)" iavf "VF driver (autoprobe)"
g=$(group_of 0000:3b:02.0)
warm "$VF" "$VF/vendor" "$VF/device" "$VF/driver" "$VF/iommu_group" "$VF/physfn" "$VF/net" \
        "$VF/net/ens1f0v0" "$(dev 0000:3b:02.0)" "$(dev 0000:3b:02.0)/driver_override" \
        "$PF/virtfn0" "$PF/virtfn1" "$M/class/net/ens1f0v0" "$M/kernel/iommu_groups/$g" \
        "$M/kernel/iommu_groups/$g/devices/0000:3b:02.0" "$M/bus/pci/drivers/iavf/0000:3b:02.0" \
        "$(dev 0000:3b:02.2)" "$PF/virtfn2"
expect_eq "$(stat -c %h "$VF")" 3 "links of the VF directory with net/"
ino_vf=$(stat -c %i "$VF")
ino_vendor=$(stat -c %i "$VF/vendor")
mtime=$(stat -c %.9Y "$VF")
# a directory fd (as sriovd's device scopes hold) and an open attribute
exec {dirfd}<"$VF"
exec {vendorfd}<"$VF/vendor"

# --- the driver goes: its links and the net device with it ---
expect_write "$M/bus/pci/drivers/iavf/unbind" 0000:3b:02.0 0
gone "$VF/driver" "after unbind"
gone "$M/bus/pci/drivers/iavf/0000:3b:02.0" "after unbind"
gone "$VF/net" "after unbind"
gone "$M/class/net/ens1f0v0" "after unbind"
expect_eq "$(stat -c %h "$VF")" 2 "links of the VF directory without net/"
[ "$(stat -c %.9Y "$VF")" != "$mtime" ] || fail "the VF directory's mtime did not change"

# --- the VFs go: directories, links, group ---
expect_write "$PF/sriov_numvfs" 0 0
gone "$VF" "after sriov_numvfs=0"
gone "$VF/vendor" "after sriov_numvfs=0"
gone "$(dev 0000:3b:02.0)" "after sriov_numvfs=0"
gone "$PF/virtfn0" "after sriov_numvfs=0"
gone "$PF/virtfn1" "after sriov_numvfs=0"
gone "$M/kernel/iommu_groups/$g" "after sriov_numvfs=0"
# through the fd of the removed directory, as in kernfs: nothing
gone "/proc/self/fd/$dirfd/vendor" "through an fd of the removed VF directory"
if read -r _ <&"$vendorfd" 2>/dev/null; then
        fail "an attribute of a removed VF still reads"
fi

# --- created again at the same addresses, in another state ---
expect_write "$PF/sriov_drivers_autoprobe" 0 0
expect_write "$PF/sriov_numvfs" 3 0
there "$VF" "after sriov_numvfs=3"
there "$(dev 0000:3b:02.2)" "a VF that did not exist when it was looked up"
there "$PF/virtfn2" "a link that did not exist when it was looked up"
[ "$(stat -c %i "$VF")" != "$ino_vf" ] || fail "the new VF directory has the old inode"
[ "$(stat -c %i "$VF/vendor")" != "$ino_vendor" ] || fail "the new VF's vendor has the old inode"
expect_eq "$(driver_of 0000:3b:02.0)" none "driver of the new VF (autoprobe off)"
gone "$VF/driver" "new VF, autoprobe off"
gone "$VF/net" "new VF, autoprobe off"
expect_eq "$(stat -c %h "$VF")" 2 "links of the new VF directory"
expect_eq "$(rd "$VF/vendor")" 0x8086 "vendor of the new VF"
expect_eq "$(rd "$VF/device")" 0x154c "device of the new VF"
expect_eq "$(rd "$(dev 0000:3b:02.0)/driver_override")" "(null)" "driver_override of the new VF"
expect_eq "$(basename "$(link_target "$VF/physfn")")" 0000:3b:00.0 "physfn of the new VF"
expect_eq "$(basename "$(link_target "$PF/virtfn0")")" 0000:3b:02.0 "virtfn0 of the PF"
g2=$(group_of 0000:3b:02.0)
expect_eq "$(ls "$M/kernel/iommu_groups/$g2/devices")" 0000:3b:02.0 "group of the new VF"
gone "/proc/self/fd/$dirfd/vendor" "the old directory's fd does not reach the new VF"
exec {dirfd}<&- {vendorfd}<&-
# a directory that gains a subdirectory (st_nlink, st_mtime)
mtime=$(stat -c %.9Y "$VF")
expect_write "$(dev 0000:3b:02.0)/driver_override" iavf 0
expect_write "$M/bus/pci/drivers_probe" 0000:3b:02.0 0
expect_eq "$(driver_of 0000:3b:02.0)" iavf "driver of the new VF after drivers_probe"
expect_eq "$(stat -c %h "$VF")" 3 "links of the VF directory once net/ came"
[ "$(stat -c %.9Y "$VF")" != "$mtime" ] || fail "the VF directory's mtime did not change with net/"

# --- a group id freed by one PF and taken by the other ---
warm "$M/kernel/iommu_groups/$g2" "$M/kernel/iommu_groups/$g2/devices" "$M/kernel/iommu_groups/$g2/type"
expect_write "$PF/sriov_numvfs" 0 0
expect_write "$PF1/sriov_numvfs" 1 0
expect_eq "$(group_of 0000:3b:0a.0)" "$g" "the other PF's VF takes the lowest free group id"
expect_eq "$(ls "$M/kernel/iommu_groups/$g/devices")" 0000:3b:0a.0 "members of the reused group"
expect_eq "$(rd "$M/kernel/iommu_groups/$g/type")" DMA-FQ "type of the reused group"
expect_write "$PF1/sriov_numvfs" 0 0

# --- hot-unplug and rescan: a new PF directory, probed again ---
warm "$PF/driver" "$PF/net/ens1f0" "$PF/sriov_numvfs" "$M/class/net/ens1f0"
ino_pf=$(stat -L -c %i "$PF")
expect_write "$PF/remove" 1 0
gone "$PF" "after remove"
gone "$M/class/net/ens1f0" "after remove"
expect_write "$M/bus/pci/rescan" 1 0
there "$PF" "after rescan"
[ "$(stat -L -c %i "$PF")" != "$ino_pf" ] || fail "the PF came back with the old inode"
expect_eq "$(driver_of 0000:3b:00.0)" i40e "PF driver after rescan"
expect_eq "$(rd "$PF/sriov_drivers_autoprobe")" 1 "autoprobe after rescan (initial state)"
there "$PF/net/ens1f0" "after rescan"

# --- a net device renamed ---
warm "$M/class/net/ens1f1" "$PF1/net/ens1f1" "$PF1/net/ens1f1/address"
ctl netdev ens1f1 rename lan1
gone "$M/class/net/ens1f1" "after rename"
gone "$PF1/net/ens1f1" "after rename"
there "$M/class/net/lan1/address" "after rename"
there "$PF1/net/lan1" "after rename"

# --- chmod goes through the kernel; a new device has the kernel's modes ---
chmod 0600 "$PF1/vendor"
expect_eq "$(stat -L -c %a "$PF1/vendor")" 600 "mode after chmod"
ctl remove 0000:3b:00.1
ctl add 0000:3b:00.1
expect_eq "$(stat -L -c %a "$PF1/vendor")" 444 "mode of the device added again"

# --- contents are never cached, not even read through the page cache ---
# (sendfile: a short read there makes the kernel take the end of the data
# for the file's size, until fresh attributes say 4096 again)
O=$(dev 0000:3b:00.1)/driver_override
sendfile() {
        python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
r, w = os.pipe()
n = os.sendfile(w, fd, None, 65536)
os.close(w)
sys.stdout.write(os.read(r, 65536).decode())' "$1"
}
expect_eq "$(sendfile "$O")" "(null)" "driver_override by sendfile"
expect_eq "$(stat -L -c %s "$O")" 4096 "size after a sendfile read"
expect_write "$O" a-driver-with-a-longer-name 0
expect_eq "$(sendfile "$O")" a-driver-with-a-longer-name "driver_override by sendfile after a write"
expect_eq "$(rd "$O")" a-driver-with-a-longer-name "driver_override after a write"

sim_stop
exit 0
