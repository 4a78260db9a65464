#include "runtime/data/Csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "runtime/support/AtomicFile.h"
#include "runtime/support/ByteReader.h"

namespace nnc::data {

namespace {

struct Field {
  std::string text;
  size_t col;  // 1-based byte column where the field starts (after leading spaces)
  bool quoted;
};

std::string at(const std::string& path, size_t line, size_t col) {
  return path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
}

bool isSpace(char c) { return c == ' ' || c == '\t'; }

// Splits one line (without its line ending) into fields.
Result<std::vector<Field>> splitLine(std::string_view line, const std::string& path, size_t lineNo) {
  std::vector<Field> fields;
  size_t i = 0;
  while (true) {
    while (i < line.size() && isSpace(line[i])) ++i;
    Field f{"", i + 1, false};
    if (i < line.size() && line[i] == '"') {
      f.quoted = true;
      size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {  // "" is a literal quote
            f.text += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        f.text += line[i++];
      }
      if (!closed)
        return makeError(at(path, lineNo, open + 1) +
                         "unterminated quoted field (a quoted field must end on the same line)");
      while (i < line.size() && isSpace(line[i])) ++i;
      if (i < line.size() && line[i] != ',')
        return makeError(at(path, lineNo, i + 1) + "unexpected '" + std::string(1, line[i]) +
                         "' after a closing quote (expected ',' or the end of the line)");
    } else {
      size_t start = i;
      while (i < line.size() && line[i] != ',') ++i;
      size_t end = i;
      while (end > start && isSpace(line[end - 1])) --end;
      f.text = std::string(line.substr(start, end - start));
    }
    fields.push_back(std::move(f));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

// A finite number in decimal or scientific notation, with an optional sign.
bool parseNumber(std::string_view s, double& out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, std::chars_format::general);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out);
}

bool isIdentifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

struct ColumnName {
  std::string name;
  std::optional<uint64_t> index;
};

// "x", "x[3]" or "x.3"; nullopt when the text is none of these.
std::optional<ColumnName> parseColumnName(std::string_view s) {
  auto digits = [](std::string_view d) -> std::optional<uint64_t> {
    if (d.empty() || d.size() > 18 || !std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return std::stoull(std::string(d));
  };
  if (isIdentifier(s)) return ColumnName{std::string(s), std::nullopt};
  if (!s.empty() && s.back() == ']') {
    auto open = s.find('[');
    if (open == std::string_view::npos) return std::nullopt;
    auto idx = digits(s.substr(open + 1, s.size() - open - 2));
    if (!idx || !isIdentifier(s.substr(0, open))) return std::nullopt;
    return ColumnName{std::string(s.substr(0, open)), idx};
  }
  auto dot = s.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto idx = digits(s.substr(dot + 1));
  if (!idx || !isIdentifier(s.substr(0, dot))) return std::nullopt;
  return ColumnName{std::string(s.substr(0, dot)), idx};
}

std::string columnText(const ColumnName& c) {
  return c.index ? c.name + "[" + std::to_string(*c.index) + "]" : c.name;
}

// One model input's columns.
struct Group {
  std::string name;
  std::vector<size_t> columns;
  std::vector<float> values;  // row-major [rows, columns.size()]
};

}  // namespace

Result<Dataset> parseCsv(std::string_view text, const std::string& path, const CsvOptions& options) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM

  // Lines, 1-based numbering, without their LF or CRLF; blank ones dropped.
  struct Line {
    std::string_view text;
    size_t number;
  };
  std::vector<Line> lines;
  size_t lineNo = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++lineNo;
    if (!std::all_of(line.begin(), line.end(), isSpace)) lines.push_back({line, lineNo});
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  if (lines.empty())
    return makeError(path + ": empty file: expected a header row naming the model inputs, then one row per sample "
                            "(e.g. x,x,x,label)");

