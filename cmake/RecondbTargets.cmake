# How every module declares its targets (STYLE.md: one way to do one thing).
#
#   recondb_cc_library(NAME recondb_x SRCS a.cc b.cc DEPS ... [PRIVATE_DEPS ...]
#                      [EXPORT_NAME x])
#     A static library whose headers are included as "module/file.h" from the
#     source root. With EXPORT_NAME it is installed and exported as recondb::x
#     (find_package(recondb), docs/embedding.md).
#
#   recondb_cc_test(NAME x_test [SRCS x_test.cc] DEPS ... [LABELS label]
#                   [TIMEOUT s] [DISCOVERY_TIMEOUT s] [NO_MAIN])
#     A GoogleTest executable registered with ctest, linked with gmock_main
#     unless NO_MAIN. Nothing at all when RECONDB_BUILD_TESTS is off, so that a
#     build without tests needs neither GoogleTest nor Python.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(recondb_cc_library)
  cmake_parse_arguments(ARG "" "NAME;EXPORT_NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/recondb>)
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  if(ARG_EXPORT_NAME)
    set_target_properties(${ARG_NAME} PROPERTIES EXPORT_NAME ${ARG_EXPORT_NAME})
    add_library(recondb::${ARG_EXPORT_NAME} ALIAS ${ARG_NAME})
    install(TARGETS ${ARG_NAME} EXPORT recondbTargets
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
  endif()
endfunction()

function(recondb_cc_test)
  if(NOT RECONDB_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "NO_MAIN" "NAME;TIMEOUT;DISCOVERY_TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_SRCS)
    set(ARG_SRCS ${ARG_NAME}.cc)
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  if(ARG_NO_MAIN)
    target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  else()
    target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock_main)
  endif()
  if(NOT ARG_DISCOVERY_TIMEOUT)
    set(ARG_DISCOVERY_TIMEOUT 30)
  endif()
  set(properties)
  if(ARG_LABELS)
    # gtest_discover_tests passes PROPERTIES on as a flat list, so a test
    # gets one label; `ctest -L` takes a regex ("unit|robustness").
    list(LENGTH ARG_LABELS count)
    if(count GREATER 1)
      message(FATAL_ERROR "recondb_cc_test(${ARG_NAME}): one label only")
    endif()
    list(APPEND properties LABELS ${ARG_LABELS})
  endif()
  if(ARG_TIMEOUT)
    list(APPEND properties TIMEOUT ${ARG_TIMEOUT})
  endif()
  if(properties)
    gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT ${ARG_DISCOVERY_TIMEOUT}
      PROPERTIES ${properties})
  else()
    gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT ${ARG_DISCOVERY_TIMEOUT})
  endif()
endfunction()
