# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-reset: VFs are reset between tenants, on the real kernel (issue
# 15). Both emulated VFs, QEMU's NVMe VF and its igb VF (82576 VF), expose
# `reset` with the reset method `flr` (reset_method; Debian's 6.1 has it
# too). The pools' reset policies: `auto` (NVMe), `always` (igb): Assign
# resets the VF before the guest gets it and Release after the guest had it,
# and sriovd says which method the kernel used ("reset with flr"); `never`
# resets nothing. A reset that fails is made real by clearing the VF's reset
# methods by hand (an empty write to reset_method: the kernel then refuses
# `reset` with ENOTTY): the release still gives the VF back, and the VF is
# quarantined (ListPools, `sriovctl pools`, `sriovctl list` and `show` on
# the VF, with the reason), given to no guest, until
# `sriovctl unquarantine`; then it is handed out, reset, again.
#
# diff-skip: the project's daemon on the real kernel, not a kernel rule
# vm-needs: gdbus

no_reference
need_bin sriovd sriovctl
need_tool gdbus
need_igb || ci_skip "no igb NIC (QEMU < 8): one pool is of igb VFs"
NVME=$(nvme_pf) || { fail "no NVMe SR-IOV PF"; exit 1; }
LOG=$RESULTS/$NAME.sriovd.log
logged() { grep -c "$1" "$LOG"; }
# pool_field POOL KEY: a member of the pool's details in ListPools
pool_field() { gmgr ListPools | sed "s/}), ('/})\\n('/g" | grep "('$1', " | { read -r _l; gv_string "$_l" "$2"; }; }

start_sriovd_fresh --timeout 30 || { fail "sriovd did not come up: $(tail -n 5 "$LOG")"; exit 1; }
expect nvme.enable "$(gmgr SetNumVFs "$NVME" 2 "{'autoprobe': <false>}")" "(uint32 2,)"
expect igb.enable "$(gmgr SetNumVFs "$IGB" 1 "{'autoprobe': <true>}")" "(uint32 1,)"
set -- $(vfs "$NVME")
NVF0=$1 NVF1=$2
IVF0=$(vfs "$IGB")
wait_until 20 eval '[ "$(drv "$IVF0")" = igbvf ]'

