# Benchmarks (make bench, bench/run.sh). Included from CMakeLists.txt when
# ERRAND_BUILD_BENCH is on.
find_package(CLI11 CONFIG REQUIRED)

# The in-process harness: every store inside one process.
add_executable(errand_bench ${CMAKE_CURRENT_LIST_DIR}/errand_bench.cc)
target_link_libraries(errand_bench PRIVATE errand CLI11::CLI11)
target_compile_options(errand_bench PRIVATE ${ERRAND_WARNINGS})

# The outside harness: worker processes started as a user starts them, timed
# by watching the store (hiredis, sqlite3) until every job is acknowledged.
add_executable(errand_outside ${CMAKE_CURRENT_LIST_DIR}/outside/main.cc
  ${CMAKE_CURRENT_LIST_DIR}/outside/watch.cc ${CMAKE_CURRENT_LIST_DIR}/outside/pg_watch.cc
  ${CMAKE_CURRENT_LIST_DIR}/outside/proc.cc)
target_include_directories(errand_outside PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(errand_outside PRIVATE errand CLI11::CLI11 SQLite::SQLite3 PkgConfig::HIREDIS
  ${PostgreSQL_LIBRARIES})
target_compile_options(errand_outside PRIVATE ${ERRAND_WARNINGS})

# The no-op job class those workers load (errand worker -r liberrand_bench_jobs.so).
add_library(errand_bench_jobs SHARED ${CMAKE_CURRENT_LIST_DIR}/jobs/bench_jobs.cc)
target_link_libraries(errand_bench_jobs PRIVATE errand)
target_compile_options(errand_bench_jobs PRIVATE ${ERRAND_WARNINGS})

# PostgreSQL for bench/run.sh: a throw-away server (the tests' helper, which
# reports through GoogleTest, so only with the tests) and the fetch-locking
# comparison (SKIP LOCKED against advisory locks).
if(TARGET GTest::gtest)
  add_executable(errand_pg_bench ${CMAKE_CURRENT_LIST_DIR}/pg/pg_bench.cc)
  target_link_libraries(errand_pg_bench PRIVATE CLI11::CLI11 GTest::gtest ${PostgreSQL_LIBRARIES})
  target_compile_options(errand_pg_bench PRIVATE ${ERRAND_WARNINGS})
endif()

# The micro-benchmarks (Google Benchmark), when it is installed.
file(GLOB ERRAND_BENCH_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/micro/*.cc)
find_package(benchmark QUIET)
if(ERRAND_BENCH_SOURCES AND benchmark_FOUND)
  add_executable(errand_micro ${ERRAND_BENCH_SOURCES})
  target_include_directories(errand_micro PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(errand_micro PRIVATE errand benchmark::benchmark)
endif()

# make bench's harness at a tiny size, as a smoke test (it asserts no time).
if(ERRAND_BUILD_TESTS)
  add_test(NAME bench_smoke COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(bench_smoke PROPERTIES
    ENVIRONMENT "BENCH_SMOKE=1;BUILD=${PROJECT_BINARY_DIR}" TIMEOUT 600)
endif()
