# Thin wrapper over CMake: `make demo` and `make test` are the README's two commands.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo asan fuzz fault-sweep bench install clean

all: build

deps:
	@./scripts/setup-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# the whole test suite (ctest labels: unit conformance grad plugin cli fault gpu fuzz)
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# install, build, run the quick-start sweep, print its summary and write its report
demo: build
	./$(BUILD)/engram run configs/quickstart.yaml -j $(JOBS)
	./$(BUILD)/engram show results/quickstart
	./$(BUILD)/engram report results/quickstart

# the suite under AddressSanitizer + UndefinedBehaviorSanitizer
asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DEG_SANITIZE=ON -DEG_CUDA=OFF -DCMAKE_BUILD_TYPE=Debug"

# every libFuzzer target of tests/fuzz/ for FUZZ_SECONDS in all, with clang (build-fuzz)
FUZZ_SECONDS ?= 180
fuzz: deps
	JOBS=$(JOBS) ./scripts/fuzz.sh $(FUZZ_SECONDS)

# the allocation / I/O fault sweep under ASan + UBSan (build-fault); FAULT_FLAGS=--full for every N
FAULT_FLAGS ?=
fault-sweep: deps
	JOBS=$(JOBS) ./scripts/fault-sweep.sh $(FAULT_FLAGS)

# the SDK into PREFIX: bin/engram, lib/libengram.so.1, lib/engram/, include/engram/,
# lib/pkgconfig/engram.pc, lib/cmake/engram/ (docs/plugins.md)
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	ENGRAM_BENCH_DEPS=1 ./scripts/setup-deps.sh
	./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-fault
