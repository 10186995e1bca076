# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# numvfs: sriov_numvfs and sriov_drivers_autoprobe on the NVMe PF and the igb
# PF: enabling, the errors of every invalid write and their precedence, the
# host driver's probe of new VFs, what happens when the PF has no driver,
# and the uevents of each step.
#
# diff-exclude: nvme.probe_enable2.*.probe_failed nvme.probe_enable2.klog -- kernel log lines (dmesg): the simulator has no kernel log
# diff-exclude: igb.probe_enable2.pf_vf_lines igb.probe_enable2.pf_vf0 -- rtnetlink (ip link): the simulator serves sysfs only

# vf_state ROLE PF: records every VF of PF: driver, links, group, ids.
vf_state() {
        _i=0
        for _v in $(vfs "$2"); do
                _p=$PCI/devices/$_v
                obs "$1.vf$_i" "$_v driver=$(drv "$_v") physfn=$(link_name "$_p/physfn") id=$(pci_id "$_v") group=$(grp "$_v")"
                _i=$((_i + 1))
        done
        obs "$1.virtfn_links" "$(virtfn_links "$2")"
}

# numvfs_pf ROLE PF: the whole sequence on one PF.
numvfs_pf() {
        R=$1 PF=$2 P=$PCI/devices/$2
        TOTAL=$(rd "$P/sriov_totalvfs")
        pfgroup=$(grp "$PF")

        # -- enable 2 with autoprobe off: VFs appear unbound, each in its own group.
        expect "$R.autoprobe0" "$(sw "$P/sriov_drivers_autoprobe" 0)" ok
        expect "$R.autoprobe0.read" "$(rd "$P/sriov_drivers_autoprobe")" 0
        uev_op "$R.enable2" ok "$P/sriov_numvfs" 2
        expect "$R.enable2.numvfs" "$(rd "$P/sriov_numvfs")" 2
        expect "$R.enable2.virtfn_links" "$(virtfn_links "$PF")" "virtfn0 virtfn1"
        vf_state "$R.enable2" "$PF"
        set -- $(vfs "$PF")
        VF0=$1 VF1=$2
        for v in $VF0 $VF1; do
                p=$PCI/devices/$v
                expect "$R.enable2.$v.driver" "$(drv "$v")" none
                expect "$R.enable2.$v.physfn" "$(link_name "$p/physfn")" "$PF"
                g=$(grp "$v")
                expect_ne "$R.enable2.$v.group_differs_from_pf" "$g" "$pfgroup"
                expect "$R.enable2.$v.group_size" "$(ls "/sys/kernel/iommu_groups/$g/devices" | wc -l)" 1
                # The VF's own vendor/device files name it; its config space
                # reads the Vendor ID the VF hardware has.
                expect "$R.enable2.$v.vendor" "$(rd "$p/vendor")" "$(rd "$P/vendor")"
                # sysfs "device" is %#06x, the PF's sriov_vf_device plain %x.
                expect "$R.enable2.$v.device" "$(printf '%d' "$(rd "$p/device")")" "$(printf '%d' "0x$(rd "$P/sriov_vf_device")")"
                obs "$R.enable2.$v.config_vendor" "$(cfg_word "$v" 0)"
                obs "$R.enable2.$v.config_device" "$(cfg_word "$v" 2)"
                obs "$R.enable2.$v.config_command" "$(cfg_word "$v" 4)"
                expect "$R.enable2.$v.numa_node" "$(rd "$p/numa_node")" -1
                # A VF has no SR-IOV capability; only the MSI-X count knob.
                expect "$R.enable2.$v.sriov_files" "$(cd "$p" && ls -d sriov_* 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" sriov_vf_msix_count
                expect "$R.enable2.$v.driver_override" "$(rd "$p/driver_override")" "(null)"
                obs "$R.enable2.$v.class" "$(rd "$p/class")"
        done
        expect_ne "$R.enable2.vf_groups_differ" "$(grp "$VF0")" "$(grp "$VF1")"

        # -- invalid writes while 2 are enabled: nothing changes, no uevent.
        uev_begin
        expect "$R.write3_while2" "$(sw "$P/sriov_numvfs" 3)" EBUSY
        expect "$R.write2_while2" "$(sw "$P/sriov_numvfs" 2)" ok
        expect "$R.write2nl_while2" "$(sw "$P/sriov_numvfs" '2\n')" ok
        expect "$R.write_total_plus1_while2" "$(sw "$P/sriov_numvfs" $((TOTAL + 1)))" ERANGE
        uev_record "$R.invalid_while2.uevent"
        expect "$R.invalid_while2.numvfs" "$(rd "$P/sriov_numvfs")" 2

        # -- disable.
        uev_op "$R.disable" ok "$P/sriov_numvfs" 0
        expect "$R.disable.numvfs" "$(rd "$P/sriov_numvfs")" 0
        expect "$R.disable.virtfn_links" "$(virtfn_links "$PF")" ""
        expect "$R.disable.vf0_gone" "$([ -e "$PCI/devices/$VF0" ] && echo present || echo gone)" gone

        # -- parsing and range, from 0 (kstrtou16, base 0; any parse error is EINVAL).
        uev_begin
        expect "$R.write0_while0" "$(sw "$P/sriov_numvfs" 0)" ok
        expect "$R.write_total_plus1" "$(sw "$P/sriov_numvfs" $((TOTAL + 1)))" ERANGE
        expect "$R.write_65535" "$(sw "$P/sriov_numvfs" 65535)" ERANGE
        expect "$R.write_65536" "$(sw "$P/sriov_numvfs" 65536)" EINVAL
        expect "$R.write_abc" "$(sw "$P/sriov_numvfs" abc)" EINVAL
        expect "$R.write_minus1" "$(sw "$P/sriov_numvfs" -1)" EINVAL
        expect "$R.write_space1" "$(sw "$P/sriov_numvfs" ' 1')" EINVAL
        expect "$R.write_1space" "$(sw "$P/sriov_numvfs" '1 ')" EINVAL
        expect "$R.write_empty" "$(sw "$P/sriov_numvfs" '')" ok
        expect "$R.write_nl" "$(sw "$P/sriov_numvfs" '\n')" EINVAL
        uev_record "$R.invalid_while0.uevent"
        expect "$R.invalid_while0.numvfs" "$(rd "$P/sriov_numvfs")" 0
        # Base 0: "0x1" is hex, "01" octal; both mean one VF.
        expect "$R.write_0x1" "$(sw "$P/sriov_numvfs" 0x1)" ok
        expect "$R.write_0x1.numvfs" "$(rd "$P/sriov_numvfs")" 1
        expect "$R.write_0x1.disable" "$(sw "$P/sriov_numvfs" 0)" ok
        expect "$R.write_total" "$(sw "$P/sriov_numvfs" "$TOTAL")" ok
        expect "$R.write_total.numvfs" "$(rd "$P/sriov_numvfs")" "$TOTAL"
        expect "$R.write_total.vfs" "$(vfs "$PF" | wc -w)" "$TOTAL"
        expect "$R.write_total.disable" "$(sw "$P/sriov_numvfs" 0)" ok

        # -- autoprobe: the host driver probes each new VF.
        expect "$R.autoprobe1" "$(sw "$P/sriov_drivers_autoprobe" 1)" ok
        expect "$R.autoprobe_bad" "$(sw "$P/sriov_drivers_autoprobe" 2)" EINVAL
        expect "$R.autoprobe_yes" "$(sw "$P/sriov_drivers_autoprobe" y)" ok
        expect "$R.autoprobe_yes.read" "$(rd "$P/sriov_drivers_autoprobe")" 1
        uev_begin
        expect "$R.probe_enable2" "$(sw "$P/sriov_numvfs" 2)" ok
        set -- $(vfs "$PF")
        VF0=$1 VF1=$2
        # Probing may finish (or give up) asynchronously: wait for the
        # driver's end state before reading the events.
        probe_done "$R" "$VF0" "$VF1"
        uev_record "$R.probe_enable2.uevent" $ASYNC
        vf_state "$R.probe_enable2" "$PF"
        probe_check "$R"
        uev_begin
        expect "$R.probe_disable" "$(sw_t 30000 "$P/sriov_numvfs" 0)" ok
        uev_record "$R.probe_disable.uevent"
        expect "$R.probe_disable.numvfs" "$(rd "$P/sriov_numvfs")" 0

        # -- the PF without a driver. The checks run in this order in the
        # kernel: parse (EINVAL), range (ERANGE), same value (no-op), driver
        # bound (ENOENT), VFs already enabled (EBUSY).
        pfdrv=$(drv "$PF")
        uev_op "$R.pf_unbind" ok "$PCI/drivers/$pfdrv/unbind" "$PF"
        # Without a driver, sriov_totalvfs is the device's TotalVFs again
        # (a driver may have lowered it: igb caps the 82576's 8 at 7).
        NODRV_TOTAL=$(rd "$P/sriov_totalvfs")
        expect "$R.nodrv.totalvfs" "$NODRV_TOTAL" "$DEVICE_TOTAL"
        expect "$R.nodrv.write1" "$(sw "$P/sriov_numvfs" 1)" ENOENT
        expect "$R.nodrv.write0" "$(sw "$P/sriov_numvfs" 0)" ok
        expect "$R.nodrv.write_total_plus1" "$(sw "$P/sriov_numvfs" $((NODRV_TOTAL + 1)))" ERANGE
        expect "$R.nodrv.write_driver_total_plus1" "$(sw "$P/sriov_numvfs" $((TOTAL + 1)))" "$([ $((TOTAL + 1)) -gt "$NODRV_TOTAL" ] && echo ERANGE || echo ENOENT)"
        expect "$R.nodrv.write_abc" "$(sw "$P/sriov_numvfs" abc)" EINVAL
        expect "$R.nodrv.autoprobe0" "$(sw "$P/sriov_drivers_autoprobe" 0)" ok
        expect "$R.nodrv.numvfs" "$(rd "$P/sriov_numvfs")" 0
        uev_begin
        expect "$R.pf_bind" "$(sw "$PCI/drivers/$pfdrv/bind" "$PF")" ok
        pf_ready "$R"
        uev_record "$R.pf_bind.uevent" $ASYNC
        expect "$R.pf_bind.driver" "$(drv "$PF")" "$pfdrv"
        expect "$R.pf_bind.totalvfs" "$(rd "$P/sriov_totalvfs")" "$TOTAL"

        # -- unbinding the PF driver while VFs are enabled: the driver's
        # remove() decides whether the VFs stay.
        expect "$R.enable2_again" "$(sw "$P/sriov_numvfs" 2)" ok
        uev_op "$R.pf_unbind_with_vfs" ok "$PCI/drivers/$pfdrv/unbind" "$PF"
        left=$(rd "$P/sriov_numvfs")
        expect "$R.pf_unbind_with_vfs.numvfs" "$left" "$PF_UNBIND_LEAVES"
        obs "$R.pf_unbind_with_vfs.virtfn_links" "$(virtfn_links "$PF")"
        if [ "$left" != 0 ]; then
                expect "$R.nodrv_vfs.write0" "$(sw "$P/sriov_numvfs" 0)" ENOENT
                expect "$R.nodrv_vfs.write3" "$(sw "$P/sriov_numvfs" 3)" ENOENT
                expect "$R.nodrv_vfs.write_same" "$(sw "$P/sriov_numvfs" "$left")" ok
        fi
        expect "$R.pf_bind_again" "$(sw "$PCI/drivers/$pfdrv/bind" "$PF")" ok
        pf_ready "$R"
        expect "$R.pf_bind_again.numvfs" "$(rd "$P/sriov_numvfs")" "$left"
        expect "$R.final_disable" "$(sw_t 30000 "$P/sriov_numvfs" 0)" ok
        expect "$R.final_autoprobe1" "$(sw "$P/sriov_drivers_autoprobe" 1)" ok
}

