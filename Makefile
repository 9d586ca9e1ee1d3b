# hnnc — compiler from neural-network descriptions to CKKS circuits, and libhnnrt,
# its CKKS runtime. One Makefile for the whole tree; everything it makes goes to
# $(BUILD): gen/ (flex, bison), obj/, lib/, bin/, tests/.
#
#   make              libhnnrt (static + shared) and hnnc
#   make test         every test (installs missing Debian packages first)
#   make demo         the encrypted end-to-end demo (the iris example)
#   make examples     every example on its whole test split (example-NAME: one)
#   make weights      retrain every example's weights from its seed and compare
#   make bench        runtime benchmarks, one JSON object per line
#   make check-sanitize   the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make check-layers     the runtime's layering rule
#   make fuzz         libFuzzer harnesses, run briefly (clang)

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wpointer-arith -Wvla -Wformat=2 -Wundef
Q       := $(if $(V),,@)
CFLAGS_ALL = -std=c17 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(SAN) -fopenmp -MMD -MP $(CFLAGS)
LDLIBS_RT  = -lsodium -lm
LDLIBS_HNNC = -ljansson -lz
DEPS_STAMP := $(BUILD)/.deps-ok

.PHONY: all deps test demo demo-runtime bench check-sanitize check-layers check-symbols fuzz clean examples weights
all: $(BUILD)/lib/libhnnrt.a $(BUILD)/lib/libhnnrt.so $(BUILD)/bin/hnnc

deps:
	@sh tools/deps.sh
$(DEPS_STAMP): tools/deps.sh
	@sh tools/deps.sh
	@mkdir -p $(@D) && touch $@

# ---------------------------------------------------------------- runtime: libhnnrt
# Layers, bottom-up (see runtime/README.md); each folder is one layer.
RT_LAYERS := core modarith ntt poly params sample encode keys eval serial
RT_SRC    := $(foreach l,$(RT_LAYERS),$(wildcard runtime/src/$(l)/*.c))
RT_OBJ    := $(RT_SRC:%.c=$(BUILD)/obj/%.o)
RT_CFLAGS := -Iruntime/include -Iruntime/src -fPIC -fvisibility=hidden -DHNNRT_BUILDING

$(BUILD)/obj/runtime/%.o: runtime/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(RT_CFLAGS) -c $< -o $@

$(BUILD)/lib/libhnnrt.a: $(RT_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/lib/libhnnrt.so: $(RT_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -fopenmp $(SAN) -o $@ $^ $(LDLIBS_RT)

# ---------------------------------------------------------------- compiler: hnnc
# lang/ holds the grammar and the lexer; bison and flex write to $(BUILD)/gen.
GEN       := $(BUILD)/gen
LANG_Y    := $(wildcard lang/*.y)
LANG_L    := $(wildcard lang/*.l)
LANG_GEN  := $(LANG_Y:lang/%.y=$(GEN)/%.tab.c) $(LANG_L:lang/%.l=$(GEN)/%.yy.c)
HNN_SRC   := $(wildcard compiler/*/*.c)
HNN_LIBSRC:= $(filter-out compiler/driver/%,$(HNN_SRC))
HNN_OBJ   := $(HNN_LIBSRC:%.c=$(BUILD)/obj/%.o) $(LANG_GEN:$(GEN)/%.c=$(BUILD)/obj/gen/%.o)
DRV_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter compiler/driver/%,$(HNN_SRC)))
HNN_CFLAGS:= -Icompiler -I$(GEN) -Iruntime/include -Ilang

$(GEN)/%.tab.c $(GEN)/%.tab.h: lang/%.y | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  BISON   $<"
	$(Q)bison -Wall -Werror --defines=$(GEN)/$*.tab.h -o $(GEN)/$*.tab.c $<

$(GEN)/%.yy.c $(GEN)/%.yy.h: lang/%.l | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  FLEX    $<"
	$(Q)flex --header-file=$(GEN)/$*.yy.h -o $(GEN)/$*.yy.c $<

