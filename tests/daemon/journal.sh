#!/bin/bash
# Key events with journal fields: what sriovd sends to the journal (when
# its stderr is the journal's stream, as under systemd) carries a
# MESSAGE_ID per kind of event and SRIOVD_DEVICE=, SRIOVD_PF=,
# SRIOVD_GUEST=, SRIOVD_POOL=, so that filtering on SRIOVD_GUEST=vm1 tells
# vm1's story: assigned, its VF's settings changed by hand and put back,
# released with a reset. journald itself runs in the systemd boot VM
# (tests/vm/systemd-boot checks `journalctl -o json` there); here a socket
# at /run/systemd/journal/socket (in this test's own mount namespace)
# receives the datagrams sd_journal_send() writes, in journald's native
# protocol. The catalog (systemd/sriovd.catalog) documents every
# MESSAGE_ID, and journalctl --update-catalog takes it.
set -euo pipefail
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
[ -e "$SIM_SHIM" ] || skip "the rtnetlink shim was not built"
CATALOG="$top_srcdir/systemd/sriovd.catalog"

note "the catalog names every event of daemon/journal.c, and journalctl takes it"
ids=$(grep -o '"[0-9a-f]\{32\}"' "$top_srcdir/daemon/journal.c" | tr -d '"' | sort)
[ "$(wc -l <<<"$ids")" -ge 9 ] || fail "the MESSAGE_IDs of journal.c: $ids"
assert_eq "$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$CATALOG" | sort)" "$ids" "catalog entries"
if command -v journalctl >/dev/null; then
        mount -t tmpfs tmpfs /usr/lib/systemd/catalog 2>/dev/null || mkdir -p "$T/c"
        mount -t tmpfs tmpfs /var/lib/systemd 2>/dev/null || :
        cp "$CATALOG" /usr/lib/systemd/catalog/
        journalctl --update-catalog || fail "journalctl --update-catalog refused the catalog"
        for id in $ids; do
                journalctl --list-catalog | grep -q "^$id sriovd: " || fail "$id not in journalctl --list-catalog"
        done
fi

note "a journal socket in this mount namespace"
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal
python3 - /run/systemd/journal/socket "$T/journal.jsonl" >"$T/journal-receiver.log" 2>&1 <<'PY' &
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    d, i, e = s.recvfrom(1 << 20), {}, None
    d = d[0]
    while d:
        nl = d.index(b"\n")
        line, d = d[:nl], d[nl + 1:]
        if b"=" in line:
            k, v = line.split(b"=", 1)
        else:   # KEY\n<le64 size><value>\n
            k, (n,) = line, struct.unpack("<Q", d[:8])
            v, d = d[8:8 + n], d[9 + n:]
        i[k.decode()] = v.decode()
    out.write(json.dumps(i) + "\n")
PY
HARNESS_PIDS+=("$!")
wait_for 10 test -S /run/systemd/journal/socket || fail "no receiver: $(cat "$T/journal-receiver.log")"

sim_start "$top_srcdir/tests/daemon/observe-host.json"
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4 } ],
  "pools": [ { "name": "web", "select": [ "ens1f0#0-1" ], "enforce": true, "reset": "always" } ] }
CONF
bus_start
sim_ctl netdev ens1f0 up
: >"$T/sriovd.log"
# as systemd sets it: stderr is the journal's stream
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/sriovd.log")
export JOURNAL_STREAM
daemon_start --uevent-source none
unset JOURNAL_STREAM

out=$(gmgr Assign vm1 web "{'mac': <'02:00:00:00:00:42'>}") || fail "Assign: $out"
VF=$(vf_bdf 0000:01:00.0 0)
with_sim_rtnl ip link set ens1f0 vf 0 mac 02:00:00:00:66:66
put_back() { with_sim_rtnl ip link show dev ens1f0 | grep -q "vf 0 .*02:00:00:00:00:42"; }
wait_for 5 put_back || fail "not put back"
mgr Release 'ssa{sv}' vm1 "" 0 >/dev/null || fail "release"
mgr SetNumVFs 'sua{sv}' 0000:01:00.0 2 0 >/dev/null || fail "SetNumVFs"

# journalctl SRIOVD_GUEST=vm1: its story, in order
story() {
        python3 - "$T/journal.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("SRIOVD_GUEST") == "vm1":
        print(e["MESSAGE_ID"], e.get("SRIOVD_DEVICE"), e.get("SRIOVD_PF"), e.get("SRIOVD_POOL", "-"), e["PRIORITY"],
              e["SYSLOG_IDENTIFIER"], e["MESSAGE"][:60])
PY
}
released() { story | grep -q "^5968b2fd00224e0dbf800a3c0a3a674e "; }
wait_for 5 released || fail "no release in the journal: $(cat "$T/journal.jsonl")"
out=$(story)
note "$out"
grep -q "^848ed89cfe1e43d9be45bc4e0ea07c1b $VF 0000:01:00.0 web 6 sriovd Assigned $VF to vm1 from pool web (owner local)" <<<"$out" \
        || fail "assign: $out"
grep -q "^209039ea98df4b40b067d04f8badda1d $VF 0000:01:00.0 web 4 sriovd " <<<"$out" || fail "drift: $out"
grep -q "^d7562c8f02e04e15b99021157306f02a $VF 0000:01:00.0 - 5 sriovd " <<<"$out" || fail "enforce: $out"
grep -q "^5968b2fd00224e0dbf800a3c0a3a674e $VF 0000:01:00.0 web 6 sriovd Released $VF from vm1, reset with" <<<"$out" \
        || fail "release with a reset: $out"
[ "$(awk '{print $1}' <<<"$out" | head -n 1)" = 848ed89cfe1e43d9be45bc4e0ea07c1b ] || fail "the story starts with the assignment: $out"
numvfs() { grep -q '"MESSAGE_ID": "aa120cc74ef14c1c90b3f00c06a4d9a6", "SRIOVD_DEVICE": "0000:01:00.0", "SRIOVD_PF": "0000:01:00.0"' "$T/journal.jsonl"; }
wait_for 5 numvfs || fail "VF count change: $(cat "$T/journal.jsonl")"
note "the events went to the journal, not to stderr as well"
! grep -q "Assigned $VF to vm1" "$T/sriovd.log" || fail "the event is on stderr too"
grep -q "^<6>" "$T/sriovd.log" || fail "other messages keep stderr with priority prefixes"
echo PASS
