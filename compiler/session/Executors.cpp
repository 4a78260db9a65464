#include "compiler/session/Executors.h"

#include "compiler/session/InterpreterExecutor.h"
#include "compiler/session/JitExecutor.h"
#include "runtime/support/Interrupt.h"

namespace nnc {

Result<Backend> parseBackend(const std::string& name) {
  if (name == "jit") return Backend::Jit;
  if (name == "interpreter") return Backend::Interpreter;
  return makeError("unknown backend '" + name + "' (expected jit or interpreter)");
}

Result<std::unique_ptr<training::Executor>> createExecutor(const Model& model, const ExecutorOptions& options) {
  interrupt::testPoint("compile");
  switch (options.backend) {
    case Backend::Interpreter: {
      if (options.splitStep)
        return makeError("the interpreter backend does not train data-parallel (under mpirun); use --backend jit");
      auto e = InterpreterExecutor::create(model, options.seed);
      if (!e) return e.error();
      return std::unique_ptr<training::Executor>(std::move(*e));
    }
    case Backend::Jit: {
      auto e = JitExecutor::create(model, options);
      if (!e) return e.error();
      return std::unique_ptr<training::Executor>(std::move(*e));
    }
  }
  return makeError("unknown backend");
}

}  // namespace nnc
