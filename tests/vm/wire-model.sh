#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/vm/wire-model.sh — the simulator's igb model against what the real
# kernels did in tests/vm/scenarios/sriovd-wire.sh. That scenario records,
# as rtnl.* keys, the VF line `ip link show` prints after each setting
# sriovd made on QEMU's igb, and the kernel's answer to a link state; the
# committed transcripts (tests/vm/reference/KERNEL/sriovd-wire.txt) are
# what the kernels did. Here the same settings go through iproute2 to
# tests/sim/sriov-sim serving the guest's topology (qemu.json, qemu-6.12.json)
# with rtnetlink, and each key must read the same.
#
# What the data path showed (frames, the VF driver's own requests) is not
# the simulator's to model: the VF's own MAC change, allowed by trust
# (igbvf asking igb over the mailbox), is left out and named (README
# "rtnetlink": "trust-dependent VF requests" are not modelled).
set -u
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
. "$top_srcdir/tests/sim/lib.sh"
require_root
require_cmd ip iproute2
reexec_in_ns -m
. "$top_srcdir/tests/sim/rtnl-lib.sh"

PFBDF=0000:02:00.0
M1=02:00:00:5e:20:01
# keys the simulator cannot have, with the reason
NOT_MODELLED="rtnl.trust_on_after rtnl.link_state"
WHY="the VF's own MAC change under trust (igbvf's mailbox request) is not modelled"

# ref_value FILE KEY
ref_value() { sed -n "s/^$2=//p" "$1" | head -n 1; }

checked=0
for ref in "$top_srcdir"/tests/vm/reference/*/sriovd-wire.txt; do
        [ -e "$ref" ] || continue
        kname=$(basename "$(dirname "$ref")")
        topo=$TOPO/qemu.json
        [ -e "$TOPO/qemu-${kname##*-}.json" ] && topo=$TOPO/qemu-${kname##*-}.json
        sim_start_rtnl "$topo"
        expect_write "$(dev $PFBDF)/sriov_numvfs" 1 0
        PF=$(ls "$(dev $PFBDF)/net")
        expect_ip_ok link set dev "$PF" up
        out=$RTNL_WORK/sim-$kname.txt
        : >"$out"
        # rec KEY: the VF line as the scenario records it
        rec() { echo "$1=$(vf_line "$PF" 0 | sed 's/^vf 0 *//' | tr -s ' ')" >>"$out"; }
        rec_mac_masked() { echo "$1=$(vf_line "$PF" 0 | sed 's/^vf 0 *//' | tr -s ' ' | sed 's,^link/ether [^ ]*,link/ether MAC,')" >>"$out"; }
        # the scenario's settings, in its order (sriovctl and SetVFConfig
        # make the same ndo_set_vf_* calls)
        rec_mac_masked rtnl.initial
        ipr link set dev "$PF" vf 0 mac "$M1"; rec rtnl.mac
        ipr link set dev "$PF" vf 0 vlan 100 qos 3; rec rtnl.vlan
        ipr link set dev "$PF" vf 0 vlan 0; rec rtnl.vlan0
        ipr link set dev "$PF" vf 0 spoofchk on; rec rtnl.spoofchk_on
        ipr link set dev "$PF" vf 0 spoofchk off; rec rtnl.spoofchk_off
        ipr link set dev "$PF" vf 0 spoofchk on
        ipr link set dev "$PF" vf 0 trust off; rec rtnl.trust_off
        rec rtnl.trust_off_after
        ipr link set dev "$PF" vf 0 trust on; rec rtnl.trust_on
        ipr link set dev "$PF" vf 0 trust off
        echo "rtnl.link_state_disable=$(ipr link set dev "$PF" vf 0 state disable 2>&1)" >>"$out"
        sim_stop

        while IFS= read -r line; do
                key=${line%%=*}
                want=$(ref_value "$ref" "$key")
                [ "$want" = "${line#*=}" ] ||
                        fail "$kname: $key: kernel \"$want\", simulator \"${line#*=}\""
                checked=$((checked + 1))
        done <"$out"
        # every rtnl key of the kernel's is compared or named here
        for key in $(sed -n 's/^\(rtnl\.[^=]*\)=.*/\1/p' "$ref"); do
                grep -q "^$key=" "$out" && continue
                case " $NOT_MODELLED " in *" $key "*) echo "NOT MODELLED $kname: $key: $WHY"; continue ;; esac
                fail "$kname: $key is in the kernel's transcript and not compared"
        done
        echo "PASS $kname: $(grep -c . "$out") VF lines and answers as the kernel's"
done
[ "$checked" -gt 0 ] || skip "no reference transcript of sriovd-wire (tests/vm/reference/*/sriovd-wire.txt)"
