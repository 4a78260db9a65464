# sgemm_bench's peer: OpenBLAS cblas_sgemm (libopenblas-dev). Without it the bench still
# builds and measures nnc alone.
find_package(OpenBLAS QUIET CONFIG)
if(OpenBLAS_FOUND)
  target_include_directories(${bench_name} SYSTEM PRIVATE ${OpenBLAS_INCLUDE_DIRS})
  target_link_libraries(${bench_name} PRIVATE ${OpenBLAS_LIBRARIES})
  target_compile_definitions(${bench_name} PRIVATE NNC_BENCH_HAVE_OPENBLAS=1)
else()
  message(STATUS "nnc bench: OpenBLAS not found; sgemm_bench runs without its peer")
endif()
