# tests/daemon — sriovd over a private dbus-daemon and the kernel simulator
daemon_tests = \
	tests/daemon/basics.sh \
	tests/daemon/errors.sh \
	tests/daemon/auth.sh \
	tests/daemon/auth-polkit.sh \
	tests/daemon/clients.sh \
	tests/daemon/disconnect.sh \
	tests/daemon/concurrency.sh \
	tests/daemon/uevents.sh \
	tests/daemon/apply-reads.sh \
	tests/daemon/numvfs-release.sh \
	tests/daemon/batch.sh \
	tests/daemon/config.sh \
	tests/daemon/passthrough.sh \
	tests/daemon/noiommu.sh \
	tests/daemon/assign.sh \
	tests/daemon/assign-config.sh \
	tests/daemon/race.sh \
	tests/daemon/crash.sh \
	tests/daemon/crash-random.sh \
	tests/daemon/crash-ops.sh \
	tests/daemon/faults.sh \
	tests/daemon/ledger-storage.sh \
	tests/daemon/ledger-locks.sh \
	tests/daemon/ledger-records.sh \
	tests/daemon/reestablish.sh \
	tests/daemon/vfattrs.sh \
	tests/daemon/drift.sh \
	tests/daemon/stats.sh \
	tests/daemon/health.sh \
	tests/daemon/metrics.sh \
	tests/daemon/journal.sh \
	tests/daemon/hostile.sh \
	tests/daemon/fairness.sh \
	tests/daemon/valgrind.sh
TESTS += $(daemon_tests)
EXTRA_DIST += $(daemon_tests) tests/daemon/common.sh tests/daemon/observe-host.json tests/metrics/exposition.py tests/lib/harness.sh tests/lib/system-bus.conf.in \
	tests/lib/sim.sh tests/lib/bus.sh tests/lib/gmgr.sh tests/lib/strict.sh tests/lib/users.sh
