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
	tests/vm/diff-sim \
	tests/vm/sim-reference.sh \
	tests/vm/README.md \
	tests/vm/guest \
	tests/vm/helpers \
	tests/vm/scenarios \
	tests/vm/reference

# The project's programs the guest scenarios may use (each is skipped with a
# reason when its binary is missing).
VM_BINARIES = $(sbin_PROGRAMS) $(bin_PROGRAMS)

if ENABLE_SIMULATOR
# the simulator the differential check runs the scenarios on
VM_SIM = tests/sim/sriov-sim
VM_DIFF_SIM = --diff-sim $(abs_top_builddir)/tests/sim/sriov-sim
TESTS += tests/vm/sim-reference.sh
else
VM_SIM =
VM_DIFF_SIM =
endif

check-vm: $(VM_BINARIES) $(VM_SIM)
	@bins=; for p in $(VM_BINARIES); do bins="$$bins $(abs_top_builddir)/$$p"; done; \
	SRIOVD_VM_BINARIES="$$bins $${SRIOVD_VM_BINARIES:-}" \
	SRIOVD_VM_OUT="$${SRIOVD_VM_OUT:-$(abs_top_builddir)/tests/vm/out}" \
	$(BASH) $(abs_top_srcdir)/tests/vm/run $(VM_DIFF_SIM) $(VM_ARGS)

.PHONY: check-vm
