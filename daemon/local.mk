# daemon/ — sriovd
sbin_PROGRAMS += sriovd
sriovd_SOURCES = \
	daemon/main.c \
	daemon/daemon.c daemon/daemon.h \
	daemon/scan.c daemon/scan.h \
	daemon/lanes.c daemon/lanes-pending.c daemon/lanes.h \
	daemon/model.c daemon/model.h \
	daemon/binding.c daemon/binding.h \
	daemon/monitor.c daemon/monitor.h \
	daemon/auth.c daemon/auth.h \
	daemon/state.c daemon/state.h \
	daemon/manager.c daemon/manager.h \
	daemon/device.c daemon/device.h \
	daemon/bus-util.c daemon/bus-util.h \
	daemon/conffile.c daemon/conffile.h \
	daemon/apply.c daemon/apply.h \
	daemon/reconcile.c daemon/reconcile.h \
	daemon/safety.c daemon/safety.h \
	daemon/pool.c daemon/pool.h \
	daemon/assign.c daemon/assign.h \
	daemon/vfio-bus.c daemon/vfio-bus.h \
	daemon/vfconfig.c daemon/vfconfig.h \
	daemon/test-hooks.c daemon/test-hooks.h
sriovd_CPPFLAGS = $(DAEMON_CPPFLAGS)
sriovd_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PCI_CFLAGS) $(SYSTEMD_CFLAGS) $(UDEV_CFLAGS) $(NL_CFLAGS)
sriovd_LDADD = $(LIBAPI_LIBS) $(LIBIOMMU_LIBS) $(LIBSRIOV_LIBS) $(SYSTEMD_LIBS) $(UDEV_LIBS) $(NL_LIBS)
