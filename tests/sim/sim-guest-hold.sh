#!/bin/bash
# The guest library's hold() (tests/vm/guest/lib.sh: the VM scenarios'
# VFIO user, `vfio-hold --sim` on the simulator) returns only once its own
# holder has the device, so that what the scenario does next (vfio-hold.sh:
# the VF's unbind) waits for the release as on the kernel.
#
# hold() starts the holder in the background with its output in FILE and
# waits for "held" there. Scenarios reuse FILE (vfio-hold.sh sections 2 and
# 3 both use d.out, try_open always try.out): until the new holder has
# opened and truncated it, FILE still says the previous holder's "held",
# and hold() must not take that for its own. On a loaded machine the
# background process can start after hold()'s first look; here that order
# is forced: a read lease on the old FILE makes any open of it for writing
# (the background redirection's O_TRUNC) wait until the lease is dropped,
# while reads (hold()'s grep) go on. The lease is dropped only after the
# checks, so a hold() that read the old FILE has returned before its holder
# ran, every time.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
require_cmd python3 python3
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || skip "no C compiler for tests/vm/helpers/vfio-hold.c"
[ "$(cat /proc/sys/fs/leases-enable 2>/dev/null)" = 1 ] || skip "file leases are disabled (fs.leases-enable)"
reexec_in_ns -m --propagation private
sim_start "$TOPO/x710.json" /sys
D=/sys/bus/pci/drivers
PF=/sys/bus/pci/devices/0000:3b:00.0
VF=0000:3b:02.0
tmp=$(mktemp -d)
HOLDER='' WRITER=''
# shellcheck disable=SC2016  # expanded when the test ends
on_exit '[ -z "${LEASE_PID:-}" ] || { disown "$LEASE_PID"; kill -KILL "$LEASE_PID"; } 2>/dev/null
        [ -z "$HOLDER" ] || kill -KILL "$HOLDER" 2>/dev/null
        sim_cleanup
        [ -z "$WRITER" ] || wait "$WRITER" 2>/dev/null
        rm -rf "$tmp"'

mkdir -p "$tmp/bin" "$tmp/state" "$tmp/results"
"$CC" -O2 -Wall -o "$tmp/bin/vfio-hold" "$top_srcdir/tests/vm/helpers/vfio-hold.c" ||
        skip "cannot build tests/vm/helpers/vfio-hold.c"
# the guest's shell when the host has it (diff-sim's choice), else sh
SH='sh'
command -v busybox >/dev/null 2>&1 && SH="busybox sh"

# guest_lib COMMANDS: COMMANDS in a shell with the guest library, as a
# scenario runs on the simulator (tests/vm/diff-sim)
guest_lib() {
        # shellcheck disable=SC2086  # SH is one or two words
        env SRIOVD_VM_TARGET=sim SRIOVD_VM_STATE="$tmp/state" SRIOVD_VM_SCENARIO_DIR="$tmp" \
            SRIOVD_VM_GMGR="$top_srcdir/tests/lib/gmgr.sh" NAME=hold T="$tmp/hold.txt" \
            RESULTS="$tmp/results" PATH="$tmp/bin:$PATH" \
            $SH -c ". '$top_srcdir/tests/vm/guest/lib.sh'; $1"
}

expect_write "$PF/sriov_numvfs" 1 0
expect_write "$D/iavf/unbind" "$VF" 0
expect_write "/sys/bus/pci/devices/$VF/driver_override" vfio-pci 0
expect_write /sys/bus/pci/drivers_probe "$VF" 0
expect_eq "$(driver_of "$VF")" vfio-pci "$VF driver"

# --- a first holder, as vfio-hold.sh section 2: FILE ends up saying held
out=$tmp/d.out
# (its answer to a file: the background holder must not keep a $(...) open)
guest_lib "hold device $VF '$out' && echo \"ok \$HOLD_PID\"" >"$tmp/r" || fail "first hold(): $(cat "$out")"
r=$(cat "$tmp/r")
HOLDER=${r#ok }
expect_eq "$(state "dev('$VF')['held']")" true "held by the first holder"
kill -TERM "$HOLDER"
wait_for 10 pid_gone "$HOLDER" || fail "the first holder did not exit"
HOLDER=
expect_eq "$(state "dev('$VF')['held']")" false "after the first holder's release"
grep -qx held "$out" || fail "the first holder's output lacks 'held': $(cat "$out")"

# --- the old FILE under a read lease: its next opener for writing waits
coproc LEASE { exec python3 -c '
import fcntl, os, signal, sys
F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)
broken = []
signal.signal(signal.SIGIO, lambda *a: broken.append(1))
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.fcntl(fd, F_SETLEASE, fcntl.F_RDLCK)
except OSError as e:
    print("no lease:", e, flush=True)
    sys.exit(0)
print("leased", flush=True)
sys.stdin.read()
fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
print("opened for writing while leased" if broken else "not opened for writing", flush=True)
' "$out"; }
read -r -t 10 ack <&"${LEASE[0]}" || fail "no answer from the lease holder"
case $ack in "no lease:"*) skip "cannot take a file lease in $tmp ($ack)" ;; esac
expect_eq "$ack" leased "the lease holder"

# --- the second hold(): done only when its own holder holds
guest_lib "hold device $VF '$out' && echo \"ok \$HOLD_PID\" || echo \"failed \$HOLD_PID\"" >"$tmp/r"
r=$(cat "$tmp/r")
HOLDER=${r#* }
expect_eq "$(state "dev('$VF')['held']")" true \
        "held when hold() returned ($r; it read the previous holder's 'held' before its own holder had started)"
expect_eq "${r%% *}" ok "the second hold() ($(cat "$out"))"
# what vfio-hold.sh does next: the VF's unbind waits for the release
sim-write "$D/vfio-pci/unbind" "$VF" >"$tmp/unbind" &
WRITER=$!
expect_blocked "$WRITER" "the unbind of the VF hold() holds"
# the writer waits for the simulator from the start: vfio-pci's remove()
# waiting for the VFIO user is what the state says
# shellcheck disable=SC2317  # called through wait_for
vfio_waiting() { [ "$(state "dev('$VF')['vfio_waiting']")" = true ]; }
wait_for 10 vfio_waiting || fail "vfio-pci's remove() does not wait for the holder"
expect_eq "$(driver_of "$VF")" none "driver link during the pending unbind"
expect_blocked "$WRITER" "the unbind, still held before the release"
kill -TERM "$HOLDER"
wait "$WRITER" || fail "the unbind ended with status $?"
WRITER=
expect_eq "$(cat "$tmp/unbind")" 0 "unbind after the release"
wait_for 10 pid_gone "$HOLDER" || fail "the second holder did not exit"
HOLDER=
expect_eq "$(state "dev('$VF')['held']")" false "after the second holder's release"

# the lease is dropped: nothing waited for it
eval "exec ${LEASE[1]}>&-"
read -r -t 10 ack <&"${LEASE[0]}" || fail "no answer from the lease holder"
expect_eq "$ack" "not opened for writing" "the previous holder's FILE"
sim_stop
exit 0