# Keep the generated scanner and parser: make would otherwise delete them as
# intermediates and regenerate them on every build.
.PRECIOUS: $(GEN)/%.tab.c $(GEN)/%.tab.h $(GEN)/%.yy.c $(GEN)/%.yy.h

# Every compiler object may include the generated headers.
$(BUILD)/obj/compiler/%.o: compiler/%.c $(LANG_GEN) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(HNN_CFLAGS) -c $< -o $@

# Generated code is not ours to keep warning-free in every detail.
$(BUILD)/obj/gen/%.o: $(GEN)/%.c $(LANG_GEN)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(HNN_CFLAGS) -Wno-unused-function -Wno-missing-prototypes -Wno-shadow -Wno-undef -c $< -o $@

$(BUILD)/lib/libhnnc.a: $(HNN_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/hnnc: $(DRV_OBJ) $(BUILD)/lib/libhnnc.a $(BUILD)/lib/libhnnrt.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) -fopenmp $(SAN) -o $@ $^ $(LDLIBS_HNNC) $(LDLIBS_RT)

# libFuzzer harness for the front end (clang; not part of `make test`). The
# library is rebuilt instrumented in $(BUILD)/fuzz; the corpus starts from the
# golden models and grows in $(BUILD)/fuzz/corpus. FUZZ_TIME is in seconds.
FUZZ_TIME ?= 30
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all
.PHONY: fuzz-parser fuzz-serial
fuzz: fuzz-parser fuzz-serial
fuzz-parser: | $(DEPS_STAMP)
	@sh tools/deps.sh --with-clang
	$(MAKE) BUILD=$(BUILD)/fuzz CC=clang OPT="-O1 -g" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  $(BUILD)/fuzz/lib/libhnnc.a
	@mkdir -p $(BUILD)/fuzz/bin
	clang -std=c17 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer $(HNN_CFLAGS:$(GEN)=$(BUILD)/fuzz/gen) \
	  -o $(BUILD)/fuzz/bin/fuzz_parser tests/fuzz/fuzz_parser.c $(BUILD)/fuzz/lib/libhnnc.a $(LDLIBS_HNNC) -lm
	@mkdir -p $(BUILD)/fuzz/corpus
	cp tests/golden/valid/*.hnn tests/golden/invalid/*.hnn tests/golden/robust/*.hnn $(BUILD)/fuzz/corpus/
	$(BUILD)/fuzz/bin/fuzz_parser -max_total_time=$(FUZZ_TIME) -max_len=65536 \
	  -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus

# ---------------------------------------------------------------- tests
# tests/runtime/test_X.c and tests/compiler/test_X.c are cmocka programs, one per
# module; tests/*/*.sh are scripted tests (golden, end-to-end). tools/run-tests.sh
# runs them all and prints the summary.
TEST_RT_SRC  := $(wildcard tests/runtime/test_*.c)
TEST_HNN_SRC := $(wildcard tests/compiler/test_*.c)
TEST_BINS    := $(TEST_RT_SRC:tests/%.c=$(BUILD)/tests/%) $(TEST_HNN_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_CFLAGS  := -Iruntime/include -Iruntime/src -Icompiler -I$(GEN) -Ilang -Itests

$(BUILD)/tests/runtime/%: tests/runtime/%.c $(BUILD)/lib/libhnnrt.a
	@mkdir -p $(@D)
	@echo "  TEST    $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -o $@ $< $(BUILD)/lib/libhnnrt.a -lcmocka $(LDLIBS_RT)

$(BUILD)/tests/compiler/%: tests/compiler/%.c $(BUILD)/lib/libhnnc.a $(BUILD)/lib/libhnnrt.a $(LANG_GEN)
	@mkdir -p $(@D)
	@echo "  TEST    $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -o $@ $< $(BUILD)/lib/libhnnc.a $(BUILD)/lib/libhnnrt.a -lcmocka $(LDLIBS_HNNC) $(LDLIBS_RT)

test: all $(TEST_BINS) check-symbols check-layers
	@BUILD=$(BUILD) SAN="$(SAN)" sh tools/run-tests.sh $(TEST_BINS)

check-sanitize: | $(DEPS_STAMP)
	$(MAKE) BUILD=build/san OPT="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" test

# Every symbol libhnnrt exports starts with hnnrt_.
check-symbols: $(BUILD)/lib/libhnnrt.so $(BUILD)/lib/libhnnrt.a
	@sh tools/check-symbols.sh $(BUILD)/lib/libhnnrt.so $(BUILD)/lib/libhnnrt.a

# A runtime layer includes only headers of the layers below it.
check-layers:
	@sh tools/check-layers.sh $(RT_LAYERS)

# ---------------------------------------------------------------- bench, demo
BENCH_SRC := $(wildcard bench/*.c)
$(BUILD)/bin/hnnrt-bench: $(BENCH_SRC) $(BUILD)/lib/libhnnrt.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Iruntime/include -Iruntime/src -o $@ $(BENCH_SRC) $(BUILD)/lib/libhnnrt.a $(LDLIBS_RT)

bench: $(BUILD)/bin/hnnrt-bench
	@$(BUILD)/bin/hnnrt-bench $(BENCH_ARGS)

$(BUILD)/bin/hnnrt-demo: examples/runtime-demo/demo.c $(BUILD)/lib/libhnnrt.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Iruntime/include -o $@ $< $(BUILD)/lib/libhnnrt.a $(LDLIBS_RT)

# The iris example end to end: plan, generated C, keys, encrypt, evaluate on
# a server without the secret key, decrypt, compare with plaintext.
demo: all
	@BUILD=$(BUILD) CC=$(CC) sh examples/iris/demo.sh

# Every example on its whole test split (make example-NAME for one), and the
# training runs that reproduce each example's committed weights (make
# weights-NAME; make weights for all). See tools/example.sh.
EXAMPLES := $(patsubst examples/%/example.conf,%,$(wildcard examples/*/example.conf))
examples: $(addprefix example-,$(EXAMPLES))
weights: $(addprefix weights-,$(EXAMPLES))
example-%: all
	@BUILD=$(BUILD) sh tools/example.sh run $*
