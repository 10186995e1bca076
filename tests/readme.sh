#!/bin/bash
# The README's two commands (the first sh block: what a new user runs on a
# fresh machine) are the commands CI runs (.ci/run's run_readme_command
# lines), in the same order, word for word: neither can change without the
# other. No root needed.
set -euo pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fail() { echo "FAIL: $*" >&2; exit 1; }

# the README's first ```sh block, each line without its comment
readme=$(awk '/^```sh$/ { if (!done) inside = 1; next } /^```$/ { if (inside) done = 1; inside = 0 } inside' \
        "$top_srcdir/README.md" | sed -e 's/[[:space:]]*#.*$//' -e 's/^[[:space:]]*//' | grep -v '^$' || :)
ci=$(sed -n 's/^run_readme_command \(.*\)$/\1/p' "$top_srcdir/.ci/run")

[ "$(wc -l <<<"$readme")" = 2 ] || fail "the README's first sh block should hold its two commands, it holds: $readme"
[ -n "$ci" ] || fail ".ci/run runs no README command (no run_readme_command line)"
[ "$readme" = "$ci" ] || fail "the README's commands and .ci/run's differ:
README.md:
$readme
.ci/run:
$ci"
# each is a program of the tree
while read -r c _; do
        [ -x "$top_srcdir/$c" ] || fail "$c, a README command, is not a program in the tree"
done <<<"$readme"
echo "ok: $(tr '\n' ' ' <<<"$readme")"
