# cli/ — sriovctl, the command line of sriovd (cli → D-Bus → daemon → kernel)
bin_PROGRAMS += sriovctl
sriovctl_SOURCES = \
	cli/sriovctl.c cli/sriovctl.h \
	cli/options.c cli/options.h \
	cli/output.c cli/output.h \
	cli/bus.c cli/bus.h \
	cli/device-view.c cli/device-view.h \
	cli/settings.c cli/settings.h \
	cli/steps.h \
	cli/verbs-devices.c \
	cli/verbs-ops.c \
	cli/verbs-host.c \
	cli/verbs-config.c \
	cli/verbs-assign.c \
	cli/verbs-vfio.c \
	cli/verbs-observe.c \
	cli/monitor.c
sriovctl_CPPFLAGS = $(CLI_CPPFLAGS)
sriovctl_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
# from libsriov only the string and JSON helpers (util.c, json-util.c) are linked in
sriovctl_LDADD = $(LIBAPI_LIBS) lib/libsriov.a $(SYSTEMD_LIBS) $(JSONC_LIBS)

man_MANS += man/sriovctl.8
EXTRA_DIST += man/sriovctl.8

dist_bashcompletion_DATA = shell-completion/bash/sriovctl

# integration tests: sriovctl against sriovd on the kernel simulator
cli_tests = \
	tests/cli/usage.sh \
	tests/cli/read.sh \
	tests/cli/json.sh \
	tests/cli/change.sh \
	tests/cli/errors.sh \
	tests/cli/auth.sh \
	tests/cli/monitor.sh \
	tests/cli/no-daemon.sh \
	tests/cli/no-iommu.sh \
	tests/cli/scale.sh \
	tests/cli/config.sh \
	tests/cli/assign.sh \
	tests/cli/libvirt-xml.sh \
	tests/cli/vfconfig.sh \
	tests/cli/vfio.sh \
	tests/cli/completion.sh
TESTS += $(cli_tests)
EXTRA_DIST += $(cli_tests) tests/cli/lib.sh
