#!/bin/bash
# The ledger on a bad day for its storage: a full disk, a read-only one,
# a state file that is a FIFO, a directory, a symlink or too large, and a
# state directory others may write.
#
#   - With the state directory full (a 64 KiB tmpfs) or read-only, every
#     call that records something fails with StateUnavailable (sriovctl:
#     exit 11) and changes nothing: the host, the file on disk and what the
#     daemon answers are all as before. Assign, Release, Bind, SetNumVFs,
#     CreatePool, DeletePool, ClearQuarantine are tried.
#   - The disk filling while an assignment is under way (its bind held by
#     the kernel): the assignment is rolled back on the host, the call
#     fails with StateUnavailable, and a restart with room again finds
#     nothing assigned.
#   - Room again: the calls work, and a restart finds exactly what was
#     answered (no assignment lost, none twice).
#   - state.json as a FIFO, a directory, a symbolic link, or larger than
#     the daemon reads: the daemon starts without blocking, keeps it under
#     a new name (never over earlier evidence) and starts from the host.
#   - A state directory writable by others, owned by another user or a
#     symbolic link, or a file: sriovd refuses to start and says why; one
#     that does not exist is made (0700, its parents 0755).
source "$top_srcdir/tests/daemon/common.sh"
harness_init
command -v gdbus >/dev/null || skip "no gdbus (libglib2.0-bin)"
command -v jq >/dev/null || skip "no jq"
release_all() { [ -z "${SIM_ROOT:-}" ] || timeout 5 sh -c "echo clear > '$SIM_ROOT/.sim/ctl'" 2>/dev/null; }
storage_cleanup() {
        local rc=$?
        release_all
        [ -z "${T:-}" ] || ! mountpoint -q "$T/state" || umount -l "$T/state"
        (exit "$rc")
        harness_cleanup
}
trap storage_cleanup EXIT

PF0=0000:3b:00.0
PF1=0000:3b:00.1
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pfs": [ { "match": { "interface": "ens1f0" }, "num_vfs": 4, "autoprobe": true } ],
  "pools": [ { "name": "p", "select": [ "ens1f0" ] } ] }
CONF
mkdir -p "$T/state"
mount -t tmpfs -o size=64k,mode=0700 sriovd-state "$T/state"
bus_start
daemon_start --uevent-source none

ctl() { with_sim_rtnl "$SRIOVCTL" "$@"; }
# what the daemon answers, what is on disk, and the host
assignments() { busctl --system --json=short call "$DEST" "$MGR" "$IFACE" ListAssignments s "" | jq -r '[.data[0][] | "\(.[0])=\(.[1])"] | sort | join(" ")'; }
pools() { mgr ListPools; }
everything() {
        jq -S 'del(.devices[].netdevs[].ifindex)' "$SIM_ROOT/.sim/state"
        cat "$T/state/state.json" 2>/dev/null || echo "no state file"
        assignments
        pools
}
fill() { dd if=/dev/zero of="$T/state/fill" bs=4k 2>/dev/null || true; }
unfill() { rm -f "$T/state/fill"; }
# expect_unavailable WHAT COMMAND...: the D-Bus call fails with
# StateUnavailable and nothing changed
expect_unavailable() {
        local what=$1 before after; shift
        before=$(everything)
        expect_error org.sriovd.Error.StateUnavailable "$@"
        after=$(everything)
        [ "$before" = "$after" ] || fail "$what with no room for the ledger changed something:
$(diff <(echo "$before") <(echo "$after"))"
}
# expect_exit STATUS COMMAND...: sriovctl exits with STATUS
expect_exit() {
        local want=$1 rc=0; shift
        "$@" >"$T/out" 2>&1 || rc=$?
        [ "$rc" = "$want" ] || fail "$* exited $rc, not $want: $(cat "$T/out")"
}

note "the ledger works with room"
gmgr Assign g1 p "{'vlan': <uint32 10>}" >/dev/null || fail "assign g1"
gmgr CreatePool extra "['ens1f0#3']" "{}" >/dev/null || fail "create pool extra"
VF3=$(vf_bdf $PF0 3)
for how in full read-only; do
        note "no room for the ledger: $how"
        case $how in
        full) fill;;
        read-only) mount -o remount,ro "$T/state";;
        esac
        expect_unavailable "Assign ($how)" gmgr Assign g2 p "{}"
        expect_unavailable "Assign of a named VF ($how)" gmgr Assign g2 "$VF3" "{}"
        expect_unavailable "Release ($how)" gmgr Release g1 "" "{}"
        expect_unavailable "Bind ($how)" gmgr Bind "$VF3" vfio-pci "{}"
        expect_unavailable "SetNumVFs ($how)" gmgr SetNumVFs $PF1 "uint32 2" "{}"
        expect_unavailable "CreatePool ($how)" gmgr CreatePool other "['ens1f1']" "{}"
        expect_unavailable "DeletePool ($how)" gmgr DeletePool extra
        # sriovctl names it and exits 11
        expect_exit 11 ctl assign g3 p
        grep -q "cannot record" "$T/out" || fail "sriovctl did not say why: $(cat "$T/out")"
        expect_exit 11 ctl enable $PF1 2
        expect_exit 11 ctl release g1
        case $how in
        full) unfill;;
        read-only) mount -o remount,rw "$T/state";;
        esac
done
kill -0 "$DAEMON_PID" || fail "the daemon died"

