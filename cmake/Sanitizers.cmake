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
  message(STATUS "nnc: sanitizers: ${NNC_SANITIZE}")
endif()

include(${CMAKE_CURRENT_LIST_DIR}/Fuzzing.cmake)
