#!/bin/bash
# 16 PFs with 128 VFs each (2048 VFs): list is one ListDevices call (list
# --json one DescribeDevices call) and
# stays fast, every VF is under its own PF (also those that spill onto the
# next bus), and show PF is two calls, not one a VF.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
start_host scale-16x128.json

note "enable 128 VFs on each of the 16 PFs"
expect_ok --json list --kind pf
PFS=$(jq_out "' '.join(x['address'] for x in d['devices'])")
assert_eq "$(wc -w <<<"$PFS")" 16 "PFs"
for pf in $PFS; do
        expect_ok enable "$pf" 128 --autoprobe no
done
assert_eq "$(busctl --system get-property "$DEST" "$MGR" "$IFACE" NumVFs)" "u 2048" "VFs enabled"

# calls COMMAND...: the method calls to sriovd that the command makes
calls() {
        calls_monitor_start "$T/calls.log"
        "$@" >"$T/calls.out" || fail "$*: exit status $?"
        calls_monitor_stop "$T/calls.log"
        calls_in "$T/calls.log"
}

note "list: one call, in bounded time"
assert_eq "$(calls "$SRIOVCTL" list)" "ListDevices " "the calls of list"
start=$(date +%s%N)
expect_ok list
ms=$((($(date +%s%N) - start) / 1000000))
note "list of 16 PFs and 2048 VFs: $ms ms"
[ "$ms" -lt 5000 ] || fail "list took $ms ms"
assert_eq "$(wc -l <<<"$OUT")" $((1 + 16 + 2048)) "lines"
assert_eq "$(grep -c '^  0000:' <<<"$OUT")" 2048 "indented VFs"
# each PF's 128 VFs follow it, whatever their bus
python3 - "$SIM_ROOT" <<EOF || fail "a VF is not under its PF"
import os, sys
rows = """$OUT""".splitlines()[1:]
pf = None
for r in rows:
    addr = r.split()[0]
    if not r.startswith("  "):
        pf = addr
        continue
    physfn = os.path.basename(os.readlink(os.path.join(sys.argv[1], "bus/pci/devices", addr, "physfn")))
    assert physfn == pf, (addr, physfn, pf)
EOF

note "list --json: one DescribeDevices call, the VFs of each PF right after it, by index"
assert_eq "$(calls "$SRIOVCTL" list --json)" "DescribeDevices " "the calls of list --json"
OUT=$(cat "$T/calls.out")
assert_eq "$(jq_out "len(d['devices'])")" 2064 "JSON devices"
python3 - "$T/calls.out" <<'EOF2' || fail "the JSON order is not PF, then its VFs by index"
import json, sys
devs = json.load(open(sys.argv[1]))["devices"]
pf, nxt = None, 0
for x in devs:
    if x["kind"] == "pf":
        pf, nxt = x["address"], 0
    elif x["kind"] == "vf":
        assert x["physfn"] == pf and x["vf_index"] == nxt, (x["address"], x["physfn"], pf, x["vf_index"], nxt)
        nxt += 1
EOF2

note "show PF: two calls"
last=${PFS##* }
assert_eq "$(calls "$SRIOVCTL" show "$last")" "GetDevice ListDevices " "the calls of show PF (as the monitor saw them: $(cat "$T/calls.log"))"
assert_eq "$(sed -n '/^VFs:/,$p' "$T/calls.out" | tail -n +3 | wc -l)" 128 "VFs of the PF"
echo ok
