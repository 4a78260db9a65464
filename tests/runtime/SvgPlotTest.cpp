// The SVG line-chart writer behind train --plot, nnc plot and tune: nice tick values, text
// escaping, and the parts a reader needs (every series, ticks, legend, markers).
#include "runtime/plot/SvgPlot.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nnc::plot {
namespace {

TEST(SvgPlot, NiceTicksCoverTheRangeWithRoundSteps) {
  EXPECT_EQ(niceTicks(0.28, 0.64, 6, false), (std::vector<double>{0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65}));
  EXPECT_EQ(niceTicks(0.0, 1.0, 6, false), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  EXPECT_EQ(niceTicks(1, 10, 10, true), (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  // Whole steps only when asked: 3 epochs never get a tick at 1.5.
  for (double t : niceTicks(1, 3, 8, true)) EXPECT_EQ(t, std::round(t));
  std::vector<double> big = niceTicks(0, 3000, 5, true);
  EXPECT_EQ(big.front(), 0);
  EXPECT_EQ(big.back(), 3000);
  for (double lo : {-7.3, 0.0, 0.0012, 1e6}) {
    for (double width : {1e-3, 0.5, 17.0}) {
      std::vector<double> t = niceTicks(lo, lo + width, 6, false);
      ASSERT_GE(t.size(), 2u);
      EXPECT_LE(t.front(), lo + 1e-9 * width);
      EXPECT_GE(t.back(), lo + width - 1e-9 * width);
      EXPECT_LE(t.size(), 12u) << lo << " " << width;
      const double step = t[1] - t[0], mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-6));
      EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-4 || std::fabs(mantissa - 2) < 1e-4 ||
                  std::fabs(mantissa - 2.5) < 1e-4 || std::fabs(mantissa - 5) < 1e-4)
          << lo << " " << width << ": step " << step;
    }
  }
  // A flat range and non-finite input still give an axis.
  EXPECT_GE(niceTicks(0.5, 0.5, 6, false).size(), 2u);
  EXPECT_GE(niceTicks(NAN, 1, 6, false).size(), 2u);
}

TEST(SvgPlot, DrawsSeriesTicksLegendAndMarkers) {
  Figure f;
  f.title = "model <a&b>";
  Panel p;
  p.title = "score";
  p.integerX = true;
  p.series.push_back({"trial \"1\"", {{1, 0.5}, {2, 0.75}, {3, NAN}}, -1, false});
  p.series.push_back({"trial 2", {{1, 0.25}}, -1, true});
  p.markers.push_back({2, "best"});
  f.panels.push_back(p);
  const std::string svg = renderSvg(f);
  EXPECT_NE(svg.find("<title>model &lt;a&amp;b&gt;</title>"), std::string::npos);
  EXPECT_NE(svg.find("data-series=\"trial &quot;1&quot;\""), std::string::npos) << "attributes are escaped";
  EXPECT_EQ(svg.find("nan"), std::string::npos) << "non-finite points are skipped";
  EXPECT_NE(svg.find("class=\"ytick\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"marker\""), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray=\"7 4\""), std::string::npos) << "the dashed series";
  // Two colours from the palette, one per name, and a legend entry for each and the marker.
  EXPECT_NE(svg.find("#1f77b4"), std::string::npos);
  EXPECT_NE(svg.find("#ff7f0e"), std::string::npos);
  EXPECT_NE(svg.find(">best</text>"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST(SvgPlot, AnEmptyPanelSaysSo) {
  Figure f;
  f.title = "t";
  f.panels.push_back(Panel{"loss", "epoch", "loss", {}, {}, true, {}, {}});
  const std::string svg = renderSvg(f);
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
  EXPECT_EQ(svg.find("<polyline"), std::string::npos);
}

TEST(SvgPlot, ExtremeValuesStillGiveLabelledAxes) {
  // An edited log can hold anything finite: the axes must not turn into NaN or lose their ticks.
  for (const std::vector<Point>& pts : std::vector<std::vector<Point>>{
           {{1, 1e-300}, {2, 3e-300}}, {{1, 1e308}, {2, -1e308}}, {{1, 0.5}, {2, 0.5}}, {{1, 0}, {1, 0}},
           {{-1e308, 1}, {1e308, 2}}}) {
    Figure f;
    f.panels.push_back(Panel{"p", "x", "y", {{"s", pts, -1, false}}, {}, false, {}, {}});
    const std::string svg = renderSvg(f);
    EXPECT_EQ(svg.find("nan"), std::string::npos) << pts[0].y;
    EXPECT_EQ(svg.find("inf"), std::string::npos) << pts[0].y;
    size_t yticks = 0;
    for (size_t at = svg.find("class=\"ytick\""); at != std::string::npos; at = svg.find("class=\"ytick\"", at + 1))
      ++yticks;
    EXPECT_GE(yticks, 2u) << pts[0].y;
  }
}

}  // namespace
}  // namespace nnc::plot
