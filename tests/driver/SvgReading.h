#pragma once
// Reads back what an SVG from runtime/plot/SvgPlot drew, as a person reading the picture
// would: each panel's axis mapping from its labelled tick lines (two ticks fix a linear
// axis), then every polyline's points through that mapping into data values. Independent
// of the writer's own arithmetic, so a tick at the wrong place or a point drawn at the wrong
// height shows up as a wrong value.
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace nnc::test {

struct Axis {
  double pixel0 = 0, value0 = 0, pixel1 = 1, value1 = 1;
  double value(double pixel) const { return value0 + (pixel - pixel0) * (value1 - value0) / (pixel1 - pixel0); }
  double span() const { return value1 - value0; }
};

struct DrawnPanel {
  std::string title;
  Axis x, y;
  int xTicks = 0, yTicks = 0;
  std::map<std::string, std::vector<std::pair<double, double>>> series;  // name -> data points
  std::vector<double> markers;                                           // data x of marker lines
};

inline std::string attribute(const std::string& element, const std::string& name) {
  std::smatch m;
  if (std::regex_search(element, m, std::regex(" " + name + "=\"([^\"]*)\""))) return m[1];
  return "";
}

// Fits the axis from the first and last tick of `cls` ("xtick", "ytick"); `coordinate` is
// the attribute holding the tick's position ("x1" or "y1").
inline Axis fitAxis(const std::string& panel, const std::string& cls, const std::string& coordinate, int& count) {
  std::vector<std::pair<double, double>> ticks;  // pixel, value
  std::regex tick("<line class=\"" + cls + "\"[^>]*>");
  for (auto it = std::sregex_iterator(panel.begin(), panel.end(), tick); it != std::sregex_iterator(); ++it) {
    const std::string e = it->str();
    ticks.push_back({std::stod(attribute(e, coordinate)), std::stod(attribute(e, "data-value"))});
  }
  count = int(ticks.size());
  if (ticks.size() < 2) return {};
  return Axis{ticks.front().first, ticks.front().second, ticks.back().first, ticks.back().second};
}

inline std::vector<DrawnPanel> readPanels(const std::string& svg) {
  std::vector<DrawnPanel> panels;
  const std::string start = "<g class=\"panel\"";
  for (size_t at = svg.find(start); at != std::string::npos;) {
    const size_t next = svg.find(start, at + 1);
    const std::string text = svg.substr(at, next == std::string::npos ? std::string::npos : next - at);
    DrawnPanel p;
    p.title = attribute(text.substr(0, text.find('>')), "data-panel");
    p.x = fitAxis(text, "xtick", "x1", p.xTicks);
    p.y = fitAxis(text, "ytick", "y1", p.yTicks);
    std::regex line("<polyline class=\"series\"[^>]*>");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator(); ++it) {
      const std::string e = it->str();
      auto& points = p.series[attribute(e, "data-series")];
      std::string coords = attribute(e, "points");
      std::regex pair("(-?[0-9.]+),(-?[0-9.]+)");
      for (auto c = std::sregex_iterator(coords.begin(), coords.end(), pair); c != std::sregex_iterator(); ++c)
        points.push_back({p.x.value(std::stod((*c)[1])), p.y.value(std::stod((*c)[2]))});
    }
    std::regex marker("<line class=\"marker\"[^>]*>");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), marker); it != std::sregex_iterator(); ++it)
      p.markers.push_back(p.x.value(std::stod(attribute(it->str(), "x1"))));
    panels.push_back(std::move(p));
    at = next;
  }
  return panels;
}

}  // namespace nnc::test
