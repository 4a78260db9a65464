#include "runtime/plot/SvgPlot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "runtime/support/AtomicFile.h"

namespace nnc::plot {

namespace {

// Tableau 10, matplotlib's default cycle: distinct for the common forms of colour blindness
// in its first four, and familiar to anyone who has plotted a Keras history.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr int kPaletteSize = int(sizeof(kPalette) / sizeof(kPalette[0]));
constexpr const char* kDash = "7 4";

// Layout, in SVG user units (pixels at 100%).
constexpr double kMargin = 24;        // around the figure
constexpr double kTitleSize = 20, kSubtitleSize = 13, kPanelTitleSize = 15, kTextSize = 12;
constexpr double kLegendRow = 20, kLegendSwatch = 26, kLegendGap = 22;
constexpr double kMinPanelHeight = 320;
constexpr double kAxisLeft = 62, kAxisRight = 14, kAxisTop = 30, kAxisBottom = 46;

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // Control bytes are not allowed in XML 1.0 at all.
        out += (static_cast<unsigned char>(c) < 0x20 && c != '\t') ? ' ' : c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Decimals that show every multiple of `step` exactly (0.25 -> 2, 5 -> 0), at most 8.
int decimalsFor(double step) {
  for (int d = 0; d < 8; ++d) {
    double scaled = step * std::pow(10.0, d);
    if (std::round(scaled) >= 1 && std::fabs(scaled - std::round(scaled)) < 1e-6 * scaled) return d;
  }
  return 8;
}

std::string tickLabel(double v, int decimals) {
  char buf[48];
  // Very large or very small values in scientific notation: 2e+09, not ten digits.
  if (std::fabs(v) >= 1e7 || decimals > 6) std::snprintf(buf, sizeof buf, "%g", v);
  else std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);  // no "-0.0"
  return s;
}

// About 6.5 px per character at 12 px sans-serif: enough to lay out a legend without fonts.
double textWidth(const std::string& text, double size) { return double(text.size()) * size * 0.55; }

struct Range {
  double lo = 0, hi = 1;
  double span() const { return hi - lo; }
};

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
};

struct Style {
  std::string color;
  bool dashed = false;
};

struct LegendEntry {
  std::string name;
  Style style;
  bool marker = false;  // a vertical marker's dotted grey line, without a dot
};

constexpr const char* kMarkerColor = "#444";
constexpr const char* kMarkerDash = "3 3";

// One colour per series name, the same in every panel.
std::map<std::string, Style> assignStyles(const Figure& figure, std::vector<LegendEntry>& legend) {
  std::map<std::string, Style> styles;
  int next = 0;
  for (const Panel& panel : figure.panels)
    for (const Series& s : panel.series) {
      if (styles.count(s.name)) continue;
      int index = s.color >= 0 ? s.color : next++;
      Style style{kPalette[index % kPaletteSize], s.dashed};
      styles[s.name] = style;
      legend.push_back({s.name, style});
    }
  // Markers are explained in the legend, not beside their line, where they would cover data.
  for (const Panel& panel : figure.panels)
    for (const Marker& m : panel.markers)
      if (!m.label.empty() && std::none_of(legend.begin(), legend.end(),
                                           [&](const LegendEntry& e) { return e.marker && e.name == m.label; }))
        legend.push_back({m.label, Style{kMarkerColor, true}, true});
  return styles;
}

// Beyond this magnitude, spans and paddings would overflow to infinity: such values (a loss
// of 1e308 in an edited log) are drawn at the limit rather than turning the axes into NaN.
constexpr double kLargest = 1e300;

bool finite(const Point& p) { return std::isfinite(p.x) && std::isfinite(p.y); }
Point clamped(const Point& p) {
  return {std::clamp(p.x, -kLargest, kLargest), std::clamp(p.y, -kLargest, kLargest)};
}

// The nice ticks inside `r`, at least two of them (asking for more until there are).
std::vector<double> ticksInside(const Range& r, int target, bool integers) {
  std::vector<double> inside;
  for (int t = target; inside.size() < 2 && t < target + 20; ++t) {
    inside.clear();
    for (double v : niceTicks(r.lo, r.hi, t, integers))
      if (v >= r.lo - 1e-9 * r.span() && v <= r.hi + 1e-9 * r.span()) inside.push_back(v);
  }
  return inside;
}

