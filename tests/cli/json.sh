#!/bin/bash
# --json: the documented keys of every read verb (sriovctl(8)), their values
# against the simulator, pretty and short forms, and the same devices as the
# text output (one print path).
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
start_host x710.json

PF=0000:3b:00.0
expect_ok enable $PF 2 --autoprobe yes
VF0=$(vf_bdf $PF 0)
VF1=$(vf_bdf $PF 1)
expect_ok bind "$VF1" vfio-pci

DEVICE_KEYS="address class class_name device device_id driver driver_override iommu_group kind netdevs numa_node
parent path pending prior_driver subsystem_device_id subsystem_vendor_id vendor vendor_id"
PF_KEYS="$DEVICE_KEYS config_space_consistent config_space_mismatch drivers_autoprobe num_vfs total_vfs vf_device_id
vf_offset vf_stride interface carrier operstate speed link_type rdma_device"
VF_KEYS="$DEVICE_KEYS physfn vf_index guest quarantine healthy health_reason"
sorted() { tr ' ' '\n' <<<"$*" | grep . | sort | tr '\n' ' '; }
# keys_are PYTHON-EXPR KEYS...: the keys of the object the expression names
keys_are() {
        local expr=$1; shift
        assert_eq "$(jq_out "' '.join(sorted($expr.keys()))") " "$(sorted "$@")" "keys of $expr"
}
dev_of() { echo "[x for x in d['devices'] if x['address'] == '$1'][0]"; }

note "list --json"
expect_ok --json=pretty list --kind all
[ "$(wc -l <<<"$OUT")" -gt 10 ] || fail "--json=pretty is not pretty"
jq_out 'd' >/dev/null || fail "list --json is not JSON: $OUT"
keys_are "d" devices
keys_are "$(dev_of $PF)" $PF_KEYS
keys_are "$(dev_of "$VF0")" $VF_KEYS
keys_are "$(dev_of 0000:00:00.0)" $DEVICE_KEYS
assert_eq "$(jq_out "' '.join(sorted(x['address'] for x in d['devices']))")" \
        "$(sim_state | python3 -c 'import json,sys; print(" ".join(sorted(x["bdf"] for x in json.load(sys.stdin)["devices"])))')" \
        "every function of the simulator"
pf="$(dev_of $PF)"
assert_eq "$(jq_out "$pf['kind'], $pf['driver'], $pf['netdevs'], $pf['num_vfs'], $pf['total_vfs']")" \
        "('pf', 'i40e', ['ens1f0'], 2, 64)" "PF values"
assert_eq "$(jq_out "$pf['vendor_id'], $pf['device_id'], $pf['class'], $pf['vf_device_id']")" \
        "('0x8086', '0x1572', '0x020000', '0x154c')" "ids are hex strings"
assert_eq "$(jq_out "$pf['numa_node'], $pf['iommu_group']")" "(0, $(simdev $PF iommu_group))" "numbers"
assert_eq "$(jq_out "$pf['vf_offset'], $pf['vf_stride'], $pf['drivers_autoprobe'], $pf['config_space_consistent']")" \
        "(16, 1, True, True)" "SR-IOV values"
assert_eq "$(jq_out "$pf['driver_override'], $pf['pending'], $pf['config_space_mismatch']")" "(None, None, None)" \
        "empty strings are null"
vf1="$(dev_of "$VF1")"
assert_eq "$(jq_out "$vf1['driver'], $vf1['driver_override'], $vf1['prior_driver'], $vf1['netdevs']")" \
        "('vfio-pci', 'vfio-pci', 'iavf', [])" "the rebound VF"
assert_eq "$(jq_out "$vf1['physfn'], $vf1['vf_index'], $vf1['path']")" \
        "('$PF', 1, '/org/sriovd/Manager1/device/_30000_3a3b_3a02_2e1')" "VF values"
assert_eq "$(jq_out "$(dev_of 0000:00:00.0)['driver']")" None "no driver is null"

note "text and JSON list the same devices in the same order"
expect_ok --json list
text_ctl=$("$SRIOVCTL" list | tail -n +2 | awk '{print $1}' | tr '\n' ' ')
assert_eq "$(jq_out "' '.join(x['address'] for x in d['devices'])") " "$text_ctl" "JSON order = text order"
assert_eq "$(wc -l <<<"$OUT")" 1 "--json into a pipe is one line"
expect_ok --json=short list
assert_eq "$(wc -l <<<"$OUT")" 1 "--json=short is one line"
expect_ok -j list --kind pf
assert_eq "$(jq_out "[x['kind'] for x in d['devices']]")" "['pf', 'pf']" "-j list --kind pf"

note "list --json (the daemon's DescribeDevices) says what show --json (GetDevice) says, device by device"
expect_ok --json list --kind all
LIST=$OUT
for a in $(jq_out "' '.join(x['address'] for x in d['devices'])"); do
        expect_ok --json show "$a"
        LIST=$LIST SHOW=$OUT ADDR=$a python3 -c '
