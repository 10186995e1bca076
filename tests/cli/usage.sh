#!/bin/bash
# Usage errors exit with 2 and a sentence, before any D-Bus call: the bus
# address points nowhere, so a call would end in exit status 3 instead.
# --help is generated from the verb table. Needs no root and no daemon.
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
usage 'the verbs are list, show, enable, disable, bind, unbind, restore, groups, status, monitor' nope

note "argument counts, from the verb table"
usage "show: expected DEV, got 0 arguments" show
usage "show: expected DEV, got 2 arguments" show a b
usage "enable: expected PF COUNT [--autoprobe yes|no], got 1 argument" enable ens1f0
usage "enable: expected PF COUNT" enable ens1f0 4 5
usage "disable: expected PF, got 0 arguments" disable
usage "bind: expected DEV DRIVER" bind 0000:3b:02.0
usage "unbind: expected DEV" unbind
usage "restore: expected DEV" restore a b
for v in list groups status monitor; do
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

note "options that belong to another verb"
usage "--kind does not go with show" show ens1f0 --kind pf
usage "--autoprobe does not go with list" list --autoprobe yes
usage "--autoprobe does not go with bind" bind 0000:3b:02.0 vfio-pci --autoprobe no
usage "--keep-override/--no-keep-override does not go with enable" enable ens1f0 2 --keep-override
usage "--keep-override/--no-keep-override does not go with unbind" unbind 0000:3b:02.0 --no-keep-override

note "a valid command line does call, and gets exit status 3 here"
expect 3 "Cannot connect to the system bus (unix:path=/nonexistent/sriovctl-test-socket)" list
expect 3 "Cannot connect to the system bus" enable ens1f0 2 --autoprobe no
expect 3 "Cannot connect to the system bus" --json -- show ens1f0

note "--help lists every verb with its arguments; --version"
expect_ok --help
for line in "list [--kind pf|vf|sriov|all]" "show DEV" "enable PF COUNT [--autoprobe yes|no]" "disable PF" \
            "bind DEV DRIVER [--[no-]keep-override]" "unbind DEV" "restore DEV" "groups" "status" "monitor" \
            "--no-ask-password" "--timeout SEC" "--json[=pretty|short]"; do
        grep -qF -- "$line" <<<"$OUT" || fail "--help lacks \"$line\""
done
[ "$(grep -c '^  [a-z]' <<<"$OUT")" = 10 ] || fail "--help does not list exactly the 10 verbs: $OUT"
expect_ok -h list
grep -q "^Usage: sriovctl" <<<"$OUT" || fail "-h does not print the usage"
expect_ok --version
[[ "$OUT" == sriovd\ * ]] || fail "--version: $OUT"
echo ok