class Writer {
 public:
  explicit Writer(const Figure& f) : fig_(f) {}

  std::string render() {
    std::vector<LegendEntry> legend;
    styles_ = assignStyles(fig_, legend);
    const double W = fig_.width;
    double y = kMargin + kTitleSize;
    const double legendTop = y + (fig_.subtitle.empty() ? 0 : kSubtitleSize + 6) + 12;
    const LegendRows rows = layoutLegend(legend);
    const double panelsTop = legendTop + double(rows.entries.size()) * kLegendRow + 8;
    // A long legend (many runs or trials) makes the picture taller, not the panels flatter.
    const double H = std::max(double(fig_.height), panelsTop + kMinPanelHeight + kMargin);
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 "
         << W << ' ' << H << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
         << "<title>" << escape(fig_.title) << "</title>\n"
         << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    text(W / 2, y, fig_.title, kTitleSize, "middle", "font-weight=\"bold\"");
    if (!fig_.subtitle.empty()) {
      y += kSubtitleSize + 6;
      text(W / 2, y, fig_.subtitle, kSubtitleSize, "middle", "fill=\"#555\"");
    }
    drawLegend(rows, legendTop);
    if (!fig_.panels.empty()) {
      const double width = (W - 2 * kMargin) / double(fig_.panels.size());
      for (size_t i = 0; i < fig_.panels.size(); ++i)
        drawPanel(fig_.panels[i], Rect{kMargin + double(i) * width, panelsTop, width, H - kMargin - panelsTop});
    }
    out_ << "</svg>\n";
    return out_.str();
  }

 private:
  void text(double x, double y, const std::string& s, double size, const char* anchor, const std::string& extra = "") {
    out_ << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << size << "\" text-anchor=\"" << anchor
         << "\"" << (extra.empty() ? "" : " " + extra) << ">" << escape(s) << "</text>\n";
  }

  static std::string strokeOf(const Style& s) {
    return "stroke=\"" + s.color + "\"" + (s.dashed ? std::string(" stroke-dasharray=\"") + kDash + "\"" : "");
  }

  struct LegendRows {
    std::vector<std::vector<const LegendEntry*>> entries;
    std::vector<double> widths;
  };

  // Entries in rows as wide as the figure allows.
  LegendRows layoutLegend(const std::vector<LegendEntry>& legend) const {
    LegendRows rows;
    const double maxWidth = fig_.width - 2 * kMargin;
    for (const LegendEntry& e : legend) {
      const double w = kLegendSwatch + 6 + textWidth(e.name, kTextSize);
      if (rows.entries.empty() || rows.widths.back() + kLegendGap + w > maxWidth) {
        rows.entries.emplace_back();
        rows.widths.push_back(-kLegendGap);
      }
      rows.widths.back() += kLegendGap + w;
      rows.entries.back().push_back(&e);
    }
    return rows;
  }

  // The rows centred under the title.
  void drawLegend(const LegendRows& rows, double top) {
    if (rows.entries.empty()) return;
    out_ << "<g class=\"legend\">\n";
    double y = top;
    for (size_t r = 0; r < rows.entries.size(); ++r, y += kLegendRow) {
      double x = (fig_.width - rows.widths[r]) / 2;
      for (const LegendEntry* e : rows.entries[r]) {
        const double mid = y + kLegendRow / 2;
        if (e->marker) {
          out_ << "<line x1=\"" << num(x + kLegendSwatch / 2) << "\" y1=\"" << num(mid - 7) << "\" x2=\""
               << num(x + kLegendSwatch / 2) << "\" y2=\"" << num(mid + 7) << "\" stroke=\"" << kMarkerColor
               << "\" stroke-width=\"1.5\" stroke-dasharray=\"" << kMarkerDash << "\"/>\n";
        } else {
          out_ << "<line x1=\"" << num(x) << "\" y1=\"" << num(mid) << "\" x2=\"" << num(x + kLegendSwatch)
               << "\" y2=\"" << num(mid) << "\" " << strokeOf(e->style) << " stroke-width=\"2.5\"/>\n";
          out_ << "<circle cx=\"" << num(x + kLegendSwatch / 2) << "\" cy=\"" << num(mid) << "\" r=\"3\" fill=\""
               << e->style.color << "\"/>\n";
        }
        text(x + kLegendSwatch + 6, mid + kTextSize * 0.35, e->name, kTextSize, "start");
        x += kLegendSwatch + 6 + textWidth(e->name, kTextSize) + kLegendGap;
      }
    }
    out_ << "</g>\n";
  }

