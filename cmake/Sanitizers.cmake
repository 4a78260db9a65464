# Sanitizer builds of the whole project (compiler, runtime, driver and every test):
#
#   cmake -S . -B build-asan -G Ninja -DNNC_SANITIZE=address,undefined
#
# NNC_SANITIZE is passed to -fsanitize= as written, so any list GCC or Clang accepts works
# (address,undefined; thread; memory with Clang). Errors are not recoverable: the first
# report ends the process with a failure, so a test cannot pass with a sanitizer report in
# its output. scripts/sanitize.sh configures, builds and runs the suite this way.
#
# Fuzzing (NNC_FUZZ, Clang only) is configured by Fuzzing.cmake, included at the end.
set(NNC_SANITIZE "" CACHE STRING "Build everything with -fsanitize=<list>, e.g. address,undefined")

if(NNC_SANITIZE)
  add_compile_options(-fsanitize=${NNC_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${NNC_SANITIZE} -fno-sanitize-recover=all)
  # Clang's -fsanitize=function (part of `undefined`) checks an indirect call by reading a
  # signature just before the callee. JIT-compiled kernels have none, and one that starts a
  # memory mapping faults on that read: off, as generated code is called through pointers.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND NNC_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize=function)
  endif()
  message(STATUS "nnc: sanitizers: ${NNC_SANITIZE}")
endif()

include(${CMAKE_CURRENT_LIST_DIR}/Fuzzing.cmake)
