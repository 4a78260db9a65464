# train_step_bench builds each example the way `nnc FILE bench` does: the front end (nnc_dsl),
# the step graphs and initial state (nnc_session), then the JIT. It reads the models from the
# source tree's examples/ folder, so it runs from any directory.
target_link_libraries(${bench_name} PRIVATE nnc_session nnc_dsl)
target_compile_definitions(${bench_name} PRIVATE NNC_EXAMPLES_DIR="${PROJECT_SOURCE_DIR}/examples")