  void drawPanel(const Panel& panel, const Rect& box) {
    const Rect plot{box.x + kAxisLeft, box.y + kAxisTop, box.w - kAxisLeft - kAxisRight,
                    box.h - kAxisTop - kAxisBottom};
    if (plot.w <= 10 || plot.h <= 10) return;  // a figure too small to draw into

    bool any = false;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (const Series& s : panel.series)
      for (const Point& raw : s.points)
        if (finite(raw)) {
          const Point p = clamped(raw);
          any = true;
          xlo = std::min(xlo, p.x), xhi = std::max(xhi, p.x);
          ylo = std::min(ylo, p.y), yhi = std::max(yhi, p.y);
        }
    if (!any) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
    for (const Marker& m : panel.markers)
      if (std::isfinite(m.x)) {
        const double x = std::clamp(m.x, -kLargest, kLargest);
        xlo = std::min(xlo, x), xhi = std::max(xhi, x);
      }
    if (panel.yFloor && std::isfinite(*panel.yFloor)) ylo = std::min(ylo, std::max(*panel.yFloor, -kLargest));
    if (panel.yCeiling && std::isfinite(*panel.yCeiling)) yhi = std::max(yhi, std::min(*panel.yCeiling, kLargest));

    // Each axis spans the data with a little air (no point sits on the frame), with the nice
    // ticks that fall inside: epoch 1 stays near the left edge, and a loss near 0 does not
    // stretch the axis to -0.5.
    if (yhi - ylo <= 1e-12 * std::max(std::fabs(ylo), std::fabs(yhi))) {
      const double pad = std::fabs(yhi) > 0 ? std::fabs(yhi) * 0.05 : 0.5;
      ylo -= pad, yhi += pad;
    }
    const double ypad = (yhi - ylo) * 0.05;
    const Range yr{ylo - ypad, yhi + ypad};
    const std::vector<double> yticks = ticksInside(yr, std::max(3, int(plot.h / 50)), false);
    const double xpad = xhi > xlo ? (xhi - xlo) * 0.03 : (panel.integerX ? 1.0 : std::max(0.5, std::fabs(xhi) * 0.05));
    const Range xr{xlo - xpad, xhi + xpad};
    const std::vector<double> xticks = ticksInside(xr, std::max(3, int(plot.w / 45)), panel.integerX);

    auto px = [&](double x) { return plot.x + (std::clamp(x, -kLargest, kLargest) - xr.lo) / xr.span() * plot.w; };
    auto py = [&](double y) {
      return plot.y + plot.h - (std::clamp(y, -kLargest, kLargest) - yr.lo) / yr.span() * plot.h;
    };

    out_ << "<g class=\"panel\" data-panel=\"" << escape(panel.title) << "\">\n";
    text(plot.x + plot.w / 2, box.y + kPanelTitleSize + 4, panel.title, kPanelTitleSize, "middle",
         "font-weight=\"bold\"");
    const int ydec = yticks.size() > 1 ? decimalsFor(yticks[1] - yticks[0]) : 2;
    for (double t : yticks) {
      const double y = py(t);
      out_ << "<line class=\"ytick\" data-value=\"" << tickLabel(t, ydec) << "\" x1=\"" << num(plot.x - 5)
           << "\" y1=\"" << num(y) << "\" x2=\"" << num(plot.x + plot.w) << "\" y2=\"" << num(y)
           << "\" stroke=\"#e3e3e3\"/>\n";
      text(plot.x - 8, y + kTextSize * 0.35, tickLabel(t, ydec), kTextSize, "end", "fill=\"#333\"");
    }
    const int xdec = xticks.size() > 1 ? decimalsFor(xticks[1] - xticks[0]) : (panel.integerX ? 0 : 2);
    for (double t : xticks) {
      const double x = px(t);
      out_ << "<line class=\"xtick\" data-value=\"" << tickLabel(t, xdec) << "\" x1=\"" << num(x) << "\" y1=\""
           << num(plot.y) << "\" x2=\"" << num(x) << "\" y2=\"" << num(plot.y + plot.h + 5)
           << "\" stroke=\"#e3e3e3\"/>\n";
      text(x, plot.y + plot.h + 8 + kTextSize, tickLabel(t, xdec), kTextSize, "middle", "fill=\"#333\"");
    }
    // The axes over the grid: left and bottom.
    out_ << "<path d=\"M" << num(plot.x) << ' ' << num(plot.y) << " V" << num(plot.y + plot.h) << " H"
         << num(plot.x + plot.w) << "\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.2\"/>\n";
    text(plot.x + plot.w / 2, plot.y + plot.h + 38, panel.xLabel, kTextSize + 1, "middle");
    const double ylx = box.x + 14, yly = plot.y + plot.h / 2;
    text(ylx, yly, panel.yLabel, kTextSize + 1, "middle",
         "transform=\"rotate(-90 " + num(ylx) + ' ' + num(yly) + ")\"");

    for (const Marker& m : panel.markers) {
      if (!std::isfinite(m.x)) continue;
      const double x = px(m.x);
      out_ << "<line class=\"marker\" data-value=\"" << m.x << "\" x1=\"" << num(x) << "\" y1=\"" << num(plot.y)
           << "\" x2=\"" << num(x) << "\" y2=\"" << num(plot.y + plot.h) << "\" stroke=\"" << kMarkerColor
           << "\" stroke-width=\"1.5\" stroke-dasharray=\"" << kMarkerDash << "\"><title>" << escape(m.label)
           << "</title></line>\n";
    }

    for (const Series& s : panel.series) {
      const Style& style = styles_.at(s.name);
      std::ostringstream pts;
      size_t drawn = 0;
      for (const Point& p : s.points)
        if (finite(p)) pts << (drawn++ ? " " : "") << num(px(p.x)) << ',' << num(py(p.y));
      if (!drawn) continue;
      out_ << "<polyline class=\"series\" data-panel=\"" << escape(panel.title) << "\" data-series=\""
           << escape(s.name) << "\" points=\"" << pts.str() << "\" fill=\"none\" " << strokeOf(style)
           << " stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
      // A dot per point: a run of one epoch is still visible, and epochs can be counted.
      out_ << "<g fill=\"" << style.color << "\">";
      for (const Point& p : s.points)
        if (finite(p)) out_ << "<circle cx=\"" << num(px(p.x)) << "\" cy=\"" << num(py(p.y)) << "\" r=\"3\"/>";
      out_ << "</g>\n";
    }
    if (!any) text(plot.x + plot.w / 2, plot.y + plot.h / 2, "no data", kTextSize + 2, "middle", "fill=\"#888\"");
    out_ << "</g>\n";
  }