  // The header.
  const Line& head = lines[0];
  auto headerFields = splitLine(head.text, path, head.number);
  if (!headerFields.ok()) return headerFields.error();
  const auto& header = *headerFields;
  const size_t ncols = header.size();
  {
    double ignored;
    bool allNumbers = std::all_of(header.begin(), header.end(),
                                  [&](const Field& f) { return parseNumber(f.text, ignored); });
    if (allNumbers)
      return makeError(at(path, head.number, 1) +
                       "missing header: the first row holds numbers, but it must name the model input of each "
                       "column, the last being the label (e.g. x,x,x,label)");
  }
  auto isFeatureInput = [&](const std::string& name) {
    return std::find(options.featureInputs.begin(), options.featureInputs.end(), name) != options.featureInputs.end();
  };
  auto lastName = parseColumnName(header.back().text);
  const bool hasLabel = !(lastName && isFeatureInput(lastName->name));
  const size_t nfeatures = hasLabel ? ncols - 1 : ncols;
  if (hasLabel && ncols < 2)
    return makeError(at(path, head.number, 1) + "the header names a single column; a CSV needs at least one input "
                                                 "column and the label column, which comes last");
  std::vector<ColumnName> names;
  for (size_t c = 0; c < ncols; ++c) {
    const Field& f = header[c];
    if (f.text.empty())
      return makeError(at(path, head.number, f.col) + "header column " + std::to_string(c + 1) +
                       " has an empty name; every column must name a model input");
    auto name = parseColumnName(f.text);
    if (!name)
      return makeError(at(path, head.number, f.col) + "header column " + std::to_string(c + 1) + " '" + f.text +
                       "' is not an input name: write a name such as x, or x[3] or x.3 for one feature of input x");
    names.push_back(*name);
  }

  // Group the feature columns by input, in order of first appearance; check the label.
  const ColumnName& labelCol = names.back();
  std::vector<Group> groups;
  std::map<std::string, size_t> groupOf;
  std::vector<size_t> colGroup(nfeatures);
  for (size_t c = 0; c < nfeatures; ++c) {
    const ColumnName& cn = names[c];
    if (hasLabel && cn.name == labelCol.name)
      return makeError(at(path, head.number, header[c].col) + "column " + std::to_string(c + 1) + " '" +
                       columnText(cn) + "' names the label input '" + labelCol.name +
                       "', but the label is the last column alone");
    auto [it, fresh] = groupOf.emplace(cn.name, groups.size());
    if (fresh) groups.push_back(Group{cn.name, {}, {}});
    Group& g = groups[it->second];
    if (!g.columns.empty()) {
      const ColumnName& prev = names[g.columns.back()];
      if (prev.index.has_value() != cn.index.has_value())
        return makeError(at(path, head.number, header[c].col) + "column " + std::to_string(c + 1) + " '" +
                         columnText(cn) + "' mixes indexed and plain columns for input '" + cn.name +
                         "' (column " + std::to_string(g.columns.back() + 1) + " is '" + columnText(prev) +
                         "'); write all of them as " + cn.name + " or all with an index");
      if (cn.index && *cn.index <= *prev.index)
        return makeError(at(path, head.number, header[c].col) + "column " + std::to_string(c + 1) + " '" +
                         columnText(cn) + "' comes after '" + columnText(prev) +
                         "': the indices of an input's columns must increase from left to right "
                         "(columns are gathered in column order)");
    }
    g.columns.push_back(c);
    colGroup[c] = it->second;
  }

  // A caller that names its features (predict) reads no label: whatever it holds (a
  // regression target, a class id) is accepted as a number rather than checked as a class id.
  const bool realLabels = !options.featureInputs.empty() ||
                          std::find(options.realValuedInputs.begin(), options.realValuedInputs.end(),
                                    labelCol.name) != options.realValuedInputs.end();
  std::vector<int32_t> intLabels;
  std::vector<float> realLabelValues;

