# conv_bench's peer: oneDNN (libdnnl-dev), which runs on OpenMP threads (omp_set_num_threads
# sets its count). Without it the bench still builds and measures nnc alone. Found by library
# and header rather than find_package(dnnl): Debian's dnnl-config.cmake insists on OpenCL
# (its GPU runtime), which a CPU benchmark does not need.
find_library(NNC_DNNL_LIBRARY NAMES dnnl)
find_path(NNC_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
find_package(OpenMP QUIET COMPONENTS CXX)
if(NNC_DNNL_LIBRARY AND NNC_DNNL_INCLUDE_DIR AND OpenMP_CXX_FOUND)
  target_include_directories(${bench_name} SYSTEM PRIVATE ${NNC_DNNL_INCLUDE_DIR})
  target_link_libraries(${bench_name} PRIVATE ${NNC_DNNL_LIBRARY} OpenMP::OpenMP_CXX)
  target_compile_definitions(${bench_name} PRIVATE NNC_BENCH_HAVE_DNNL=1)
else()
  message(STATUS "nnc bench: oneDNN or OpenMP not found; conv_bench runs without its peer")
endif()
