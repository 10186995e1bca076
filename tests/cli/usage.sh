#!/bin/bash
# Usage errors exit with 2 and a sentence, before any D-Bus call: the bus
# address points nowhere, so a call would end in exit status 3 instead.
# --help is generated from the verb table. Needs no root and no daemon.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/sriovctl-test-socket"

# usage PATTERN ARGS...: exit 2, the sentence, nothing on stdout
usage() {
        expect 2 "$1" "${@:2}"
        [ -z "$OUT" ] || fail "sriovctl ${*:2}: a usage error printed on stdout: $OUT"
        [[ "$ERR" == *'Try "sriovctl --help".'* ]] || fail "sriovctl ${*:2}: no pointer to --help: $ERR"
}

note "verbs: missing, unknown, no prefix matching"
usage "Which verb?"
usage 'Unknown verb "frobnicate"' frobnicate
usage 'Unknown verb "lis"' lis
usage 'Unknown verb "List"' List
usage 'the verbs are list, show, enable, disable, bind, unbind, restore, set, assign, release, assignments, reconcile, verify, unquarantine, pools, pool-create, pool-delete, apply, reload, groups, dma-check, owner, status, stats, metrics, monitor' nope
usage 'Unknown verb "pool"' pool

note "argument counts, from the verb table"
usage "show: expected DEV, got 0 arguments" show
usage "show: expected DEV, got 2 arguments" show a b
usage "enable: expected PF COUNT, got 1 argument" enable ens1f0
usage "enable: expected PF COUNT, got 3 arguments" enable ens1f0 4 5
usage "disable: expected PF, got 0 arguments" disable
usage "bind: expected DEV... DRIVER" bind 0000:3b:02.0
usage 'bind: DEV "a/b" is neither a PCI address' bind 3b:02.0 a/b vfio-pci
usage 'bind: invalid driver name "3b:02.1"' bind 3b:02.0 3b:02.1
usage "bind: --whole-group binds one device with its group's peers; give one DEV" bind 3b:02.0 3b:02.1 vfio-pci --whole-group
usage "unbind: expected DEV" unbind
usage "restore: expected DEV..., got 0 arguments" restore
usage 'restore: DEV "a/b" is neither a PCI address' restore 3b:02.0 a/b
usage "set: expected VF, got 0 arguments" set --trust on
usage "assign: expected GUEST POOL|VF, got 1 argument" assign vm1
usage "assign: expected GUEST POOL|VF, got 3 arguments" assign vm1 vms x
usage "release: expected GUEST [VF], got 0 arguments" release
usage "pool-create: expected NAME SELECTOR..., got 1 argument" pool-create p
usage "pool-delete: expected NAME, got 2 arguments" pool-delete p q
usage "dma-check: expected DEV, got 0 arguments" dma-check
usage "owner: expected DEV, got 4 arguments" owner a 1 2 3
usage "owner: give --uid USER and --gid GROUP, or --reset." owner a
usage "owner: give --uid USER and --gid GROUP, or --reset." owner a --gid 0
for v in list groups status monitor assignments pools apply reload; do
        usage "$v takes no arguments" $v extra
done

note "argument values sriovctl can judge alone"
usage 'COUNT must be a whole number of VFs, not "four"' enable ens1f0 four
usage 'COUNT must be a whole number of VFs, not "4x"' enable ens1f0 4x
usage 'COUNT must be a whole number of VFs, not "99999999999"' enable ens1f0 99999999999
usage "Unknown option -1" enable ens1f0 -1
usage "--kind xx: expected pf, vf, sriov or all" list --kind xx
usage "--kind needs a value" list --kind
usage "--autoprobe maybe: expected yes or no" enable ens1f0 2 --autoprobe maybe
usage "--timeout 0: expected seconds" --timeout 0 list
usage "--timeout abc: expected seconds" --timeout abc list
usage "--timeout -5: expected seconds" --timeout=-5 list
usage "--json=yaml: expected pretty or short" --json=yaml list
usage "Unknown option --frob" --frob list
usage "Unknown option -x" -x list

