# api/ — the bus contract between sriovd and its clients: names, errors and
# the exit status of each error. Sees nothing but itself.
noinst_LIBRARIES += api/libsriovd-api.a
api_libsriovd_api_a_SOURCES = \
	api/sriovd-api.h \
	api/errors.c
api_libsriovd_api_a_CPPFLAGS = $(BASE_CPPFLAGS) -I$(top_srcdir)/api
api_libsriovd_api_a_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
LIBAPI_LIBS = api/libsriovd-api.a
