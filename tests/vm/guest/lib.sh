# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# shellcheck disable=SC2034  # variables set here are used by the scenarios
#
# Functions for the guest scenarios (busybox ash). A scenario is a plain
# script sourced after this file, in its own subshell, with NAME, T (its
# transcript) and RESULTS set. It records what the kernel did with `obs`,
# asserts with `expect*` (a failed expectation fails the scenario but the
# script goes on, so the transcript stays complete) and may `skip`.
#
# Transcript lines are KEY=VALUE, one observation each, in a stable order and
# free of timing, PIDs and random values, so that they can serve as the
# reference the kernel simulator is compared with.
#
# The same scenarios run against two targets (SRIOVD_VM_TARGET):
#   kernel  a real kernel: the guest of tests/vm/run (the default)
#   sim     the kernel simulator, tests/sim/sriov-sim, mounted over /sys in a
#           private mount and network namespace on the host (tests/vm/diff-sim)
# Only the primitives below differ between them (how a VFIO user is made,
# where uevents come from, the kernel log, NVMe firmware commands); what a
# target cannot have is named in the scenario's "# diff-exclude:" lines and
# left out of the comparison (see tests/vm/README.md).

TARGET=${SRIOVD_VM_TARGET:-kernel}
IP=/usr/sbin/ip          # iproute2; busybox's `ip` applet has no `vf` support
PCI=/sys/bus/pci
STATE=${SRIOVD_VM_STATE:-/run/sriovd-vm}   # run-wide state: PF drivers at boot, helper pids
UEVENTS=$STATE/uevents.log
SCENARIO_DIR=${SRIOVD_VM_SCENARIO_DIR:-/vm/scenarios}

on_sim() { [ "$TARGET" = sim ]; }

# diff_exclusions FILE: the key globs of FILE's "# diff-exclude: GLOB... --
# REASON" lines, one per line.
diff_exclusions() {
        sed -n 's/^# diff-exclude: \(.*\) -- .*$/\1/p' "$1" 2>/dev/null | tr ' ' '\n' | grep .
}
DIFF_EXCLUDED=$(diff_exclusions "$SCENARIO_DIR/$NAME.sh")

# diff_excluded KEY: KEY is excluded from the comparison with the simulator.
diff_excluded() {
        set -f          # the globs are for keys, not for files
        for _g in $DIFF_EXCLUDED; do
                # shellcheck disable=SC2254
                case $1 in $_g) set +f; return 0 ;; esac
        done
        set +f
        return 1
}

# sim_unchecked KEY: on the simulator, an expectation on an excluded key is
# recorded but not asserted (the simulator cannot have it; that is why it
# is excluded).
sim_unchecked() { on_sim && diff_excluded "$1"; }

# ---- transcript and verdict ------------------------------------------------

obs() {
        _k=$1; shift
        printf '%s=%s\n' "$_k" "$*" >>"$T"
}

note() { echo "# $*" >>"$T"; }

fail() {
        printf '%s\n' "$*" >>"$RESULTS/$NAME.reasons"
        echo "  FAIL: $*" >&2
}

# expect KEY ACTUAL EXPECTED: records KEY=ACTUAL, fails if it is not EXPECTED.
expect() {
        obs "$1" "$2"
        sim_unchecked "$1" && return 0
        [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# expect_glob KEY ACTUAL PATTERN: like expect, with a shell pattern.
expect_glob() {
        obs "$1" "$2"
        sim_unchecked "$1" && return 0
        # shellcheck disable=SC2254
        case $2 in $3) ;; *) fail "$1: got '$2', expected $3" ;; esac
}

# expect_ne KEY ACTUAL UNEXPECTED
expect_ne() {
        obs "$1" "$2"
        sim_unchecked "$1" && return 0
        [ "$2" != "$3" ] || fail "$1: got '$2'"
}

# skip REASON: ends the scenario as skipped (exit 77), e.g. for a missing
# binary or a device this machine does not have.
skip() {
        printf '%s\n' "$*" >"$RESULTS/$NAME.skip"
        obs skipped "$*"
        exit 77
}

