#pragma once
// Line charts as standalone SVG: a title, one or more panels side by side, each with its own
// axes (ticks at nice numbers, light grid lines), named series of (x, y) points drawn as
// lines with a dot at every point, optional vertical markers, and one legend for the whole
// figure. `train --plot`, `nnc plot` and `tune` draw their curves through this; it knows
// nothing of training.
//
// The SVG carries what a reader (or a test) needs to map a drawn point back to its value:
// every tick line has class "xtick"/"ytick" and data-value="V" at its drawn position, and
// every series is a <polyline class="series" data-panel="P" data-series="NAME" points="...">.
//
// For example, a tuner's trials, one curve per trial:
//
//   plot::Panel score{"val_accuracy", "epoch", "val_accuracy"};
//   score.integerX = true;
//   for (const Trial& t : trials) score.series.push_back({"trial " + std::to_string(t.id), t.points});
//   score.markers.push_back({bestEpoch, "best: trial 7"});
//   plot::Figure fig{model.name, "tune: 30 trials", {score}};
//   if (auto ok = plot::writeSvg(dir + "/trials.svg", fig); !ok) ... ok.error().message ...
#include <optional>
#include <string>
#include <vector>

#include "support/Result.h"

namespace nnc::plot {

struct Point {
  double x = 0, y = 0;
};

struct Series {
  std::string name{};  // the legend's text; series of one name in several panels share one entry
  std::vector<Point> points{};  // drawn in this order; points with a non-finite coordinate are skipped
  int color = -1;    // index into the palette; -1: the next colour not yet taken by a name
  bool dashed = false;
};

// A dotted vertical line across a panel at `x`, explained by a legend entry (its label, e.g.
// "best epoch 4"; markers of one label in several panels share the entry).
struct Marker {
  double x = 0;
  std::string label{};
};

struct Panel {
  std::string title{};   // above the panel ("loss")
  std::string xLabel{};  // under the x axis ("epoch")
  std::string yLabel{};  // beside the y axis
  std::vector<Series> series{};
  std::vector<Marker> markers{};
  bool integerX = false;  // x ticks only at whole numbers (epochs, trials)
  // The y range always includes these when given (accuracy: 1.0 keeps the top honest).
  std::optional<double> yFloor{}, yCeiling{};
};

struct Figure {
  std::string title{};     // the model's name, at the top
  std::string subtitle{};  // smaller, under it (may be empty)
  std::vector<Panel> panels{};
  int width = 900, height = 560;
};

// The document, starting with <?xml ...?>. Text is escaped; an empty panel is drawn with its
// axes and a "no data" note. Never fails.
std::string renderSvg(const Figure& figure);

// renderSvg written atomically (temporary file, then rename): `path` holds either its old
// content or the whole new picture. Errors name the path.
Result<void> writeSvg(const std::string& path, const Figure& figure);

// Ticks at "nice" numbers (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]: the first
// tick <= lo, the last >= hi, about `target` of them. With `integers`, the step is at least 1.
std::vector<double> niceTicks(double lo, double hi, int target, bool integers);

}  // namespace nnc::plot
