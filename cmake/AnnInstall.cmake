# install(EXPORT) + a package config that re-finds the dependencies, so that
#   find_package(ann CONFIG REQUIRED)  +  target_link_libraries(app PRIVATE ann::ann)
# works from another project (tests/consumer proves it).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/ann DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ann EXPORT annTargets)
install(EXPORT annTargets NAMESPACE ann:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ann)

configure_package_config_file(cmake/annConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/annConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ann)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/annConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/annConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/annConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ann)