# ci_skip REASON: skip, for what this run lacks (QEMU without igb, no QEMU
# for the guest); with CI=true a failure instead: CI's machine has them.
ci_skip() {
        if [ "${SRIOVD_VM_CI:-}" = true ]; then
                fail "$* (CI=true: this must run here)"
                exit 1
        fi
        skip "$@"
}

# no_reference: this scenario checks the harness or the project, not the
# kernel; its transcript is not a reference for the simulator.
no_reference() { : >"$RESULTS/$NAME.noref"; }

# need_bin NAME...: skips unless every binary is there (the project's
# binaries come from SRIOVD_VM_BINARIES and live in /opt/sriovd/bin).
need_bin() {
        for _b in "$@"; do
                command -v "$_b" >/dev/null 2>&1 || skip "binary '$_b' not provided (pass it in SRIOVD_VM_BINARIES)"
        done
}

# ci_need_bin NAME...: need_bin for what CI's build must have made (its
# build dependencies are all there): a skip here, a failure with CI=true.
ci_need_bin() {
        for _b in "$@"; do
                command -v "$_b" >/dev/null 2>&1 || ci_skip "binary '$_b' not provided (not built here, or not in SRIOVD_VM_BINARIES)"
        done
}

# ---- small kernel access helpers ------------------------------------------

# rd PATH: the content of a sysfs file without its trailing newline, or
# "absent", or the errno name of a failing read.
rd() {
        if [ ! -e "$1" ]; then
                echo absent
                return
        fi
        sysfs-io -l read "$1"
}

# sim_mounted: on the simulator target, /sys is the simulator (its control
# file is there). Every write checks it, so that nothing is ever written to
# the host's real sysfs should the simulator go away.
sim_mounted() { [ -e /sys/.sim/ctl ]; }

# sw PATH DATA: one write(2) of DATA (escapes \n \0 \xHH); prints ok/ENAME.
sw() {
        if on_sim && ! sim_mounted; then
                echo "ENOSIM"
                return 1
        fi
        sysfs-io write "$1" "$2"
}

# sw_t MS PATH DATA [RESULTFILE]: like sw, but prints "pending" after MS ms
# while the write goes on in the background (RESULTFILE gets its outcome).
sw_t() {
        if on_sim && ! sim_mounted; then
                echo "ENOSIM"
                return 1
        fi
        if [ -n "$4" ]; then
                sysfs-io -t "$1" -o "$4" write "$2" "$3"
        else
                sysfs-io -t "$1" write "$2" "$3"
        fi
}

# bg_write PATH DATA FILE: starts a write that is expected to block, in the
# background with its outcome in FILE; sets WPID (the writer) and, after
# 3 s, BG_RESULT (its outcome, or "pending"). Not for $(...): it sets
# variables.
bg_write() {
        : >"$3"
        if on_sim && ! sim_mounted; then
                echo "ENOSIM" >"$3"
                BG_RESULT=ENOSIM
                return 1
        fi
        sysfs-io write "$1" "$2" >"$3" 2>&1 &
        WPID=$!
        sleep 3
        BG_RESULT=$(cat "$3")
        BG_RESULT=${BG_RESULT:-pending}
}

# uev_op KEY EXPECTED PATH DATA [bydev]: one write, its result asserted and
# its uevents recorded as KEY.uevent.N.
uev_op() {
        uev_begin
        expect "$1" "$(sw "$3" "$4")" "$2"
        uev_record "$1.uevent" "$5"
}

# rd_t MS PATH: read with a timeout; prints the content or "pending".
rd_t() { sysfs-io -t "$1" -l read "$2"; }

link_name() {
        _ln=$(readlink "$1") || { echo none; return; }
        echo "${_ln##*/}"
}
drv() { link_name "$PCI/devices/$1/driver"; }
grp() { link_name "$PCI/devices/$1/iommu_group"; }

# pci_id BDF: "vvvv:dddd"
pci_id() { echo "$(rd "$PCI/devices/$1/vendor" | sed 's/^0x//'):$(rd "$PCI/devices/$1/device" | sed 's/^0x//')"; }

