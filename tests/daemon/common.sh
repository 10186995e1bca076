# shellcheck shell=bash
# Helpers for the daemon tests: D-Bus calls with busctl and sysfs reads of the
# simulated host.
source "$top_srcdir/tests/lib/harness.sh"

DEST=org.sriovd.Manager1
MGR=/org/sriovd/Manager1
IFACE=org.sriovd.Manager1

mgr() { busctl --system call "$DEST" "$MGR" "$IFACE" "$@"; }
# prop PATH IFACE NAME -> the value, busctl's "s \"x\"" unquoted
prop() { busctl --system get-property "$DEST" "$1" "$2" "$3" | sed -e 's/^[a-z]* //' -e 's/^"\(.*\)"$/\1/'; }
devpath() { local p; p=$(busctl --system call "$DEST" "$MGR" "$IFACE" GetDevice s "$1" | awk '{print $2}'); p=${p#\"}; echo "${p%\"}"; }
sysattr() { cat "$SIM_ROOT/bus/pci/devices/$1/$2"; }
driver_of() { local l="$SIM_ROOT/bus/pci/devices/$1/driver"; [ -L "$l" ] && basename "$(readlink "$l")" || echo "-"; }
vf_bdf() { basename "$(readlink "$SIM_ROOT/bus/pci/devices/$1/virtfn$2")"; }

assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }

# the whole simulated host, to prove that a refused call changed nothing
snapshot() { sim_state; }
