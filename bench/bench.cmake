# make bench's programs (bench/run.sh); included from the top-level CMakeLists.txt.
# The in-process harness: every store inside one process.
add_executable(errand_bench bench/errand_bench.cc)
target_link_libraries(errand_bench PRIVATE errand CLI11::CLI11)
target_compile_options(errand_bench PRIVATE ${ERRAND_WARNINGS})

# The outside harness: worker processes started as a user starts them, timed
# by watching the store (hiredis, sqlite3) until every job is acknowledged.
add_executable(errand_outside bench/outside/main.cc bench/outside/watch.cc bench/outside/proc.cc)
target_include_directories(errand_outside PRIVATE bench)
target_link_libraries(errand_outside PRIVATE errand CLI11::CLI11 SQLite::SQLite3 PkgConfig::HIREDIS)
target_compile_options(errand_outside PRIVATE ${ERRAND_WARNINGS})

# The no-op job class those workers load (errand worker -r liberrand_bench_jobs.so).
add_library(errand_bench_jobs SHARED bench/jobs/bench_jobs.cc)
target_link_libraries(errand_bench_jobs PRIVATE errand)
target_compile_options(errand_bench_jobs PRIVATE ${ERRAND_WARNINGS})

# make bench's harness at a tiny size, as a smoke test (it asserts no time).
add_test(NAME bench_smoke COMMAND ${CMAKE_SOURCE_DIR}/bench/run.sh WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(bench_smoke PROPERTIES ENVIRONMENT "BENCH_SMOKE=1;BUILD=${CMAKE_BINARY_DIR}"
  TIMEOUT 600)
