# The web dashboard: its build steps (assets.cmake) and its browser tests.
include(${CMAKE_CURRENT_LIST_DIR}/assets.cmake)

# End-to-end: a real worker with --web, driven by headless Chromium through
# playwright-core (from npm, into the build directory). Exit 77 = skipped
# (no Chromium or no node on this machine).
find_program(ERRAND_NODE node)
if(ERRAND_NODE AND ERRAND_NPM)
  add_test(NAME web_e2e
    COMMAND ${ERRAND_NODE} ${CMAKE_CURRENT_LIST_DIR}/e2e/dashboard.e2e.mjs)
  set_tests_properties(web_e2e PROPERTIES
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    ENVIRONMENT "ERRAND_BIN=$<TARGET_FILE:errand_cli>;ERRAND_EXAMPLES=$<TARGET_FILE:errand_examples>;ERRAND_WEB_NODE_MODULES=${ERRAND_WEB_NODE_MODULES};ERRAND_ARTIFACTS=${CMAKE_BINARY_DIR}/test-artifacts")
endif()
