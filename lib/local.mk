# lib/ — libsriov, the host model and every sysfs operation
noinst_LIBRARIES += lib/libsriov.a
lib_libsriov_a_SOURCES = \
	lib/basics.h \
	lib/util.c lib/util.h \
	lib/bdf.c lib/bdf.h \
	lib/sysfs.c lib/sysfs.h
lib_libsriov_a_CFLAGS = $(AM_CFLAGS) $(PCI_CFLAGS) $(JSONC_CFLAGS)