# find_pf VENDOR DEVICE: the first SR-IOV capable function with that id.
find_pf() {
        for _d in "$PCI"/devices/*; do
                [ -e "$_d/sriov_totalvfs" ] || continue
                [ "$(cat "$_d/vendor")" = "$1" ] && [ "$(cat "$_d/device")" = "$2" ] && { basename "$_d"; return 0; }
        done
        return 1
}

# vfs PF: the PF's VFs (virtfn0, virtfn1, ... order), space separated.
vfs() {
        _i=0 _out=
        while [ -L "$PCI/devices/$1/virtfn$_i" ]; do
                _out="$_out $(link_name "$PCI/devices/$1/virtfn$_i")"
                _i=$((_i + 1))
        done
        echo $_out
}

# virtfn_links PF: the names of the PF's virtfnN links, sorted.
virtfn_links() { (cd "$PCI/devices/$1" && ls -d virtfn* 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'); }

# cfg_word BDF OFFSET: a 16-bit word of config space as read from the
# device's sysfs "config" file, as 0xNNNN.
cfg_word() { printf '0x%s\n' "$(od -An -tx2 -j "$2" -N2 "$PCI/devices/$1/config" | tr -d ' ')"; }

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s; 0 when it succeeded.
wait_until() {
        _n=$(($1 * 10)); shift
        while [ $_n -gt 0 ]; do
                "$@" && return 0
                sleep 0.1
                _n=$((_n - 1))
        done
        "$@"
}

# wait_async SECONDS COMMAND...: waits for a driver's asynchronous work on
# a real kernel (nvme's reset work, a controller becoming live). The
# simulator does all of its work before the write returns: nothing to wait
# for there.
wait_async() {
        on_sim && return 0
        wait_until "$@"
}

file_has() { grep -q "$2" "$1" 2>/dev/null; }

# klog: the kernel log; klog_clear: empties it. The simulator has no kernel
# log: klog prints nothing there (keys derived from it are excluded from
# the comparison) and the host's log is left alone.
klog() { on_sim || dmesg; }
klog_clear() { on_sim || dmesg -c >/dev/null; }

# ---- uevents ---------------------------------------------------------------
# The runner keeps uevent-log running; a scenario brackets an operation with
# uev_begin and uev_record KEY, which records the events in between as
# KEY.N=ACTION SUBSYSTEM DEVPATH [PROPS].

seqnum() { cat /sys/kernel/uevent_seqnum; }

uev_begin() { UEV0=$(seqnum); }

# settle: waits (at most 10 s) until no uevent has come for 0.5 s and the
# logger has caught up with the kernel's counter.
settle() {
        if on_sim; then
                # The simulator is synchronous: the events of a write are out
                # when it returns. Wait only for the logger to catch up.
                # shellcheck disable=SC2016  # for eval
                wait_until 10 eval '[ "$(seqnum)" = "$UEV0" ] || [ "$(tail -n 1 "$UEVENTS" | cut -d" " -f1)" -ge "$(seqnum)" ] 2>/dev/null'
                return
        fi
        _last=$(seqnum) _quiet=0 _n=100
        while [ $_n -gt 0 ]; do
                sleep 0.1
                _n=$((_n - 1))
                _now=$(seqnum)
                if [ "$_now" != "$_last" ]; then
                        _last=$_now _quiet=0
                        continue
                fi
                _quiet=$((_quiet + 1))
                [ $_quiet -ge 5 ] || continue
                [ "$_now" = "$UEV0" ] && return 0
                [ "$(tail -n 1 "$UEVENTS" | cut -d' ' -f1)" -ge "$_now" ] 2>/dev/null && return 0
        done
        return 1
}

# uev_record KEY [bydev]: records the events since uev_begin (after settle)
# as KEY.N, and their number as KEY.count. With "bydev" the events are
# grouped by DEVPATH, keeping each device's own order: for operations whose
# asynchronous work (nvme's reset work on 6.1) races with other events, so
# that the transcript stays reproducible; KEY.order says so.
uev_record() {
        settle || note "uevents did not settle within 10 s"
        if [ "$2" = bydev ]; then
                obs "$1.order" by-devpath
                uev_list | sort -s -k3,3 >"$STATE/uev.tmp"
        else
                uev_list >"$STATE/uev.tmp"
        fi
        _c=0
        while read -r _line; do
                _c=$((_c + 1))
                obs "$1.$_c" "$_line"
        done <"$STATE/uev.tmp"
        obs "$1.count" "$_c"
        UEV0=$(seqnum)
}

# uev_list: the events since uev_begin, without recording them.
uev_list() {
        while read -r _seq _rest; do
                case $_seq in ''|\#*) continue ;; esac
                [ "$_seq" -gt "$UEV0" ] 2>/dev/null && echo "$_rest"
        done <"$UEVENTS"
}

# ---- background helpers ----------------------------------------------------

# hold MODE BDF FILE: starts vfio-hold in the background with its output in
# FILE; waits (30 s) until it holds or fails. HOLD_PID is its pid.
# FILE goes first: scenarios reuse it (vfio-hold.sh's d.out, try_open's
# try.out), and the background process truncates it only when it runs, which
# on a loaded machine can be after the first look below, so that a previous
# holder's "held" would be taken for this one's and the scenario would go on
# before its VFIO user has the device. A new file, not the old one emptied:
# an old holder that has not exited yet keeps writing to the old one.
hold() {
        rm -f "$3"
        if on_sim; then
                vfio-hold --sim "$1" "$2" >"$3" 2>&1 &
        else
                vfio-hold "$1" "$2" >"$3" 2>&1 &
        fi
        HOLD_PID=$!
        echo "$HOLD_PID" >>"$STATE/pids"
        wait_until 30 eval "grep -qs -e '^held' -e '^error=' '$3' || ! alive $HOLD_PID"
        grep -qs '^held' "$3"
}

# proc_state PID: the process state letter (R, S, D, Z...) or "gone".
proc_state() {
        _s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
        echo "${_s:-gone}"
}

# alive PID: running, not a zombie waiting to be reaped.
alive() { case $(proc_state "$1") in gone|Z) return 1 ;; esac; }

# try_open MODE BDF: opens like `vfio-hold MODE BDF` and lets go at once;
# prints "held" or the error (e.g. "open_group:EBUSY").
try_open() {
        if hold "$1" "$2" "$STATE/try.out"; then
                release "$HOLD_PID"
                echo held
        else
                sed -n 's/^error=//p' "$STATE/try.out" | grep . || echo "no answer"
        fi
}

# release PID: signals a vfio-hold and waits (10 s) for it to exit.
release() {
        kill -TERM "$1" 2>/dev/null
        wait_until 10 eval "! alive $1"
}

# ---- modules ---------------------------------------------------------------

# mod_unload MODULE / mod_load MODULE: rmmod / insmod (the guest's modules
# are in /usr/lib/modules/kmod, listed in /etc/modules.load); on the
# simulator its "rmmod" / "modprobe" commands. Print ok or what failed.
mod_unload() {
        if on_sim; then
                sw /sys/.sim/ctl "rmmod $1"
        else
                rmmod "$1" >/dev/null 2>&1 && echo ok || echo "rmmod failed"
        fi
}
mod_load() {
        if on_sim; then
                sw /sys/.sim/ctl "modprobe $1"
                return
        fi
        _ko=$(grep "/$1\.ko" /etc/modules.load | head -n 1 | cut -d' ' -f1)
        [ -n "$_ko" ] || { echo "no $1.ko"; return; }
        insmod "/usr/lib/modules/kmod/$_ko" >/dev/null 2>&1 && echo ok || echo "insmod failed"
}

# ---- the world -------------------------------------------------------------

NVME_ID="0x1b36 0x0010"   # QEMU's NVMe controller
IGB_ID="0x8086 0x10c9"    # Intel 82576 (QEMU igb)

# shellcheck disable=SC2086
nvme_pf() { find_pf $NVME_ID; }
# shellcheck disable=SC2086
igb_pf() { find_pf $IGB_ID; }

# need_igb: skips the rest of the scenario when this QEMU has no igb device
# (QEMU < 8); fails when it should have one.
need_igb() {
        IGB=$(igb_pf) && return 0
        [ "$EXPECT_IGB" = 1 ] && fail "igb PF not found although QEMU provides one"
        return 1
}

# nvme_online_vfs CTRL N: gives the first N secondary controllers of the
# NVMe PF controller CTRL (e.g. nvme0) flexible resources (2 queues, 1
# interrupt) and brings them online, so that the VFs can be driven. QEMU's
# VFs start offline: the nvme driver's probe fails on them (CSTS=0x2). Needed
# after every enable. Prints nvme-cli's complaint on failure.
nvme_online_vfs() {
        if on_sim; then
                # The simulator's NVMe VFs are not ready until "ready BDF"
                # (its stand-in for these firmware commands).
                _i=0
                for _v in $(vfs "$(nvme_pf)"); do
                        [ $_i -lt "$2" ] || break
                        [ "$(sw /sys/.sim/ctl "ready $_v")" = ok ] || { echo "sim ready $_v failed"; return 1; }
                        _i=$((_i + 1))
                done
                return 0
        fi
        _i=1
        while [ $_i -le "$2" ]; do
                nvme virt-mgmt "/dev/$1" -c $_i -r 0 -a 8 -n 2 >/dev/null 2>&1 &&
                nvme virt-mgmt "/dev/$1" -c $_i -r 1 -a 8 -n 1 >/dev/null 2>&1 &&
                nvme virt-mgmt "/dev/$1" -c $_i -a 9 >/dev/null 2>&1 || { echo "virt-mgmt on secondary $_i failed"; return 1; }
                _i=$((_i + 1))
        done
}

# nvme_ctrl BDF: the function's NVMe controller (nvmeN) or "none".
nvme_ctrl() { ls "$PCI/devices/$1/nvme" 2>/dev/null | head -n 1 | grep . || echo none; }

# nvme_state BDF: the state of the function's NVMe controller, or "none".
nvme_state() {
        _c=$(nvme_ctrl "$1")
        [ "$_c" = none ] && echo none || rd "$PCI/devices/$1/nvme/$_c/state"
}
# nvme_live BDF: its NVMe controller is live. The simulator has no NVMe
# controllers (nvme_state is "none" there) but probes synchronously: a
# function nvme is bound to counts as live.
nvme_live() {
        if on_sim; then
                [ "$(drv "$1")" = nvme ]
        else
                [ "$(nvme_state "$1")" = live ]
        fi
}

# record_world: remembers each SR-IOV PF's driver at boot (the runner calls it).
record_world() {
        mkdir -p "$STATE"
        : >"$STATE/pfs"
        for _d in "$PCI"/devices/*; do
                [ -e "$_d/sriov_totalvfs" ] || continue
                _b=$(basename "$_d")
                echo "$_b $(drv "$_b")" >>"$STATE/pfs"
        done
}

# reset_world: every PF bound to its boot driver with no VFs, autoprobe on,
# no driver_override, no helper left running. Prints what it could not do.
reset_world() {
        _ok=0
        if [ -s "$STATE/pids" ]; then
                for _p in $(cat "$STATE/pids"); do kill -TERM "$_p" 2>/dev/null; done
                sleep 0.2
                : >"$STATE/pids"
        fi
        while read -r _pf _drv; do
                _dir=$PCI/devices/$_pf
                [ "$(rd "$_dir/driver_override")" = "(null)" ] || sw "$_dir/driver_override" '\n' >/dev/null
                if [ "$(drv "$_pf")" != "$_drv" ] && [ "$_drv" != none ]; then
                        [ "$(drv "$_pf")" = none ] || sw "$_dir/driver/unbind" "$_pf" >/dev/null
                        sw "$PCI/drivers/$_drv/bind" "$_pf" >/dev/null
                fi
                if [ "$(rd "$_dir/sriov_numvfs")" != 0 ]; then
                        _r=$(sw_t 30000 "$_dir/sriov_numvfs" 0)
                        [ "$_r" = ok ] || { echo "$_pf: sriov_numvfs 0: $_r"; _ok=1; }
                fi
                sw "$_dir/sriov_drivers_autoprobe" 1 >/dev/null
                [ "$(drv "$_pf")" = "$_drv" ] || { echo "$_pf: driver $(drv "$_pf"), want $_drv"; _ok=1; }
        done <"$STATE/pfs"
        return $_ok
}

# ---- the project's daemon on a private bus ---------------------------------

BUS_SOCKET=$STATE/bus

# start_bus: a private dbus-daemon (system-bus policy that allows everything
# plus the project's policy when carried in /opt/sriovd/dbus-1/system.d);
# exports DBUS_SYSTEM_BUS_ADDRESS for sriovd and sriovctl.
start_bus() {
        mkdir -p "$STATE" /opt/sriovd/dbus-1/system.d
        rm -f "$BUS_SOCKET"
        dbus-daemon --config-file=/vm/dbus.conf --fork || return 1
        wait_until 10 test -S "$BUS_SOCKET" || return 1
        cat "$STATE/bus.pid" >>"$STATE/pids" 2>/dev/null
        export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$BUS_SOCKET
}

stop_bus() {
        [ -e "$STATE/bus.pid" ] && kill -TERM "$(cat "$STATE/bus.pid")" 2>/dev/null
        rm -f "$STATE/bus.pid" "$BUS_SOCKET"
        unset DBUS_SYSTEM_BUS_ADDRESS
}

# bus_has_name NAME: the name is owned on the private bus.
bus_has_name() {
        dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}

# start_sriovd [ARGS...]: the daemon on the private bus (starting the bus if
# needed), its output in $RESULTS/$NAME.sriovd.log; waits 30 s for its name.
start_sriovd() {
        need_bin sriovd
        [ -n "$DBUS_SYSTEM_BUS_ADDRESS" ] || start_bus || { fail "cannot start dbus-daemon"; return 1; }
        sriovd "$@" >"$RESULTS/$NAME.sriovd.log" 2>&1 &
        SRIOVD_PID=$!
        echo "$SRIOVD_PID" >>"$STATE/pids"
        wait_until 30 bus_has_name org.sriovd.Manager1
}

stop_sriovd() {
        [ -n "$SRIOVD_PID" ] || return 0
        kill -TERM "$SRIOVD_PID" 2>/dev/null
        wait_until 10 eval "! alive $SRIOVD_PID"
        _r=$?
        SRIOVD_PID=
        return $_r
}

# ---- tools carried for some scenarios only ----------------------------------
# A scenario names them in "# vm-needs: TOOL..." lines (tests/vm/run carries
# them into the guest then); need_tool skips, saying why, when the host could
# not provide one.

need_tool() {
        for _t in "$@"; do
                have_tool "$_t" || skip "tool '$_t' is not in the guest (not on the host, or no '# vm-needs: $_t' line)"
        done
}

# ci_need_tool TOOL...: need_tool for what CI's machine must carry into the
# guest (tools/install-deps --test): a skip here, a failure with CI=true.
ci_need_tool() {
        for _t in "$@"; do
                have_tool "$_t" || ci_skip "tool '$_t' is not in the guest (not on the host, or no '# vm-needs: $_t' line)"
        done
}

have_tool() {
        case $1 in
        gdbus) [ -x /usr/bin/gdbus ] ;;
        polkitd) [ -x /usr/lib/polkit-1/polkitd ] ;;
        qemu) [ -x /usr/bin/qemu-system-x86_64 ] && [ -r /usr/share/qemu-vm/bios-256k.bin ] ;;
        nested) [ -r /usr/share/qemu-vm/nested-bzImage ] && [ -r /usr/share/qemu-vm/linuxboot_dma.bin ] ;;
        fake-kubelet) [ -x /usr/bin/python3 ] && [ -r /vm/k8s/fake-kubelet.py ] && [ -r /vm/k8s/deviceplugin_pb2.py ] ;;
        jsonschema) [ -x /usr/bin/python3 ] && [ -d /usr/lib/python3/dist-packages/jsonschema ] && [ -r /vm/k8s/cdi-spec-0.5.schema.json ] ;;
        podman) [ -x /usr/bin/podman ] && [ -x /usr/bin/crun ] && [ -r /vm/podman/busybox.tar ] ;;
        *) false ;;
        esac
}

# only_on_kernel GLOB REASON: skip, saying why, unless the boot's name
# (debian-6.1, kernel2-6.12) matches GLOB.
only_on_kernel() {
        case ${KERNEL_NAME:-} in
        $1) ;;
        *) skip "runs on $1 only: $2" ;;
        esac
}

# ---- talking to sriovd --------------------------------------------------------

# start_sriovd_fresh [ARGS...]: sriovd with a state directory of its own
# (emptied), the configuration in $SRIOVD_CONF when the scenario wrote one
# (no drop-in directory) and the kernel's uevents (the guest has no udevd);
# waits (60 s) until it has applied the configuration (State "running").
SRIOVD_CONF=$STATE/$NAME.conf
start_sriovd_fresh() {
        rm -rf "$STATE/sriovd-state"
        mkdir -p "$STATE/sriovd-state"
        start_sriovd --uevent-source kernel --state-dir "$STATE/sriovd-state" \
                --config "$SRIOVD_CONF" --config-dir "$STATE/sriovd-conf.d" "$@" || return 1
        wait_until 60 sriovd_running
}

# sriovd_running: the daemon's State property is "running".
sriovd_running() {
        dbus-send --system --print-reply --dest=org.sriovd.Manager1 /org/sriovd/Manager1 \
                org.freedesktop.DBus.Properties.Get string:org.sriovd.Manager1 string:State 2>/dev/null |
                grep -q '"running"'
}

# gmgr METHOD ARG...: org.sriovd.Manager1.METHOD through gdbus (arguments in
# GVariant text); prints the reply, or "ERROR NAME: MESSAGE" (status 1):
# tests/lib/gmgr.sh, shared with the host's tests.
# shellcheck source=tests/lib/gmgr.sh
. "${SRIOVD_VM_GMGR:-/vm/gmgr.sh}"

# mgr_error METHOD ARG...: the D-Bus error name of the call, or "ok".
mgr_error() {
        _r=$(gmgr "$@") && { echo ok; return; }
        echo "$_r" | sed -n '1s/^ERROR \([^:]*\):.*/\1/p'
}