usage "--vlan 4095: expected a whole number from 0 to 4094." set vf --vlan 4095
usage "--vlan x: expected a whole number from 0 to 4094." set vf --vlan x
usage "--qos 8: expected a whole number from 0 to 7." set vf --qos 8
usage "--max-tx-rate -5: expected a whole number of Mbit/s." set vf --max-tx-rate=-5
usage "--min-tx-rate 99999999999: expected a whole number of Mbit/s." set vf --min-tx-rate 99999999999
usage "--mac 00:11:22:33:44: expected a unicast MAC address, xx:xx:xx:xx:xx:xx." set vf --mac 00:11:22:33:44
usage "--mac 00:11:22:33:44:gg: expected a unicast MAC address" set vf --mac 00:11:22:33:44:gg
# a multicast or broadcast address is refused before any call, as sriovctl(8) says (2, not the daemon's 6)
usage "--mac 01:00:5e:00:00:01: expected a unicast MAC address" set vf --mac 01:00:5e:00:00:01
usage "--mac ff:ff:ff:ff:ff:ff: expected a unicast MAC address" assign vm1 pool --mac ff:ff:ff:ff:ff:ff
usage "--mac-base 03:00:00:00:00:00: expected a unicast MAC address" pool-create p ens1f0 --mac-base 03:00:00:00:00:00
usage "--spoofchk 2: expected on or off." set vf --spoofchk 2
usage "--trust needs a value." set vf --trust
usage "--vlan-proto 802.1q: expected 802.1Q or 802.1ad." set vf --vlan-proto 802.1q
usage "--link-state down: expected auto, enable or disable." set vf --link-state down
usage "--numa-node 1024: expected a whole number from 0 to 1023." assign g p --numa-node 1024
usage "--numa-policy x: expected required, preferred or any." assign g p --numa-policy x
usage "--format xml: expected text, libvirt, libvirt-interface or qemu." assign g p --format xml
usage "--format qemu does not go with --json" -j assign g p --format qemu
usage "--gid nosuchgroup-x: expected a group name or number." assign g p --gid nosuchgroup-x
usage "--token : expected 1 to 128 printable characters." assign g p --token ""
usage "--token $(printf 'x%.0s' $(seq 129)): expected 1 to 128 printable characters." assign g p --token "$(printf 'x%.0s' $(seq 129))"
usage "assign: invalid guest name \"a/b\"" assign a/b p
usage "assign: which pool or VF?" assign g ""
usage 'show: DEV "0000:3b:00" is neither a PCI address (DDDD:BB:DD.F or BB:DD.F) nor the name of a network interface.' \
        show 0000:3b:00
usage 'dma-check: DEV "3b:00.0:1" is neither a PCI address' dma-check 3b:00.0:1
usage 'owner: DEV "a b" is neither a PCI address' owner "a b" --reset
usage 'disable: PF "0000:3b:00.g" is neither a PCI address' disable 0000:3b:00.g
usage 'unbind: DEV "ens1f0ens1f0ens1f0" is neither a PCI address' unbind ens1f0ens1f0ens1f0
usage 'bind: invalid driver name "vfio-pci/.."' bind 3b:00.0 vfio-pci/..
usage 'pool-delete: invalid pool name "x/y"' pool-delete x/y
usage "release: invalid guest name \"\"" release ""
usage "set: nothing to set" set vf
usage "--backend iommu: expected auto, container or iommufd." dma-check x --backend iommu
usage "--uid x y: expected a user name or number." owner d --uid "x y" --gid 0
usage "owner: expected DEV, got 2 arguments." owner --reset d 0
usage "owner: --reset gives the nodes back to their prior owner; it does not go with --uid or --gid." \
        owner --reset d --uid 0
usage "--vlan-proto 802.1x: expected 802.1Q or 802.1ad." set vf --proto 802.1x
usage "--max-tx-rate 1G: expected a whole number of Mbit/s." set vf --max-rate 1G
usage "--min-tx-rate -1: expected a whole number of Mbit/s." set vf --min-rate=-1
usage "--uid does not go with set" set vf --uid 0

note "options that belong to another verb"
usage "--kind does not go with show" show ens1f0 --kind pf
usage "--autoprobe does not go with list" list --autoprobe yes
usage "--autoprobe does not go with bind" bind 0000:3b:02.0 vfio-pci --autoprobe no
usage "--keep-override/--no-keep-override does not go with enable" enable ens1f0 2 --keep-override
usage "--keep-override/--no-keep-override does not go with unbind" unbind 0000:3b:02.0 --no-keep-override
usage "--dry-run does not go with reload" reload --dry-run
usage "--force does not go with restore" restore 0000:3b:02.0 --force
usage "--whole-group does not go with unbind" unbind 0000:3b:02.0 --whole-group
usage "--bring-pf-up does not go with assign" assign g p --bring-pf-up
usage "--mac does not go with pool-create" pool-create p ens1f0#0 --mac 02:00:00:00:00:01
usage "--mac-base does not go with set" set vf --mac-base 02:00:00:00:00:01
usage "--query-rss does not go with show" show vf --query-rss on
usage "--reset does not go with dma-check" dma-check x --reset
usage "--format does not go with show" show x --format qemu

