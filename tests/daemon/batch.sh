#!/bin/bash
# BindDevices and RestoreDrivers: several devices in one call, each a job of
# its own (at once), one step per device in the reply, in the order asked.
# A bad call (a device that does not resolve, one named twice, a bridge, no
# device, a bad driver, whole_group, too many) is refused whole with its
# named error and changes nothing; a device whose change fails is a failed
# step, the others are done. sriovctl bind DEV... DRIVER and restore DEV...
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
sim_start x710.json --uevents
mkdir -p "$T/conf.d"
PF=0000:3b:00.0
printf '{ "pfs": [ { "match": { "bdf": "%s" }, "num_vfs": 4, "autoprobe": true } ] }\n' "$PF" >"$T/sriovd.conf"
bus_start
daemon_start --uevent-source udev
VFS=()
for i in 0 1 2 3; do VFS+=("$(vf_bdf $PF $i)"); done
list() { local IFS=,; echo "['${VFS[*]//,/\',\'}']" | sed "s/,/','/g"; }
ALL=$(list)
note "refused whole, nothing changed"
unchanged expect_error org.sriovd.Error.NoSuchDevice gmgr BindDevices "['${VFS[0]}', '0000:3b:1f.7']" vfio-pci '{}'
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr BindDevices "['${VFS[0]}', '${VFS[1]}', '${VFS[0]}']" vfio-pci '{}'
unchanged expect_error org.sriovd.Error.NotSRIOV gmgr BindDevices "['${VFS[0]}', '0000:3a:00.0']" vfio-pci '{}'
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr BindDevices "@as []" vfio-pci '{}'
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr BindDevices "$ALL" 'vfio-pci/..' '{}'
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr BindDevices "$ALL" vfio-pci "{'whole_group': <true>}"
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr BindDevices "$ALL" vfio-pci "{'bogus': <true>}"
unchanged expect_error org.sriovd.Error.InvalidArgument gmgr RestoreDrivers "['${VFS[0]}', '${VFS[0]}']"
many=$(python3 -c "print('[' + ','.join(['\\'${VFS[0]}\\''] * 4097) + ']')")
unchanged expect_error org.sriovd.Error.LimitsExceeded gmgr BindDevices "$many" vfio-pci '{}'

note "the binds run at once: three end while the first one's probe is held in the kernel"
sim_ctl fail probe "${VFS[0]}" block 1
gmgr BindDevices "$ALL" vfio-pci '{}' >"$T/bind.out" 2>&1 &
call=$!
on() { local d=$1; shift; for v in "$@"; do [ "$(driver_of "$v")" = "$d" ] || return 1; done; }
wait_for 10 on vfio-pci "${VFS[1]}" "${VFS[2]}" "${VFS[3]}" ||
        fail "the other VFs were not bound while the first one's probe was held: $(for v in "${VFS[@]}"; do driver_of "$v"; done | tr '\n' ' ')"
# (the driver link is there during the probe, as in the kernel: the call is what waits)
kill -0 "$call" 2>/dev/null || fail "BindDevices answered while a probe was held: $(cat "$T/bind.out")"
sim_ctl clear
wait "$call" || fail "BindDevices: $(cat "$T/bind.out")"
on vfio-pci "${VFS[@]}" || fail "not every VF on vfio-pci"
# one step per device, in the order asked, each done
for i in 0 1 2 3; do
        grep -q "('${VFS[$i]}', 'driver', 'driver iavf -> vfio-pci', '')" "$T/bind.out" || fail "step of ${VFS[$i]}: $(cat "$T/bind.out")"
done
order=$(grep -o "'0000:3b:0[0-9a-f].[0-7]', 'driver'" "$T/bind.out" | cut -d"'" -f2 | tr '\n' ' ')
assert_eq "$order" "${VFS[*]} " "the order of the steps"

note "RestoreDrivers: back to iavf, one of them failing"
sim_ctl fail probe "${VFS[2]}" EIO 1
out=$(gmgr RestoreDrivers "$ALL") || fail "RestoreDrivers: $out"
grep -q "('${VFS[2]}', 'driver', '[^']*', 'org.sriovd.Error.[A-Za-z]*: [^']" <<<"$out" || fail "no failed step for ${VFS[2]}: $out"
on iavf "${VFS[0]}" "${VFS[1]}" "${VFS[3]}" || fail "the others were not restored: $out"
grep -q "('${VFS[0]}', 'driver', 'driver vfio-pci -> iavf', '')" <<<"$out" || fail "step of ${VFS[0]}: $out"

note "sriovctl bind DEV... DRIVER, restore DEV..."
"$top_builddir/sriovctl" --json bind "${VFS[0]}" "${VFS[1]}" vfio-pci >"$T/cli.json" || fail "sriovctl bind: $(cat "$T/cli.json")"
jq -e '.steps | length == 2 and all(.result == "done")' "$T/cli.json" >/dev/null || fail "sriovctl bind: $(cat "$T/cli.json")"
on vfio-pci "${VFS[0]}" "${VFS[1]}" || fail "sriovctl bind did not bind both"
sim_ctl fail probe "${VFS[1]}" EIO 1
rc=0
"$top_builddir/sriovctl" restore "${VFS[0]}" "${VFS[1]}" >"$T/cli.out" 2>&1 || rc=$?
assert_eq "$rc" 8 "sriovctl restore with one failure (EXIT_PARTIAL)"
grep -q "1 of the 2 devices failed" "$T/cli.out" || fail "sriovctl restore: $(cat "$T/cli.out")"
assert_eq "$(driver_of "${VFS[0]}")" iavf "${VFS[0]} restored"
echo ok
