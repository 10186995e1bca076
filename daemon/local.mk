# daemon/ — sriovd
sbin_PROGRAMS += sriovd
sriovd_SOURCES = \
	daemon/main.c \
	daemon/scan.c daemon/scan.h
sriovd_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PCI_CFLAGS) $(SYSTEMD_CFLAGS) $(UDEV_CFLAGS) $(NL_CFLAGS)
sriovd_LDADD = $(LIBIOMMU_LIBS) $(LIBSRIOV_LIBS) $(SYSTEMD_LIBS) $(UDEV_LIBS) $(NL_LIBS)
