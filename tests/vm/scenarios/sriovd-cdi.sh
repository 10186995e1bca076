# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# sriovd-cdi: the CDI spec of an assigned VF, checked twice: against the
# CDI specification, and by a CDI-aware runtime that injects the VF by name.
# An igb VF assigned from a pool the way sriovd-kubelet-plugin assigns it
# (owner kubernetes): sriovd writes its CDI spec under /run/cdi (which is
# /var/run/cdi, a directory every CDI runtime reads) and answers the CDI
# name.
#  - The schema: the spec validates (python3-jsonschema) against
#    tests/k8s/cdi-spec-0.5.schema.json, the project's JSON schema of a CDI
#    0.5.0 spec written from the published specification (SPEC.md of
#    cncf-tags/container-device-interface; the project publishes no schema
#    file of its own to use, and nothing is downloaded at test time); the
#    same spec with a device node's path taken away does not (the validator
#    is not vacuous). On every kernel.
#  - The runtime: Debian 12's podman 4.3 (crun 1.8) resolves CDI names:
#    `podman run --device sriovd.io/vf=NAME` gives the container the VF's
#    group node and /dev/vfio/vfio (nothing else of /dev/vfio) and
#    SRIOVD_VF, and in the container vfio-hold gets the VF's VFIO device fd
#    through them (the device cgroup lets it). Released: the spec is gone
#    and podman refuses the name. About 10 s of guest time (import 2-3 s,
#    each run 2-5 s). Only on kernels with user namespaces: crun reads
#    /proc/self/uid_map before it starts any container, and the 6.12 kernel
#    here has no CONFIG_USER_NS (no such file): there the schema alone
#    checks the spec, and the runtime's part is skipped, saying so.
#
# diff-skip: the project's daemon and a container runtime on the real kernel, not a kernel rule
# vm-needs: gdbus jsonschema podman

no_reference
ci_need_bin sriovd
ci_need_tool gdbus jsonschema
need_igb || ci_skip "no igb NIC (QEMU < 8): the pool is of igb VFs"
if [ -e /proc/self/uid_map ]; then
        ci_need_tool podman
        RUNTIME=podman
else
        RUNTIME=none
fi
CDI=/run/cdi
IMAGE=localhost/busybox:vm
SCHEMA=/vm/k8s/cdi-spec-0.5.schema.json
cdi_name() { echo "$1" | tr : -; }
# pod_run ARGS...: podman run, as a container engine without systemd runs
# it here (no network, no AppArmor or SELinux profiles loaded in the guest),
# bounded
pod_run() {
        timeout -s KILL 120 podman run --rm --network none --security-opt apparmor=unconfined \
                --security-opt seccomp=unconfined --security-opt label=disable "$@"
}
# cdi_validate SPEC [BREAK]: "valid", or the schema's complaints; BREAK
# (python) first changes the spec s
cdi_validate() {
        python3 -c 'import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
s = json.load(open(sys.argv[2]))
exec(sys.argv[3])
errors = sorted(e.message for e in jsonschema.Draft7Validator(schema).iter_errors(s))
print("; ".join(errors) if errors else "valid")' "$SCHEMA" "$1" "${2:-pass}" 2>&1
}

cat >"$SRIOVD_CONF" <<EOF
{ "pfs": [ { "match": { "bdf": "$IGB" }, "num_vfs": 2, "autoprobe": true } ],
  "pools": [ { "name": "net", "select": [ "$IGB#0-1" ] } ] }
EOF
rm -rf "$CDI" /run/containers
start_sriovd_fresh --timeout 60 --cdi-dir "$CDI" || { fail "sriovd did not come up: $(tail -n 5 "$RESULTS/$NAME.sriovd.log")"; exit 1; }
set -- $(vfs "$IGB")
VF0=$1

# ---- assigned: the spec, and its name
r=$(gmgr Assign "$VF0" net "{'owner': <'kubernetes'>, 'vf': <'$VF0'>}")
echo "Assign: $r" >&2
expect assign.vf "$(gv_string "$r" vf)" "$VF0"
NAME_CDI=$(gv_string "$r" cdi_device)
expect assign.cdi_device "$NAME_CDI" "sriovd.io/vf=$(cdi_name "$VF0")"
G=$(grp "$VF0")
SPEC=$CDI/sriovd.io-vf_$(cdi_name "$VF0").json
expect assign.spec "$([ -r "$SPEC" ] && echo present || echo missing)" present
expect assign.var_run "$([ -r "/var/run/cdi/sriovd.io-vf_$(cdi_name "$VF0").json" ] && echo present || echo missing)" present
cat "$SPEC" >&2
echo >&2

# ---- the schema
expect schema.spec "$(cdi_validate "$SPEC")" valid
expect schema.control "$(cdi_validate "$SPEC" 'del s["devices"][0]["containerEdits"]["deviceNodes"][0]["path"]')" \
        "'path' is a required property"

# ---- the runtime: the VF's nodes, its address, and the VF through them
if [ "$RUNTIME" = podman ]; then
        # the cgroup v2 hierarchy crun puts the container in (no systemd mounted it)
        grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || mount -t cgroup2 cgroup2 /sys/fs/cgroup
        t0=$(cut -d. -f1 /proc/uptime)
        expect podman.import "$(timeout -s KILL 120 podman import /vm/podman/busybox.tar "$IMAGE" >/dev/null 2>"$STATE/podman.err" && echo ok || cat "$STATE/podman.err")" ok
        echo "podman import took $(($(cut -d. -f1 /proc/uptime) - t0)) s" >&2
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
else
        obs podman "not run: no user namespaces in this kernel (crun needs /proc/self/uid_map)"
fi

# ---- released: no spec, and podman refuses the name
expect release.reply "$(gmgr Release "$VF0" '' '{}')" "(['$VF0'],)"
expect release.spec "$([ -e "$SPEC" ] && echo present || echo gone)" gone
if [ "$RUNTIME" = podman ]; then
        pod_run --device "$NAME_CDI" "$IMAGE" true >/dev/null 2>"$STATE/container.err"
        rc=$?
        obs release.run_exit "$rc" # podman 4.3: 126
        expect release.run_refused "$([ "$rc" -ne 0 ] && echo yes || echo no)" yes
        expect_glob release.run_error "$(cat "$STATE/container.err")" "*unresolvable CDI devices $NAME_CDI*"
fi

stop_sriovd || fail "sriovd did not stop on SIGTERM"
stop_bus
