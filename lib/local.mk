# lib/ — libsriov, the host model and every sysfs operation
noinst_LIBRARIES += lib/libsriov.a
lib_libsriov_a_SOURCES = \
	lib/basics.h \
	lib/ctx-internal.h \
	lib/util.c lib/util.h \
	lib/fileio.c lib/fileio.h \
	lib/linkstate.c lib/linkstate.h \
	lib/reset.c lib/reset.h \
	lib/bdf.c lib/bdf.h \
	lib/sysfs.c lib/sysfs.h \
	lib/json-util.c lib/json-util.h \
	lib/jsonw.c lib/jsonw.h \
	lib/pcilib.c \
	lib/host.c lib/host.h \
	lib/host-json.c \
	lib/ops.c lib/ops.h \
	lib/vfattr.c lib/vfattr.h \
	lib/vfattr-json.c \
	lib/vfstats.c lib/vfstats.h \
	lib/linkmon.c lib/linkmon.h \
	lib/jsonpos.c lib/jsonpos.h \
	lib/rtnl-internal.h \
	lib/netuse.c lib/netuse.h
lib_libsriov_a_CPPFLAGS = $(LIB_CPPFLAGS)
lib_libsriov_a_CFLAGS = $(AM_CFLAGS) $(PCI_CFLAGS) $(JSONC_CFLAGS) $(NL_CFLAGS)
LIBSRIOV_LIBS = lib/libsriov.a $(PCI_LIBS) $(JSONC_LIBS) $(NL_LIBS)
