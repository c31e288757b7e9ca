# The dashboard's front end: npm packages installed at build time into the
# build directory (never committed), then embedded with the project's own
# files into errand_web, the dashboard's library (linked by the dashboard
# module that the `errand` binary loads, liberrand_web.so, and by the test
# binary).
#
# Included from web/tests.cmake, which the top-level CMakeLists.txt includes.

pkg_check_modules(CPPHTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

set(ERRAND_WEB_DIR ${CMAKE_CURRENT_LIST_DIR})
set(ERRAND_WEB_BUILD ${CMAKE_BINARY_DIR}/web)
set(ERRAND_WEB_NODE_MODULES ${ERRAND_WEB_BUILD}/node_modules)
file(MAKE_DIRECTORY ${ERRAND_WEB_BUILD})

# Our own files, served under /assets/.
file(GLOB ERRAND_WEB_OWN_ASSETS CONFIGURE_DEPENDS ${ERRAND_WEB_DIR}/assets/*)
set(ERRAND_WEB_ASSET_LIST "")
foreach(f IN LISTS ERRAND_WEB_OWN_ASSETS)
  get_filename_component(name ${f} NAME)
  list(APPEND ERRAND_WEB_ASSET_LIST "/assets/${name}=${f}")
endforeach()

# The charting library, from npm (web/package.json + package-lock.json).
find_program(ERRAND_NPM npm)
set(ERRAND_WEB_NPM_STAMP ${ERRAND_WEB_NODE_MODULES}/.errand-npm-ci)
set(ERRAND_WEB_UPLOT_JS ${ERRAND_WEB_NODE_MODULES}/uplot/dist/uPlot.iife.min.js)
set(ERRAND_WEB_UPLOT_CSS ${ERRAND_WEB_NODE_MODULES}/uplot/dist/uPlot.min.css)
if(ERRAND_NPM)
  add_custom_command(
    OUTPUT ${ERRAND_WEB_NPM_STAMP} ${ERRAND_WEB_UPLOT_JS} ${ERRAND_WEB_UPLOT_CSS}
    COMMAND ${CMAKE_COMMAND} -E copy ${ERRAND_WEB_DIR}/package.json
            ${ERRAND_WEB_DIR}/package-lock.json ${ERRAND_WEB_BUILD}/
    COMMAND ${ERRAND_NPM} ci --prefix ${ERRAND_WEB_BUILD} --no-audit --no-fund
            --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch ${ERRAND_WEB_NPM_STAMP}
    DEPENDS ${ERRAND_WEB_DIR}/package.json ${ERRAND_WEB_DIR}/package-lock.json
    COMMENT "npm ci (dashboard front-end packages into ${ERRAND_WEB_BUILD})"
    VERBATIM)
  list(APPEND ERRAND_WEB_ASSET_LIST "/assets/vendor/uPlot.iife.min.js=${ERRAND_WEB_UPLOT_JS}"
       "/assets/vendor/uPlot.min.css=${ERRAND_WEB_UPLOT_CSS}")
  set(ERRAND_WEB_ASSET_DEPS ${ERRAND_WEB_NPM_STAMP})
else()
  message(WARNING "npm not found: the dashboard is built without its charts "
                  "(install nodejs and npm: scripts/install-deps.sh)")
  set(ERRAND_WEB_ASSET_DEPS "")
endif()

set(ERRAND_WEB_ASSETS_CC ${ERRAND_WEB_BUILD}/assets_data.cc)
# "|"-separated: a ";" inside a custom command's argument would split it.
string(REPLACE ";" "|" ERRAND_WEB_ASSET_ARG "${ERRAND_WEB_ASSET_LIST}")
add_custom_command(
  OUTPUT ${ERRAND_WEB_ASSETS_CC}
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${ERRAND_WEB_ASSETS_CC} "-DASSETS=${ERRAND_WEB_ASSET_ARG}"
          -P ${ERRAND_WEB_DIR}/embed_assets.cmake
  DEPENDS ${ERRAND_WEB_DIR}/embed_assets.cmake ${ERRAND_WEB_OWN_ASSETS} ${ERRAND_WEB_ASSET_DEPS}
  COMMENT "Embedding dashboard assets"
  VERBATIM)

# The dashboard (src/web) with its embedded assets, compiled once: a static
# library linked into the dashboard module and into the tests, which run it
# in-process.
file(GLOB ERRAND_WEB_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/web/*.cc)
add_library(errand_web STATIC ${ERRAND_WEB_SOURCES} ${ERRAND_WEB_ASSETS_CC})
target_include_directories(errand_web PUBLIC ${PROJECT_SOURCE_DIR}/src ${HTTPLIB_INCLUDE})
target_compile_options(errand_web PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_web PUBLIC errand PkgConfig::CPPHTTPLIB)

# The dashboard module, liberrand_web.so: what `errand web` and `errand worker
# --web` dlopen (src/cli/web_module.h), beside the binary in the build tree
# and in <libdir>/errand/ when installed (cmake/install.cmake). The `errand`
# binary does not link it, so a plain worker maps no httplib, OpenSSL, zlib
# or brotli.
add_library(errand_web_module MODULE ${PROJECT_SOURCE_DIR}/src/cli/web_module.cc)
target_compile_definitions(errand_web_module PRIVATE
  ERRAND_WEB_ABI_HASH="${ERRAND_WEB_ABI_HASH}")  # cmake/cli.cmake
set_target_properties(errand_web_module PROPERTIES OUTPUT_NAME errand_web
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON INSTALL_RPATH "$ORIGIN/..")
target_compile_options(errand_web_module PRIVATE ${ERRAND_WARNINGS})
target_link_libraries(errand_web_module PRIVATE errand_web)
# One exported symbol, errand_web_module: errand_web's own stay inside.
target_link_options(errand_web_module PRIVATE LINKER:--exclude-libs,ALL)
# Building `errand` builds what its `web` command loads.
add_dependencies(errand_cli errand_web_module)
if(TARGET errand_tests)
  target_link_libraries(errand_tests PRIVATE errand_web)
  # A module of this version and abi built from other headers, which the
  # binary must refuse (tests/cli_pkg_test.cc).
  add_library(errand_test_foreign_web_module MODULE
    ${ERRAND_TESTS_DIR}/support/foreign_web_module.cc)
  target_include_directories(errand_test_foreign_web_module PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(errand_test_foreign_web_module PRIVATE errand)
  add_dependencies(errand_tests errand_test_foreign_web_module)
  target_compile_definitions(errand_tests PRIVATE
    ERRAND_FOREIGN_WEB_MODULE="$<TARGET_FILE:errand_test_foreign_web_module>")
endif()
