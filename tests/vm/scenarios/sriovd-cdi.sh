# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-cdi: a CDI-aware runtime injects an assigned VF by name. An igb VF
# assigned from a pool the way sriovd-kubelet-plugin assigns it (owner
# kubernetes): sriovd writes its CDI spec under /run/cdi (which is
# /var/run/cdi, a directory every CDI runtime reads) and answers the CDI
# name; Debian's podman run --device NAME gives the container the VF's
# group node and /dev/vfio/vfio (nothing else of /dev/vfio) and
# SRIOVD_VF, and in the container vfio-hold gets the VF's VFIO device fd
# through them (the device cgroup lets it). Released: the spec is gone and
# podman refuses the name.
#
# diff-skip: the project's daemon and a container runtime on the real kernel, not a kernel rule
# vm-needs: gdbus podman

no_reference
need_bin sriovd
need_tool gdbus podman
need_igb || skip "no igb NIC (QEMU < 8): the pool is of igb VFs"
CDI=/run/cdi
IMAGE=localhost/busybox:vm
cdi_name() { echo "$1" | tr : -; }
# pod_run ARGS...: podman run, as a container engine without systemd runs
# it here (no network, no AppArmor or SELinux profiles loaded in the guest)
pod_run() {
        timeout -s KILL 180 podman run --rm --network none --security-opt apparmor=unconfined \
                --security-opt seccomp=unconfined --security-opt label=disable "$@"
}

cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "net", "select": [ "$IGB#0-1" ] } ] }
EOF
rm -rf "$CDI" /run/containers
start_sriovd_fresh --timeout 60 --cdi-dir "$CDI" || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
set -- $(vfs "$IGB")
VF0=$1
# the cgroup v2 hierarchy crun puts the container in (no systemd mounted it)
grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || mount -t cgroup2 cgroup2 /sys/fs/cgroup
t0=$(cut -d. -f1 /proc/uptime)
expect image.import "$(timeout -s KILL 180 podman import /vm/podman/busybox.tar "$IMAGE" >/dev/null 2>"$STATE/podman.err" && echo ok || cat "$STATE/podman.err")" ok
echo "podman import took $(($(cut -d. -f1 /proc/uptime) - t0)) s" >&2

# ---- assigned: the spec, and its name
r=$(gmgr Assign "$VF0" net "{'owner': <'kubernetes'>, 'vf': <'$VF0'>}")
echo "Assign: $r" >&2
expect assign.vf "$(gv_string "$r" vf)" "$VF0"
NAME_CDI=$(gv_string "$r" cdi_device)
expect assign.cdi_device "$NAME_CDI" "sriovd.io/vf=$(cdi_name "$VF0")"
G=$(grp "$VF0")
expect assign.spec "$([ -r "$CDI/sriovd.io-vf_$(cdi_name "$VF0").json" ] && echo present || echo missing)" present
expect assign.var_run "$([ -r "/var/run/cdi/sriovd.io-vf_$(cdi_name "$VF0").json" ] && echo present || echo missing)" present

# ---- the container: the VF's nodes, its address, and the VF through them
t0=$(cut -d. -f1 /proc/uptime)
pod_run --device "$NAME_CDI" "$IMAGE" sh -c '
        echo "nodes=$(ls /dev/vfio | tr "\n" " ")"
        echo "vf=$SRIOVD_VF"
        vfio-hold device "$SRIOVD_VF" >/tmp/hold 2>&1 &
        p=$!
        i=0
        while [ $i -lt 300 ] && ! grep -qs -e "^held" -e "^error=" /tmp/hold && kill -0 $p 2>/dev/null; do
                sleep 0.1
                i=$((i + 1))
        done
        kill -TERM $p
        wait $p
        sed "s/^/hold./" /tmp/hold' >"$STATE/container.out" 2>"$STATE/container.err"
expect container.exit "$?" 0
echo "podman run took $(($(cut -d. -f1 /proc/uptime) - t0)) s" >&2
cat "$STATE/container.out" "$STATE/container.err" >&2
expect container.nodes "$(sed -n 's/^nodes=//p' "$STATE/container.out")" "$G vfio "
expect container.env "$(sed -n 's/^vf=//p' "$STATE/container.out")" "$VF0"
expect container.held "$(grep -c '^hold.held' "$STATE/container.out")" 1
expect container.error "$(sed -n 's/^hold.error=//p' "$STATE/container.out")" ""
expect container.released "$(grep -c '^hold.released' "$STATE/container.out")" 1

# ---- released: no spec, and podman refuses the name
expect release.reply "$(gmgr Release "$VF0" '' '{}')" "(['$VF0'],)"
expect release.spec "$([ -e "$CDI/sriovd.io-vf_$(cdi_name "$VF0").json" ] && echo present || echo gone)" gone
pod_run --device "$NAME_CDI" "$IMAGE" true >/dev/null 2>"$STATE/container.err"
expect release.run_exit "$?" 125
expect_glob release.run_error "$(cat "$STATE/container.err")" "*unresolvable CDI devices $NAME_CDI*"

stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
