# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Strict mode's other half, sourced by the test libraries
# (tests/lib/harness.sh, tests/sim/lib.sh). Every test starts with
# `set -euo pipefail`: a command that fails where nobody checks it ends the
# test. Here, that also holds inside functions and command substitutions,
# and the test says which command it was. A failure that is expected is
# tested (`if`, `||`, `&&`, `!`); one deliberately ignored is marked `|| :`.
# (Reported from the test's own shell only: a command substitution whose
# failure matters fails the command around it, which is reported then.)
set -o errtrace
shopt -s inherit_errexit
trap '_strict_rc=$?; [ "$BASH_SUBSHELL" != 0 ] ||
        echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: exit status $_strict_rc from: $BASH_COMMAND" >&2' ERR

# on_exit COMMANDS: run COMMANDS (a string, as for trap) when the test
# ends, outside strict mode: cleaning up must not change the test's result,
# and the exit status stays the test's.
on_exit() {
        # shellcheck disable=SC2064  # COMMANDS are the caller's, expanded when the trap runs
        trap "_strict_rc=\$?; set +e; trap - ERR; $1; exit \$_strict_rc" EXIT
}

# wait_for TIMEOUT_SECONDS COMMAND...: poll (every 50 ms, TIMEOUT_SECONDS
# at most) until COMMAND succeeds; status 1 if it never did. Tests wait on
# conditions, never for a while.
wait_for() {
        local t=$1 i=0; shift
        while ! "$@" >/dev/null 2>&1; do
                i=$((i + 1))
                [ "$i" -gt $((t * 20)) ] && return 1
                sleep 0.05
        done
}