# gv_string REPLY KEY: a string (or number) member of an a{sv} in gdbus's
# printout, e.g. "'vf': <'0000:02:10.0'>" -> 0000:02:10.0.
gv_string() {
        echo "$1" | sed -n "s/.*'$2': <\\(uint32 \\|int32 \\|uint64 \\)\\{0,1\\}'\\{0,1\\}\\([^'>]*\\)'\\{0,1\\}>.*/\\2/p" | head -n 1
}

# gv_list REPLY KEY: the strings of an "as" member of an a{sv} in gdbus's
# printout, one per line.
gv_list() { echo "$1" | sed -n "s/.*'$2': <\\[\\([^]]*\\)\\]>.*/\\1/p" | sed "s/', '/\\n/g; s/^'//; s/'\$//"; }

# assignment_reply GUEST: the guest's entry in ListAssignments (one line:
# "('GUEST', 'VF', 'POOL', 'STATE', {...})"); assignment_of GUEST: its
# "VF STATE" (ready, not-ready, broken, ...). Nothing when it has none.
assignment_reply() { gmgr ListAssignments "''" | sed "s/}), ('/})\\n('/g" | grep "('$1', '"; }
assignment_of() { assignment_reply "$1" | sed -n "s/.*('$1', '\\([^']*\\)', '[^']*', '\\([^']*\\)'.*/\\1 \\2/p"; }

