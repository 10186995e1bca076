# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-observe: what sriovd watches (issue 18, docs/metrics.md) on the
# real kernel. On 6.12, the IFLA_VF_STATS nest of netdevsim's VFs through
# lib/ (tests/sriov-tool): present, with what netdevsim reports (igb's is in
# rtnl-link). Then sriovd: the PF link properties, a VF's health when the PF
# goes down, and a declared VF's MAC changed by hand with `ip link set PF vf
# 0 mac ...`: caught (DriftDetected, ListDrift) and, with "enforce", put
# back.
#
# diff-skip: the project's daemon, and netdevsim (not PCI), on the real
# kernel; the simulator's side of the rules below the daemon is rtnl-link
# vm-needs: gdbus

no_reference
need_bin sriov-tool
need_igb || skip "no igb NIC (QEMU < 8)"
GP=$PCI/devices/$IGB
pf_if() { ls "$GP/net" 2>/dev/null | head -n 1; }
IF=$(pf_if)
[ -n "$IF" ] || { fail "the igb PF has no interface"; exit 1; }
netrd() { cat "/sys/class/net/$IF/$1" 2>&1 | sed 's/^cat: .*: //'; }

# (the igb PF's link facts, its VFs' counters and the link notifications,
# below the daemon, are in rtnl-link, compared with the simulator)
$IP link set dev "$IF" up
wait_until 20 eval '[ "$(netrd carrier)" = 1 ]'

# ---- netdevsim (6.12): the nest as netdevsim fills it
if [ -w /sys/bus/netdevsim/new_device ]; then
        NS=/sys/bus/netdevsim/devices/netdevsim11
        echo "11 1" >/sys/bus/netdevsim/new_device
        wait_until 10 eval 'ls "$NS/net" 2>/dev/null | grep -q .'
        NIF=$(ls "$NS/net" | head -n 1)
        expect netdevsim.numvfs "$(sw "$NS/sriov_numvfs" 2)" ok
        sriov-tool vf-stats "$NIF" netdevsim >"$STATE/nstats" 2>&1
        obs stats.netdevsim "$(cat "$STATE/nstats")"
        expect stats.netdevsim.vf1 "$(sed -n 3p "$STATE/nstats")" "vf1 nest yes rx_packets=0 tx_packets=0 rx_bytes=0 tx_bytes=0 broadcast=0 multicast=0 rx_dropped=0 tx_dropped=0 reported=no: the PF driver does not count VF traffic (the kernel sends zeros)"
        sw "$NS/sriov_numvfs" 0 >/dev/null
        echo 11 >/sys/bus/netdevsim/del_device
else
        note "no netdevsim in this kernel (Debian's: not built)"
fi

# ---- sriovd: the PF's link, a VF's health, drift caught and put back
only_on_kernel "debian-*" "the daemon part once (make check-vm time budget); the kernel rules above ran on every kernel"
need_bin sriovd sriovctl
need_tool gdbus
cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 2, "autoprobe": false, "enforce": true,
             "vfs": [ { "range": "0", "mac": "02:00:00:5e:00:20", "spoofchk": true } ] } ] }
EOF
start_sriovd_fresh --timeout 60 || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
IF=$(pf_if)
PFP=$(gmgr GetDevice "$IGB" | sed -n "s/^(objectpath '\([^']*\)'.*/\1/p")
pfprop() { gdbus call --system --dest org.sriovd.Manager1 --object-path "$PFP" --method org.freedesktop.DBus.Properties.Get org.sriovd.PF1 "$1" | sed "s/^(<\(.*\)>,)$/\1/"; }
wait_until 20 eval '[ "$(pfprop Carrier)" = true ]'
expect sriovd.pf.carrier "$(pfprop Carrier)" true
expect sriovd.pf.interface "$(pfprop Interface)" "'$IF'"
expect sriovd.pf.operstate "$(pfprop OperState)" "'up'"
expect sriovd.pf.speed "$(pfprop Speed)" "$(netrd speed)"
expect sriovd.pf.link_type "$(pfprop LinkType)" "'ethernet'"
set -- $(vfs "$IGB")
VF0=$1
expect sriovd.vf0.mac "$($IP link show dev "$IF" | grep -c 'vf 0 .*02:00:00:5e:00:20')" 1
obs sriovd.stats.vf0 "$(sriovctl stats "$VF0" | tail -n +2 | tr -s ' ')"

# a hand-made MAC change: caught and, with enforce, put back
gdbus monitor --system --dest org.sriovd.Manager1 >"$STATE/signals" 2>&1 &
echo "$!" >>"$STATE/pids"
wait_until 10 grep -q "Monitoring signals" "$STATE/signals"
$IP link set dev "$IF" vf 0 mac 02:00:00:5e:66:66
wait_until 20 grep -q "DriftDetected" "$STATE/signals"
expect sriovd.drift.signal "$(grep -o "DriftDetected ('$VF0', '$IGB', 0, 'config', '', {'mac': <'02:00:00:5e:00:20'>}, {'mac': <'02:00:00:5e:66:66'>}, true)" "$STATE/signals")" \
        "DriftDetected ('$VF0', '$IGB', 0, 'config', '', {'mac': <'02:00:00:5e:00:20'>}, {'mac': <'02:00:00:5e:66:66'>}, true)"
wait_until 20 eval '$IP link show dev "$IF" | grep -q "vf 0 .*02:00:00:5e:00:20"'
expect sriovd.drift.put_back "$($IP link show dev "$IF" | grep -c 'vf 0 .*02:00:00:5e:00:20')" 1
expect_glob sriovd.drift.logged "$(grep -m1 'overwriting' "$RESULTS/$NAME.sriovd.log")" "*putting back mac 02:00:00:5e:00:20, overwriting mac 02:00:00:5e:66:66 (enforce)"
wait_until 20 eval '[ "$(gmgr ListDrift)" = "(@a(ssissa{sv}a{sv}tbu) [],)" ]'
expect sriovd.drift.over "$(gmgr ListDrift)" "(@a(ssissa{sv}a{sv}tbu) [],)"

# the PF set down: its VFs are not healthy; up again: they are
$IP link set dev "$IF" down
wait_until 20 eval '[ "$(pfprop Carrier)" = false ]'
r=$(gmgr GetHealth)
expect_glob sriovd.health.down "$r" "*('$VF0', 'vf', '', false, 'PF link down ($IF is administratively down)')*"
$IP link set dev "$IF" up
wait_until 30 eval '[ "$(pfprop Carrier)" = true ]'
r=$(gmgr GetHealth)
expect_glob sriovd.health.up "$r" "*('$VF0', 'vf', '', true, '')*"
sriovctl metrics >"$STATE/metrics" 2>&1
expect sriovd.metrics.carrier "$(grep -c "^sriovd_pf_carrier{pf=\"$IGB\",pf_interface=\"$IF\"} 1$" "$STATE/metrics")" 1
expect sriovd.metrics.vf_not_reported "$(grep -c "^sriovd_vf_stats_reported{pf=\"$IGB\",.*address=\"$VF0\".*} 0$" "$STATE/metrics")" 1
stop_sriovd
