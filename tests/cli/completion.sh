#!/bin/bash
# The bash completion: verbs, options and their values, devices from
# sriovd (addresses, also past bash's split at ':', and interface names),
# PFs for enable, drivers for bind.
source "$top_srcdir/tests/cli/lib.sh"
harness_init
start_host x710.json
source "$top_srcdir/shell-completion/bash/sriovctl"
complete -p sriovctl | grep -q _sriovctl || fail "no completion registered for sriovctl"

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

note "verbs and options"
assert_eq "$(complete_line "")" "bind disable enable groups list monitor restore show status unbind " "verbs"
assert_eq "$(complete_line "s")" "show status " "verbs with s"
assert_eq "$(complete_line "--no")" "--no-ask-password " "global option"
assert_eq "$(complete_line "--json=p")" "pretty " "--json= value, after bash's split at ="
assert_eq "$(complete_line "list --")" \
        "--help --json --json=pretty --json=short --kind --no-ask-password --timeout --version " "list options"
assert_eq "$(complete_line "list --kind ")" "all pf sriov vf " "--kind values"
assert_eq "$(complete_line "enable ens1f0 2 --autoprobe ")" "no yes " "--autoprobe values"
assert_eq "$(complete_line "bind x y --k")" "--keep-override " "bind options"
assert_eq "$(complete_line "--timeout ")" "" "--timeout takes a number"

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

note "drivers for bind, from /sys/bus/pci/drivers"
if [ -d /sys/bus/pci/drivers ] && [ -n "$(ls /sys/bus/pci/drivers)" ]; then
        assert_eq "$(complete_line "bind $VF0 ")" "$(ls /sys/bus/pci/drivers | sort | tr '\n' ' ')" "drivers"
else
        note "(this host has no PCI drivers in /sys: the driver completion is not checked)"
fi

note "without sriovd: no devices, no error"
stop_sriovd
assert_eq "$(complete_line "show " 2>&1)" "" "no sriovd"
echo ok
