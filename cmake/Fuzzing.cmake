# libFuzzer targets (tests/fuzz), in a build directory of their own with Clang:
#
#   CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DNNC_FUZZ=ON
#
# or simply scripts/fuzz.sh TARGET MINUTES, which does that. Every library is compiled with
# AddressSanitizer and UndefinedBehaviorSanitizer, those a fuzz target links also with
# libFuzzer's coverage instrumentation;
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
  enable_testing()
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fuzz ${PROJECT_BINARY_DIR}/tests/fuzz)
  # Coverage feedback for libFuzzer only in the libraries a fuzz target links (found from
  # the targets' link dependencies once every target exists): code no fuzz target reaches
  # (LLVM code generation, the session, the driver, the test binaries) would only compile
  # and run slower in the sanitizer build that shares these objects. No -g here: the build
  # type's flags say how much debug information (scripts/sanitize.sh: -g1, line numbers).
  function(nnc_fuzz_instrument target)
    get_target_property(deps ${target} LINK_LIBRARIES)
    foreach(dep IN LISTS deps)
      if(NOT TARGET ${dep})
        continue()
      endif()
      get_target_property(type ${dep} TYPE)
      get_target_property(imported ${dep} IMPORTED)
      get_target_property(done ${dep} NNC_FUZZ_INSTRUMENTED)
      if(imported OR done OR NOT type MATCHES "STATIC_LIBRARY|SHARED_LIBRARY|OBJECT_LIBRARY")
        continue()
      endif()
      set_target_properties(${dep} PROPERTIES NNC_FUZZ_INSTRUMENTED ON)
      target_compile_options(${dep} PRIVATE -fsanitize=fuzzer-no-link)
      nnc_fuzz_instrument(${dep})
    endforeach()
  endfunction()
  function(nnc_fuzz_instrument_all)
    get_property(targets DIRECTORY ${PROJECT_SOURCE_DIR}/tests/fuzz PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      if(type STREQUAL "EXECUTABLE")
        target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
        nnc_fuzz_instrument(${target})
      endif()
    endforeach()
  endfunction()
  cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL nnc_fuzz_instrument_all)
  message(STATUS "nnc: fuzz targets enabled (sanitizers: ${nnc_fuzz_sanitizers})")
endif()
