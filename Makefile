# SPDX-License-Identifier: GPL-2.0-only
#
# make            build BPF objects, skeletons, memgate-hook, memgate and memgate-nri into build/
# make check      unit tests on the host, then the bats suites inside the VM
# make demo       a runc container under memgate policy, inside the VM
# make bench      instructions per operation (and time ratios) on 6.1 and 7, in VMs
# make install    DESTDIR=... PREFIX=/usr (man pages need scdoc); make uninstall undoes it
# make unit-asan  the unit tests built with ASan and UBSan (clang), in $(BUILD)/asan
# make fuzz       each libFuzzer target for FUZZ_SECONDS; make fuzz-corpus replays the seeds

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
ARCH ?= x86

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration
CPPFLAGS += -Iinclude -Ibpf -I$(BUILD) -D_GNU_SOURCE
LDLIBS += -lbpf -lelf -lz -ljson-c

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ibpf -Ibpf/vmlinux/$(ARCH) -Wall
# -DMG_LAYOUT_TEST: the other map layout test/bats/upgrade.bats upgrades from.
LAYOUT_FLAGS ?=
CPPFLAGS += $(LAYOUT_FLAGS)
BPF_CFLAGS += $(LAYOUT_FLAGS)

# Rooms (docs/architecture.md); arrows go down only: hook/, cli/ -> core/ -> oci/, lib/.
# lib/ and oci/: bounded reading, errors, cgroup paths, parsing.
LIB_SRCS := lib/error.c lib/read.c lib/cgroup.c oci/state.c oci/spec.c oci/policy.c oci/config.c
# core/, one static library: a binary takes only the objects it calls, so the
# hook, which never calls mg_probe_all(), carries no probe object.
CORE_SRCS := core/admission.c core/pin.c core/loader.c core/registry.c core/snapshot.c core/kernel.c core/monitor.c core/probe.c core/confine.c
HOOK_SRCS := hook/hook.c
CLI_SRCS := cli/main.c cli/help.c cli/status.c cli/events.c cli/probe.c cli/gc.c cli/validate.c \
	cli/preload.c cli/render.c
UNIT_SRCS := $(wildcard test/unit/test_*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CORE_LIB := $(BUILD)/libmemgate-core.a
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)
BPF_OBJ := $(BUILD)/memgate.bpf.o
SKEL := $(BUILD)/memgate.skel.h
HELPERS := $(BUILD)/test/alloc $(BUILD)/test/roads

# memgate-nri first: under -j its fetch and Go build run beside the C.
all: $(BUILD)/memgate-nri $(BUILD)/memgate-hook $(BUILD)/memgate $(BUILD)/memgate.json \
	$(BUILD)/memgate-always.json $(UNIT_BINS) $(HELPERS)

