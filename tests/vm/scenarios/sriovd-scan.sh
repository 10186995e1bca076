# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-scan: the project's own scan on the real kernel: `sriovd --scan
# --json` names the SR-IOV PFs the kernel has. Its output is kept as
# sriovd-scan.json beside the transcripts.
#
# diff-skip: the project's own output, not the kernel's

no_reference
need_bin sriovd

NVME=$(nvme_pf) || fail "no NVMe SR-IOV PF"
sriovd --scan --json >"$RESULTS/$NAME.json" 2>"$RESULTS/$NAME.stderr"
expect exit_status "$?" 0
expect output_empty "$([ -s "$RESULTS/$NAME.json" ] && echo no || echo yes)" no
expect names_nvme_pf "$(grep -c "\"$NVME\"" "$RESULTS/$NAME.json" | sed 's/^[1-9][0-9]*$/yes/')" yes
if need_igb; then
        expect names_igb_pf "$(grep -c "\"$IGB\"" "$RESULTS/$NAME.json" | sed 's/^[1-9][0-9]*$/yes/')" yes
fi
