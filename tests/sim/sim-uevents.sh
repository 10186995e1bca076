#!/bin/bash
# --uevents: udevadm monitor (sd-device, with its in-kernel BPF filter on the
# subsystem hash) receives the simulator's events, in the kernel's order:
# per VF add, change (physfn links), [net add], bind; then change on the PF.
# Everything runs in a private network namespace, so no event reaches the
# host's listeners; in the host's namespace the simulator refuses --uevents.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
require_cmd udevadm udev
require_cmd stdbuf coreutils

if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ] && [ -z "${SIM_IN_NS_n:-}" ]; then
        tmp=$(mktemp -d)
        out=$(sriov-sim "$TOPO/x710.json" "$tmp" --uevents 2>&1) && { rmdir "$tmp"; fail "--uevents accepted in PID 1's netns"; }
        rmdir "$tmp"
        [[ "$out" == *"refusing --uevents in PID 1's network namespace"* ]] || fail "unclear refusal: $out"
fi
reexec_in_ns -n
sim_start "$TOPO/x710.json" "" -- --uevents
M=$SIM_ROOT
mon=$(mktemp)
monnet=$(mktemp)
stdbuf -oL udevadm monitor --udev --property --subsystem-match=pci > "$mon" 2>&1 &
m1=$!
stdbuf -oL udevadm monitor --udev --property --subsystem-match=net > "$monnet" 2>&1 &
m2=$!
on_exit 'kill $m1 $m2 2>/dev/null; sim_cleanup; rm -f "$mon" "$monnet"'
# udevadm monitor prints its header once its socket receives
wait_for 5 grep -q "^UDEV - " "$mon" || fail "udevadm monitor (pci) did not start: $(cat "$mon")"
wait_for 5 grep -q "^UDEV - " "$monnet" || fail "udevadm monitor (net) did not start: $(cat "$monnet")"

expect_write "$(dev 0000:3b:00.0)/sriov_numvfs" 2 0
expect_write "$(dev 0000:3b:00.0)/sriov_numvfs" 0 0
events_in() { [ "$(grep -c '^UDEV  \[' "$1" || :)" -ge "$2" ]; }
wait_for 5 events_in "$mon" 11 || fail "pci events: $(cat "$mon")"
wait_for 5 events_in "$monnet" 4 || fail "net events: $(cat "$monnet")"
kill $m1 $m2
wait $m1 $m2 2>/dev/null || :          # ended by SIGTERM

got=$(awk '/^UDEV  \[/ { n = split($4, p, "/"); printf "%s:%s ", $3, p[n] }' "$mon")
expect_eq "$got" "add:0000:3b:02.0 change:0000:3b:02.0 bind:0000:3b:02.0 add:0000:3b:02.1 change:0000:3b:02.1 bind:0000:3b:02.1 change:0000:3b:00.0 unbind:0000:3b:02.0 remove:0000:3b:02.0 unbind:0000:3b:02.1 remove:0000:3b:02.1 " \
        "pci uevents received by udevadm monitor"
got=$(awk '/^UDEV  \[/ { n = split($4, p, "/"); printf "%s:%s ", $3, p[n] }' "$monnet")
expect_eq "$got" "add:ens1f0v0 add:ens1f0v1 remove:ens1f0v0 remove:ens1f0v1 " "net uevents received by udevadm monitor"

# the properties of one event, as the kernel and udevd set them
ev=$(awk -v RS= '/\nACTION=bind\n/ && /PCI_SLOT_NAME=0000:3b:02.1/' "$mon")
for p in ACTION=bind DEVPATH=/devices/pci0000:3a/0000:3a:00.0/0000:3b:02.1 SUBSYSTEM=pci DRIVER=iavf \
         PCI_CLASS=20000 PCI_ID=8086:154C PCI_SUBSYS_ID=8086:0000 PCI_SLOT_NAME=0000:3b:02.1 \
         MODALIAS=pci:v00008086d0000154Csv00008086sd00000000bc02sc00i00; do
        grep -qxF "$p" <<< "$ev" || fail "bind event lacks $p: $ev"
done
grep -qx 'SEQNUM=[0-9]*' <<< "$ev" || fail "bind event without SEQNUM"
ev=$(awk -v RS= '/\nACTION=add\n/ && /INTERFACE=ens1f0v1/' "$monnet")
for p in SUBSYSTEM=net INTERFACE=ens1f0v1 TAGS=:systemd:; do
        grep -qxF "$p" <<< "$ev" || fail "net add event lacks $p: $ev"
done
# SEQNUMs rise and agree with kernel/uevent_seqnum and .sim/uevents
seqs=$(grep -h '^SEQNUM=' "$mon" "$monnet" | cut -d= -f2 | sort -n | tr '\n' ' ')
expect_eq "$seqs" "$(seq -s ' ' 1 15) " "SEQNUMs seen by the monitors"
expect_eq "$(rd "$M/kernel/uevent_seqnum")" 15 uevent_seqnum
expect_eq "$(wc -l < "$M/.sim/uevents")" 15 ".sim/uevents lines"
sim_stop
exit 0
