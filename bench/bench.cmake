# Benchmarks (make bench): the end-to-end harness and the micro-benchmarks.
# Included from CMakeLists.txt when ERRAND_BUILD_BENCH is on.
find_package(CLI11 CONFIG REQUIRED)
add_executable(errand_bench ${CMAKE_CURRENT_LIST_DIR}/errand_bench.cc)
target_link_libraries(errand_bench PRIVATE errand CLI11::CLI11)
target_compile_options(errand_bench PRIVATE ${ERRAND_WARNINGS})

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
