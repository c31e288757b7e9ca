# The test suite. Included from CMakeLists.txt when ERRAND_BUILD_TESTS is on.
find_package(GTest REQUIRED)
set(ERRAND_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})
if(NOT TARGET errand_testing)
  message(FATAL_ERROR "ERRAND_BUILD_TESTS needs ERRAND_BUILD_TESTING_LIB (tests/testing_test.cc)")
endif()

# The store conformance suite as a library: a store's test binary links it
# (with GTest::gtest_main) and registers its store with one line,
# ERRAND_STORE_CONFORMANCE(name, factory) (tests/store_conformance/conformance.h).
file(GLOB ERRAND_CONFORMANCE_SOURCES CONFIGURE_DEPENDS ${ERRAND_TESTS_DIR}/store_conformance/*.cc)
list(FILTER ERRAND_CONFORMANCE_SOURCES EXCLUDE REGEX "_factory\\.cc$")
add_library(errand_store_conformance STATIC ${ERRAND_CONFORMANCE_SOURCES})
target_include_directories(errand_store_conformance
  PUBLIC $<BUILD_INTERFACE:${ERRAND_TESTS_DIR}>)
target_compile_options(errand_store_conformance PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_store_conformance PUBLIC errand GTest::gtest)

# errand's own stores run the suite from errand_tests (tests/store_conformance/*_factory.cc).
file(GLOB ERRAND_TEST_SOURCES CONFIGURE_DEPENDS ${ERRAND_TESTS_DIR}/*.cc
  ${ERRAND_TESTS_DIR}/store_conformance/*_factory.cc)
add_executable(errand_tests ${ERRAND_TEST_SOURCES})
target_include_directories(errand_tests PRIVATE ${PROJECT_SOURCE_DIR}/src ${ERRAND_TESTS_DIR})
# Exported symbols: a crashed child's backtrace names the test's functions.
set_target_properties(errand_tests PROPERTIES ENABLE_EXPORTS ON)
target_compile_options(errand_tests PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_tests PRIVATE errand errand_testing errand_store_conformance GTest::gtest
  GTest::gtest_main GTest::gmock
  spdlog::spdlog fmt::fmt SQLite::SQLite3 PkgConfig::HIREDIS ${PostgreSQL_LIBRARIES})
target_compile_definitions(errand_tests PRIVATE
  ERRAND_CLI_PATH="$<TARGET_FILE:errand_cli>"
  ERRAND_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(errand_tests errand_cli errand_examples)
target_compile_definitions(errand_tests PRIVATE
  ERRAND_EXAMPLES_PATH="$<TARGET_FILE:errand_examples>")
# Sanitizer builds skip the few tests whose jobs crash on purpose and assert
# how the child died (tests/sanitize/README.md says why).
if(ERRAND_SANITIZE)
  target_compile_definitions(errand_tests PRIVATE ERRAND_TEST_SANITIZED=1)
endif()
# ThreadSanitizer cannot follow a child forked from a threaded process that
# starts threads of its own: the process-isolation tests skip under it.
if(ERRAND_SANITIZE MATCHES "thread")
  target_compile_definitions(errand_tests PRIVATE ERRAND_TEST_TSAN=1)
endif()
include(GoogleTest)
gtest_discover_tests(errand_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
# A third party's store test in miniature: public headers and the suite only.
add_executable(errand_store_conformance_example
  ${ERRAND_TESTS_DIR}/store_conformance/example/forwarding_store_test.cc)
target_compile_options(errand_store_conformance_example PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_store_conformance_example PRIVATE errand_store_conformance
  GTest::gtest_main)
gtest_discover_tests(errand_store_conformance_example DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)

# Job classes the multi-process tests load into real workers (tests/cluster_test.cc).
add_library(errand_test_jobs SHARED ${ERRAND_TESTS_DIR}/jobs/cluster_jobs.cc)
target_link_libraries(errand_test_jobs PUBLIC errand)
target_compile_options(errand_test_jobs PRIVATE ${ERRAND_WARNINGS})

# Job classes used by the Ruby interop tests (loaded with errand worker -r).
file(GLOB ERRAND_INTEROP_JOB_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/interop/jobs/*.cc)
if(ERRAND_INTEROP_JOB_SOURCES)
  add_library(errand_interop_jobs SHARED ${ERRAND_INTEROP_JOB_SOURCES})
  target_link_libraries(errand_interop_jobs PUBLIC errand)
endif()

add_dependencies(errand_tests errand_test_jobs)
target_compile_definitions(errand_tests PRIVATE
  ERRAND_TEST_JOBS_PATH="$<TARGET_FILE:errand_test_jobs>")

# Job classes that crash their process (tests/isolation_cli_test.cc).
add_library(errand_crash_jobs SHARED ${ERRAND_TESTS_DIR}/jobs/crash_jobs.cc)
target_link_libraries(errand_crash_jobs PUBLIC errand)
target_compile_options(errand_crash_jobs PRIVATE ${ERRAND_WARNINGS})
add_dependencies(errand_tests errand_crash_jobs)
target_compile_definitions(errand_tests PRIVATE
  ERRAND_CRASH_JOBS_PATH="$<TARGET_FILE:errand_crash_jobs>")

# Libraries that register one job class name twice (tests/registry_clash_test.cc).
include(${ERRAND_TESTS_DIR}/jobs/clash.cmake)

# Tests that drive errand from Ruby (Sidekiq) through a real redis-server.
include(${PROJECT_SOURCE_DIR}/interop/tests.cmake OPTIONAL)
# The dashboard's sources and browser tests: CMakeLists.txt includes web/.

# The thread-safety annotations reach clang's analysis (tests/thread_safety/check.sh).
find_program(ERRAND_CLANGXX NAMES clang++ clang++-19 clang++-16 clang++-14)
if(ERRAND_CLANGXX)
  add_test(NAME thread_safety_analysis
    COMMAND ${ERRAND_TESTS_DIR}/thread_safety/check.sh ${ERRAND_CLANGXX} ${PROJECT_SOURCE_DIR}
      ${PROJECT_BINARY_DIR}/thread_safety)
  set_tests_properties(thread_safety_analysis PROPERTIES TIMEOUT 300)
endif()

# The libFuzzer targets (tests/fuzz, built with clang++ by scripts/fuzz.sh):
# a few seconds each as a test; `make fuzz` runs them longer.
if(ERRAND_CLANGXX)
  add_test(NAME fuzz_smoke COMMAND ${PROJECT_SOURCE_DIR}/scripts/fuzz.sh)
  set_tests_properties(fuzz_smoke PROPERTIES
    ENVIRONMENT "FUZZ_SECONDS=4;BUILD=${PROJECT_BINARY_DIR}" TIMEOUT 1800)
endif()

# Every C++ block of README.md, examples/README.md and docs/*.md compiles
# (warnings as errors) and the blocks marked `run` run (tests/docs/check_docs.py
# documents the markers); the self-test proves the checker fails on broken blocks.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(ERRAND_DOCS_CHECK_ARGS --source-dir ${PROJECT_SOURCE_DIR}
  --include ${PROJECT_SOURCE_DIR}/include --lib $<TARGET_FILE:errand>
  --errand $<TARGET_FILE:errand_cli> --cxx ${CMAKE_CXX_COMPILER}
  "--testing-lib=$<$<TARGET_EXISTS:errand_testing>:$<TARGET_FILE:errand_testing>>")
if(ERRAND_SANITIZE)
  list(APPEND ERRAND_DOCS_CHECK_ARGS --cxxflag=-fsanitize=${ERRAND_SANITIZE})
endif()
add_test(NAME docs_code_blocks
  COMMAND Python3::Interpreter ${ERRAND_TESTS_DIR}/docs/check_docs.py ${ERRAND_DOCS_CHECK_ARGS}
    --work ${PROJECT_BINARY_DIR}/docs_code_blocks)
add_test(NAME docs_code_blocks_selftest
  COMMAND Python3::Interpreter ${ERRAND_TESTS_DIR}/docs/selftest.py ${ERRAND_DOCS_CHECK_ARGS})
set_tests_properties(docs_code_blocks docs_code_blocks_selftest PROPERTIES TIMEOUT 600)

# errand as another project uses it (tests/consumer/): installed into a temp
# prefix, then examples/service (find_package), a pkg-config program and a
# generated project built against it, and a job enqueued by the service run
# by the installed worker. And the Debian package: its contents, its
# Depends, and the extracted binary running. Both take minutes.
add_test(NAME consumer
  COMMAND ${ERRAND_TESTS_DIR}/consumer/consumer.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(consumer PROPERTIES LABELS "consumer;slow" TIMEOUT 1800)
# A program linked to a sanitized liberrand must be built with the same
# sanitizer (an uninstrumented one does not start under ASan, and crashes
# under TSan): the consumer builds get the flags too.
if(ERRAND_SANITIZE)
  set_tests_properties(consumer PROPERTIES
    ENVIRONMENT "ERRAND_CONSUMER_CXXFLAGS=-fsanitize=${ERRAND_SANITIZE}")
endif()
add_test(NAME package_deb
  COMMAND ${ERRAND_TESTS_DIR}/consumer/package_deb.sh ${PROJECT_BINARY_DIR} ${PROJECT_VERSION})
set_tests_properties(package_deb PROPERTIES LABELS "package;slow" TIMEOUT 1200
  SKIP_RETURN_CODE 77)
