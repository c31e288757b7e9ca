# errand: two commands on a fresh machine.
#   make demo     installs what building and running need, builds, runs the demo on SQLite
#   make test     installs that and the test world (GoogleTest, redis-server, Ruby, ...),
#                 builds with the tests, runs every test
#   make package  build/errand_<version>_amd64.deb (CPack)
#   make test SANITIZE=address,undefined   (or SANITIZE=thread): the suite in
#                 its own build dir (build-address-undefined, build-thread)
#   make fuzz     runs each libFuzzer target for FUZZ_SECONDS (default 60)
JOBS ?= 2
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
SANITIZE ?=
comma := ,
ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build-$(subst $(comma),-,$(SANITIZE))
CMAKE_FLAGS += -DERRAND_SANITIZE=$(SANITIZE)
# Suppressions and why: tests/sanitize/README.md.
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/tests/sanitize/ubsan.supp
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/tests/sanitize/lsan.supp
export TSAN_OPTIONS ?= halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$(CURDIR)/tests/sanitize/tsan.supp
endif
FUZZ_SECONDS ?= 60

.PHONY: all deps deps-test configure build test demo bench package install fuzz format lint clean

all: build

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

# A first `make build` configures without the tests (GoogleTest may not be
# installed); `make test` turns them on.
$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) -DERRAND_BUILD_TESTS=OFF

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

test: deps-test
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) -DERRAND_BUILD_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j 1 --timeout 600

demo: build
	rm -rf demo-out && mkdir -p demo-out
	cd demo-out && ../$(BUILD)/errand demo --jobs 500

bench: deps-test build
	bench/run.sh

package: build
	cmake --build $(BUILD) --target package

install: build
	cmake --install $(BUILD)

# Builds the library, the CLI and the job libraries with clang, warnings as errors, including
# -Wthread-safety (GUARDED_BY / REQUIRES, src/core/thread_annotations.h). Own build directory.
LINT_BUILD ?= build-lint
LINT_FLAGS ?=
lint: deps-test
	cmake -S . -B $(LINT_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
	  -DERRAND_WERROR=ON $(LINT_FLAGS)
	cmake --build $(LINT_BUILD) -j $(JOBS) --target errand errand_cli errand_test_jobs errand_hello

fuzz: deps-test
	FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=$(BUILD) JOBS=$(JOBS) scripts/fuzz.sh

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(LINT_BUILD)
