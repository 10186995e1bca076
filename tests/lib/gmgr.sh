# shellcheck shell=sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# gmgr METHOD ARG...: org.sriovd.Manager1.METHOD through gdbus, the
# arguments in GVariant text (e.g. "{'force': <true>}" for an a{sv}).
# Prints the reply; on failure "ERROR NAME: MESSAGE" (the D-Bus error name,
# process ids in the message read "PID") and status 1. GMGR_TIMEOUT: seconds
# to wait for the reply (300).
#
# POSIX sh, one copy for the host's tests (tests/daemon/common.sh, bash) and
# the guest's scenarios (tests/vm/guest/lib.sh, busybox ash; /vm/gmgr.sh in
# the guest).
gmgr() {
        _gmgr_m=$1
        shift
        if _gmgr_out=$(gdbus call --system --timeout "${GMGR_TIMEOUT:-300}" --dest org.sriovd.Manager1 \
                        --object-path /org/sriovd/Manager1 --method "org.sriovd.Manager1.$_gmgr_m" -- "$@" 2>&1); then
                printf '%s\n' "$_gmgr_out"
                return 0
        fi
        printf '%s\n' "$_gmgr_out" | sed -e 's/^Error: GDBus\.Error:\([^:]*\): /ERROR \1: /' -e 's/process [0-9][0-9]*/process PID/g'
        return 1
}