  // The data rows.
  size_t rows = 0;
  for (size_t li = 1; li < lines.size(); ++li) {
    const Line& line = lines[li];
    auto fields = splitLine(line.text, path, line.number);
    if (!fields.ok()) return fields.error();
    if (fields->size() != ncols) {
      size_t col = fields->size() > ncols ? (*fields)[ncols].col : line.text.size() + 1;
      return makeError(at(path, line.number, col) + "row has " + std::to_string(fields->size()) +
                       (fields->size() == 1 ? " field" : " fields") + " but the header has " + std::to_string(ncols) + " columns");
    }
    for (size_t c = 0; c < ncols; ++c) {
      const Field& f = (*fields)[c];
      const bool isLabel = hasLabel && c + 1 == ncols;
      std::string what = "column " + std::to_string(c + 1) + " '" + columnText(names[c]) + "'";
      if (f.text.empty())
        return makeError(at(path, line.number, f.col) + "empty field in " + what + " (expected a number)");
      double v;
      if (!parseNumber(f.text, v))
        return makeError(at(path, line.number, f.col) + "'" + f.text + "' in " + what + " is not a " +
                         (isLabel && !realLabels ? "number (expected an integer class id)" : "finite number"));
      if (isLabel && !realLabels) {
        if (std::nearbyint(v) != v)
          return makeError(at(path, line.number, f.col) + "label '" + f.text + "' in " + what +
                           " is not an integer class id");
        if (v < double(INT32_MIN) || v > double(INT32_MAX))
          return makeError(at(path, line.number, f.col) + "label '" + f.text + "' in " + what + " does not fit in i32");
        intLabels.push_back(int32_t(v));
        continue;
      }
      if (std::fabs(v) > double(std::numeric_limits<float>::max()))
        return makeError(at(path, line.number, f.col) + "'" + f.text + "' in " + what + " is too large for f32");
      if (isLabel) realLabelValues.push_back(float(v));
      else groups[colGroup[c]].values.push_back(float(v));
    }
    ++rows;
  }
  if (rows == 0)
    return makeError(at(path, head.number, 1) + "the file has a header but no data rows");

  Dataset d;
  d.description = "csv:" + path;
  for (Group& g : groups)
    d.arrays.push_back({g.name, Array::fromF32({int64_t(rows), int64_t(g.columns.size())}, std::move(g.values)), path});
  if (!hasLabel) return d;
  d.labels = d.arrays.size();
  d.arrays.push_back({labelCol.name,
                      realLabels ? Array::fromF32({int64_t(rows)}, std::move(realLabelValues))
                                 : Array::fromI32({int64_t(rows)}, std::move(intLabels)),
                      path});
  return d;
}

Result<void> saveCsv(const std::string& path, const Array& a, const std::string& name) {
  const int64_t per = a.rank() <= 1 ? 1 : a.sampleNumel();
  std::string text;
  for (int64_t i = 0; i < per; ++i) {
    if (i) text += ',';
    text += per == 1 ? name : name + "[" + std::to_string(i) + "]";
  }
  text += '\n';
  char buf[32];
  for (int64_t s = 0; s < a.numSamples(); ++s) {
    for (int64_t i = 0; i < per; ++i) {
      const size_t k = size_t(s * per + i);
      if (a.dtype() == DType::F32) std::snprintf(buf, sizeof buf, "%.9g", double(a.f32()[k]));
      else std::snprintf(buf, sizeof buf, "%d", int(a.i32()[k]));
      if (i) text += ',';
      text += buf;
    }
    text += '\n';
  }
  return io::writeFileAtomically(path, text.data(), text.size());
}

Result<Dataset> loadCsv(const std::string& path, const CsvOptions& options) {
  // No practical size limit: the text is held once, the parsed floats take about as much.
  auto bytes = io::readWholeFile(path, uint64_t(1) << 40);
  if (!bytes.ok()) return bytes.error();
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  if (text.find('\0') != std::string_view::npos)
    return makeError(path + ": not a text file (it contains NUL bytes); expected CSV text");
  return parseCsv(text, path, options);
}

}  // namespace nnc::data
