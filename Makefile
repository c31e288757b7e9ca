# errand: two commands on a fresh machine.
#   make demo   installs what is missing, builds, runs the demo on the embedded SQLite store
#   make test   installs what is missing, builds, runs every test
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps configure build test demo bench format lint clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j 1 --timeout 600

demo: build
	rm -rf demo-out && mkdir -p demo-out
	cd demo-out && ../$(BUILD)/errand demo --jobs 500

bench: build
	bench/run.sh

# Builds the library, the CLI and the job libraries with clang, warnings as errors, including
# -Wthread-safety (GUARDED_BY / REQUIRES, src/core/thread_annotations.h). Own build directory.
LINT_BUILD ?= build-lint
LINT_FLAGS ?=
lint: deps
	cmake -S . -B $(LINT_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
	  -DERRAND_WERROR=ON $(LINT_FLAGS)
	cmake --build $(LINT_BUILD) -j $(JOBS) --target errand errand_cli errand_test_jobs errand_hello

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(LINT_BUILD)