note "the disk fills while an assignment is under way"
before=$(jq -S 'del(.devices[].netdevs[].ifindex)' "$SIM_ROOT/.sim/state")
sim_ctl fail probe '*' block 1
gmgr Assign g2 p "{'vlan': <uint32 20>}" >"$T/assign.out" 2>&1 &
ASSIGN=$!
wait_for 10 grep -q '^blocked 1' "$SIM_ROOT/.sim/faults" || fail "the assignment's bind did not reach the kernel"
fill
sim_ctl clear
if wait "$ASSIGN"; then fail "the assignment succeeded with no room to record it: $(cat "$T/assign.out")"; fi
grep -q StateUnavailable "$T/assign.out" || fail "the assignment failed otherwise: $(cat "$T/assign.out")"
wait_for 10 sh -c "[ \"\$(jq -S 'del(.devices[].netdevs[].ifindex)' '$SIM_ROOT/.sim/state')\" = '$before' ]" ||
        fail "the host was not rolled back: $(diff <(echo "$before") <(jq -S 'del(.devices[].netdevs[].ifindex)' "$SIM_ROOT/.sim/state"))"
assert_eq "$(assignments | sed 's/=[^ ]*//g')" "g1" "the assignments after a roll back"
unfill

note "room again: the calls work, a restart finds what was answered"
gmgr Assign g2 p "{'vlan': <uint32 20>}" >/dev/null || fail "assign g2 with room"
gmgr DeletePool extra >/dev/null || fail "delete pool extra with room"
ctl enable $PF1 2 >/dev/null || fail "enable PF1 with room"
want=$(assignments)
assert_eq "$(echo "$want" | sed 's/=[^ ]*//g')" "g1 g2" "the assignments"
daemon_stop
daemon_start --uevent-source none
assert_eq "$(assignments)" "$want" "the assignments after a restart"
ctl verify >/dev/null || fail "verify after a restart: $(ctl verify 2>&1)"
mgr ListPools | grep -q '"extra"' && fail "a deleted pool came back"
[ "$(jq '[.assignments[].vf] | length == (unique | length)' "$T/state/state.json")" = true ] || fail "a VF held twice"

note "state.json that cannot be a ledger: set aside, never over earlier evidence"
gmgr Release g1 "" "{}" >/dev/null && gmgr Release g2 "" "{}" >/dev/null || fail "release"
daemon_stop
umount "$T/state"
chmod 0700 "$T/state"
n=0
for kind in fifo directory symlink large fifo; do
        rm -rf "$T/state/state.json"
        case $kind in
        fifo) mkfifo "$T/state/state.json";;
        directory) mkdir "$T/state/state.json";;
        symlink) echo '{"version": 2}' > "$T/elsewhere.json"; ln -s "$T/elsewhere.json" "$T/state/state.json";;
        large) truncate -s 65M "$T/state/state.json";;
        esac
        n=$((n + 1))
        # a daemon that blocked on it would not come up: daemon_start fails
        daemon_start --uevent-source none
        grep -q "The state file could not be used" "$T/sriovd.log" || fail "no word of the $kind"
        aside=$(find "$T/state" -maxdepth 1 -name 'state.json.corrupt-*' | wc -l)
        assert_eq "$aside" "$n" "the files set aside after the $kind"
        gmgr Assign g1 p "{}" >/dev/null || fail "assign after the $kind was set aside"
        gmgr Release g1 "" "{}" >/dev/null || fail "release after the $kind was set aside"
        [ -f "$T/state/state.json" ] && [ ! -L "$T/state/state.json" ] || fail "the new state.json is not a regular file"
        daemon_stop
done
[ "$(cat "$T/elsewhere.json")" = '{"version": 2}' ] || fail "the symlink's target was written"
find "$T/state" -maxdepth 1 -name 'state.json.corrupt-*' -type p | grep -q . || fail "the FIFO was not kept"

note "a state directory others could write is refused"
refused() {
        local why=$1 rc=0
        : > "$T/sriovd.log"
        timeout 30 "$SRIOVD" --sysfs-root "$SIM_ROOT" --state-dir "$T/state" --config "$T/sriovd.conf" \
                --config-dir "$T/conf.d" >"$T/sriovd.log" 2>&1 || rc=$?
        [ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "sriovd started (or hung: $rc) with a state directory that $why"
        grep -q "Cannot use $T/state" "$T/sriovd.log" || fail "sriovd did not say why ($why): $(cat "$T/sriovd.log")"
}
chmod 0777 "$T/state"; refused "everyone can write"
chmod 0770 "$T/state"; refused "its group can write"
chmod 0700 "$T/state"; chown nobody "$T/state"; refused "another user owns"
chown root "$T/state"
mv "$T/state" "$T/real-state"; ln -s "$T/real-state" "$T/state"; refused "is a symbolic link"
rm "$T/state"; mv "$T/real-state" "$T/state"
echo "not a directory" > "$T/file"
rc=0
timeout 30 "$SRIOVD" --sysfs-root "$SIM_ROOT" --state-dir "$T/file" --config "$T/sriovd.conf" \
        --config-dir "$T/conf.d" >"$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "sriovd with a file as its state directory: exit $rc"
grep -q "Cannot use $T/file as the state directory: it is not a directory" "$T/out" || fail "no reason: $(cat "$T/out")"

note "a state directory that does not exist is made as StateDirectory= would (0700, its parents 0755)"
daemon_start --uevent-source none --state-dir "$T/new/lib/sriovd"
assert_eq "$(stat -c '%a %U' "$T/new/lib/sriovd")" "700 root" "the state directory"
assert_eq "$(stat -c '%a' "$T/new" "$T/new/lib" | tr '\n' ' ')" "755 755 " "its parents"
gmgr Assign g1 p "{}" >/dev/null || fail "assign with the new state directory"
[ -f "$T/new/lib/sriovd/state.json" ] || fail "no state in the new directory"
echo ok