# ---- NVMe ----
# QEMU's NVMe VFs start offline, so nvme's probe fails on them: on 6.1 it
# binds, fails in its reset work (CSTS=0x2) and unbinds; later kernels fail
# in probe() itself. Either way the controller device comes and goes.
nvme_vf_settled() {
        nvme_live "$1" ||
                uev_list | grep -q "^remove nvme /devices/.*/$1/nvme/"
}
probe_done() {
        case $1 in
        nvme) wait_async 30 eval "nvme_vf_settled $2 && nvme_vf_settled $3" || note "nvme VFs still probing after 30 s" ;;
        igb) wait_until 30 sh -c "[ -d $PCI/devices/$2/net ] && [ -d $PCI/devices/$3/net ]" || note "igbvf netdevs missing after 30 s" ;;
        esac
}
probe_check() {
        case $1 in
        nvme)
                for v in $VF0 $VF1; do
                        expect "nvme.probe_enable2.$v.driver" "$(drv "$v")" none
                        expect "nvme.probe_enable2.$v.ctrl" "$(nvme_ctrl "$v")" none
                        expect "nvme.probe_enable2.$v.probe_failed" "$(klog | grep -c "pci function $v")" 1
                done
                obs nvme.probe_enable2.klog "$(klog | grep -o 'Device not ready; aborting [a-z]*, CSTS=0x[0-9a-f]*' | head -n 1)"
                ;;
        igb)
                for v in $VF0 $VF1; do
                        expect "igb.probe_enable2.$v.driver" "$(drv "$v")" igbvf
                        nd=$(ls "$PCI/devices/$v/net" 2>/dev/null | head -n 1)
                        expect_ne "igb.probe_enable2.$v.netdev" "${nd:-none}" none
                        # igbvf makes up a random MAC when the PF assigned none.
                        [ -n "$nd" ] && expect "igb.probe_enable2.$v.addr_assign_type" "$(rd "/sys/class/net/$nd/addr_assign_type")" 1
                done
                pfnd=$(ls "$PCI/devices/$IGB/net" | head -n 1)
                expect igb.probe_enable2.pf_vf_lines "$($IP link show "$pfnd" | grep -c '^ *vf ')" 2
                obs igb.probe_enable2.pf_vf0 "$($IP link show "$pfnd" | grep '^ *vf 0 ' | sed 's/^ *//')"
                ;;
        esac
}
pf_ready() {
        case $1 in
        nvme) wait_async 30 nvme_live "$NVME" || note "nvme PF not live after 30 s" ;;
        igb) wait_until 10 test -d "$PCI/devices/$IGB/net" || note "igb PF has no netdev after 10 s" ;;
        esac
}

NVME=$(nvme_pf) || fail "no NVMe SR-IOV PF"
if [ -n "$NVME" ]; then
        # nvme's probe work runs asynchronously (6.1): group its events.
        PF_UNBIND_LEAVES=2 DEVICE_TOTAL=4 ASYNC=bydev
        klog_clear
        numvfs_pf nvme "$NVME"
fi

# ---- igb ----
# igb's remove() disables SR-IOV itself (igb_disable_sriov).
if need_igb; then
        PF_UNBIND_LEAVES=0 DEVICE_TOTAL=8 ASYNC=
        numvfs_pf igb "$IGB"
else
        obs igb absent
fi