import json, os, sys
listed = [x for x in json.loads(os.environ["LIST"])["devices"] if x["address"] == os.environ["ADDR"]][0]
shown = json.loads(os.environ["SHOW"])
diff = {k: (v, shown.get(k, "(absent)")) for k, v in listed.items() if shown.get(k, "(absent)") != v}
sys.exit("%s: list --json and show --json differ: %s" % (os.environ["ADDR"], diff) if diff else 0)' \
                || fail "list and show disagree on $a"
done
out=$(busctl --system call "$DEST" "$MGR" "$IFACE" DescribeDevices s pci 2>&1) && fail "an unknown kind: $out"
case "$out" in *'Unknown kind "pci"'*) ;; *) fail "unknown kind error: $out";; esac
out=$(busctl --system --json=short call "$DEST" "$MGR" "$IFACE" DescribeDevices s vf) || fail "DescribeDevices vf: $out"
assert_eq "$(python3 -c 'import json,sys; print([x["address"] for x in json.loads(json.loads(sys.argv[1])["data"][0])["devices"]])' "$out")" \
        "['$VF0', '$VF1']" "DescribeDevices(\"vf\")"
as_nobody busctl --system call "$DEST" "$MGR" "$IFACE" DescribeDevices s "" >/dev/null || fail "DescribeDevices is a read: anyone may call it"

note "show --json: the device, its VFs (PF) or its PF (VF)"
expect_ok --json show ens1f0
keys_are d $PF_KEYS vfs
assert_eq "$(jq_out "[v['address'] for v in d['vfs']]")" "['$VF0', '$VF1']" "the PF's VFs, by index"
assert_eq "$(jq_out "[v['driver'] for v in d['vfs']]")" "['iavf', 'vfio-pci']" "the VFs' drivers"
keys_are "d['vfs'][0]" $VF_KEYS
expect_ok --json show "$VF1"
keys_are d $VF_KEYS physfn_driver physfn_netdevs settings settings_not_reported settings_error
assert_eq "$(jq_out "d['physfn'], d['physfn_driver'], d['physfn_netdevs']")" "('$PF', 'i40e', ['ens1f0'])" "the VF's PF"
expect_ok --json show 0000:3a:00.0
assert_eq "$(jq_out "d['kind'], d['driver'], d['parent']")" "('bridge', 'pcieport', None)" "a bridge"

note "groups --json"
expect_ok --json groups
keys_are d iommu_present iommu_hint groups
assert_eq "$(jq_out "d['iommu_present'], d['iommu_hint']")" "(True, None)" "IOMMU facts"
keys_are "d['groups'][0]" id type members viable reason reserved_regions
keys_are "d['groups'][0]['reserved_regions'][0]" start end type
n_groups=$(sim_state | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["iommu_groups"]))')
assert_eq "$(jq_out "len(d['groups'])")" "$n_groups" "every group"
g=$(simdev "$VF1" iommu_group)
assert_eq "$(jq_out "[(x['members'], x['viable'], x['reason']) for x in d['groups'] if x['id'] == $g][0]")" \
        "(['$VF1'], True, None)" "the vfio-pci VF's group"
g=$(simdev $PF iommu_group)
assert_eq "$(jq_out "[x['viable'] for x in d['groups'] if x['id'] == $g][0]")" False "the PF's group"
grep -q i40e <<<"$(jq_out "[x['reason'] for x in d['groups'] if x['id'] == $g][0]")" || fail "no reason for the PF's group"

note "status --json"
expect_ok --json status
keys_are d version state sysfs_root iommu_present iommu_hint vfio_container vfio_cdev iommufd num_pfs num_vfs \
        config_files config_errors pending drift caught_drift unhealthy
assert_eq "$(jq_out "d['state'], d['sysfs_root'], d['iommu_present'], d['num_pfs'], d['num_vfs'], d['pending']")" \
        "('running', '$SIM_ROOT', True, 2, 2, [])" "status values"
assert_eq "$(jq_out "d['config_files'], d['config_errors'], d['drift']")" "([], [], [])" "status without a configuration"

note "the changing verbs answer in JSON too"
expect_ok --json unbind "$VF0"
assert_eq "$(jq_out "d")" "{'device': '$VF0', 'driver': None, 'prior_driver': 'iavf'}" "unbind --json"
expect_ok --json bind "$VF0" pci-stub
assert_eq "$(jq_out "d")" "{'device': '$VF0', 'driver': 'pci-stub', 'prior_driver': None}" "bind --json"
expect_ok --json restore "$VF0"
assert_eq "$(jq_out "d")" "{'device': '$VF0', 'driver': 'iavf'}" "restore --json"
expect_ok --json enable ens1f0 3
assert_eq "$(jq_out "d")" "{'pf': 'ens1f0', 'requested': 3, 'enabled': 3}" "enable --json"
expect_ok --json disable ens1f0
assert_eq "$(jq_out "d")" "{'pf': 'ens1f0', 'requested': 0, 'enabled': 0}" "disable --json"
echo ok
