# bench/ — the benchmark suite (docs/benchmarks.md). `make bench` runs it with
# this build's binaries; it needs root, /dev/fuse and unshare, and reports
# (it never fails on slowness). `make bench BENCH_ARGS=--vm` adds the real
# kernel (tests/vm's guest, minutes under TCG).

# the D-Bus load client and timing helper; not installed
check_PROGRAMS += bench/sriovd-bench
bench_sriovd_bench_SOURCES = bench/sriovd-bench.c
bench_sriovd_bench_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
bench_sriovd_bench_LDADD = $(SYSTEMD_LIBS)

bench_scripts = \
	bench/run \
	bench/lib.sh \
	bench/bringup.sh \
	bench/bringup-tools.sh \
	bench/scale.sh \
	bench/dbus.sh \
	bench/fairness.sh \
	bench/observe.sh \
	bench/report.py \
	bench/topologies/bringup-4x64.json \
	bench/vm/run \
	bench/vm/bench-bringup.sh \
	bench/vm/net \
	bench/vm/bench-net.sh \
	bench/vm/tcp-rr.c \
	bench/k8s.sh \
	bench/k8s-load.py
EXTRA_DIST += $(bench_scripts)

# sriovd-kubelet-plugin under the kubelet's load (docs/benchmarks.md, "Kubernetes")
bench-k8s: sriovd$(EXEEXT) sriovd-kubelet-plugin$(EXEEXT)
	$(AM_V_at)$(MAKE) $(AM_MAKEFLAGS) tests/sim/sriov-sim$(EXEEXT) tests/sim/libsim-rtnl.so
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' $(top_srcdir)/bench/k8s.sh
.PHONY: bench-k8s

# BENCH_ARGS: options for bench/run (e.g. BENCH_ARGS="--reps 5", "--quick")
bench: bench/sriovd-bench$(EXEEXT) sriovd$(EXEEXT) sriovctl$(EXEEXT)
	$(AM_V_at)$(MAKE) $(AM_MAKEFLAGS) tests/sim/sriov-sim$(EXEEXT) tests/sim/libsim-rtnl.so tests/dbus-flood$(EXEEXT)
	$(top_srcdir)/bench/run --builddir '$(abs_top_builddir)' $(BENCH_ARGS)
.PHONY: bench

# workload 6, a nested guest's network paths (bench/vm/net: e1000, virtio-net,
# the VF sriovd assigns; TCG inside TCG, ~10 min). BENCH_NET_ARGS: its
# options (e.g. BENCH_NET_ARGS="--reps 3 --secs 5").
bench-net: sriovd$(EXEEXT) sriovctl$(EXEEXT)
	$(top_srcdir)/bench/vm/net --builddir '$(abs_top_builddir)' $(BENCH_NET_ARGS) '$(abs_top_builddir)/bench/out/vm-net.jsonl'
.PHONY: bench-net
