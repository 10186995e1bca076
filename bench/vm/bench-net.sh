# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# bench-net: the guest network I/O paths of docs/benchmarks.md ("6. Guest
# network paths"), in tests/vm/run's guest. Not a test and not in
# tests/vm/scenarios: bench/vm/net hands it to tests/vm/run in a scenario
# directory of its own.
#
# One nested guest (the kernel of tests/vm/nested-kernel, busybox, the
# static tcp-rr) with three NICs, each its own path to this guest, the
# host of the measurement:
#   e1000   QEMU's emulated 82540EM on a tap device here   10.40.1.0/24
#   virtio  virtio-net (no vhost: no KVM) on a tap here      10.40.2.0/24
#   vf      an igb VF that sriovd assigns (vfio-pci), to the PF here
#           through QEMU's igb switch                        10.40.3.0/24
# In the nested guest, tcp-rr measures against `tcp-rr server` here, for
# each path and message size: round trips (rr) and bandwidth (stream),
# BENCH_SECS seconds each, the paths in an order that rotates per
# repetition. All of it is TCG inside TCG: the numbers say how the
# emulated paths compare here, nothing about hardware.
#
# Output (KEY=VALUE): bench.rep.N.PATH.rr.SIZE=COUNT MEAN_US MIN_US P50_US
# P99_US, bench.rep.N.PATH.stream.SIZE=BYTES USEC MBIT_S, the nested
# guest's boot time, and what was skipped and why.
#
# diff-skip: a benchmark, not a kernel rule
# vm-needs: qemu nested

no_reference
need_bin sriovd sriovctl
need_tool qemu nested
need_igb || skip "no igb NIC (QEMU < 8): the VF path needs it"
B=/opt/sriovd/bin
BENCH_REPS=1 BENCH_SECS=3 BENCH_SIZES="64 256 1024 4096 16384 65536"
[ -r "$B/bench.conf" ] && . "$B/bench.conf"
TCPRR=$STATE/tcp-rr
gunzip -c "$B/tcp-rr.gz" >"$TCPRR" 2>/dev/null && chmod 755 "$TCPRR" || skip "no tcp-rr.gz in /opt/sriovd/bin"
[ -e /dev/net/tun ] || skip "no /dev/net/tun (the tun module): the e1000 and virtio paths need taps"
GP=$PCI/devices/$IGB
PF=$(ls "$GP/net" | head -n 1)
phase() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*" >&2; }

# ---- this side: the PF, two taps, the server
$IP link set dev "$PF" up
wait_until 20 eval '[ "$(rd "$GP/net/$PF/carrier")" = 1 ]'
$IP addr add 10.40.3.1/24 dev "$PF"
for i in 1 2; do
        $IP tuntap add dev "tap$i" mode tap
        $IP addr add "10.40.$i.1/24" dev "tap$i"
        $IP link set dev "tap$i" up
done
"$TCPRR" server 5001 >"$STATE/server.out" 2>&1 &
echo $! >>"$STATE/pids"
wait_until 10 file_has "$STATE/server.out" '^listening' || skip "tcp-rr server: $(cat "$STATE/server.out")"

cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 1, "autoprobe": true } ],
  "pools": [ { "name": "bench", "select": [ "$IGB#0" ] } ] }
EOF
start_sriovd_fresh --timeout 60 || skip "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"
QARGS=$(sriovctl assign bench bench --format qemu) || skip "sriovctl assign failed: $QARGS"
obs bench.vf_qemu_args "$QARGS"

# ---- the nested guest
G=$STATE/nested
rm -rf "$G"
mkdir -p "$G/root/bin" "$G/root/proc" "$G/root/sys" "$G/root/dev"
cp /usr/bin/busybox "$G/root/bin/busybox"
cp "$TCPRR" "$G/root/bin/tcp-rr"
cat >"$G/root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
say() { echo "NESTED $*"; }
for w in $(cat /proc/cmdline); do
        case $w in bench.*=*) k=${w#bench.}; eval "${k%%=*}='${w#*=}'" ;; esac
done
sizes=$(echo "$sizes" | tr , ' ')
say "up $(cut -d' ' -f1 /proc/uptime)"
for d in /sys/class/net/*; do
        [ -e "$d/device/driver" ] || continue
        case $(basename "$(readlink "$d/device/driver")") in
        e1000) p=e1000 net=1 ;; virtio_net) p=virtio net=2 ;; igbvf) p=vf net=3 ;; *) continue ;;
        esac
        ip addr add "10.40.$net.2/24" dev "${d##*/}"
        ip link set dev "${d##*/}" up
        eval "if_$p=${d##*/}"
