# tests/sim — sriov-sim, the FUSE kernel simulator, and its self-tests
sim_shell_tests = \
	tests/sim/sim-tree.sh \
	tests/sim/sim-numvfs.sh \
	tests/sim/sim-bind.sh \
	tests/sim/sim-block.sh \
	tests/sim/sim-hotplug.sh \
	tests/sim/sim-inject.sh \
	tests/sim/sim-groups.sh \
	tests/sim/sim-config.sh \
	tests/sim/sim-tools.sh \
	tests/sim/sim-uevents.sh

if ENABLE_SIMULATOR

SIM_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS) $(JSONC_CFLAGS) -I$(top_srcdir)/tests/sim

noinst_LIBRARIES += tests/sim/libsim.a
tests_sim_libsim_a_SOURCES = \
	tests/sim/sim.h \
	tests/sim/sim-tree.c \
	tests/sim/sim-kstr.c \
	tests/sim/sim-topology.c \
	tests/sim/sim-kernel.c \
	tests/sim/sim-sysfs.c \
	tests/sim/sim-config.c \
	tests/sim/sim-uevent.c \
	tests/sim/sim-ctl.c
tests_sim_libsim_a_CFLAGS = $(SIM_CFLAGS)
SIM_LIBS = tests/sim/libsim.a lib/libsriov.a $(JSONC_LIBS)

noinst_PROGRAMS += tests/sim/sriov-sim
tests_sim_sriov_sim_SOURCES = tests/sim/sim-main.c
tests_sim_sriov_sim_CFLAGS = $(SIM_CFLAGS)
tests_sim_sriov_sim_LDADD = $(SIM_LIBS) $(FUSE_LIBS)

# one write(2) with the errno name as the result, for the shell tests
noinst_PROGRAMS += tests/sim/sim-write
tests_sim_sim_write_SOURCES = tests/sim/sim-write.c
tests_sim_sim_write_CFLAGS = $(SIM_CFLAGS)
tests_sim_sim_write_LDADD = $(SIM_LIBS)

check_PROGRAMS += tests/sim/test-sim-kstr
tests_sim_test_sim_kstr_SOURCES = tests/sim/test-sim-kstr.c
tests_sim_test_sim_kstr_CFLAGS = $(SIM_CFLAGS) -I$(top_srcdir)/tests/unit
tests_sim_test_sim_kstr_LDADD = $(SIM_LIBS)

TESTS += tests/sim/test-sim-kstr $(sim_shell_tests)

endif

EXTRA_DIST += \
	tests/sim/README.md \
	tests/sim/lib.sh \
	tests/sim/modprobe-stub \
	tests/sim/topologies/x710.json \
	tests/sim/topologies/connectx.json \
	tests/sim/topologies/shared-group.json \
	tests/sim/topologies/scale-16x128.json \
	tests/sim/topologies/no-iommu.json \
	tests/sim/topologies/nvme.json \
	$(sim_shell_tests)
