# RECONDB_FUZZ: the libFuzzer build (fuzz/, docs/reliability.md "Fuzzing").
# Every library is instrumented for coverage (fuzzer-no-link) and checked by
# AddressSanitizer and UBSan; only the fuzz targets link libFuzzer's main.
# Independent of RECONDB_SANITIZE (cmake/Sanitizers.cmake): this file adds
# the sanitizers it needs itself. Include it before any add_subdirectory.
option(RECONDB_FUZZ "Build the libFuzzer targets of fuzz/ (clang only)" OFF)

if(RECONDB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR
      "RECONDB_FUZZ needs clang (libFuzzer): configure with CC=clang CXX=clang++ "
      "in a build directory of its own")
  endif()
  # UB aborts, so that libFuzzer keeps the input as a crash.
  set(RECONDB_FUZZ_SANITIZERS address,undefined)
  add_compile_options(-fsanitize=fuzzer-no-link,${RECONDB_FUZZ_SANITIZERS}
                      -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${RECONDB_FUZZ_SANITIZERS})
endif()
