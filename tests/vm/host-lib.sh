#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/vm/host-lib.sh — the host side of the real-kernel bench that more
# than one program needs, sourced (bash): host packages, the private apt
# (Debian's archive as the host's own apt sources name it, with state, lists
# and cache under $CACHE/apt), QEMU 10 from the backports suite, Debian's
# kernel package and busybox-static. tests/vm/run and tests/vm/systemd-boot
# source it.
#
# The caller sets CACHE (the VM cache, held under "flock $CACHE/lock") and
# defines log (progress to stderr); nothing here exits.

is_root() { [ "$(id -u)" = 0 ]; }

host_install() {
        is_root || return 1
        log "installing on the host: $*"
        local i
        for i in 1 2; do
                if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                        -o DPkg::Lock::Timeout=600 "$@" >"$CACHE/apt-install.log" 2>&1; then
                        return 0
                fi
                [ $i = 1 ] || break
                # The host's package lists may be stale: refresh once and retry.
                apt-get update -q -o DPkg::Lock::Timeout=600 >>"$CACHE/apt-install.log" 2>&1 || :
        done
        tail -5 "$CACHE/apt-install.log" >&2
        return 1
}

# --------------------------------------------------------------------------
# A private apt (lists, archives, sources under $CACHE/apt) for packages that
# are downloaded and unpacked, never installed: Debian's kernel, QEMU 10 from
# the backports suite, busybox-static. The host's apt state, sources and pins
# are never touched; the host's apt.conf.d (proxies, auth) still applies.

APT_DIR=$CACHE/apt
APT=(-o "Dir::State=$APT_DIR/state" -o "Dir::State::status=$APT_DIR/state/status"
     -o "Dir::Cache=$APT_DIR/cache" -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
     -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d" -o "Dir::Etc::Preferences=$APT_DIR/preferences"
     -o "Dir::Etc::PreferencesParts=$APT_DIR/preferences.d" -o APT::Sandbox::User=root -q)
CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
BPO=${CODENAME}-backports

# Prints "URI SUITE SIGNED-BY" for every "deb" entry with component main in the
# host's sources (one-line .list and deb822 .sources formats).
host_sources() {
        local f
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                [ -r "$f" ] || continue
                awk '
                /^[ \t]*deb[ \t]/ {
                        sb = "-"; line = $0
                        if (match(line, /\[[^]]*\]/)) {
                                opts = substr(line, RSTART + 1, RLENGTH - 2)
                                line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
                                if (match(opts, /signed-by=[^ \t]+/)) sb = substr(opts, RSTART + 10, RLENGTH - 10)
                        }
                        n = split(line, w, /[ \t]+/); i = (w[1] == "") ? 2 : 1
                        uri = w[i + 1]; suite = w[i + 2]; main = 0
                        for (j = i + 3; j <= n; j++) if (w[j] == "main") main = 1
                        if (main) print uri, suite, sb
                }' "$f"
        done
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -r "$f" ] || continue
                awk '
                function flush(   i, j, nu, ns, u, s) {
                        if (types ~ /(^| )deb( |$)/ && comps ~ /(^| )main( |$)/ && enabled != "no") {
                                nu = split(uris, u, / +/); ns = split(suites, s, / +/)
                                for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
                                        if (u[i] != "" && s[j] != "") print u[i], s[j], (sb == "" ? "-" : sb)
                        }
                        types = uris = suites = comps = sb = enabled = ""; key = ""
                }
                /^#/ { next }
                /^[ \t]*$/ { flush(); next }
                /^[ \t]/ { next }   # continuation (e.g. an inline key): ignored
                {
                        key = tolower(substr($0, 1, index($0, ":") - 1))
                        val = substr($0, index($0, ":") + 1); gsub(/^[ \t]+|[ \t]+$/, "", val); gsub(/[ \t]+/, " ", val)
                        if (key == "types") types = val; else if (key == "uris") uris = val
                        else if (key == "suites") suites = val; else if (key == "components") comps = val
                        else if (key == "signed-by") sb = val; else if (key == "enabled") enabled = tolower(val)
                }
                END { flush() }' "$f"
        done
}