weights-%: all
	@BUILD=$(BUILD) sh tools/example.sh weights $*

# The runtime alone: encrypted logistic regression written against libhnnrt.
demo-runtime: all $(BUILD)/bin/hnnrt-demo
	$(BUILD)/bin/hnnrt-demo

clean:
	rm -rf build

# libFuzzer harness over every runtime deserialiser; the corpus starts with
# one valid object of each kind.
fuzz-serial: | $(DEPS_STAMP)
	@sh tools/deps.sh --with-clang
	$(MAKE) BUILD=$(BUILD)/fuzz CC=clang OPT="-O1 -g" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  $(BUILD)/fuzz/lib/libhnnrt.a
	@mkdir -p $(BUILD)/fuzz/bin $(BUILD)/fuzz/serial-corpus
	clang -std=c17 -D_POSIX_C_SOURCE=200809L -O1 -g -fopenmp $(FUZZ_SAN) -fsanitize=fuzzer \
	  -Iruntime/include -Iruntime/src -o $(BUILD)/fuzz/bin/fuzz_serial tests/fuzz/fuzz_serial.c \
	  $(BUILD)/fuzz/lib/libhnnrt.a $(LDLIBS_RT)
	HNNRT_FUZZ_SEEDS=$(BUILD)/fuzz/serial-corpus $(BUILD)/fuzz/bin/fuzz_serial -runs=0
	$(BUILD)/fuzz/bin/fuzz_serial -max_total_time=$(FUZZ_TIME) -max_len=65536 \
	  -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/serial-corpus

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)