# ---- what the kernel offers: `reset`, and the methods it tries in order
for v in "nvme:$NVF0" "igb:$IVF0"; do
        k=${v%%:*} b=${v#*:}
        expect "$k.vf.reset" "$([ -e "$PCI/devices/$b/reset" ] && echo present || echo absent)" present
        expect "$k.vf.reset_method" "$(rd "$PCI/devices/$b/reset_method")" flr
done
obs nvme.pf.reset_method "$(rd "$PCI/devices/$NVME/reset_method")"
obs igb.pf.reset_method "$(rd "$PCI/devices/$IGB/reset_method")"

# ---- pools with each policy
expect pool.nv "$(gmgr CreatePool nv "['$NVME#0']" '{}')" "()"
expect pool.ig "$(gmgr CreatePool ig "['$IGB#0']" "{'reset': <'always'>}")" "()"
expect pool.nv_never "$(gmgr CreatePool nv-never "['$NVME#1']" "{'reset': <'never'>}")" "()"
expect pool.nv.reset "$(pool_field nv reset)" auto
expect pool.ig.reset "$(pool_field ig reset)" always
expect pool.nv_never.reset "$(pool_field nv-never reset)" never

# ---- auto (NVMe VF): reset on Assign and on Release, with flr
r=$(gmgr Assign g1 nv '{}')
expect auto.assign.vf "$(gv_string "$r" vf)" "$NVF0"
expect auto.assign.reset "$(gv_string "$(assignment_reply g1)" reset)" auto
expect auto.assign.log "$(logged "Assigned $NVF0 to g1 from pool nv (owner local), reset with flr\$")" 1
expect auto.release "$(gmgr Release g1 "''" '{}')" "(['$NVF0'],)"
expect auto.release.log "$(logged "Released $NVF0 from g1, reset with flr\$")" 1
expect auto.release.driver "$(drv "$NVF0")" none

# ---- always (igb VF)
r=$(gmgr Assign g2 ig "{'mac': <'02:00:00:5e:15:03'>}")
expect always.assign.vf "$(gv_string "$r" vf)" "$IVF0"
expect always.assign.log "$(logged "Assigned $IVF0 to g2 from pool ig (owner local), reset with flr\$")" 1
expect always.release "$(gmgr Release g2 "''" '{}')" "(['$IVF0'],)"
expect always.release.log "$(logged "Released $IVF0 from g2, reset with flr\$")" 1
expect always.release.driver "$(drv "$IVF0")" igbvf

# ---- never (the other NVMe VF)
r=$(gmgr Assign g3 nv-never '{}')
expect never.assign.vf "$(gv_string "$r" vf)" "$NVF1"
expect never.assign.log "$(logged "Assigned $NVF1 to g3 from pool nv-never (owner local)\$")" 1
expect never.release "$(gmgr Release g3 "''" '{}')" "(['$NVF1'],)"
expect never.release.log "$(logged "Released $NVF1 from g3\$")" 1
expect never.reset_lines "$(logged "$NVF1.*reset with")" 0

# ---- a reset that fails: quarantine
r=$(gmgr Assign g4 nv '{}')
expect quarantine.assign.vf "$(gv_string "$r" vf)" "$NVF0"
# the VF's reset methods cleared by hand: the kernel refuses `reset`
expect quarantine.clear_methods "$(sw "$PCI/devices/$NVF0/reset_method" '\n')" ok
expect quarantine.methods "$(rd "$PCI/devices/$NVF0/reset_method")" ""
expect quarantine.kernel_refuses "$(sw "$PCI/devices/$NVF0/reset" 1)" ENOTTY
# the release gives the VF back all the same, and keeps it from guests
expect quarantine.release "$(gmgr Release g4 "''" '{}')" "(['$NVF0'],)"
expect quarantine.release.driver "$(drv "$NVF0")" none
expect quarantine.log "$(logged "$NVF0 is quarantined, it goes to no guest until an administrator clears it: ")" 1
obs quarantine.reason "$(sed -n "s/.*$NVF0 is quarantined, it goes to no guest until an administrator clears it: //p" "$LOG")"
expect quarantine.pool.quarantined "$(pool_field nv quarantined)" 1
expect quarantine.ctl_pools "$(sriovctl pools | awk '$1 == "nv" { print $5 }')" 1
# on the VF itself: `sriovctl list` (USE) and `show` (why)
expect quarantine.ctl_list "$(sriovctl list | awk -v v="$NVF0" '$1 == v { print $8 }')" quarantined
expect_glob quarantine.ctl_show "$(sriovctl show "$NVF0" | sed -n 's/^ *Quarantined: //p')" "*Resetting $NVF0 failed*"
r=$(gmgr Assign g5 nv '{}')
expect quarantine.assign_again "${r%%:*}" "ERROR org.sriovd.Error.PoolExhausted"
# the refusal says why: the pool's VF is quarantined, not assigned
expect_glob quarantine.assign_again.message "${r#*: }" "*quarantine*"
# the administrator: the reset methods back, the quarantine cleared
expect unquarantine.methods "$(sw "$PCI/devices/$NVF0/reset_method" default)" ok
expect unquarantine.methods_now "$(rd "$PCI/devices/$NVF0/reset_method")" flr
expect unquarantine.ctl "$(sriovctl unquarantine "$NVF0" 2>&1)" "$NVF0: out of quarantine; it goes to guests again"
expect unquarantine.pool.quarantined "$(pool_field nv quarantined)" 0
expect unquarantine.ctl_list "$(sriovctl list | awk -v v="$NVF0" '$1 == v { print $8 }')" -
r=$(gmgr Assign g5 nv '{}')
expect unquarantine.assign.vf "$(gv_string "$r" vf)" "$NVF0"
expect unquarantine.assign.log "$(logged "Assigned $NVF0 to g5 from pool nv (owner local), reset with flr\$")" 1
expect unquarantine.release "$(gmgr Release g5 "''" '{}')" "(['$NVF0'],)"
expect unquarantine.verify "$(sriovctl verify >&2; echo $?)" 0

stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
# the PF's link as the scenarios after this one expect it (not part of the runner's reset)
$IP link set dev "$(ls "$PCI/devices/$IGB/net" | head -n 1)" down
