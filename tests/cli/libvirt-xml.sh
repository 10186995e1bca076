#!/bin/bash
# The libvirt XML of sriovctl assign (--format libvirt and
# libvirt-interface, and the same strings in --json) is what libvirt
# takes: each element, in a domain, passes virt-xml-validate against
# libvirt's own schema, and names the VF that was assigned.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
command -v virt-xml-validate >/dev/null || skip "no virt-xml-validate (libvirt-clients) to check the libvirt XML"
harness_init
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "vms", "select": [ "ens1f0" ], "vlan": 42 } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
start_sriovd

# validate NAME FILE: FILE, an element of <devices>, in a domain libvirt accepts
validate() {
        { echo "<domain type='kvm'><name>$1</name><memory>1048576</memory>"
          echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
          cat "$2"
          echo "</devices></domain>"; } > "$T/domain.xml"
        virt-xml-validate "$T/domain.xml" domain >"$T/validate.log" 2>&1 ||
                fail "libvirt rejects $2: $(cat "$T/validate.log"): $(cat "$T/domain.xml")"
}
# address_is FILE XPATH BDF: the <address> at XPATH is the PCI address BDF
address_is() {
        python3 - "$@" <<'PY' || fail "the address in $1: $(cat "$1")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
a = root.find(sys.argv[2]).attrib
dom, bus, rest = sys.argv[3].split(":")
slot, fn = rest.split(".")
assert (int(a["domain"], 16), int(a["bus"], 16), int(a["slot"], 16), int(a["function"], 16)) == \
       (int(dom, 16), int(bus, 16), int(slot, 16), int(fn, 16)), a
PY
}

note "<hostdev>, from --format libvirt"
expect_ok --json assign vm1 vms --token nic0
VF=$(jq_out "d['vf']")
# the same request again (same token): the same VF, only its <hostdev>
expect_ok assign vm1 vms --token nic0 --format libvirt
echo "$OUT" > "$T/hostdev.xml"
validate vm1 "$T/hostdev.xml"
address_is "$T/hostdev.xml" source/address "$VF"
grep -q "managed='no'" "$T/hostdev.xml" || fail "the hostdev is managed: libvirt would rebind the VF"

note "<interface type='hostdev'> with the MAC and the pool's VLAN, from --format libvirt-interface"
expect_ok assign vm2 vms --mac 52:54:00:12:34:56 --format libvirt-interface
echo "$OUT" > "$T/interface.xml"
validate vm2 "$T/interface.xml"
python3 - "$T/interface.xml" <<'PY' || fail "the interface XML: $(cat "$T/interface.xml")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "interface" and root.get("type") == "hostdev", root.attrib
assert root.find("mac").get("address") == "52:54:00:12:34:56"
assert root.find("vlan/tag").get("id") == "42"
PY

note "the same strings in --json, for both"
expect_ok --json assignments
for i in 0 1; do
        jq_out "d['assignments'][$i]['libvirt_hostdev']" > "$T/h$i.xml"
        jq_out "d['assignments'][$i]['libvirt_interface']" > "$T/i$i.xml"
        validate "vm$((i + 1))" "$T/h$i.xml"
        validate "vm$((i + 1))" "$T/i$i.xml"
        address_is "$T/h$i.xml" source/address "$(jq_out "d['assignments'][$i]['vf']")"
done
cmp -s "$T/h0.xml" "$T/hostdev.xml" || fail "--json and --format libvirt differ"
cmp -s "$T/i1.xml" "$T/interface.xml" || fail "--json and --format libvirt-interface differ"
expect_ok release vm1
expect_ok release vm2
echo ok
