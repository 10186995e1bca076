# tests/vm — the real-kernel test bench: Debian's kernel (and a second one
# when present) under QEMU with an emulated VT-d IOMMU, an SR-IOV NVMe
# controller and an SR-IOV igb NIC; see tests/vm/README.md.
#
# `make check-vm` runs it with this build's binaries carried into the guest,
# then the differential check (tests/vm/diff-sim): the same scenarios on the
# kernel simulator, each transcript compared with the kernel's of that run;
# one closing "N passed, N failed" for both. It is not part of `make check`:
# it fetches Debian packages (as root) on its first run and takes a few
# minutes. `make check` runs the cheap half instead, tests/vm/sim-reference.sh:
# the simulator against the committed kernel transcripts. Extra arguments:
# VM_ARGS="-s numvfs", VM_ARGS=--update-reference; more binaries:
# SRIOVD_VM_BINARIES="...".

EXTRA_DIST += \
	tests/vm/run \
	tests/vm/host-lib.sh \
	tests/vm/systemd-boot \
	tests/vm/boot \
	tests/vm/diff-sim \
	tests/vm/sim-reference.sh \
	tests/vm/wire-model.sh \
	tests/vm/nested-kernel \
	tests/vm/nested \
	tests/vm/README.md \
	tests/vm/guest \
	tests/vm/helpers \
	tests/vm/scenarios \
	tests/vm/reference

# The project's programs the guest scenarios may use (each is skipped with a
# reason when its binary is missing), and vfio-client, the unprivileged VMM
# stand-in of sriovd-vfio.
VM_BINARIES = $(sbin_PROGRAMS) $(bin_PROGRAMS) tests/vfio-client tests/sriov-tool

if ENABLE_SIMULATOR
# the simulator the differential check runs the scenarios on, and its
# rtnetlink shim (the "# diff-rtnl" scenarios: without it rtnl-link's
# simulator side has no sriov-tool and differs; a check_SCRIPTS, so not
# built by `make` alone)
VM_SIM = tests/sim/sriov-sim tests/sim/libsim-rtnl.so
VM_DIFF_SIM = --diff-sim $(abs_top_builddir)/tests/sim/sriov-sim
TESTS += tests/vm/sim-reference.sh tests/vm/wire-model.sh
else
VM_SIM =
VM_DIFF_SIM =
endif

# A plain `make check-vm` (no VM_ARGS) then runs the systemd boot test too
# (check-vm-boot; VM_BOOT=no leaves it out). A skip (exit 77: no kernel
# could boot, the reason printed) is not a failure, except under CI=true:
# CI's machine must boot them.
check-vm: $(VM_BINARIES) $(VM_SIM)
	@bins=; for p in $(VM_BINARIES); do bins="$$bins $(abs_top_builddir)/$$p"; done; \
	rc=0; \
	SRIOVD_VM_BINARIES="$$bins $${SRIOVD_VM_BINARIES:-}" \
	SRIOVD_VM_OUT="$${SRIOVD_VM_OUT:-$(abs_top_builddir)/tests/vm/out}" \
	$(BASH) $(abs_top_srcdir)/tests/vm/run $(VM_DIFF_SIM) $(VM_ARGS) || rc=$$?; \
	if [ -z "$(VM_ARGS)" ] && [ "$(VM_BOOT)" != no ]; then \
		$(MAKE) $(AM_MAKEFLAGS) check-vm-boot || rc=1; \
	fi; \
	[ $$rc = 0 ] || { [ $$rc = 77 ] && [ "$${CI:-}" != true ]; }

# tests/vm/systemd-boot: a debootstrapped Debian 12 booting with systemd, with
# sriovd installed by `make install` (from a build of this tree configured
# with Debian's paths, in tests/vm/boot-build), checked after the boot.
check-vm-boot:
	@rc=0; \
	SRIOVD_VM_OUT="$${SRIOVD_VM_OUT:-$(abs_top_builddir)/tests/vm/out}" \
	$(BASH) $(abs_top_srcdir)/tests/vm/systemd-boot -b $(abs_top_builddir) || rc=$$?; \
	[ $$rc = 0 ] || { [ $$rc = 77 ] && [ "$${CI:-}" != true ]; }

.PHONY: check-vm check-vm-boot

# what make check's differential check (and check-vm) leave in the build tree
clean-local: clean-local-vm
clean-local-vm:
	-rm -rf tests/vm/out tests/vm/boot-build
.PHONY: clean-local-vm
