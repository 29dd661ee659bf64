# vigil build.  Plain GNU make; read top to bottom.
#
#   make                 release build in build/release (bin: build/release/vigil)
#   make MODE=asan       ASan+UBSan build in build/asan (used by the tests)
#   make MODE=tsan       ThreadSanitizer build in build/tsan (the threads test)
#   make deps            install Debian packages (scripts/install-deps.sh, needs root)
#   make demo            build, then run the demo (scripts/demo.sh)
#   make check           ASan+UBSan, release and TSan builds, then the whole test suite (tests/run)
#   make fuzz            libFuzzer targets in build/fuzz (clang)
#
# Sources are found by folder: src/<layer>/*.c go into libvigil.a, except
# src/cli/ which is the vigil binary.  tests/unit/test_*.c are one test
# program each.  Adding a file needs no edit here.

MODE ?= release
B := build/$(MODE)
CC ?= cc

PKGS := libisal libsodium libzstd jansson inih libxxhash openssl
# libcurl: headers only.  It is dlopen()ed when an alert is sent
# (src/alert/curl_lib.c), so a run that sends none never maps it.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wvla
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) -MMD -MP -pthread
BASE_CFLAGS += -DVG_VERSION=\"0.1.0\"

ifeq ($(MODE),release)
  OPT := -O2 -g
else ifeq ($(MODE),asan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifeq ($(MODE),tsan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
else ifeq ($(MODE),debug)
  OPT := -O0 -g
else
  $(error unknown MODE '$(MODE)': use release, asan, tsan or debug)
endif

CFLAGS_ALL := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
LDFLAGS_ALL := $(OPT) -pthread $(LDFLAGS)
LIBS := $(PKG_LIBS) -lm

LIB_SRC := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/unit/test_*.c)
TLIB_SRC := $(wildcard tests/lib/*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
TLIB_OBJ := $(TLIB_SRC:%.c=$(B)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.PHONY: all deps demo check tests clean fuzz bench
all: $(B)/vigil $(BENCH_BIN)

$(B)/libvigil.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/vigil: $(CLI_OBJ) $(B)/libvigil.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(B)/libvigil.a $(LIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS_ALL) -Itests/lib -c $< -o $@

$(B)/tests/%: $(B)/tests/unit/%.o $(TLIB_OBJ) $(B)/libvigil.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(TLIB_OBJ) $(B)/libvigil.a $(LIBS)

$(B)/bench/%: $(B)/bench/%.o $(B)/libvigil.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(B)/libvigil.a $(LIBS)

tests: $(B)/vigil $(TEST_BIN)

deps:
	scripts/install-deps.sh

demo: all
	scripts/demo.sh $(B)/vigil

check:
	$(MAKE) MODE=asan tests
	$(MAKE) MODE=release all
	$(MAKE) MODE=tsan all
	$(MAKE) fuzz
	tests/run

bench: all $(BENCH_BIN)
	bench/run

fuzz:
	$(MAKE) -f fuzz/Makefile

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TLIB_OBJ:.o=.d) $(TEST_BIN:$(B)/tests/%=$(B)/tests/unit/%.d)
