# libFuzzer targets (tests/fuzz), in a build directory of their own with Clang:
#
#   CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DNNC_FUZZ=ON
#
# or simply scripts/fuzz.sh TARGET MINUTES, which does that. Every library is compiled with
# libFuzzer's coverage instrumentation plus AddressSanitizer and UndefinedBehaviorSanitizer;
# each fuzz_* executable links libFuzzer's main. The `fuzz` ctest label runs every target for
# NNC_FUZZ_SECONDS on its corpus plus fresh mutations (see docs/fuzzing.md).
# The normal GCC build is unaffected: without NNC_FUZZ this file does nothing.
option(NNC_FUZZ "Build the libFuzzer fuzz targets (Clang only; use a separate build directory)" OFF)

if(NNC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "NNC_FUZZ needs Clang (libFuzzer), e.g. CC=clang-19 CXX=clang++-19; "
                        "this build uses ${CMAKE_CXX_COMPILER_ID}")
  endif()
  set(nnc_fuzz_sanitizers address,undefined)
  if(NNC_SANITIZE)
    set(nnc_fuzz_sanitizers ${NNC_SANITIZE})  # already added by Sanitizers.cmake
  else()
    add_compile_options(-fsanitize=${nnc_fuzz_sanitizers} -fno-sanitize-recover=all -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${nnc_fuzz_sanitizers} -fno-sanitize-recover=all)
  endif()
  # Coverage feedback for libFuzzer in every library; only the fuzz targets link its main.
  add_compile_options(-fsanitize=fuzzer-no-link -g)
  enable_testing()
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fuzz ${PROJECT_BINARY_DIR}/tests/fuzz)
  message(STATUS "nnc: fuzz targets enabled (sanitizers: ${nnc_fuzz_sanitizers})")
endif()
