#pragma once
// Learning curves on the command line: `nnc plot LOG.jsonl [LOG.jsonl ...] -o FILE.svg`
// (logs of `train --log`), and `train --plot FILE.svg` (the run just trained).
//
// `nnc plot` is the one command without a model file, so main() dispatches it before the
// `nnc FILE COMMAND` parser: the first word `plot` is always this command (a model file named
// `plot` is written `./plot`).
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "runtime/training/Trainer.h"

namespace nnc::driver {

// argv[1] is "plot".
bool isPlotCommand(int argc, char** argv);
// Runs `nnc plot ...` from argv[1] on; returns the exit status.
int runPlotCommand(int argc, char** argv);

// Refuses a path that does not end in ".svg": the picture is SVG and nothing else.
CLI::Validator svgPath();

// train --plot: draws the epochs of `outcome` (marking the epoch early stopping kept) to `path`
// and says so on `out`; with no completed epoch, writes nothing and says that. On an error,
// prints it on stderr and returns false.
bool plotTrainingRun(const std::string& path, const std::string& model, const training::FitOutcome& outcome,
                     std::ostream& out);

}  // namespace nnc::driver
