# Checked thread safety and sanitizers (docs/reliability.md, "Sanitizers and
# thread-safety analysis"; scripts/sanitize.sh drives both).
#
# RECONDB_SANITIZE: "" (default), "address,undefined" or "thread". Instruments
# every target of the project, compile and link. UBSan findings abort instead
# of printing and going on, so that they fail the test that hit them.
set(RECONDB_SANITIZE "" CACHE STRING
    "Sanitizers for every target: \"\", \"address,undefined\" or \"thread\"")
set_property(CACHE RECONDB_SANITIZE PROPERTY STRINGS "" "address,undefined" "thread")

if(RECONDB_SANITIZE)
  if(NOT RECONDB_SANITIZE MATCHES "^(address,undefined|thread)$")
    message(FATAL_ERROR "RECONDB_SANITIZE must be \"\", \"address,undefined\" or \"thread\", "
                        "not \"${RECONDB_SANITIZE}\"")
  endif()
  add_compile_options(-fsanitize=${RECONDB_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${RECONDB_SANITIZE})
  if(RECONDB_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
    add_link_options(-fno-sanitize-recover=undefined)
  endif()
  if(RECONDB_SANITIZE STREQUAL "thread")
    # Debian's absl::Mutex is not built for TSan: every executable gets the
    # annotated lock and unlock of tests/sanitizers/tsan_absl_mutex.cc.
    add_library(recondb_tsan_absl_mutex OBJECT
                ${CMAKE_CURRENT_LIST_DIR}/../tests/sanitizers/tsan_absl_mutex.cc)
    target_link_libraries(recondb_tsan_absl_mutex PUBLIC absl::synchronization ${CMAKE_DL_LIBS})
    link_libraries("$<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:recondb_tsan_absl_mutex>")
  endif()
endif()

# Clang checks the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations
# (STYLE.md, "Concurrency") and a broken one fails the build. GCC has no such
# analysis, so a g++ build is unaffected.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-Wthread-safety -Werror=thread-safety)
endif()
