# ratelab -- see README.md. `make bench SCENARIO=burst` and `make test` are
# the two entry points; both install missing Debian packages first.

SCENARIO ?= burst
ALGOS    ?=
SET      ?=
OUT      ?=
# A value for the shell, in single quotes (a space or a quote in OUT works).
comma := ,
shq = '$(subst ','\'',$(1))'
# A variable of the other target's spelling is a mistake, not a no-op.
given = $(filter command line environment,$(origin $(1)))
misspelt = $(if $(call given,$(1)),$(error make $(2): $(1) is not read here; $(3)))
# Redis and realtime (see README): BACKEND=memory|redis|cluster|memory,redis,... PIPELINE=64
# CLUSTER=3x1 (the private Redis Cluster: masters x replicas) CLUSTER_FAULT="kill-master@10 reshard@20:100"
# ON_ERROR=allow|deny MODE=virtual|realtime CLIENTS=N IN_FLIGHT=N SPEED=x CLOCK=client|server
# SKEW_MS=s RUN_ID=id; REDIS_URL is read from the environment.
RUN_FLAGS = $(if $(ALGOS),--only $(call shq,$(ALGOS))) $(foreach s,$(SET),--set $(call shq,$(s))) \
            $(if $(BACKEND),--backend $(BACKEND)) $(if $(PIPELINE),--pipeline $(PIPELINE)) \
            $(if $(ON_ERROR),--on-error $(ON_ERROR)) $(if $(MODE),--mode $(MODE)) \
            $(if $(CLIENTS),--clients $(CLIENTS)) $(if $(IN_FLIGHT),--in-flight $(IN_FLIGHT)) $(if $(SPEED),--speed $(SPEED)) \
            $(if $(CLOCK),--clock $(CLOCK)) $(if $(SKEW_MS),--skew-ms $(SKEW_MS)) $(if $(RUN_ID),--run-id $(RUN_ID)) \
            $(if $(CLUSTER),--cluster $(CLUSTER)) $(foreach f,$(CLUSTER_FAULT),--cluster-fault $(f))

CC       ?= cc
# builds use every core; the test suites themselves run one after the other
NPROC    := $(shell nproc 2>/dev/null || echo 2)
SHELL    := /bin/bash
PKGS     := libcjson hiredis
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
WARN     := -std=c11 -Wall -Wextra -Werror
CFLAGS_COMMON = $(WARN) -g -MMD -MP -DRATELAB_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_COMMON = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

GEN_SRC  := build/gen/lua_sources.c build/gen/report_assets.c
# What every index.html inlines (sim/report_assets.h).
ASSETS   := sim/report/page.js sim/report/page.css vendor/uplot/uPlot.iife.min.js vendor/uplot/uPlot.min.css \
            scripts/palette.gp