setup_private_apt() {
        [ -n "$CODENAME" ] || return 1
        mkdir -p "$APT_DIR"/state/lists/partial "$APT_DIR"/cache/archives/partial \
                 "$APT_DIR"/sources.list.d "$APT_DIR"/preferences.d
        : >"$APT_DIR/sources.list"
        : >"$APT_DIR/preferences"
        [ -e "$APT_DIR/state/status" ] || : >"$APT_DIR/state/status"

        # The host's Debian entries for this release, plus the backports suite
        # on every mirror that carries the release itself.
        local new=$APT_DIR/sources.list.d/debian.sources.new uri suite sb seen=" "
        : >"$new"
        while read -r uri suite sb; do
                case $suite in
                "$CODENAME"|"$CODENAME"-updates|"$CODENAME"-security|"$BPO") ;;
                *) continue ;;
                esac
                local suites=$suite
                [ "$suite" = "$CODENAME" ] && suites="$suite $BPO"
                for suite in $suites; do
                        case $seen in *" $uri|$suite "*) continue ;; esac
                        seen="$seen$uri|$suite "
                        { echo "Types: deb"; echo "URIs: $uri"; echo "Suites: $suite"; echo "Components: main"
                          [ "$sb" = - ] || echo "Signed-By: $sb"; echo; } >>"$new"
                done
        done < <(host_sources)
        grep -q "Suites: $CODENAME\$" "$new" || { rm -f "$new"; return 1; }
        mv "$new" "$APT_DIR/sources.list.d/debian.sources"

        # Backports only when asked for by name (pkg/$BPO); say so explicitly.
        printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n' "$BPO" \
                >"$APT_DIR/preferences.d/backports.pref"
}

# Refreshes the private lists when they are missing, older than a day, or
# when forced; returns non-zero (without failing the run) when offline.
APT_UPDATED=0
apt_update() {
        local force=${1:-0} stamp=$APT_DIR/state/updated
        if [ "$force" = 0 ] && [ -e "$stamp" ] && [ -z "$(find "$stamp" -mmin +1440)" ]; then
                return 0
        fi
        [ "$APT_UPDATED" = 1 ] && return 0
        log "refreshing the private package lists ($CODENAME, $BPO)"
        APT_UPDATED=1
        if apt-get "${APT[@]}" update >"$APT_DIR/update.log" 2>&1; then
                touch "$stamp"
                return 0
        fi
        tail -3 "$APT_DIR/update.log" >&2
        return 1
}

# apt_download DIR PKG...: downloads the given packages (PKG, PKG=VER or
# PKG/SUITE) into DIR, refreshing the lists once if that fails.
apt_download() {
        local dir=$1; shift
        mkdir -p "$dir"
        if (cd "$dir" && apt-get "${APT[@]}" download "$@" >"$APT_DIR/download.log" 2>&1); then
                return 0
        fi
        apt_update 1 || return 1
        (cd "$dir" && apt-get "${APT[@]}" download "$@" >"$APT_DIR/download.log" 2>&1) && return 0
        tail -3 "$APT_DIR/download.log" >&2
        return 1
}

# Version of PKG that the private apt would take from SUITE ("" if none).
apt_version() {
        apt-cache "${APT[@]}" madison "$1" 2>/dev/null | awk -F'|' -v s="$2" '
                { gsub(/ /, "", $2); if ($3 ~ (" " s "/")) { print $2; exit } }'
}

# --------------------------------------------------------------------------
# QEMU 10 (backports), unpacked under $CACHE/qemu10 and run in place.

Q10_ROOT=$CACHE/qemu10/root
QEMU=
QEMU_ARGS=()
QEMU_ENV=()
HAVE_IGB=0

qemu10_env() {
        QEMU_ENV=(QEMU_MODULE_DIR="$Q10_ROOT/usr/lib/x86_64-linux-gnu/qemu")
        [ -d "$CACHE/qemu10/libs" ] && QEMU_ENV+=(LD_LIBRARY_PATH="$CACHE/qemu10/libs/usr/lib/x86_64-linux-gnu")
        QEMU_ARGS=(-L "$Q10_ROOT/usr/share/qemu" -L "$Q10_ROOT/usr/share/seabios")
}

qemu10_works() {
        qemu10_env
        env "${QEMU_ENV[@]}" "$Q10_ROOT/usr/bin/qemu-system-x86_64" "${QEMU_ARGS[@]}" \
                -nodefaults -machine q35 -accel tcg -display none -device igb,help >/dev/null 2>&1
}

# qemu_at PATH: the qemu-system-x86_64 at PATH (SRIOVD_VM_QEMU=PATH), run as
# it is; HAVE_IGB says whether it has the igb NIC. Status 1 when PATH is not
# a program that runs.
qemu_at() {
        [ -x "$1" ] && "$1" --version >/dev/null 2>&1 || return 1
        QEMU=$1 QEMU_ENV=() QEMU_ARGS=() HAVE_IGB=0
        if "$QEMU" -nodefaults -machine q35 -accel tcg -display none -device igb,help >/dev/null 2>&1; then
                HAVE_IGB=1
        fi
}

setup_qemu10() {
        local stamp=$CACHE/qemu10/stamp want
        if [ -e "$stamp" ] && qemu10_works; then
                return 0
        fi
        setup_private_apt && apt_update || return 1
        want=$(apt_version qemu-system-x86 "$BPO")
        [ -n "$want" ] || { log "no qemu-system-x86 in $BPO"; return 1; }
        log "fetching QEMU $want from $BPO"
        rm -rf "$CACHE/qemu10"
        mkdir -p "$Q10_ROOT"
        local p debs=$CACHE/qemu10/debs
        for p in qemu-system-x86 qemu-system-common qemu-system-data seabios; do
                apt_download "$debs" "$p/$BPO" || apt_download "$debs" "$p" || return 1
        done
        for p in "$debs"/*.deb; do dpkg-deb -x "$p" "$Q10_ROOT"; done

        # Libraries the host lacks: fetch the library packages QEMU depends on
        # that are not installed, unpack them beside it (LD_LIBRARY_PATH).
        if ldd "$Q10_ROOT/usr/bin/qemu-system-x86_64" | grep -q 'not found'; then
                local libs=()
                for p in $(apt-cache "${APT[@]}" depends "qemu-system-x86/$BPO" 2>/dev/null |
                           awk '$1 == "Depends:" && $2 ~ /^lib/ { print $2 }' | sort -u); do
                        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || libs+=("$p")
                done
                log "QEMU 10 needs libraries the host lacks; unpacking: ${libs[*]}"
                [ ${#libs[@]} -gt 0 ] && apt_download "$CACHE/qemu10/libdebs" "${libs[@]}"
                for p in "$CACHE"/qemu10/libdebs/*.deb; do dpkg-deb -x "$p" "$CACHE/qemu10/libs"; done
        fi
        qemu10_works || return 1
        echo "$want" >"$stamp"
}

# --------------------------------------------------------------------------
# The guest's root file system (initramfs): busybox-static, iproute2's ip,
# nvme-cli, dbus-daemon, the helpers, scenarios and the project's binaries.

BUSYBOX=
setup_busybox() {
        local d=$CACHE/busybox
        if [ -x "$d/bin/busybox" ]; then
                BUSYBOX=$d/bin/busybox
                return 0
        fi
        setup_private_apt && apt_update || :
        rm -rf "$d" && mkdir -p "$d/debs"
        apt_download "$d/debs" busybox-static || return 1
        dpkg-deb -x "$d"/debs/busybox-static_*.deb "$d"
        BUSYBOX=$d/bin/busybox
        [ -x "$BUSYBOX" ]
}

# copy_elf FILE ROOT DEST: FILE to ROOT/DEST and its ldd-resolved libraries
# to the same paths under ROOT.
copy_elf() {
        local file=$1 root=$2 dest=$3 lib
        mkdir -p "$root/$(dirname "$dest")"
        cp -L "$file" "$root/$dest"
        ldd "$file" 2>/dev/null | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+/ { print $1 }' | while read -r lib; do
                [ -e "$root$lib" ] && continue
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
        done
}

# --------------------------------------------------------------------------
# For tests/vm/systemd-boot: the mirror debootstrap uses, and Debian's kernel
# package itself (run keeps only the modules its initramfs loads).

# The host's first apt source that carries SUITE's main component, as
# "URI SIGNED-BY" (SIGNED-BY is "-" when the entry names no keyring). The
# same sources the private apt is derived from; nothing is written here.
debian_mirror() {
        local want=$1 uri suite sb
        while read -r uri suite sb; do
                [ "$suite" = "$want" ] || continue
                echo "$uri $sb"
                return 0
        done < <(host_sources)
        return 1
}

# The kernel package tests/vm/run boots (what linux-image-amd64 depends on,
# through the private apt; offline, the newest one in the cache), downloaded
# to $CACHE/debs where run looks for it too. Sets KERNEL_DEB and KVER.
KERNEL_DEB= KVER=
debian_kernel_deb() {
        local pkg debs
        setup_private_apt || return 1
        apt_update || :
        pkg=$(apt-cache "${APT[@]}" depends linux-image-amd64 2>/dev/null |
              awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
        if [ -n "$pkg" ]; then
                debs=("$CACHE"/debs/"$pkg"_*.deb)
                if [ ${#debs[@]} = 0 ]; then
                        log "fetching $pkg"
                        apt_download "$CACHE/debs" "$pkg" || return 1
                        debs=("$CACHE"/debs/"$pkg"_*.deb)
                fi
        else
                debs=("$CACHE"/debs/linux-image-*.deb)
                [ ${#debs[@]} -gt 0 ] && log "package lists unavailable; using the cached kernel package"
        fi
        [ ${#debs[@]} -gt 0 ] || return 1
        KERNEL_DEB=$(printf '%s\n' "${debs[@]}" | sort -V | tail -1)
        KVER=$(dpkg-deb -f "$KERNEL_DEB" Package) || return 1
        KVER=${KVER#linux-image-}
}
