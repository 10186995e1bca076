# tests/fuzz — libFuzzer harnesses (tools/fuzz builds and runs them with clang)
# and their replay in make check: every seed and every reproducer of a past
# finding runs through the same code with any compiler.
FUZZ_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(SYSTEMD_CFLAGS) $(NL_CFLAGS) -I$(top_srcdir)/tests/fuzz
FUZZ_LDADD = $(LIBCORE_LIBS)

fuzz_targets = config parsers state netlink
fuzz_replays = \
	tests/fuzz/replay-config \
	tests/fuzz/replay-parsers \
	tests/fuzz/replay-state \
	tests/fuzz/replay-netlink
check_PROGRAMS += $(fuzz_replays)
TESTS += $(fuzz_replays)

tests_fuzz_replay_config_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-config.c tests/fuzz/fuzz.h
tests_fuzz_replay_config_CFLAGS = $(FUZZ_CFLAGS) -DFUZZ_TARGET='"config"'
tests_fuzz_replay_config_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_parsers_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-parsers.c
tests_fuzz_replay_parsers_CFLAGS = $(FUZZ_CFLAGS) -DFUZZ_TARGET='"parsers"'
tests_fuzz_replay_parsers_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_state_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-state.c
tests_fuzz_replay_state_CFLAGS = $(FUZZ_CFLAGS) -DFUZZ_TARGET='"state"'
tests_fuzz_replay_state_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_netlink_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-netlink.c
tests_fuzz_replay_netlink_CFLAGS = $(FUZZ_CFLAGS) -DFUZZ_TARGET='"netlink"'
tests_fuzz_replay_netlink_LDADD = $(FUZZ_LDADD)

if ENABLE_FUZZING
# the libFuzzer binaries: configure with CC=clang --enable-fuzzing
fuzzers = \
	tests/fuzz/fuzz-config \
	tests/fuzz/fuzz-parsers \
	tests/fuzz/fuzz-state \
	tests/fuzz/fuzz-netlink
noinst_PROGRAMS += $(fuzzers)
FUZZER_FLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c
tests_fuzz_fuzz_config_CFLAGS = $(FUZZ_CFLAGS) $(FUZZER_FLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_FLAGS)
tests_fuzz_fuzz_config_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_parsers_SOURCES = tests/fuzz/fuzz-parsers.c
tests_fuzz_fuzz_parsers_CFLAGS = $(FUZZ_CFLAGS) $(FUZZER_FLAGS)
tests_fuzz_fuzz_parsers_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_FLAGS)
tests_fuzz_fuzz_parsers_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_state_SOURCES = tests/fuzz/fuzz-state.c
tests_fuzz_fuzz_state_CFLAGS = $(FUZZ_CFLAGS) $(FUZZER_FLAGS)
tests_fuzz_fuzz_state_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_FLAGS)
tests_fuzz_fuzz_state_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_netlink_SOURCES = tests/fuzz/fuzz-netlink.c
tests_fuzz_fuzz_netlink_CFLAGS = $(FUZZ_CFLAGS) $(FUZZER_FLAGS)
tests_fuzz_fuzz_netlink_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_FLAGS)
tests_fuzz_fuzz_netlink_LDADD = $(FUZZ_LDADD)
endif

EXTRA_DIST += tests/fuzz/corpus tests/fuzz/regressions