# as_user UID:GID COMMAND...: COMMAND as that user, without supplementary
# groups, with an unlimited RLIMIT_MEMLOCK (a VFIO user pins its DMA memory):
# the helper as-user (busybox's setpriv cannot change ids).
as_user() {
        _u=${1%%:*} _g=${1#*:}
        shift
        as-user "$_u" "$_g" "$@"
}

# start_polkitd USER ACTION...: the real polkitd on the private bus, with one
# rule: USER may do the ACTIONs (no password; nothing else for anyone).
start_polkitd() {
        _user=$1
        shift
        {
                echo 'polkit.addRule(function(action, subject) {'
                for _a in "$@"; do
                        echo "    if (action.id == \"$_a\" && subject.user == \"$_user\") return polkit.Result.YES;"
                done
                echo '});'
        } >/etc/polkit-1/rules.d/50-sriovd-vm.rules
        /usr/lib/polkit-1/polkitd --no-debug >"$RESULTS/$NAME.polkitd.log" 2>&1 &
        POLKITD_PID=$!
        echo "$POLKITD_PID" >>"$STATE/pids"
        wait_until 30 bus_has_name org.freedesktop.PolicyKit1
}

stop_polkitd() {
        [ -n "$POLKITD_PID" ] || return 0
        kill -TERM "$POLKITD_PID" 2>/dev/null
        wait_until 10 eval "! alive $POLKITD_PID"
        POLKITD_PID=
        rm -f /etc/polkit-1/rules.d/50-sriovd-vm.rules
}

# ---- a real QEMU in the guest -------------------------------------------------

QEMU_WRAP=         # a command guest_qemu starts its QEMU through (pod_qemu)
# guest_qemu OUT [USER] -- QEMU-ARGS...: this run's QEMU (the host's binary),
# as USER (uid:gid, optional), on a q35 machine that stays paused (-S):
# nothing runs in it, but every device is realized, vfio-pci included (it
# opens the VFIO group and maps the guest's memory for DMA). Its QMP monitor
# on stdin/stdout gets: qmp_capabilities, query-pci, quit. The exchange goes
# to OUT (stdout), stderr to OUT.err; status: QEMU's. Bounded by 120 s.
guest_qemu() {
        _qo=$1 _qu=
        shift
        [ "$1" = -- ] || { _qu=$1; shift; }
        shift
        set -- timeout -s KILL 120 /usr/bin/qemu-system-x86_64 -L /usr/share/qemu-vm -nodefaults -no-user-config \
                -machine q35 -accel tcg -m 32 -display none -S -qmp stdio "$@"
        printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "query-pci"}' '{"execute": "quit"}' >"$STATE/qmp.in"
        if [ -n "$_qu" ]; then
                # shellcheck disable=SC2086  # the wrapper's words (pod_qemu)
                $QEMU_WRAP as-user "${_qu%%:*}" "${_qu#*:}" "$@" <"$STATE/qmp.in" >"$_qo" 2>"$_qo.err"
        else
                QEMU_MODULE_DIR=/nonexistent "$@" <"$STATE/qmp.in" >"$_qo" 2>"$_qo.err"
        fi
}