note "a valid command line does call, and gets exit status 3 here"
expect 3 "Cannot connect to the system bus (unix:path=/nonexistent/sriovctl-test-socket)" list
expect 3 "Cannot connect to the system bus" enable ens1f0 2 --autoprobe no
expect 3 "Cannot connect to the system bus" --json -- show ens1f0
expect 3 "Cannot connect to the system bus" assign vm-1_a.b:c vms --mac 02:00:00:00:00:01 --vlan 4094 --qos 7 \
        --vlan-proto 802.1ad --max-tx-rate 0 --min-tx-rate 4294967295 --spoofchk off --trust yes --link-state auto \
        --query-rss on --uid root --gid 0 --numa-node 0 --numa-policy any --token x --driver vfio-pci --force \
        --format libvirt-interface
expect 3 "Cannot connect to the system bus" owner 3b:02.0 --uid 0 --gid root
expect 3 "Cannot connect to the system bus" set 3b:02.0 --proto 802.1ad --vlan 5 --max-rate 100 --min-rate 10

note "--help lists every verb with its arguments; --version"
expect_ok --help
for line in "list [--kind pf|vf|sriov|all]" "show DEV" "enable PF COUNT [--autoprobe yes|no] [--force]" \
            "disable PF [--force]" "bind DEV... DRIVER [OPTIONS]" "unbind DEV [--force]" "restore DEV..." "set VF [OPTIONS]" \
            "assign GUEST POOL|VF [OPTIONS]" "release GUEST [VF] [--force]" "assignments" "pools" \
            "pool-create NAME SELECTOR... [OPTIONS]" "pool-delete NAME" "apply [--dry-run]" "reload" "groups" \
            "dma-check DEV [--backend auto|container|iommufd]" "owner DEV [--uid USER] [--gid GROUP] [--reset]" "status" "monitor" \
            "--no-ask-password" "--timeout SEC" "--json[=pretty|short]" "--[no-]keep-override" \
            "--mac MAC" "--vlan-proto 802.1Q|802.1ad, --proto" "--max-tx-rate RATE, --max-rate" "--format text|libvirt|libvirt-interface|qemu"; do
        grep -qF -- "$line" <<<"$OUT" || fail "--help lacks \"$line\""
done
[ "$(grep -c '^  [a-z]' <<<"$OUT")" = 26 ] || fail "--help does not list exactly the 26 verbs: $OUT"
grep -qE '^  --mac MAC +set, assign: ' <<<"$OUT" || fail "--help does not say which verbs take --mac: $OUT"
note "the man page describes every verb and option of --help, and every exit status"
man=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$top_srcdir/man/sriovctl.8")
for verb in $(awk '/^Verbs:/ { v = 1; next } /^$/ { v = 0 } v && /^  [a-z]/ { print $1 }' <<<"$OUT"); do
        grep -qE "^\.(B|BI) $verb( |$)" <<<"$man" || fail "sriovctl(8) does not describe the verb $verb"
done
opts=$(sed -n '/^Options of the verbs:/,/^$/p' <<<"$OUT" | grep -oE '^  --[^ ]+' |
       sed -e 's/^  //' -e 's/^--\[no-\]\(.*\)/--\1 --no-\1/')
[ "$(wc -w <<<"$opts")" -ge 28 ] || fail "--help lists too few options of verbs: $opts"
for opt in $opts --proto --max-rate --min-rate --help --version --json --no-ask-password --timeout; do
        grep -qE -- "${opt}([^-a-z]|$)" <<<"$man" || fail "sriovctl(8) does not describe $opt"
done
exit_status=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' <<<"$man")
for status in 0 1 2 3 4 5 6 7 8 9 10; do
        grep -qx "\.B $status" <<<"$exit_status" || fail "sriovctl(8) lacks exit status $status"
done
note "every error name of sriovd has its row in cli/bus.c and its exit status in sriovctl(8)"
n=0
while read -r macro name; do
        grep -qE "\{ $macro," "$top_srcdir/cli/bus.c" || fail "cli/bus.c does not map $name"
        grep -q "${name#org.sriovd.Error.}" <<<"$exit_status" || fail "EXIT STATUS in sriovctl(8) does not name $name"
        n=$((n + 1))
done < <(sed -n 's/^#define \(SRIOVD_ERROR_[A-Z_]*\) *"\(org\.sriovd\.Error\.[A-Za-z]*\)"/\1 \2/p' \
         "$top_srcdir/api/sriovd-api.h")
[ "$n" -ge 21 ] || fail "only $n error names in api/sriovd-api.h"
expect_ok -h list
grep -q "^Usage: sriovctl" <<<"$OUT" || fail "-h does not print the usage"
expect_ok --version
[[ "$OUT" == sriovd\ * ]] || fail "--version: $OUT"
echo ok