LIB_SRC  := $(wildcard algorithms/*.c) $(filter-out sim/main.c,$(wildcard sim/*.c)) $(GEN_SRC)
TEST_SRC := $(wildcard tests/*.c)

REL_OBJ  := $(LIB_SRC:%.c=build/release/%.o)
TST_OBJ  := $(LIB_SRC:%.c=build/test/%.o) $(TEST_SRC:%.c=build/test/%.o)
ASN_OBJ  := $(LIB_SRC:%.c=build/asan/%.o) $(TEST_SRC:%.c=build/asan/%.o)

# Fuzz harnesses over every reader (tests/fuzz): replayed on their corpus
# in `make test`, run with libFuzzer by `make fuzz`.
FUZZ_NAMES   := scenario trace decisions url rate sweep resp
FUZZ_REPLAY  := $(FUZZ_NAMES:%=build/asan/fuzz_%)
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all deps help bench sweep test test-plain test-asan perf perf-redis regress chaos clean fuzz
.PRECIOUS: build/fuzz/%.o build/asan/%.o
.DEFAULT_GOAL := all

all: ratelab

deps:
	@scripts/deps.sh

help:
	@echo 'make bench SCENARIO=burst      run a scenario (a shipped name or a file) in memory: verdict, table,'
	@echo '                               results/<scenario>/ with index.html and plots/'
	@echo '    ALGOS=a,b SET="l.p=v ..." OUT=dir TARGET="drop_pct<=5 ..." FAIL_ON=targets,over_admitted'
	@echo '    BACKEND=memory,redis,cluster MODE=realtime CLIENTS=N IN_FLIGHT=N SPEED=x CLOCK=server SKEW_MS=s PIPELINE=N'
	@echo '    ON_ERROR=allow|deny RUN_ID=id CLUSTER=3x1 CLUSTER_FAULT="kill-master@10 reshard@20:100"'
	@echo 'make sweep SCENARIO=x ALGO=name|all [PARAMS="rate=100:500:100"] [TARGET=...] [JOBS=N] [OUT=dir]'
	@echo 'make chaos [SCENARIO=burst_queue KILLS=20 RESTARTS=3 SEED=1 BACKEND=cluster WAIT=1]'
	@echo 'make test                      the Criterion suite, plain and under ASan+UBSan'
	@echo 'make regress [UPDATE=1]        every shipped scenario against tests/golden/ (results/regress/junit.xml)'
	@echo 'make perf [QUICK=1]  make perf-redis [QUICK=1]  make fuzz [FUZZ_SECONDS=60]  make deps  make clean'
	@echo 'scenarios:' $(sort $(basename $(notdir $(wildcard scenarios/*.json))))
	@echo './ratelab help lists the commands; ./ratelab CMD --help their options'

# The Lua twins, embedded as C strings. The list of scripts is a file of
# its own, rewritten whenever the set changes, so that a .lua added or
# deleted regenerates the C (a deleted file leaves no newer prerequisite).
LUA_FILES := $(sort $(wildcard algorithms/lua/*.lua sim/lua/*.lua))
LUA_LIST  := build/gen/lua_files.txt
$(shell mkdir -p build/gen && (echo '$(LUA_FILES)' | cmp -s - $(LUA_LIST) || echo '$(LUA_FILES)' > $(LUA_LIST)))

# The version compiled into cli.o (ratelab --version, run.json): rebuilt
# when git describe changes, through a file rewritten only then.
VERSION_FILE := build/gen/version.txt
$(shell mkdir -p build/gen && (echo '$(VERSION)' | cmp -s - $(VERSION_FILE) || echo '$(VERSION)' > $(VERSION_FILE)))
build/release/sim/cli.o build/test/sim/cli.o build/asan/sim/cli.o build/fuzz/sim/cli.o: $(VERSION_FILE)

build/gen/lua_sources.c: $(LUA_FILES) $(LUA_LIST) scripts/embed_lua.sh scripts/c_string.sh
	@mkdir -p $(dir $@)
	scripts/embed_lua.sh $@

build/gen/report_assets.c: $(ASSETS) scripts/embed_assets.sh scripts/c_string.sh
	@mkdir -p $(dir $@)
	scripts/embed_assets.sh $@ $(ASSETS)

ratelab: $(REL_OBJ) build/release/sim/main.o
	$(CC) $(CFLAGS_COMMON) -O2 -o $@ $^ $(LDLIBS_COMMON)

build/release/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O2 -c -o $@ $<

build/test/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O1 $(shell pkg-config --cflags criterion 2>/dev/null) -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O1 $(SANITIZE) $(shell pkg-config --cflags criterion 2>/dev/null) -c -o $@ $<

build/test/ratelab_tests: $(TST_OBJ)
	$(CC) $(CFLAGS_COMMON) -o $@ $^ $(LDLIBS_COMMON) $(shell pkg-config --libs criterion)

build/asan/ratelab_tests: $(ASN_OBJ)
	$(CC) $(CFLAGS_COMMON) $(SANITIZE) -o $@ $^ $(LDLIBS_COMMON) $(shell pkg-config --libs criterion)

build/asan/ratelab: $(LIB_SRC:%.c=build/asan/%.o) build/asan/sim/main.o
	$(CC) $(CFLAGS_COMMON) $(SANITIZE) -o $@ $^ $(LDLIBS_COMMON)

build/asan/fuzz_%: $(LIB_SRC:%.c=build/asan/%.o) build/asan/tests/fuzz/fuzz_%.o build/asan/tests/fuzz/replay.o
	$(CC) $(CFLAGS_COMMON) $(SANITIZE) -o $@ $^ $(LDLIBS_COMMON)

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS_COMMON) -O1 $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/fuzz_%: $(LIB_SRC:%.c=build/fuzz/%.o) build/fuzz/tests/fuzz/fuzz_%.o
	$(FUZZ_CC) $(CFLAGS_COMMON) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_COMMON)

bench: deps
	$(call misspelt,ALGO,bench,the limiters to run are ALGOS=names (ALGO is make sweep's))
	$(call misspelt,PARAMS,bench,parameters are SET='limiter.param=value ...' (PARAMS is make sweep's grid))
	@$(MAKE) --no-print-directory -j$(NPROC) ratelab
	./ratelab run $(call shq,$(SCENARIO)) $(if $(OUT),--out $(call shq,$(OUT))) --plots $(RUN_FLAGS) \
		$(if $(TARGET),--target $(call shq,$(TARGET))) $(if $(FAIL_ON),--fail-on $(call shq,$(FAIL_ON)))

# ALGO=<limiter or algorithm> PARAMS='rate=100:500:100 capacity=50,100'
# (ALGO=all: every limiter on the "sweep" grid the scenario gives it); JOBS=N.
sweep: deps
	$(call misspelt,ALGOS,sweep,the limiter to sweep is ALGO=name or ALGO=all (ALGOS is make bench's))
	$(call misspelt,SET,sweep,the grid is PARAMS='rate=100:500:100 capacity=50$(comma)100' (SET is make bench's))
	@$(MAKE) --no-print-directory -j$(NPROC) ratelab
	./ratelab sweep $(call shq,$(SCENARIO)) --algo $(call shq,$(or $(ALGO),all)) $(if $(PARAMS),--params $(call shq,$(PARAMS))) \
		$(if $(TARGET),--target $(call shq,$(TARGET))) $(if $(JOBS),--jobs $(JOBS)) $(if $(OUT),--out $(call shq,$(OUT)/sweep)) --plots

# The suite runs twice: as built for use, and under ASan+UBSan, where any
# report aborts the test that caused it.
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) ratelab build/test/ratelab_tests build/asan/ratelab \
		build/asan/ratelab_tests $(FUZZ_REPLAY)
	@$(MAKE) --no-print-directory test-plain test-asan

test-plain: ratelab build/test/ratelab_tests
	RATELAB_BIN=./ratelab build/test/ratelab_tests

# LeakSanitizer reports when a test's worker exits, after Criterion has
# counted the test as passed, so any sanitizer report in the log fails too.
test-asan: build/asan/ratelab build/asan/ratelab_tests $(FUZZ_REPLAY)
	@set -o pipefail 2>/dev/null; \
	export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0:malloc_context_size=2; \
	{ RATELAB_BIN=build/asan/ratelab build/asan/ratelab_tests && \
	  for h in $(FUZZ_NAMES); do build/asan/fuzz_$$h tests/fuzz/corpus/$$h || exit 1; done; } 2>&1 | tee build/asan/test.log; \
	status=$$?; \
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' build/asan/test.log; then \
		echo "sanitizer report above: failing" >&2; exit 1; fi; \
	exit $$status

# libFuzzer on every reader, FUZZ_SECONDS (60) each, from the committed
# corpus; new inputs collect in build/fuzz/corpus (copy the ones worth
# keeping into tests/fuzz/corpus). Needs clang (installed by the deps step).
fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
	@for h in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus/$$h; \
		echo "fuzz $$h: $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
			build/fuzz/corpus/$$h tests/fuzz/corpus/$$h 2>&1 | grep -E "^(stat::number_of_executed_units|==|SUMMARY|#[0-9]+ +DONE)" ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

perf: deps
	@$(MAKE) --no-print-directory -j$(NPROC) ratelab
	./ratelab perf $(if $(QUICK),--quick)

# Every shipped scenario against tests/golden (UPDATE=1 rewrites them).
regress: deps
	@$(MAKE) --no-print-directory -j$(NPROC) ratelab
	@scripts/regress.sh $(if $(UPDATE),--update)

# The reliable queue under faults: SCENARIO (default burst_queue) on a
# private redis-server, KILLS consumer kill -9s and RESTARTS server restarts;
# BACKEND=cluster: on a private Redis Cluster (CLUSTER=3x1), a restart being
# a kill -9 of the queue's master; WAIT=1 waits for a replica after each write.
CHAOS_SCENARIO = $(if $(filter command line environment,$(origin SCENARIO)),$(SCENARIO),burst_queue)
chaos: deps
	@$(MAKE) --no-print-directory -j$(NPROC) ratelab
	./ratelab chaos $(call shq,$(CHAOS_SCENARIO)) --kills $(or $(KILLS),20) --restarts $(or $(RESTARTS),3) $(if $(SEED),--seed $(SEED)) \
		$(if $(filter cluster,$(BACKEND)),--cluster $(or $(CLUSTER),3x1)) $(if $(WAIT),--wait-replicas $(WAIT))
	@scripts/plot.sh results/$(basename $(notdir $(CHAOS_SCENARIO)))/chaos

# The comparison with rate-limiter-flexible runs where node and npm are:
# the package and its Redis client, pinned, in build/rlf (npm registry).
RLF_PACKAGES := rate-limiter-flexible@5.0.5 ioredis@5.11.1
perf-redis: deps
	@$(MAKE) --no-print-directory -j$(NPROC) ratelab
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		[ -d build/rlf/node_modules/rate-limiter-flexible ] || \
		npm install --silent --no-audit --no-fund --prefix build/rlf $(RLF_PACKAGES) || \
		echo 'perf-redis: npm could not install $(RLF_PACKAGES): no comparison with it'; \
	else echo 'perf-redis: node or npm not found: no comparison with rate-limiter-flexible'; fi
	./ratelab perf-redis $(if $(QUICK),--quick)

clean:
	rm -rf build ratelab

-include $(shell find build -name '*.d' 2>/dev/null)
