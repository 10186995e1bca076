# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Programs run as another user, for the tests of unprivileged callers
# (tests/lib/harness.sh, tests/sim/lib.sh). Sourced (bash).
#
# The user really is unprivileged: its own uid and gid, no supplementary
# groups, and no capabilities — none inherited, and an empty bounding set,
# so that not even a setuid-root or file-capability program it runs gets
# any back. setpriv itself keeps root's capabilities until its execve(2)
# (it sets the ids, not the capabilities), so that the path of a program
# root may reach and the user may not would still resolve: it executes
# env(1), which then executes the program as the user, with no
# capabilities at all. And the program must be one the user can reach: a
# build tree in a 0700 home directory (root's, on Debian) is not, so a
# program given by a path the user cannot execute runs from a copy in
# USERS_BIN (a directory the caller provides, removed with the test's own
# files).

# as_user USER GROUP COMMAND [ARGS...]: COMMAND as USER:GROUP, unprivileged
as_user() {
        local user=$1 group=$2 cmd=$3
        shift 3
        case $cmd in */*)
                cmd=$(reachable_by "$user" "$group" "$cmd") || return ;;
        esac
        setpriv --reuid "$user" --regid "$group" --clear-groups --inh-caps=-all --bounding-set=-all -- \
                env -- "$cmd" "$@"
}
as_nobody() { as_user nobody nogroup "$@"; }

# reachable_by USER GROUP PROGRAM: a path to PROGRAM that USER can execute,
# PROGRAM's own or a copy in USERS_BIN (readable and executable by all)
reachable_by() {
        local copy
        if setpriv --reuid "$1" --regid "$2" --clear-groups -- env -- test -x "$3"; then
                echo "$3"
                return 0
        fi
        : "${USERS_BIN:?no directory for copies of programs another user cannot reach}"
        copy=$USERS_BIN/${3##*/}
        if [ ! -e "$copy" ]; then
                mkdir -p "$USERS_BIN"
                chmod 755 "$USERS_BIN"
                cp "$3" "$copy"
                chmod 755 "$copy"
        fi
        setpriv --reuid "$1" --regid "$2" --clear-groups -- env -- test -x "$copy" || {
                echo "$1 cannot execute $3, nor a copy in $USERS_BIN" >&2
                return 1
        }
        echo "$copy"
}
