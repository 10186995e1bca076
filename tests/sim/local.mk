# tests/sim — sriov-sim, the FUSE kernel simulator, and its self-tests
sim_shell_tests = \
	tests/sim/sim-tree.sh \
	tests/sim/sim-numvfs.sh \
	tests/sim/sim-bind.sh \
	tests/sim/sim-block.sh \
	tests/sim/sim-guest-hold.sh \
	tests/sim/sim-hotplug.sh \
	tests/sim/sim-cache.sh \
	tests/sim/sim-inject.sh \
	tests/sim/sim-groups.sh \
	tests/sim/sim-config.sh \
	tests/sim/sim-tools.sh \
	tests/sim/sim-uevents.sh \
	tests/sim/sim-qemu.sh \
	tests/sim/sim-rtnl.sh \
	tests/sim/sim-rtnl-errors.sh \
	tests/sim/sim-rtnl-shim.sh \
	tests/sim/sim-rtnl-vfattr.sh \
	tests/sim/sim-rtnl-watch.sh

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
	tests/sim/sim-ctl.c \
	tests/sim/sim-rtnl.h \
	tests/sim/sim-rtnl-proto.h \
	tests/sim/sim-rtnl.c \
	tests/sim/sim-rtnl-model.c
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

# lib/vfattr.c against the rtnetlink emulation (run by sim-rtnl-vfattr.sh)
check_PROGRAMS += tests/sim/test-sim-vfattr
tests_sim_test_sim_vfattr_SOURCES = tests/sim/test-sim-vfattr.c
tests_sim_test_sim_vfattr_CFLAGS = $(AM_CFLAGS) $(NL_CFLAGS) -I$(top_srcdir)/tests/unit
tests_sim_test_sim_vfattr_LDADD = $(LIBSRIOV_LIBS)

# the LD_PRELOAD shim: a plain shared object, built without libtool and
# without the sanitizers (it is loaded into uninstrumented programs)
check_SCRIPTS += tests/sim/libsim-rtnl.so
tests/sim/libsim-rtnl.so: $(top_srcdir)/tests/sim/sim-rtnl-shim.c $(top_srcdir)/tests/sim/sim-rtnl-proto.h
	$(AM_V_CC)$(MKDIR_P) tests/sim && \
	$(CC) $(CPPFLAGS) -I$(top_srcdir)/tests/sim \
		$$(echo ' $(WARN_CFLAGS) ' | sed 's/ -f[a-z-]*sanitize[^ ]*//g') $(CFLAGS) \
		-fPIC -shared -fvisibility=hidden -pthread -o $@ $(top_srcdir)/tests/sim/sim-rtnl-shim.c -ldl
CLEANFILES += tests/sim/libsim-rtnl.so

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
	tests/sim/topologies/qemu.json \
	tests/sim/topologies/qemu-6.12.json \
	tests/sim/sim-rtnl-shim.c \
	tests/sim/rtnl-lib.sh \
	$(sim_shell_tests)
