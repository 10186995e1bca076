#!/bin/bash
# The bash completion: verbs, options and their values (every verb and
# option of --help, each option with the verbs it goes with), devices from
# sriovd (addresses, also past bash's split at ':', and interface names),
# PFs for enable, VFs for set, pools and guests for assign, release and
# pool-delete, drivers for bind, users and groups for --uid and --gid.
set -euo pipefail
source "$top_srcdir/tests/cli/lib.sh"
harness_init
sim_start x710.json
cat > "$T/sriovd.conf" <<'CONF'
{ "pools": [ { "name": "vms", "select": [ "ens1f0#0" ] } ] }
CONF
bus_start
start_sriovd
source "$top_srcdir/shell-completion/bash/sriovctl"
grep -q _sriovctl <<<"$(complete -p sriovctl)" || fail "no completion registered for sriovctl"
sorted() { tr ' ' '\n' <<<"$*" | grep . | sort | tr '\n' ' '; }

# complete LINE: what TAB offers at the end of LINE, sorted, one line
complete_line() {
        local line="$SRIOVCTL $1"
        COMP_LINE=$line
        COMP_POINT=${#line}
        COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
        _sriovctl
        [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
}

expect_ok enable ens1f0 1 --autoprobe yes
VF0=$(vf_bdf 0000:3b:00.0 0)

note "every verb of --help, and each verb's options as --help lists them"
help=$("$SRIOVCTL" --help)
verbs=$(awk '/^Verbs:/ { v = 1; next } /^$/ { v = 0 } v && /^  [a-z]/ { print $1 }' <<<"$help" | sort | tr '\n' ' ')
[ "$(wc -w <<<"$verbs")" -ge 21 ] || fail "--help lists too few verbs: $verbs"
assert_eq "$(complete_line "")" "$verbs" "verbs"
# "VERB OPTION" for every option of every verb, from "Options of the verbs"
verb_options=$(python3 -c '
import re, sys
text = sys.stdin.read().split("Options of the verbs:\n")[1].split("\n\n")[0]
text = re.sub(r"\n {20,}", " ", text)          # an option whose verbs are on the next line
for line in text.splitlines():
    # "--vlan-proto 802.1Q|802.1ad, --proto": an option, its value, its alias
    m = re.match(r"  (--\S+)(?: [^-\s][^\s,]*)?(?:, (--\S+))? +([a-z, -]+): ", line)
    names = [m.group(1)] + ([m.group(2)] if m.group(2) else [])
    if names[0].startswith("--[no-]"):
        names = ["--" + names[0][7:], "--no-" + names[0][7:]]
    for verb in m.group(3).split(", "):
        for n in names:
            print(verb, n)' <<<"$help")
global="--help --json --json=pretty --json=short --no-ask-password --timeout --version"
for verb in $verbs; do
        want=$(sorted $global $(awk -v v="$verb" '$1 == v { print $2 }' <<<"$verb_options"))
        assert_eq "$(complete_line "$verb --")" "$want" "the options of $verb"
done
assert_eq "$(complete_line "s")" "set show stats status " "verbs with s"
assert_eq "$(complete_line "pool")" "pool-create pool-delete pools " "verbs with pool"
assert_eq "$(complete_line "--no")" "--no-ask-password " "global option"
assert_eq "$(complete_line "--json=p")" "pretty " "--json= value, after bash's split at ="
assert_eq "$(complete_line "list --kind ")" "all pf sriov vf " "--kind values"
assert_eq "$(complete_line "enable ens1f0 2 --autoprobe ")" "no yes " "--autoprobe values"
assert_eq "$(complete_line "bind x y --k")" "--keep-override " "bind options"
assert_eq "$(complete_line "--timeout ")" "" "--timeout takes a number"
assert_eq "$(complete_line "set x --spoofchk ")" "off on " "--spoofchk values"
assert_eq "$(complete_line "set x --trust o")" "off on " "--trust values"
assert_eq "$(complete_line "set x --link-state ")" "auto disable enable " "--link-state values"
assert_eq "$(complete_line "set x --vlan-proto ")" "802.1Q 802.1ad " "--vlan-proto values"
assert_eq "$(complete_line "set x --proto ")" "802.1Q 802.1ad " "--proto values"
assert_eq "$(complete_line "set x --max-rate ")" "" "--max-rate takes a number"
assert_eq "$(complete_line "set x --vlan ")" "" "--vlan takes a number"
assert_eq "$(complete_line "assign g p --numa-policy ")" "any preferred required " "--numa-policy values"
assert_eq "$(complete_line "assign g p --format ")" "libvirt libvirt-interface qemu text " "--format values"
assert_eq "$(complete_line "assign g p --format libvirt --")" "$(complete_line "assign g p --")" \
        "a value is skipped"
assert_eq "$(complete_line "dma-check x --backend ")" "auto container iommufd " "--backend values"
assert_eq "$(complete_line "assign g p --uid roo")" "$(compgen -u roo | sort | tr '\n' ' ')" "--uid: users"
assert_eq "$(complete_line "assign g p --gid roo")" "$(compgen -g roo | sort | tr '\n' ' ')" "--gid: groups"

note "devices from sriovd"
all=$(complete_line "show ")
for want in 0000:00:00.0 0000:3a:00.0 0000:3b:00.0 0000:3b:00.1 "$VF0" ens1f0 ens1f1 ens1f0v0; do
        [[ " $all " == *" $want "* ]] || fail "show: $want not offered: $all"
done
assert_eq "$(complete_line "show ens1f")" "ens1f0 ens1f0v0 ens1f1 " "interface names"
# bash replaces only what follows the last ':' of the word
assert_eq "$(complete_line "unbind 0000:3b:00")" "00.0 00.1 " "addresses after the split at ':'"
assert_eq "$(complete_line "restore 0000:3b:0")" "00.0 00.1 ${VF0##*:} " "addresses after the split at ':'"
assert_eq "$(complete_line "enable ")" "0000:3b:00.0 0000:3b:00.1 ens1f0 ens1f1 " "enable offers the PFs"
assert_eq "$(complete_line "disable ens")" "ens1f0 ens1f1 " "disable offers the PFs"
assert_eq "$(complete_line "enable ens1f0 ")" "" "no completion for COUNT"
assert_eq "$(complete_line "groups ")" "" "groups takes no arguments"
assert_eq "$(complete_line "set ")" "$VF0 ens1f0v0 " "set offers the VFs"
assert_eq "$(complete_line "set --trust on ")" "$VF0 ens1f0v0 " "set offers the VFs after options"
assert_eq "$(complete_line "dma-check 0000:3b:00.")" "00.0 00.1 " "dma-check offers devices"

note "pools and guests from sriovd"
assert_eq "$(complete_line "assign vm1 ")" "$VF0 ens1f0v0 vms " "assign offers pools and VFs"
assert_eq "$(complete_line "pool-delete ")" "vms " "pool-delete offers the pools"
assert_eq "$(complete_line "release ")" "" "release: no guests yet"
expect_ok assign vm1 vms
expect_ok pool-create spare ens1f1#0
assert_eq "$(complete_line "pool-delete ")" "spare vms " "pool-delete offers the new pool"
assert_eq "$(complete_line "release ")" "vm1 " "release offers the guests"
assert_eq "$(complete_line "release vm1 ")" "$VF0 " "release offers the guest's VFs"
assert_eq "$(complete_line "release vm2 ")" "" "another guest holds none"
assert_eq "$(complete_line "assign vm1 vms ")" "" "assign takes two arguments"
assert_eq "$(complete_line "owner $VF0 --uid roo")" "$(compgen -u roo | sort | tr '\n' ' ')" "owner: users"
assert_eq "$(complete_line "owner $VF0 --uid root --gid roo")" "$(compgen -g roo | sort | tr '\n' ' ')" "owner: groups"
assert_eq "$(complete_line "owner $VF0 --uid root --gid root ")" "" "owner takes only DEV"
assert_eq "$(complete_line "owner --reset $VF0 --")" "$(sorted $global)" "owner --reset: no --uid, --gid"

note "drivers (the last argument) and more devices for bind, from /sys/bus/pci/drivers"
# the simulated host's, over /sys in this test's own mount namespace: the
# same on every machine
mount --bind "$SIM_ROOT" /sys
devs=$(complete_line "show ")
want=$( (ls /sys/bus/pci/drivers; tr ' ' '\n' <<<"$devs") | grep . | sort | tr '\n' ' ')
assert_eq "$(complete_line "bind $VF0 ")" "$want" "drivers and devices after the first"
assert_eq "$(complete_line "bind $VF0 $VF0 ")" "$want" "drivers and devices after the second"
[ "$(complete_line "bind $VF0 vfi")" = "vfio-pci " ] || fail "no driver offered: $(complete_line "bind $VF0 vfi")"
assert_eq "$(complete_line "restore $VF0 ")" "$devs" "restore: more devices"

note "without sriovd: no devices, no error"
stop_sriovd
assert_eq "$(complete_line "show " 2>&1)" "" "no sriovd"
echo ok
