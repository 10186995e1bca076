# shellcheck shell=bash
# Helpers for the daemon tests: D-Bus calls with busctl and sysfs reads of the
# simulated host (driver_of, sim_ctl, sim_state: tests/lib/sim.sh).
source "$top_srcdir/tests/lib/harness.sh"

DEST=org.sriovd.Manager1
MGR=/org/sriovd/Manager1
IFACE=org.sriovd.Manager1

# unchanged CMD...: the call fails and the simulated host is byte-for-byte the same
unchanged() {
        local before after
        before=$(snapshot)
        "$@"
        after=$(snapshot)
        [ "$before" = "$after" ] || fail "host changed by a refused call: $*"
}

# mgr METHOD SIGNATURE ARGS... (busctl): tests/lib/bus.sh
# gdbus prints the D-Bus error name on failure (busctl does not), so the
# error tests call through it: gmgr METHOD ARGS (GVariant text), prints the
# reply or "ERROR NAME: MESSAGE" (status 1)
source "$top_srcdir/tests/lib/gmgr.sh"
# prop PATH IFACE NAME -> the value, busctl's "s \"x\"" unquoted
prop() { busctl --system get-property "$DEST" "$1" "$2" "$3" | sed -e 's/^[a-z]* //' -e 's/^"\(.*\)"$/\1/'; }
devpath() { local p; p=$(busctl --system call "$DEST" "$MGR" "$IFACE" GetDevice s "$1" | awk '{print $2}'); p=${p#\"}; echo "${p%\"}"; }
sysattr() { cat "$SIM_ROOT/bus/pci/devices/$1/$2"; }
vf_bdf() { basename "$(readlink "$SIM_ROOT/bus/pci/devices/$1/virtfn$2")"; }

# predicates for wait_for (which needs a command, not an expanded value)
prop_is() { [ "$(prop "$1" "$2" "$3")" = "$4" ]; }
prop_nonempty() { [ -n "$(prop "$1" "$2" "$3")" ]; }
driver_is() { [ "$(driver_of "$1")" = "$2" ]; }
sysattr_is() { [ "$(cat "$SIM_ROOT/bus/pci/devices/$1/$2" 2>/dev/null)" = "$3" ]; }
vf_driver_is() { local v; v=$(vf_bdf "$1" "$2" 2>/dev/null) && [ -n "$v" ] && driver_is "$v" "$3"; }

assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }

# the whole simulated host, to prove that a refused call changed nothing
snapshot() { sim_state; }
