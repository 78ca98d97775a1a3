# potluck — build, run and test.
#
#   make          build build/potluckd and the web app (installs what is missing)
#   make run      build, then start a server on 127.0.0.1:8080 with ./data
#   make test     the whole suite: unit, integration, end-to-end
#   make check    the same suite under ASan + UBSan (build-asan/)
#   make cluster  redis-server, two potluckd and nginx in front, on loopback
#   make bench    potluck beside the physical floor and Socket.IO (BENCHMARKS.md)
#   make profile  instructions per chat message, under callgrind (BENCHMARKS.md)
#   make fmt      clang-format the C sources
#
# System packages and npm modules are installed by deploy/install-deps.sh,
# which does nothing (in well under a second) when all is there.

BUILD   ?= build
CC      ?= cc
PKGS    := libwebsockets libuv msgpack hiredis jansson libcrypto liburing
SAN     ?=
WERROR  ?= -Werror
OPT     ?= -O2 -g
ALL_CFLAGS = $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes $(WERROR) \
           -Isrc $(SAN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
ALL_LIBS = $(SAN) $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(LDLIBS)

LIB_SRCS  := $(sort $(wildcard src/*/*.c)) src/export_cmd.c
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/src/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
WEB_SRCS  := $(shell find web/src web/public -type f 2>/dev/null) web/build.mjs
BENCH_BINS := $(BUILD)/bench/loadgen $(BUILD)/bench/floor

.PHONY: all deps test-deps potluckd web run test check unit fmt clean cluster
all: deps potluckd web

deps:
	@deploy/install-deps.sh build

test-deps:
	@deploy/install-deps.sh test

potluckd: $(BUILD)/potluckd

$(BUILD)/potluckd: $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) -o $@ $^ $(ALL_LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -Itests/unit -o $@ $< $(LIB_OBJS) $(ALL_LIBS) -lcmocka

web: web/dist/.built

web/dist/.built: $(WEB_SRCS) package.json
	node web/build.mjs
	@touch $@

unit: $(UNIT_BINS)

run: all
	$(BUILD)/potluckd --host 127.0.0.1 --port 8080 --data-dir ./data --web-root web/dist

test: test-deps potluckd web unit $(BENCH_BINS)
	@BUILD=$(BUILD) tests/run.sh

check:
	@$(MAKE) --no-print-directory BUILD=build-asan \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  OPT="-O1 -g" test

cluster: all
	@deploy/install-deps.sh cluster
	deploy/cluster.sh

fmt:
	clang-format -i $$(find src tests/unit tests/bench -name '*.[ch]' 2>/dev/null)

clean:
	rm -rf build build-asan web/dist test-output cluster

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)

# make bench: tests/bench/run.sh — potluck beside the physical floor (BENCHMARKS.md).
# The suite runs its tools once too (tests/integration/bench.test.mjs).
.PHONY: bench bench-deps profile profile-deps
bench: bench-deps potluckd $(BENCH_BINS)
	@BUILD=$(BUILD) tests/bench/run.sh

bench-deps:
	@deploy/install-deps.sh bench

profile: profile-deps potluckd $(BENCH_BINS)
	@BUILD=$(BUILD) tests/bench/profile.sh

profile-deps:
	@deploy/install-deps.sh profile

$(BUILD)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LIBS)
