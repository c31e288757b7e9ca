# errand::errand_testing (include/errand/testing.h, src/testing/): fake and
# inline modes, a manual clock and EXPECT_ENQUEUED for the tests of
# applications that use errand. Built when GoogleTest is found (its headers
# are part of the API); installed with its own export set, which
# errandConfig.cmake loads when the consumer has GoogleTest too.
find_package(GTest QUIET)
option(ERRAND_BUILD_TESTING_LIB "Build errand::errand_testing (needs GoogleTest)" ${GTest_FOUND})
if(NOT ERRAND_BUILD_TESTING_LIB)
  return()
endif()
find_package(GTest REQUIRED)
file(GLOB ERRAND_TESTING_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/testing/*.cc)
add_library(errand_testing ${ERRAND_TESTING_SOURCES})
add_library(errand::errand_testing ALIAS errand_testing)
set_target_properties(errand_testing PROPERTIES VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR} EXPORT_NAME errand_testing)
# It drives the worker's own runner and retry policy (src/server).
target_include_directories(errand_testing PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_compile_options(errand_testing PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_testing PUBLIC errand GTest::gtest)
# As a subproject (add_subdirectory, FetchContent) it is built only when a
# target of the parent project links it.
if(NOT PROJECT_IS_TOP_LEVEL)
  set_target_properties(errand_testing PROPERTIES EXCLUDE_FROM_ALL ON)
endif()
