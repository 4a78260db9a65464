#pragma once
// The `tune { NAME = DISTRIBUTION ... }` block: its distributions and settings are checked
// into a TuneSpace, and each tune name then stands for a number wherever the model uses it.
#include <optional>

#include "compiler/ir/TuneSpace.h"
#include "dsl/ast/AST.h"
#include "dsl/sema/Sema.h"

namespace nnc::sema {

// Checks the block: every entry is `objective`, `trials`, `max_epochs` or a name bound to
// choice(...), uniform(lo, hi), log_uniform(lo, hi) or int_uniform(lo, hi) (each with an
// optional `default =`). Errors go to `s`, at the entry.
std::optional<TuneSpace> lowerTuneBlock(Sema& s, const ast::Decl& tune);

// The module with every use of a tune name replaced by its number: `values[name]` when given,
// else the name's fallback(). A name whose values are not all whole numbers becomes a
// fractional number, so that sema refuses it where an integer must go, whatever its value.
// `used` receives the value of every tune name.
ast::Module substituteHyperparameters(const ast::Module& module, const TuneSpace& space,
                                      const HyperparameterValues& values,
                                      std::vector<std::pair<std::string, double>>& used);

// After the train block: tune scores trials on the validation split with the objective.
void checkTuneAgainstTraining(Sema& s, const TuneSpace& space);

}  // namespace nnc::sema
