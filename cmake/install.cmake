# Install rules, the CMake package (find_package(errand) → errand::errand),
# pkg-config's errand.pc and the Debian package (make package → CPack).
# Included from CMakeLists.txt when ERRAND_INSTALL is on.
include(CMakePackageConfigHelpers)
set(ERRAND_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/errand)

install(TARGETS errand EXPORT errandTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY include/errand DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/errand/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/errand COMPONENT dev)

install(EXPORT errandTargets NAMESPACE errand:: DESTINATION ${ERRAND_CMAKE_DIR} COMPONENT dev)
# errand::errand_testing links GTest::gtest: its own export set, loaded by
# errandConfig.cmake only where GoogleTest is found.
if(TARGET errand_testing)
  install(TARGETS errand_testing EXPORT errandTestingTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev NAMELINK_COMPONENT dev
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
  install(EXPORT errandTestingTargets NAMESPACE errand:: DESTINATION ${ERRAND_CMAKE_DIR}
    COMPONENT dev)
endif()
configure_package_config_file(cmake/errandConfig.cmake.in
  ${PROJECT_BINARY_DIR}/errandConfig.cmake INSTALL_DESTINATION ${ERRAND_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/errandConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/errandConfig.cmake
  ${PROJECT_BINARY_DIR}/errandConfigVersion.cmake DESTINATION ${ERRAND_CMAKE_DIR} COMPONENT dev)

# pkg-config: liberrand's private dependencies matter only to --static.
file(RELATIVE_PATH ERRAND_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
  ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" ERRAND_PC_TO_PREFIX "${ERRAND_PC_TO_PREFIX}")
set(ERRAND_PC_REQUIRES_PRIVATE "spdlog fmt yaml-cpp sqlite3 hiredis simdjson")
configure_file(cmake/errand.pc.in ${PROJECT_BINARY_DIR}/errand.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/errand.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT dev)

if(ERRAND_BUILD_CLI)
  install(TARGETS errand_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  install(FILES packaging/errand@.service DESTINATION lib/systemd/system COMPONENT runtime)
endif()
# The dashboard module that `errand web` and `worker --web` dlopen: where the
# binary looks for it (<libdir>/errand/, ERRAND_WEB_MODULE_FROM_BIN in
# cmake/cli.cmake); its RUNPATH finds liberrand one level up.
if(TARGET errand_web_module)
  install(TARGETS errand_web_module LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/errand
    COMPONENT runtime)
endif()

# make package: build/errand_<version>_amd64.deb, everything above in one package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME errand)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "errand maintainers <errand@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Background jobs for C++, Sidekiq-compatible")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# Runtime Depends: from the libraries the binaries and the dashboard module
# link (dpkg-shlibdeps: libcpp-httplib through liberrand_web.so); the headers
# include nlohmann/json.hpp.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# liberrand itself is in the package: dpkg-shlibdeps finds it in the build tree.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_DEPENDS "nlohmann-json3-dev")
# libpq is dlopen()ed (ERRAND_LAZY_LIBPQ), so dpkg-shlibdeps cannot see it.
if(ERRAND_LAZY_LIBPQ)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libpq5")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "redis-server")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR})
include(CPack)
