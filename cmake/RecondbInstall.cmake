# find_package(recondb) for programs that embed the engine (docs/embedding.md):
# the exported targets recondb::engine, recondb::storage,
# recondb::storage_memory, recondb::storage_sqlite, recondb::common and
# recondb::proto, their headers under include/recondb, and a package
# configuration that finds their Debian dependencies again.
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

# The headers keep their source layout ("engine/engine.h"); internal headers
# go too, because public ones include some of them.
foreach(module common storage engine)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${module}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/recondb COMPONENT dev
    FILES_MATCHING PATTERN "*.h"
    PATTERN "testing" EXCLUDE
    PATTERN "*_testing.h" EXCLUDE)
endforeach()

set(RECONDB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/recondb)
install(EXPORT recondbTargets NAMESPACE recondb:: DESTINATION ${RECONDB_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/recondbConfig.cmake.in
  ${PROJECT_BINARY_DIR}/recondbConfig.cmake INSTALL_DESTINATION ${RECONDB_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/recondbConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/recondbConfig.cmake ${PROJECT_BINARY_DIR}/recondbConfigVersion.cmake
  DESTINATION ${RECONDB_CMAKE_DIR} COMPONENT dev)