  const Figure& fig_;
  std::map<std::string, Style> styles_;
  std::ostringstream out_;
};

// 1, 2, 2.5, 5 or 10 times a power of ten, near `x` (> 0).
double niceStep(double x, bool integers) {
  const double p = std::pow(10.0, std::floor(std::log10(x)));
  const double f = x / p;
  double nice = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
  if (integers && nice == 2.5 && p < 10) nice = 2;  // 2.5 is not a whole step; 25 is
  return std::max(nice * p, integers ? 1.0 : 0.0);
}

}  // namespace

std::vector<double> niceTicks(double lo, double hi, int target, bool integers) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(std::fabs(lo), std::fabs(hi))) {
    const double pad = std::fabs(hi) > 0 ? std::fabs(hi) * 0.05 : 0.5;
    lo -= pad, hi += pad;
  }
  const double step = niceStep((hi - lo) / double(std::max(1, target - 1)), integers);
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  // k * step rounded to the step's decimals: 0.3, not 0.30000000000000004 (not for steps
  // finer than 1e-8, which that rounding would erase).
  const int decimals = decimalsFor(step);
  const double scale = std::pow(10.0, decimals);
  std::vector<double> ticks;
  for (double k = first; k <= last && ticks.size() < 1000; k += 1) {
    double t = decimals < 8 ? std::round(k * step * scale) / scale : k * step;
    if (std::fabs(t) < step * 1e-9) t = 0;
    ticks.push_back(t);
  }
  if (ticks.size() < 2) ticks = {first * step, (first + 1) * step};
  return ticks;
}

std::string renderSvg(const Figure& figure) { return Writer(figure).render(); }

Result<void> writeSvg(const std::string& path, const Figure& figure) {
  const std::string svg = renderSvg(figure);
  return io::writeFileAtomically(path, svg.data(), svg.size());
}

}  // namespace nnc::plot