# qmp_pci_id OUT QDEV_ID: the "vendor:device" ids (hex) of the device with
# that qdev id in the query-pci answer in OUT, or "absent".
qmp_pci_id() {
        _j=$(grep -o "\"qdev_id\": \"$2\", \"slot\": [0-9]*, \"class_info\": {[^}]*}, \"id\": {[^}]*}" "$1" | head -n 1)
        [ -n "$_j" ] || { echo absent; return 1; }
        _j=${_j##*\"id\": }
        printf '%04x:%04x\n' "$(echo "$_j" | sed -n 's/.*"vendor": \([0-9]*\).*/\1/p')" \
                "$(echo "$_j" | sed -n 's/.*"device": \([0-9]*\).*/\1/p')"
}

# pod_qemu OUT UID:GID NODES -- QEMU-ARGS...: guest_qemu as a pod's user
# the way a container runtime starts a container: in a mount namespace of
# its own whose /dev holds nothing but the OCI runtime's default devices
# (null, zero, full, random, urandom, tty, ptmx) and the nodes in the file
# NODES ("HOST_PATH CONTAINER_PATH" lines: the kubelet's DeviceSpecs), made
# with the host nodes' numbers and owned by the pod's user, as containerd
# and CRI-O do with device_ownership_from_security_context (what KubeVirt's
# non-root virt-launcher relies on).
pod_qemu() {
        _po=$1 _pu=$2 _pn=$3
        shift 3
        {
                echo 'set -e'
                echo 'mount -t tmpfs -o mode=755 pod-dev /dev'
                echo 'mkdir -p /dev/pts /dev/shm'
                for _d in null zero full random urandom tty ptmx; do
                        echo "mknod -m 666 /dev/$_d c $(stat -c '$((0x%t)) $((0x%T))' "/dev/$_d")"
                done
                while read -r _h _c; do
                        [ -c "$_h" ] || { echo "echo 'pod_qemu: $_h is not a character device' >&2; exit 1"; continue; }
                        echo "mkdir -p ${_c%/*}"
                        echo "mknod -m 660 $_c c $(stat -c '$((0x%t)) $((0x%T))' "$_h")"
                        echo "chown $_pu $_c"
                done <"$_pn"
                echo 'exec "$@"'
        } >"$STATE/pod-dev.sh"
        QEMU_WRAP="unshare -m --propagation private -- sh $STATE/pod-dev.sh"
        guest_qemu "$_po" "$_pu" "$@"
        _pr=$?
        QEMU_WRAP=
        return $_pr
}
