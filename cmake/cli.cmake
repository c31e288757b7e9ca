# The `errand` command-line tool (src/cli). Included from CMakeLists.txt.
find_package(CLI11 CONFIG REQUIRED)
# sd_notify for `errand worker` under systemd: src/cli/systemd_notify.cc
# speaks the notify protocol itself (no libsystemd to load).

file(GLOB ERRAND_CLI_SOURCES CONFIGURE_DEPENDS src/cli/*.cc)
# The dashboard is a module the CLI loads with dlopen only for `errand web`
# and `worker --web` (liberrand_web.so: web_module.cc with errand_web,
# web/assets.cmake), so other commands never map cpp-httplib and OpenSSL.
# Without it, no_web.cc stands in for web_cmd.cc.
list(FILTER ERRAND_CLI_SOURCES EXCLUDE REGEX "/web_module\\.cc$")
if(ERRAND_BUILD_WEB)
  list(FILTER ERRAND_CLI_SOURCES EXCLUDE REGEX "/no_web\\.cc$")
  # The fingerprint of the headers the binary and the module share (the
  # public API and the module's entry point): the binary refuses a module
  # built from other ones, even of the same version (a stale build found
  # through $ERRAND_WEB_MODULE). CMake runs again when one of them changes,
  # so the fingerprint follows them; only web_cmd.cc and web_module.cc use it.
  file(GLOB ERRAND_WEB_ABI_HEADERS ${PROJECT_SOURCE_DIR}/include/errand/*.h
    ${PROJECT_SOURCE_DIR}/src/cli/web_module.h)
  set(_errand_sums "")
  foreach(_h IN LISTS ERRAND_WEB_ABI_HEADERS)
    file(SHA256 "${_h}" _sum)
    string(APPEND _errand_sums "${_sum}")
  endforeach()
  string(SHA256 _errand_sums "${_errand_sums}")
  string(SUBSTRING "${_errand_sums}" 0 16 ERRAND_WEB_ABI_HASH)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ERRAND_WEB_ABI_HEADERS})
  set_source_files_properties(src/cli/web_cmd.cc PROPERTIES COMPILE_DEFINITIONS
    "ERRAND_WEB_MODULE_FROM_BIN=\"${ERRAND_BIN_TO_LIB}/errand/liberrand_web.so\";ERRAND_WEB_ABI_HASH=\"${ERRAND_WEB_ABI_HASH}\"")
else()
  list(FILTER ERRAND_CLI_SOURCES EXCLUDE REGEX "/web_cmd\\.cc$")
endif()
add_executable(errand_cli ${ERRAND_CLI_SOURCES})
set_target_properties(errand_cli PROPERTIES OUTPUT_NAME errand
  INSTALL_RPATH "$ORIGIN/${ERRAND_BIN_TO_LIB}")
target_include_directories(errand_cli PRIVATE src)
target_compile_options(errand_cli PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_cli PRIVATE errand CLI11::CLI11 spdlog::spdlog fmt::fmt yaml-cpp
  ${CMAKE_DL_LIBS})
# `errand demo` loads the example jobs from beside the binary (build tree) or
# from <libdir>/errand (installed); the binary itself has no job class.
target_link_libraries(errand_cli PRIVATE errand_examples_headers)
set_source_files_properties(src/cli/demo_cmd.cc PROPERTIES COMPILE_DEFINITIONS
  ERRAND_DEMO_LIB_FROM_BIN="${ERRAND_BIN_TO_LIB}/errand/liberrand_examples.so")