$(BUILD)/%.bpf.o: bpf/%.bpf.c bpf/*.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

# What any object may include: the headers and the generated skeletons.
OBJ_DEPS = include/*.h core/*.h cli/*.h bpf/*.h $(SKEL) $(BUILD)/probe.skel.h $(BUILD)/monitor.skel.h
$(BUILD)/%.o: %.c $(OBJ_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# The hook confines itself with seccomp (core/confine.c); test_confine checks the filter.
$(BUILD)/memgate-hook $(BUILD)/memgate $(BUILD)/test/test_confine $(BUILD)/asan/test/test_confine: LDLIBS += -lseccomp
$(BUILD)/test/test_confine: $(BUILD)/core/confine.o
$(BUILD)/asan/test/test_confine: $(BUILD)/asan/core/confine.o
# status's renderers on fixed snapshots, without a kernel.
$(BUILD)/test/test_status: $(BUILD)/cli/status.o $(BUILD)/cli/render.o
$(BUILD)/asan/test/test_status: $(BUILD)/asan/cli/status.o $(BUILD)/asan/cli/render.o
all: $(BUILD)/test/deny-seccomp $(BUILD)/test/confined

$(BUILD)/test/confined: test/progs/confined.c $(BUILD)/core/confine.o $(BUILD)/lib/error.o
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $^ -lseccomp -o $@

$(BUILD)/test/deny-seccomp: test/progs/deny-seccomp.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -lseccomp -o $@

# The CRI client of test/cri (Debian's python3-grpcio, messages compiled by
# protoc) and its test images, OCI archives made here: nothing is pulled.
CRI := $(BUILD)/test/cri
BUSYBOX ?= /bin/busybox
WORKLOAD_APPLETS := sh cat sleep echo ls grep head dd true false mkdir
all: $(CRI)/cri $(CRI)/runtime_pb2.py $(CRI)/pause.tar $(CRI)/workload.tar

$(BUILD)/test/pause: test/progs/pause.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static $< -o $@

$(CRI)/runtime_pb2.py: test/cri/runtime.proto
	@mkdir -p $(@D)
	protoc -Itest/cri --python_out=$(CRI) $<

$(CRI)/cri: test/cri/cri.py
	@mkdir -p $(@D)
	install -m 0755 $< $@

$(CRI)/pause.tar: test/cri/mkimage.py $(BUILD)/test/pause
	@mkdir -p $(@D)
	/usr/bin/python3 $< $@ localhost/memgate/pause:1 '["/pause"]' $(BUILD)/test/pause:/pause

$(CRI)/workload.tar: test/cri/mkimage.py $(BUILD)/test/alloc $(BUILD)/test/pause
	@mkdir -p $(@D)
	/usr/bin/python3 $< $@ localhost/memgate/workload:1 '["/bin/sh"]' \
		$(BUSYBOX):/bin/busybox $(BUILD)/test/alloc:/alloc $(BUILD)/test/pause:/pause \
		proc/ sys/ dev/ tmp/ etc/ \
		$(foreach a,$(WORKLOAD_APPLETS),'/bin/$(a)=>busybox')

# memgate of another map layout, the older memgate of test/bats/upgrade.bats.
# One sub-make builds both binaries; the guest gets $(BUILD)/test.
LAYOUT_TEST := $(BUILD)/test/layout-test
all: $(LAYOUT_TEST)/built
$(LAYOUT_TEST)/built: FORCE
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/layout-test LAYOUT_FLAGS=-DMG_LAYOUT_TEST \
		$(BUILD)/layout-test/memgate-hook $(BUILD)/layout-test/memgate
	@mkdir -p $(@D)
	@cp -p $(BUILD)/layout-test/memgate-hook $(BUILD)/layout-test/memgate $(@D)/
	@touch $@

# memgate with a small memgate_mms capacity (MG_CAPACITY_TEST, bpf/memgate.h),
# for test/bats/capacity.bats.
CAPACITY_TEST := $(BUILD)/test/capacity-test
all: $(CAPACITY_TEST)/built
$(CAPACITY_TEST)/built: FORCE
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/capacity-test LAYOUT_FLAGS=-DMG_CAPACITY_TEST \
		$(BUILD)/capacity-test/memgate-hook $(BUILD)/capacity-test/memgate
	@mkdir -p $(@D)
	@cp -p $(BUILD)/capacity-test/memgate-hook $(BUILD)/capacity-test/memgate $(@D)/
	@touch $@

$(CORE_LIB): $(CORE_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

# Objects first, then the archive, then what the archive calls.
$(BUILD)/memgate-hook: $(HOOK_SRCS:%.c=$(BUILD)/%.o) $(CORE_LIB) $(LIB_OBJS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/memgate: $(CLI_SRCS:%.c=$(BUILD)/%.o) $(CORE_LIB) $(LIB_OBJS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# memgate --version: the release, and the commit when built from git.
VERSION := 0.1.0
$(BUILD)/version.h: FORCE
	@mkdir -p $(@D)
	@g=$$(git describe --always --dirty 2>/dev/null); \
	l="#define MG_VERSION \"$(VERSION)$${g:+ ($$g)}\""; \
	echo "$$l" | cmp -s - $@ || echo "$$l" > $@
$(BUILD)/cli/main.o $(BUILD)/cli/help.o: $(BUILD)/version.h

# The NRI plugin, from Debian's Go packages only (nri/build says which).
$(BUILD)/memgate-nri: nri/memgate-nri.go nri/build scripts/debfetch $(BUILD)/prefix
	nri/build $@ $(PREFIX)/libexec/oci/hooks.d/memgate-hook

# The hooks.d files name the hook's installed path: rebuilt when PREFIX changes.
$(BUILD)/prefix: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@

$(BUILD)/%.json: oci/%.json.in $(BUILD)/prefix
	@mkdir -p $(@D)
	sed 's|@HOOK_PATH@|$(PREFIX)/libexec/oci/hooks.d/memgate-hook|' $< > $@

# The cold-start option's unit names memgate's installed path.
$(BUILD)/memgate-preload.service: deploy/systemd/memgate-preload.service.in $(BUILD)/prefix
	@mkdir -p $(@D)
	sed 's|@BIN_PATH@|$(PREFIX)/bin/memgate|' $< > $@
all: $(BUILD)/memgate-preload.service

MAN5 := memgate-annotations.5 memgate.json.5
MAN8 := memgate.8 memgate-hook.8
MAN_PAGES := $(addprefix $(BUILD)/man/,$(MAN5) $(MAN8))

$(BUILD)/man/%: man/%.scd
	@mkdir -p $(@D)
	scdoc < $< > $@

man: $(MAN_PAGES)

$(BUILD)/test/test_%: test/unit/test_%.c test/unit/unit.h $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(filter %.c %.o %.a,$^) $(LDLIBS) -lcmocka -o $@

# The loader's table against the enforcement skeleton: core, opened, never loaded.
$(BUILD)/test/test_loader: $(CORE_LIB) $(SKEL) $(BUILD)/probe.skel.h
$(BUILD)/test/test_loader: LDLIBS += -lseccomp

$(BUILD)/test/alloc: test/progs/alloc.c test/progs/committed.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -pthread $< -o $@

$(BUILD)/test/roads: test/progs/roads.c test/progs/committed.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static $< -o $@

# What each loaded program calls, kallsyms read once (enforce.bats).
all: $(BUILD)/test/prog-calls
$(BUILD)/test/prog-calls: test/progs/prog-calls.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -lbpf -o $@

# make bench: the instruction counter (a QEMU TCG plugin, host side) and the
# floor, empty programs on memgate's attach points with their loader (guest).
BENCH_TOOLS := $(BUILD)/icount.so $(BUILD)/test/floor $(BUILD)/test/floor.bpf.o
all: $(BENCH_TOOLS)

$(BUILD)/icount.so: test/vm/icount.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-unused-parameter -shared -fPIC -fvisibility=hidden $< -o $@

$(BUILD)/test/floor.bpf.o: test/progs/floor.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/test/floor: test/progs/floor.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -lbpf -o $@

# The unit tests again under ASan and UBSan; any report fails the test binary.
ASAN_CC ?= clang
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_DIR := $(BUILD)/asan
ASAN_UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(ASAN_DIR)/test/%)

# Each source compiled once, as the unit tests' own build does.
.PRECIOUS: $(ASAN_DIR)/%.o
$(ASAN_DIR)/%.o: %.c test/unit/unit.h $(OBJ_DEPS)
	@mkdir -p $(@D)
	$(ASAN_CC) $(CPPFLAGS) -std=gnu11 $(ASAN_FLAGS) -c $< -o $@

$(ASAN_DIR)/test/test_%: $(ASAN_DIR)/test/unit/test_%.o $(LIB_SRCS:%.c=$(ASAN_DIR)/%.o)
	$(ASAN_CC) $(ASAN_FLAGS) $^ $(LDLIBS) -lcmocka -o $@

$(ASAN_DIR)/test/test_loader: $(CORE_SRCS:%.c=$(ASAN_DIR)/%.o)
$(ASAN_DIR)/test/test_loader: LDLIBS += -lseccomp

unit-asan: $(ASAN_UNIT_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		test/run-unit $(ASAN_UNIT_BINS)

# libFuzzer targets in test/fuzz; seeds and fixed crashers in test/fuzz/corpus/<target>.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all -fsanitize=address,undefined
FUZZ_FLAGS := $(FUZZ_SAN) -fsanitize=fuzzer
FUZZ_TARGETS := state annotations size config
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

# Each source compiled once, instrumented for libFuzzer; the link adds its main.
.PRECIOUS: $(BUILD)/fuzz/%.o
$(BUILD)/fuzz/%.o: %.c test/fuzz/fuzz.h include/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -std=gnu11 $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/test/fuzz/fuzz_%.o $(LIB_SRCS:%.c=$(BUILD)/fuzz/%.o)
	$(FUZZ_CC) $(FUZZ_FLAGS) $^ -ljson-c -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@BUILD=$(BUILD) test/fuzz/run --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-corpus: $(FUZZ_BINS)
	@BUILD=$(BUILD) test/fuzz/run --corpus $(FUZZ_TARGETS)

# Every file install puts in place; uninstall removes exactly these.
INSTALLED := $(PREFIX)/bin/memgate $(PREFIX)/bin/memgate-nri $(PREFIX)/libexec/oci/hooks.d/memgate-hook \
	$(PREFIX)/share/containers/oci/hooks.d/memgate.json $(PREFIX)/share/memgate/memgate-always.json \
	$(PREFIX)/lib/systemd/system/memgate-preload.service \
	$(addprefix $(PREFIX)/share/man/man5/,$(MAN5)) $(addprefix $(PREFIX)/share/man/man8/,$(MAN8))

install: all man
	install -D -m 0755 $(BUILD)/memgate $(DESTDIR)$(PREFIX)/bin/memgate
	install -D -m 0755 $(BUILD)/memgate-nri $(DESTDIR)$(PREFIX)/bin/memgate-nri
	install -D -m 0755 $(BUILD)/memgate-hook $(DESTDIR)$(PREFIX)/libexec/oci/hooks.d/memgate-hook
	install -D -m 0644 $(BUILD)/memgate.json $(DESTDIR)$(PREFIX)/share/containers/oci/hooks.d/memgate.json
	install -D -m 0644 $(BUILD)/memgate-always.json $(DESTDIR)$(PREFIX)/share/memgate/memgate-always.json
	install -D -m 0644 $(BUILD)/memgate-preload.service \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/memgate-preload.service
	install -d $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 $(addprefix $(BUILD)/man/,$(MAN5)) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 $(addprefix $(BUILD)/man/,$(MAN8)) $(DESTDIR)$(PREFIX)/share/man/man8/

# The admin's /etc/memgate/memgate.json and hooks.d copies are theirs: left alone.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(PREFIX)/share/memgate 2>/dev/null || true

deps:
	@scripts/deps $(DEPS_FLAGS)
# check and demo fetch what the cache lacks when they first need it, beside other work.
check demo: DEPS_FLAGS = --no-fetch

unit: $(UNIT_BINS)
	@test/run-unit $(UNIT_BINS)

check: deps
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@test/check

demo: deps
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@test/vm/run --timeout 300 -- /memgate/test/demo.sh

# make bench: instructions per operation on each of BENCH_KERNELS, one VM
# each (-smp 1, -icount, the TCG plugin $(BUILD)/icount.so: test/bench-insns),
# then the secondary time ratios (test/bench.sh) on each unless BENCH_TIME=0.
# $(BUILD)/bench.json holds both; the instruction table is printed last.
BENCH_KERNELS ?= $(or $(BENCH_KERNEL),6.1 7)
BENCH_TIME ?= 1
BENCH_REPEATS ?= 3
BENCH_SCALE ?= 200
bench: deps
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@rm -f $(BUILD)/bench.json $(BUILD)/bench-time-*.json
	@BUILD=$(BUILD) test/bench-insns $(BENCH_KERNELS)
	@set -e; if [ "$(BENCH_TIME)" != 0 ]; then for k in $(BENCH_KERNELS); do \
		bash -o pipefail -c "test/vm/run --kernel $$k --mem 4096 --timeout 3000 -- \
			env REPEATS=$(BENCH_REPEATS) SCALE=$(BENCH_SCALE) /memgate/test/bench.sh | tee $(BUILD)/bench-time-$$k.log"; \
		sed -n 's/^BENCH-JSON //p' $(BUILD)/bench-time-$$k.log >$(BUILD)/bench-time-$$k.json; \
	done; fi
	@jq -s '{instructions: .[0].kernels, time: .[1:]}' $(BUILD)/bench-insns.json \
		$(patsubst %,$(BUILD)/bench-time-%.json,$(if $(filter 0,$(BENCH_TIME)),,$(BENCH_KERNELS))) \
		>$(BUILD)/bench.json
	@BUILD=$(BUILD) test/bench-insns --print
	@echo "make bench: the tables are in $(BUILD)/bench.json"

format:
	clang-format -i $(wildcard bpf/*.c bpf/*.h hook/*.c core/*.c core/*.h cli/*.c cli/*.h include/*.h oci/*.c lib/*.c test/unit/*.c test/progs/*.c test/fuzz/*.c test/fuzz/*.h)

clean:
	rm -rf $(BUILD)

.PHONY: FORCE all man install uninstall deps unit check demo bench format clean unit-asan fuzz fuzz-build fuzz-corpus
.DELETE_ON_ERROR:
.SECONDARY:
