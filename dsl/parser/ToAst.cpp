#include "dsl/parser/ToAst.h"

#include <boost/variant/apply_visitor.hpp>
#include <boost/variant/static_visitor.hpp>

#include "dsl/parser/NumberLiteral.h"

namespace nnc::syntax {

std::string depthMessage(size_t maxDepth) {
  return "expression nested deeper than " + std::to_string(maxDepth) +
         " levels (the limit); split it into named values";
}

namespace {

// A converted expression with what its parent needs: how deep it is, and where its source
// text starts (a parenthesised operand starts at its '(', while the node inside keeps the
// position of its own first character).
struct Built {
  ast::ExprPtr expr;
  size_t depth = 0;  // levels of operators, calls, lists and minus signs; 0 for a leaf
  size_t start = 0;
};

class Converter {
 public:
  Converter(const LineIndex& lines, size_t maxDepth) : lines_(lines), maxDepth_(maxDepth) {}

  std::optional<ast::Module> module(const FileSyntax& file) {
    ast::Module m;
    m.name = file.modelName.text;
    m.nameLoc = loc(file.modelName.offset);
    for (const Decl& d : file.decls) {
      std::optional<ast::Decl> decl = boost::apply_visitor(DeclVisitor{*this}, d);
      if (!decl) return std::nullopt;
      m.decls.push_back(std::move(*decl));
    }
    return m;
  }

  const std::optional<SyntaxProblem>& problem() const { return problem_; }

 private:
  SourceLoc loc(size_t offset) const { return lines_.locate(offset); }

  // Records the problem and returns "nothing" of whatever type the caller returns.
  std::nullopt_t fail(size_t offset, std::string message) {
    if (!problem_) problem_ = SyntaxProblem{offset, std::move(message)};
    return std::nullopt;
  }

  static ast::ExprPtr node(ast::ExprKind kind, SourceLoc at) {
    auto e = std::make_shared<ast::Expr>();
    e->kind = kind;
    e->loc = at;
    return e;
  }

  // A node over its children: one level deeper than the deepest of them.
  std::optional<Built> withDepth(ast::ExprPtr e, size_t childDepth, size_t start, size_t reportAt) {
    size_t depth = childDepth + 1;
    if (depth > maxDepth_) return fail(reportAt, depthMessage(maxDepth_));
    return Built{std::move(e), depth, start};
  }

  // --- declarations ---

  struct DeclVisitor : boost::static_visitor<std::optional<ast::Decl>> {
    Converter& c;
    explicit DeclVisitor(Converter& conv) : c(conv) {}

    ast::Decl start(ast::DeclKind kind, size_t offset, const Word& name) const {
      ast::Decl d;
      d.kind = kind;
      d.loc = c.loc(offset);
      d.name = name.text;
      d.nameLoc = c.loc(name.offset);
      return d;
    }
    std::optional<ast::Decl> operator()(const InputDecl& in) const {
      ast::Decl d = start(ast::DeclKind::Input, in.offset, in.name);
      if (!c.type(in.type, d.type)) return std::nullopt;
      return d;
    }
    std::optional<ast::Decl> operator()(const ParamDecl& p) const {
      ast::Decl d = start(ast::DeclKind::Param, p.offset, p.name);
      if (!c.type(p.type, d.type)) return std::nullopt;
      if (p.init && !(d.value = c.expr(*p.init))) return std::nullopt;
      return d;
    }
    std::optional<ast::Decl> operator()(const OutputDecl& o) const {
      ast::Decl d = start(o.value ? ast::DeclKind::Assign : ast::DeclKind::Output, o.offset, o.name);
      d.isOutput = true;
      if (o.value && !(d.value = c.expr(*o.value))) return std::nullopt;
      return d;
    }
    std::optional<ast::Decl> operator()(const AssignDecl& a) const {
      ast::Decl d = start(ast::DeclKind::Assign, a.offset, a.name);
      if (!(d.value = c.expr(a.value))) return std::nullopt;
      return d;
    }
    std::optional<ast::Decl> operator()(const TrainDecl& t) const { return block(ast::DeclKind::Train, t); }
    std::optional<ast::Decl> operator()(const TuneDecl& t) const { return block(ast::DeclKind::Tune, t); }
    // `train { ... }` and `tune { ... }`: KEY = EXPR entries.
    template <typename Block>
    std::optional<ast::Decl> block(ast::DeclKind kind, const Block& t) const {
      ast::Decl d;
      d.kind = kind;
      d.loc = c.loc(t.offset);
      for (const TrainEntry& e : t.entries) {
        ast::TrainEntry entry{e.key.text, c.loc(e.key.offset), c.expr(e.value)};
        if (!entry.value) return std::nullopt;
        d.entries.push_back(std::move(entry));
      }
      return d;
    }
  };

  bool type(const TypeSyntax& t, ast::TypeExpr& out) {
    out.dtype = t.dtype.text;
    out.loc = loc(t.dtype.offset);
    for (const Dim& dim : t.dims) {
      ast::Dim d;
      if (const Word* w = boost::get<Word>(&dim.get())) {
        d.isName = true;
        d.name = d.text = w->text;
        d.loc = loc(w->offset);
      } else {
        const NumberLit& n = boost::get<NumberLit>(dim.get());
        Result<NumberValue> v = readNumber(n.text);
        if (!v) {
          fail(n.offset, v.error().message);
          return false;
        }
        if (!v->isInteger) {
          fail(n.offset, "a dimension is an integer or 'batch', found '" + n.text + "'");
          return false;
        }
        d.value = v->integer;
        d.text = n.text;
        d.loc = loc(n.offset);
      }
      out.dims.push_back(std::move(d));
    }
    return true;
  }

