#!/bin/bash
# lib/vfattr.c (sriov_link_get, sriov_vf_set), unmodified, against the
# rtnetlink emulation through libsim-rtnl.so: test-sim-vfattr on a host with
# an i40e PF, an igb 82576 PF and a 4.14-era igb PF (zero MAC refused).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sim/lib.sh"
require_root
. "$top_srcdir/tests/sim/rtnl-lib.sh"
command -v test-sim-vfattr >/dev/null || skip "test-sim-vfattr is not built"

work=$RTNL_WORK
cat >"$work/host.json" <<'JSON'
{
  "_comment": "the i40e model of x710.json; igb as of Linux 6.1 (82576) and as of 4.14 (zero MAC: EINVAL)",
  "drivers": {
    "pcieport": { "ids": [ { "class": "0x060400", "class_mask": "0xffffff" } ] },
    "i40e":  { "ids": [ "8086:1572" ], "sriov": true, "netdev": true,
               "vf_ops": { "mac": { "zero": "clear", "netdev": "reset", "report": "vf" },
                           "vlan": { "proto": [ "802.1Q" ] }, "rate": { "min": false, "max": 10000 },
                           "spoofchk": { "default": true }, "trust": true, "link_state": true, "query_rss": false } },
    "iavf":  { "ids": [ "8086:154c" ], "netdev": true },
    "igb":   { "ids": [ "8086:10c9" ], "sriov": true, "netdev": true,
               "vf_ops": { "mac": { "zero": "clear", "netdev": "probe", "report": "vf" },
                           "vlan": { "proto": [ "802.1Q" ] },
                           "rate": { "min": false, "link_up": true, "max": 1000 },
                           "spoofchk": { "default": true }, "trust": true, "link_state": false, "query_rss": false } },
    "igb414": { "ids": [ "8086:1526" ], "sriov": true, "netdev": true,
               "vf_ops": { "mac": { "zero": "einval", "netdev": "probe", "report": "vf" },
                           "vlan": { "proto": [ "802.1Q" ] },
                           "rate": { "min": false, "link_up": true, "max": 1000 },
                           "spoofchk": { "default": true }, "trust": true } },
    "igbvf": { "ids": [ "8086:10ca" ], "netdev": true },
    "vfio-pci": { "override_only": true, "vfio": true }
  },
  "devices": [
    { "bdf": "0000:00:01.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:01:00.0", "parent": "0000:00:01.0", "id": "8086:1572", "class": "0x020000", "acs": true,
      "driver": "i40e", "netdev": "ens1f0",
      "sriov": { "total": 8, "offset": 16, "vf_id": "8086:154c", "vf_netdev": "ens1f0v%u" } },
    { "bdf": "0000:00:02.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:02:00.0", "parent": "0000:00:02.0", "id": "8086:10c9", "class": "0x020000",
      "driver": "igb", "netdev": "enp2s0f0",
      "sriov": { "total": 8, "offset": 128, "stride": 2, "vf_id": "8086:10ca", "vf_netdev": "enp2s0f0v%u" } },
    { "bdf": "0000:00:03.0", "type": "root-port", "id": "8086:2030", "acs": true, "driver": "pcieport" },
    { "bdf": "0000:04:00.0", "parent": "0000:00:03.0", "id": "8086:1526", "class": "0x020000",
      "driver": "igb414", "netdev": "enp3s0f0",
      "sriov": { "total": 8, "offset": 128, "stride": 2, "vf_id": "8086:10ca", "vf_netdev": "enp3s0f0v%u" } }
  ]
}
JSON
sim_start_rtnl "$work/host.json"
for pf in 0000:01:00.0 0000:02:00.0 0000:04:00.0; do
        expect_write "$(dev $pf)/sriov_numvfs" 4 0
done

SIM_MNT="$SIM_ROOT" SRIOV_SIM_RTNL="$work/rtnl.sock" LD_PRELOAD="$SHIM" test-sim-vfattr || fail "test-sim-vfattr"

# what the library did, as the simulator logged it: the rollback after the
# injected trust failure puts back rate, VLAN and MAC, newest first (spoof
# checking was on already: not sent)
grep -o 'rtnl/ens1f0/vf2/[a-z_]* "[^"]*" [A-Z0-9]*' "$SIM_ROOT/.sim/log" | head -7 >"$work/vf2.log"
expect_eq "$(sed -n 4p "$work/vf2.log")" 'rtnl/ens1f0/vf2/trust "on" EIO' "the failing attribute"
expect_eq "$(sed -n 5,7p "$work/vf2.log" | cut -d/ -f4 | cut -d' ' -f1 | tr '\n' ' ')" "rate vlan mac " \
        "rollback order"
echo "PASS: lib/vfattr.c against the emulation"
