# Job libraries that register one class name twice, loaded into real workers by
# tests/registry_clash_test.cc (ERRAND_CLASH_<NAME>_PATH).
set(ERRAND_CLASH_LIBS a b override welcome twice)
set(ERRAND_CLASH_twice_SOURCES clash_twice_1.cc clash_twice_2.cc)
set(ERRAND_CLASH_welcome_SOURCES welcome.cc)
foreach(lib IN LISTS ERRAND_CLASH_LIBS)
  set(sources ${ERRAND_CLASH_${lib}_SOURCES})
  if(NOT sources)
    set(sources clash_${lib}.cc)
  endif()
  list(TRANSFORM sources PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
  add_library(errand_clash_${lib} SHARED ${sources})
  target_link_libraries(errand_clash_${lib} PRIVATE errand)
  target_compile_options(errand_clash_${lib} PRIVATE ${ERRAND_WARNINGS})
  add_dependencies(errand_tests errand_clash_${lib})
  string(TOUPPER ${lib} upper)
  target_compile_definitions(errand_tests PRIVATE
    ERRAND_CLASH_${upper}_PATH="$<TARGET_FILE:errand_clash_${lib}>")
endforeach()
