# The `errand` command-line tool (src/cli). Included from CMakeLists.txt.
find_package(CLI11 CONFIG REQUIRED)
pkg_check_modules(SYSTEMD IMPORTED_TARGET libsystemd)

file(GLOB ERRAND_CLI_SOURCES CONFIGURE_DEPENDS src/cli/*.cc)
# Without the dashboard, no_web.cc stands in for web_cmd.cc.
if(ERRAND_BUILD_WEB)
  list(FILTER ERRAND_CLI_SOURCES EXCLUDE REGEX "/no_web\\.cc$")
else()
  list(FILTER ERRAND_CLI_SOURCES EXCLUDE REGEX "/web_cmd\\.cc$")
endif()
add_executable(errand_cli ${ERRAND_CLI_SOURCES})
set_target_properties(errand_cli PROPERTIES OUTPUT_NAME errand
  INSTALL_RPATH "$ORIGIN/${ERRAND_BIN_TO_LIB}")
# `errand demo` loads the example jobs from beside the binary (build tree) or
# from <libdir>/errand (installed).
target_compile_definitions(errand_cli PRIVATE
  ERRAND_DEMO_LIB_FROM_BIN="${ERRAND_BIN_TO_LIB}/errand/liberrand_examples.so")
target_include_directories(errand_cli PRIVATE src examples)
target_compile_options(errand_cli PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_cli PRIVATE errand CLI11::CLI11 spdlog::spdlog fmt::fmt yaml-cpp
  ${CMAKE_DL_LIBS})
if(ERRAND_BUILD_WEB)
  target_link_libraries(errand_cli PRIVATE errand_web)
endif()
# systemd notifications (Type=notify, watchdog): a no-op without libsystemd.
if(SYSTEMD_FOUND)
  target_link_libraries(errand_cli PRIVATE PkgConfig::SYSTEMD)
  target_compile_definitions(errand_cli PRIVATE ERRAND_WITH_SYSTEMD=1)
endif()
