#include "compiler/driver/PlotCommand.h"

#include <sys/stat.h>

#include <iostream>
#include <map>
#include <vector>

#include "compiler/driver/Command.h"
#include "runtime/plot/LearningCurves.h"
#include "compiler/driver/ModelLoader.h"

namespace nnc::driver {

namespace {

std::string stemOf(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  auto dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

// `nnc plot check` most likely meant a model file named `plot`: say how to write that.
std::string hintForModelNamedPlot(const std::string& log) {
  struct stat st;
  if (log.find_first_of("./") != std::string::npos || stat("plot", &st) != 0 || !S_ISREG(st.st_mode)) return "";
  return "to run the command '" + log + "' on the model file 'plot', write: nnc ./plot " + log;
}

}  // namespace

bool isPlotCommand(int argc, char** argv) { return argc >= 2 && std::string(argv[1]) == "plot"; }

CLI::Validator svgPath() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        const std::string ext = ".svg";
        if (value.size() > ext.size()) {
          std::string tail = value.substr(value.size() - ext.size());
          for (char& c : tail) c = char(std::tolower(static_cast<unsigned char>(c)));
          if (tail == ext) return {};
        }
        return "'" + value + "': the picture is SVG; name the file FILE.svg";
      },
      "FILE.svg");
}

int runPlotCommand(int argc, char** argv) {
  CLI::App app{"Draw the learning curves of runs logged by 'nnc FILE train --log LOG.jsonl' (loss and accuracy "
               "per epoch, training and validation) on shared axes, as an SVG picture.",
               "nnc plot"};
  std::vector<std::string> logs;
  std::string out;
  app.add_option("LOG", logs, "Logs written by train --log (one JSON object per epoch)")->required();
  app.add_option("-o,--out", out, "The picture to write (SVG; written atomically)")->required()->check(svgPath());
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    if (std::string hint = argc >= 3 ? hintForModelNamedPlot(argv[2]) : ""; !hint.empty())
      std::cerr << "nnc: note: " << hint << '\n';
    return kExitUsage;
  }

  std::vector<plot::Run> runs;
  std::map<std::string, int> stems, labels;
  for (const std::string& log : logs) ++stems[stemOf(log)];
  for (const std::string& log : logs) {
    auto run = plot::readTrainingLog(log);
    if (!run) {
      const std::string hint = hintForModelNamedPlot(log);
      return fail(run.error().message + (hint.empty() ? "" : " (" + hint + ")"));
    }
    // The legend names a run by its file's stem, or by its path when two stems are alike
    // (and numbers a log given twice).
    run->label = stems[stemOf(log)] > 1 ? log : stemOf(log);
    if (int seen = labels[run->label]++; seen > 0) run->label += " #" + std::to_string(seen + 1);
    runs.push_back(std::move(*run));
  }
  if (auto ok = plot::writeSvg(out, plot::learningCurves(runs)); !ok) return fail(ok.error().message);
  return kExitOk;
}

bool plotTrainingRun(const std::string& path, const std::string& model, const training::FitOutcome& outcome,
                     std::ostream& out) {
  if (outcome.history.empty()) {
    out << "No epoch completed: no learning curves written to " << path << ".\n";
    return true;
  }
  plot::Run run;
  run.model = model;
  run.epochs = outcome.history;
  if (!outcome.interrupted) run.bestEpoch = outcome.bestEpoch;  // an interrupt keeps the last epoch instead
  if (auto ok = plot::writeSvg(path, plot::learningCurves({run})); !ok) {
    fail(ok.error().message);
    return false;
  }
  out << "Learning curves written to " << path << '\n';
  return true;
}

}  // namespace nnc::driver
