# The Ruby interop tests (tests/interop_test.cc drives interop/*.rb against a
# real redis-server). Included from the top-level CMakeLists.txt.
if(TARGET errand_interop_jobs)
  target_compile_options(errand_interop_jobs PRIVATE ${ERRAND_WARNINGS})
  add_dependencies(errand_tests errand_interop_jobs)
  find_program(ERRAND_RUBY ruby)
  target_compile_definitions(errand_tests PRIVATE
    ERRAND_INTEROP_JOBS_PATH="$<TARGET_FILE:errand_interop_jobs>"
    ERRAND_RUBY_PATH="${ERRAND_RUBY}")
endif()
