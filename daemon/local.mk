# daemon/ — sriovd: a core library (everything the daemon decides and does:
# configuration, plans, pools, the ledger in the state, recovery, the
# binding engine, assignment, the lanes that run kernel work), which sriovd,
# the unit tests and the fuzzers link; and the bus glue, one file per part
# of the D-Bus API, with main() in sriovd alone.
noinst_LIBRARIES += daemon/libsriovd-core.a
daemon_libsriovd_core_a_SOURCES = \
	daemon/log.c daemon/log.h \
	daemon/daemon.c daemon/daemon.h \
	daemon/lanes.c daemon/lanes-pending.c daemon/lanes.h \
	daemon/model.c daemon/model.h \
	daemon/monitor.c daemon/monitor.h \
	daemon/scan.c daemon/scan.h \
	daemon/state.c daemon/state.h daemon/state-internal.h daemon/state-parse.c daemon/state-format.c \
	daemon/ledger.c daemon/ledger.h \
	daemon/conffile.c daemon/conffile-host.c daemon/conffile.h \
	daemon/plan.c daemon/plan.h \
	daemon/apply.c daemon/apply.h \
	daemon/reconcile.c daemon/reconcile.h \
	daemon/safety.c daemon/safety.h \
	daemon/pool.c daemon/pool.h \
	daemon/pools.c daemon/pools.h \
	daemon/binding.c daemon/binding.h \
	daemon/assign.c daemon/assign-release.c daemon/assign-internal.h daemon/assign-work.c daemon/assign-vmm.c daemon/assign.h \
	daemon/cdi.c daemon/cdi.h \
	daemon/recovery.c daemon/recovery.h \
	daemon/reestablish.c daemon/reestablish.h \
	daemon/verify.c daemon/verify.h \
	daemon/vfconfig.c daemon/vfconfig.h \
	daemon/vfio-session.c daemon/vfio-session.h \
	daemon/observe.h daemon/linkwatch.c daemon/health.c daemon/drift.c \
	daemon/stats.c daemon/stats.h daemon/metrics.c daemon/metrics.h \
	daemon/journal.c daemon/journal.h \
	daemon/test-hooks.c daemon/test-hooks.h
daemon_libsriovd_core_a_CPPFLAGS = $(DAEMON_CPPFLAGS)
daemon_libsriovd_core_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PCI_CFLAGS) $(SYSTEMD_CFLAGS) $(UDEV_CFLAGS) $(NL_CFLAGS)
LIBCORE_LIBS = daemon/libsriovd-core.a $(LIBIOMMU_LIBS) $(LIBSRIOV_LIBS) $(SYSTEMD_LIBS) $(UDEV_LIBS) $(NL_LIBS)

sbin_PROGRAMS += sriovd
sriovd_SOURCES = \
	daemon/main.c \
	daemon/bus-util.c daemon/bus-util.h \
	daemon/bus-auth.c \
	daemon/bus-limits.c daemon/bus-limits.h \
	daemon/bus-manager.c \
	daemon/bus-device.c daemon/bus-device.h \
	daemon/bus-batch.c \
	daemon/bus-assign.c daemon/bus-assign.h \
	daemon/bus-pools.c \
	daemon/bus-config.c \
	daemon/bus-vfio.c \
	daemon/bus-vfconfig.c \
	daemon/bus-stats.c
sriovd_CPPFLAGS = $(DAEMON_CPPFLAGS)
sriovd_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PCI_CFLAGS) $(SYSTEMD_CFLAGS) $(UDEV_CFLAGS) $(NL_CFLAGS)
sriovd_LDADD = $(LIBAPI_LIBS) $(LIBCORE_LIBS)
