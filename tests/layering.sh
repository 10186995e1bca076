#!/bin/bash
# The one-way flow lib -> iommu -> daemon -> cli, with the bus contract in
# api/ between daemon and cli: every #include "..." of a product source must
# name a header of its own directory or of a directory below it. (The build
# enforces the same with per-target include paths; this also catches paths
# written into the include itself.)
set -euo pipefail
cd "${top_srcdir:-$(dirname "$0")/..}"

declare -A allowed=(
        [lib]="lib"
        [iommu]="lib iommu"
        [api]="api"
        [daemon]="lib iommu api daemon"
        [cli]="lib api cli"
        [k8s]="lib api k8s"
)
fail=0
for dir in "${!allowed[@]}"; do
        for f in "$dir"/*.[ch]; do
                [ -e "$f" ] || continue
                while IFS= read -r inc; do
                        ok=0
                        # a header protoc-c generates from a .proto of the directory
                        case $inc in *.pb-c.h) [ -e "$dir/${inc%.pb-c.h}.proto" ] && ok=1;; esac
                        for a in ${allowed[$dir]}; do
                                [ -e "$a/$inc" ] && ok=1 && break
                        done
                        if [ $ok = 0 ]; then
                                echo "FAIL: $f includes \"$inc\", which is not in ${allowed[$dir]// /, }" >&2
                                fail=1
                        fi
                done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
        done
done
# no two layers define a header of the same name
dups=$(ls lib iommu api daemon cli k8s | grep '\.h$' | sort | uniq -d)
if [ -n "$dups" ]; then
        echo "FAIL: headers of the same name in two directories: $dups" >&2
        fail=1
fi
[ $fail = 0 ] && echo "include graph: lib -> iommu -> daemon -> cli, api shared by daemon and cli: OK"
exit $fail
