# tests/ — unit tests and the shell test driver for lib/ operations
UNIT_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -I$(top_srcdir)/tests/unit
UNIT_LDADD = $(LIBIOMMU_LIBS) $(LIBSRIOV_LIBS)

unit_tests = \
	tests/unit/test-bdf \
	tests/unit/test-util \
	tests/unit/test-jsonw \
	tests/unit/test-vfio \
	tests/unit/test-vfio-held \
	tests/unit/test-state \
	tests/unit/test-recovery \
	tests/unit/test-pool \
	tests/unit/test-config \
	tests/unit/test-plan \
	tests/unit/test-netlink-observe
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests)
EXTRA_DIST += tests/unit/tests.h tests/unit/fake-host.h tests/unit/fake-sysfs.h tests/unit/data

tests_unit_test_bdf_SOURCES = tests/unit/test-bdf.c
tests_unit_test_bdf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_bdf_LDADD = $(UNIT_LDADD)
tests_unit_test_util_SOURCES = tests/unit/test-util.c
tests_unit_test_util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_util_LDADD = $(UNIT_LDADD)
tests_unit_test_jsonw_SOURCES = tests/unit/test-jsonw.c
tests_unit_test_jsonw_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jsonw_LDADD = $(UNIT_LDADD)
tests_unit_test_netlink_observe_SOURCES = tests/unit/test-netlink-observe.c
tests_unit_test_netlink_observe_CFLAGS = $(UNIT_CFLAGS) $(NL_CFLAGS)
tests_unit_test_netlink_observe_LDADD = $(LIBSRIOV_LIBS)
tests_unit_test_vfio_SOURCES = tests/unit/test-vfio.c
tests_unit_test_vfio_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vfio_LDADD = $(UNIT_LDADD)

# the README's two commands are the ones CI runs (.ci/run)
TESTS += tests/readme.sh
EXTRA_DIST += tests/readme.sh

# sriov-tool: the lib/ operations from the shell, for simulator and VM tests
noinst_PROGRAMS += tests/sriov-tool
tests_sriov_tool_SOURCES = tests/sriov-tool.c
tests_sriov_tool_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_sriov_tool_LDADD = $(LIBIOMMU_LIBS) $(LIBSRIOV_LIBS)

# dbus-flood: hostile load from many clients at the rate the bus allows
check_PROGRAMS += tests/dbus-flood
tests_dbus_flood_SOURCES = tests/dbus-flood.c
tests_dbus_flood_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
tests_dbus_flood_LDADD = $(SYSTEMD_LIBS)

# bus-exec-race: a caller that execs a setuid program right after its call
check_PROGRAMS += tests/bus-exec-race
tests_bus_exec_race_SOURCES = tests/bus-exec-race.c
tests_bus_exec_race_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
tests_bus_exec_race_LDADD = $(SYSTEMD_LIBS)

# vfio-client: an unprivileged VMM stand-in for the real-kernel scenarios
noinst_PROGRAMS += tests/vfio-client
tests_vfio_client_SOURCES = tests/vfio-client.c
tests_vfio_client_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(SYSTEMD_CFLAGS)
tests_vfio_client_LDADD = $(LIBIOMMU_LIBS) $(LIBSRIOV_LIBS) $(SYSTEMD_LIBS)

# the include graph between the layers
TESTS += tests/layering.sh
EXTRA_DIST += tests/layering.sh

# the daemon's core, without a bus
CORE_UNIT_LDADD = $(LIBCORE_LIBS)
tests_unit_test_state_SOURCES = tests/unit/test-state.c
tests_unit_test_state_CFLAGS = $(UNIT_CFLAGS) $(SYSTEMD_CFLAGS)
tests_unit_test_state_LDADD = $(CORE_UNIT_LDADD)
tests_unit_test_recovery_SOURCES = tests/unit/test-recovery.c
tests_unit_test_recovery_CFLAGS = $(UNIT_CFLAGS) $(SYSTEMD_CFLAGS)
tests_unit_test_recovery_LDADD = $(CORE_UNIT_LDADD)
tests_unit_test_pool_SOURCES = tests/unit/test-pool.c
tests_unit_test_pool_CFLAGS = $(UNIT_CFLAGS) $(SYSTEMD_CFLAGS)
tests_unit_test_pool_LDADD = $(CORE_UNIT_LDADD)
tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS) $(SYSTEMD_CFLAGS)
tests_unit_test_config_LDADD = $(CORE_UNIT_LDADD)
tests_unit_test_vfio_held_SOURCES = tests/unit/test-vfio-held.c
tests_unit_test_vfio_held_CFLAGS = $(UNIT_CFLAGS) $(SYSTEMD_CFLAGS)
tests_unit_test_vfio_held_LDADD = $(CORE_UNIT_LDADD)
tests_unit_test_plan_SOURCES = tests/unit/test-plan.c
tests_unit_test_plan_CFLAGS = $(UNIT_CFLAGS) $(SYSTEMD_CFLAGS)
tests_unit_test_plan_LDADD = $(CORE_UNIT_LDADD)
# a known bug: a VF missing in the middle shifts the ones after it in a
# plan (see the test); it comes off this list with the fix
