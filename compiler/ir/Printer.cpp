#include "compiler/ir/Printer.h"

#include <map>
#include <ostream>
#include <sstream>

namespace nnc {

namespace {
std::vector<std::string> valueNames(const Graph& g) {
  std::map<std::string, int> uses;
  for (const Node& n : g.nodes())
    if (!n.name.empty()) ++uses[n.name];
  std::vector<std::string> names(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    const std::string& n = g.nodes()[i].name;
    names[i] = "%" + ((!n.empty() && uses[n] == 1) ? n : std::to_string(i));
  }
  return names;
}
// A target shape's leading -1 is the run-time batch: print it as the model file writes it.
std::string shownAttr(const std::string& key, const AttrValue& value) {
  const auto* dims = std::get_if<std::vector<int64_t>>(&value);
  if (key != "shape" || !dims || dims->empty() || (*dims)[0] != kBatch) return attrValueStr(value);
  std::string s = attrValueStr(value);
  return "[batch" + s.substr(3);
}
}  // namespace

void printGraph(const Graph& g, std::ostream& os) {
  std::vector<std::string> names = valueNames(g);
  os << "graph " << g.name << " {\n";
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    os << "  " << names[i] << " = " << opName(n.op);
    if (!n.inputs.empty()) {
      os << '(';
      for (size_t k = 0; k < n.inputs.size(); ++k) os << (k ? ", " : "") << names[static_cast<size_t>(n.inputs[k])];
      os << ')';
    }
    if (!n.attrs.empty()) {
      os << " {";
      bool first = true;
      for (const auto& [key, value] : n.attrs.entries()) {
        os << (first ? "" : ", ") << key << '=' << shownAttr(key, value);
        first = false;
      }
      os << '}';
    }
    os << " : " << n.type.str() << '\n';
  }
  for (const Output& o : g.outputs) os << "  output " << o.name << " = " << names[static_cast<size_t>(o.node)] << '\n';
  for (const Update& u : g.updates)
    os << "  update " << names[static_cast<size_t>(u.target)] << " <- " << names[static_cast<size_t>(u.value)] << '\n';
  if (g.loss != kNoNode) os << "  loss " << names[static_cast<size_t>(g.loss)] << '\n';
  os << "}\n";
}

std::string printGraph(const Graph& g) {
  std::ostringstream os;
  printGraph(g, os);
  return os.str();
}

}  // namespace nnc
