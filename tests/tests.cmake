# The test suite. Included from CMakeLists.txt when ERRAND_BUILD_TESTS is on.
find_package(GTest REQUIRED)
set(ERRAND_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})

file(GLOB ERRAND_TEST_SOURCES CONFIGURE_DEPENDS ${ERRAND_TESTS_DIR}/*.cc
  ${ERRAND_TESTS_DIR}/store_conformance/*.cc)
add_executable(errand_tests ${ERRAND_TEST_SOURCES})
target_include_directories(errand_tests PRIVATE ${PROJECT_SOURCE_DIR}/src ${ERRAND_TESTS_DIR})
target_compile_options(errand_tests PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_tests PRIVATE errand errand_web GTest::gtest GTest::gtest_main
  GTest::gmock spdlog::spdlog fmt::fmt SQLite::SQLite3 PkgConfig::HIREDIS)

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

add_dependencies(errand_tests errand_cli errand_examples errand_test_jobs)
target_compile_definitions(errand_tests PRIVATE
  ERRAND_CLI_PATH="$<TARGET_FILE:errand_cli>"
  ERRAND_EXAMPLES_PATH="$<TARGET_FILE:errand_examples>"
  ERRAND_TEST_JOBS_PATH="$<TARGET_FILE:errand_test_jobs>"
  ERRAND_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  ERRAND_BINARY_DIR="${PROJECT_BINARY_DIR}")
include(GoogleTest)
gtest_discover_tests(errand_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)

# Tests that drive errand from Ruby (Sidekiq) through a real redis-server.
include(${PROJECT_SOURCE_DIR}/interop/tests.cmake OPTIONAL)
# The dashboard's browser tests.
include(${PROJECT_SOURCE_DIR}/web/tests.cmake OPTIONAL)

# errand from the outside: install into a temporary prefix and build
# examples/service, a pkg-config program and a generated project against it;
# and the .deb of make package. Bounded: each builds a few small files.
add_test(NAME consumer COMMAND bash ${ERRAND_TESTS_DIR}/consumer/consumer_test.sh
  ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${CMAKE_COMMAND})
add_test(NAME package_deb COMMAND bash ${ERRAND_TESTS_DIR}/consumer/package_test.sh
  ${PROJECT_BINARY_DIR} ${CMAKE_CPACK_COMMAND})
set_tests_properties(consumer package_deb PROPERTIES TIMEOUT 900)
