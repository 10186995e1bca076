# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# bus: the private dbus-daemon the daemon scenarios use comes up on its
# socket and answers; this checks the harness, not the kernel.
#
# diff-skip: the harness, not the kernel

no_reference
start_bus || { fail "dbus-daemon did not start"; exit 1; }
expect socket "$([ -S "$BUS_SOCKET" ] && echo present || echo missing)" present
expect address "$DBUS_SYSTEM_BUS_ADDRESS" "unix:path=$BUS_SOCKET"
expect has_dbus_name "$(bus_has_name org.freedesktop.DBus && echo yes || echo no)" yes
expect no_sriovd_name "$(bus_has_name org.sriovd.Manager1 && echo yes || echo no)" no
stop_bus