done
for p in e1000 virtio vf; do
        eval "i=\$if_$p"
        [ -n "$i" ] || { say "missing $p"; continue; }
        n=600
        while [ "$(cat /sys/class/net/$i/carrier 2>/dev/null)" != 1 ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
        say "carrier $p $(cat /sys/class/net/$i/carrier 2>/dev/null)"
done
say "ready $(cut -d' ' -f1 /proc/uptime)"
r=1
while [ $r -le "$reps" ]; do
        # the order of the paths rotates per repetition
        case $((r % 3)) in 1) order="e1000 virtio vf" ;; 2) order="virtio vf e1000" ;; 0) order="vf e1000 virtio" ;; esac
        for p in $order; do
                case $p in e1000) peer=10.40.1.1 ;; virtio) peer=10.40.2.1 ;; vf) peer=10.40.3.1 ;; esac
                ping -c 1 -W 10 $peer >/dev/null 2>&1 || say "noping $r $p"
                for s in $sizes; do
                        say "result $r $p $(tcp-rr rr $peer 5001 $s $secs 2>&1 | tr '\n' ' ')"
                        say "result $r $p $(tcp-rr stream $peer 5001 $s $secs 2>&1 | tr '\n' ' ')"
                done
        done
        r=$((r + 1))
done
say "end $(cut -d' ' -f1 /proc/uptime)"
reboot -f
EOF
chmod 755 "$G/root/init"
(cd "$G/root" && find . | cpio -o -H newc 2>/dev/null) >"$G/initrd"

nsizes=$(echo $BENCH_SIZES | wc -w)
limit=$((240 + BENCH_REPS * 3 * nsizes * 2 * (BENCH_SECS + 20)))
phase "nested guest: $BENCH_REPS repetitions, sizes $BENCH_SIZES, ${BENCH_SECS}s each, at most ${limit}s"
t0=$(cut -d. -f1 /proc/uptime)
# shellcheck disable=SC2086  # QEMU's arguments as sriovctl printed them
timeout -s KILL "$limit" /usr/bin/qemu-system-x86_64 -L /usr/share/qemu-vm \
        -nodefaults -no-user-config -machine pc -accel tcg -m 128 -display none -monitor none -no-reboot \
        -kernel /usr/share/qemu-vm/nested-bzImage -initrd "$G/initrd" \
        -append "console=ttyS0 quiet panic=-1 no_timer_check bench.reps=$BENCH_REPS bench.secs=$BENCH_SECS bench.sizes=$(echo $BENCH_SIZES | tr ' ' ,)" \
        -netdev tap,id=n1,ifname=tap1,script=no,downscript=no -device e1000,netdev=n1,romfile=,mac=52:54:00:40:01:02 \
        -netdev tap,id=n2,ifname=tap2,script=no,downscript=no -device virtio-net-pci,netdev=n2,romfile=,mac=52:54:00:40:02:02 \
        -serial "file:$G/console" $QARGS >"$G/qemu.out" 2>&1
rc=$?
obs bench.nested.exit "$rc"
obs bench.nested.wall_s "$(($(cut -d. -f1 /proc/uptime) - t0))"
cat "$G/qemu.out" >&2
tr -d '\r' <"$G/console" | tee "$RESULTS/$NAME.console" | grep '^NESTED' >&2
tr -d '\r' <"$G/console" | sed -n 's/^NESTED up //p' | head -n 1 | sed 's/^/bench.nested.boot_s=/' >>"$T"
tr -d '\r' <"$G/console" | sed -n 's/^NESTED carrier //p' | while read -r p c; do obs "bench.carrier.$p" "$c"; done
tr -d '\r' <"$G/console" | sed -n 's/^NESTED result //p' | while read -r r p kind size rest; do
        case $kind in rr|stream) obs "bench.rep.$r.$p.$kind.$size" "$rest" ;; *) obs "bench.error.$r.$p" "$kind $size $rest" ;; esac
done

sriovctl release bench >/dev/null 2>&1 || note "release failed"
stop_sriovd
stop_bus
for i in 1 2; do $IP link del "tap$i" 2>/dev/null; done
$IP addr flush dev "$PF"
$IP link set dev "$PF" down