  // --- expressions ---

  ast::ExprPtr expr(const Sum& s) {
    std::optional<Built> b = sum(s);
    return b ? b->expr : nullptr;
  }

  // Chains fold to the left: a - b - c is (a - b) - c.
  template <typename Tail, typename Convert>
  std::optional<Built> chain(std::optional<Built> acc, const std::vector<Tail>& tails, Convert convertRhs) {
    for (const Tail& t : tails) {
      if (!acc) return std::nullopt;
      std::optional<Built> rhs = convertRhs(t.rhs);
      if (!rhs) return std::nullopt;
      ast::ExprPtr e = node(ast::ExprKind::Binary, loc(acc->start));
      e->op = t.op;
      e->items = {acc->expr, rhs->expr};
      acc = withDepth(std::move(e), std::max(acc->depth, rhs->depth), acc->start, t.offset);
    }
    return acc;
  }

  std::optional<Built> sum(const Sum& s) {
    return chain(product(s.first), s.rest, [this](const Product& p) { return product(p); });
  }
  std::optional<Built> product(const Product& p) {
    return chain(operand(p.first), p.rest, [this](const Operand& o) { return operand(o); });
  }
  std::optional<Built> operand(const Operand& o) { return boost::apply_visitor(OperandVisitor{*this}, o.get()); }

  struct OperandVisitor : boost::static_visitor<std::optional<Built>> {
    Converter& c;
    explicit OperandVisitor(Converter& conv) : c(conv) {}

    std::optional<Built> operator()(const NumberLit& n) const {
      Result<NumberValue> v = readNumber(n.text);
      if (!v) return c.fail(n.offset, v.error().message);
      ast::ExprPtr e = node(ast::ExprKind::Number, c.loc(n.offset));
      e->number = v->value;
      e->isInteger = v->isInteger;
      e->text = n.text;
      return Built{e, 0, n.offset};
    }
    std::optional<Built> operator()(const StringLit& s) const {
      ast::ExprPtr e = node(ast::ExprKind::String, c.loc(s.offset));
      e->text = s.text;
      return Built{e, 0, s.offset};
    }
    std::optional<Built> operator()(const Word& w) const {
      ast::ExprPtr e = node(ast::ExprKind::Name, c.loc(w.offset));
      e->text = w.text;
      return Built{e, 0, w.offset};
    }
    std::optional<Built> operator()(const x3::forward_ast<Paren>& p) const {
      std::optional<Built> inner = c.sum(p.get().inner);
      if (inner) inner->start = p.get().offset;
      return inner;
    }
    std::optional<Built> operator()(const x3::forward_ast<Negation>& n) const {
      std::optional<Built> inner = c.operand(n.get().operand);
      if (!inner) return std::nullopt;
      ast::ExprPtr e = node(ast::ExprKind::Unary, c.loc(n.get().offset));
      e->op = '-';
      e->items = {inner->expr};
      return c.withDepth(std::move(e), inner->depth, n.get().offset, n.get().offset);
    }
    std::optional<Built> operator()(const x3::forward_ast<ListLit>& l) const {
      ast::ExprPtr e = node(ast::ExprKind::List, c.loc(l.get().offset));
      size_t depth = 0;
      for (const Sum& item : l.get().items) {
        std::optional<Built> b = c.sum(item);
        if (!b) return std::nullopt;
        depth = std::max(depth, b->depth);
        e->items.push_back(b->expr);
      }
      return c.withDepth(std::move(e), depth, l.get().offset, l.get().offset);
    }
    std::optional<Built> operator()(const x3::forward_ast<Call>& call) const {
      const Call& k = call.get();
      ast::ExprPtr e = node(ast::ExprKind::Call, c.loc(k.callee.offset));
      e->text = k.callee.text;
      e->calleeLoc = c.loc(k.callee.offset);
      size_t depth = 0;
      const Word* lastKeyword = nullptr;
      for (const Argument& a : k.args) {
        if (!a.key && lastKeyword)
          return c.fail(a.value.offset, "positional argument after keyword argument '" + lastKeyword->text +
                                                  "': positional arguments come first");
        if (a.key) lastKeyword = &*a.key;
        std::optional<Built> b = c.sum(a.value);
        if (!b) return std::nullopt;
        depth = std::max(depth, b->depth);
        ast::Arg arg;
        if (a.key) {
          arg.key = a.key->text;
          arg.keyLoc = c.loc(a.key->offset);
        }
        arg.value = b->expr;
        e->args.push_back(std::move(arg));
      }
      return c.withDepth(std::move(e), depth, k.callee.offset, k.callee.offset);
    }
  };

  const LineIndex& lines_;
  size_t maxDepth_;
  std::optional<SyntaxProblem> problem_;
};

}  // namespace

AstOutcome toAst(const FileSyntax& file, const LineIndex& lines, size_t maxDepth) {
  Converter converter(lines, maxDepth);
  AstOutcome out;
  out.module = converter.module(file);
  if (!out.module) out.problem = converter.problem();
  return out;
}

}  // namespace nnc::syntax
