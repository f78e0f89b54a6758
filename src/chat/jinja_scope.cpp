// Static scoping analysis, mirroring jinja2's compile-time symbol tracking
// (ref: pallets/jinja src/jinja2/idtracking.py Symbols, FrameSymbolVisitor, RootVisitor).
//
// At run time a name is looked up through the chain of enclosing scopes, which matches
// jinja2 except in one case: when a frame (the template, a loop body, a macro, a set/filter
// block, a with block) assigns a name unconditionally, and neither an earlier read in that
// frame nor any enclosing frame refers to the name, jinja2 initialises the frame's variable
// to "missing" — so reads from nested frames before the assignment see undefined instead of
// a same-named context variable. This pass finds those names; the interpreter pre-binds them
// to undefined when it enters the frame.
#include <algorithm>
#include <set>

#include "chat/jinja_interp.h"

namespace pocket::jinja {
namespace {

struct Symbols {
  const Symbols* parent = nullptr;
  std::set<std::string> refs;
  std::set<std::string> stores;
  std::set<std::string> undefined;

  bool find_ref(const std::string& name) const {
    for (const Symbols* s = this; s != nullptr; s = s->parent) {
      if (s->refs.count(name)) return true;
    }
    return false;
  }
  void load(const std::string& name) {
    if (!find_ref(name)) refs.insert(name);  // resolved from the context at frame entry
  }
  void store(const std::string& name) {
    stores.insert(name);
    if (refs.count(name)) return;
    refs.insert(name);
    if (parent == nullptr || !parent->find_ref(name)) undefined.insert(name);
  }
  void param(const std::string& name) {
    stores.insert(name);
    refs.insert(name);
  }
};

void visit_expr(const Expr* e, Symbols& sym) {
  if (e == nullptr) return;
  if (e->kind == ExprKind::kName) {
    sym.load(e->name);
    return;
  }
  visit_expr(e->target.get(), sym);
  for (const auto& c : e->items) visit_expr(c.get(), sym);
  for (const auto& p : e->args.pos) visit_expr(p.get(), sym);
  for (const auto& kv : e->args.kw) visit_expr(kv.second.get(), sym);
  visit_expr(e->args.dyn_args.get(), sym);
  visit_expr(e->args.dyn_kwargs.get(), sym);
}

void visit_target(const Expr& t, Symbols& sym) {
  if (t.kind == ExprKind::kName) {
    sym.store(t.name);
  } else if (t.kind == ExprKind::kNSRef) {
    sym.load(t.name);  // ns.attr = ... reads ns
  } else {
    for (const auto& c : t.items) visit_target(*c, sym);
  }
}

void declare_params(const Expr& t, Symbols& sym) {
  if (t.kind == ExprKind::kName) {
    sym.param(t.name);
  } else {
    for (const auto& c : t.items) declare_params(*c, sym);
  }
}

void visit_stmt(Stmt& s, Symbols& sym);

// FrameSymbolVisitor.visit_If: branches are analysed on copies; names a branch assigns
// become "resolve or alias" (never undefined) in the frame.
void visit_if(Stmt& s, Symbols& sym) {
  visit_expr(s.branches[0].first.get(), sym);
  std::vector<Symbols> copies;
  for (size_t i = 0; i < s.branches.size(); ++i) {
    Symbols copy = sym;
    if (i > 0) visit_expr(s.branches[i].first.get(), copy);
    for (auto& st : s.branches[i].second) visit_stmt(*st, copy);
    copies.push_back(std::move(copy));
  }
  Symbols else_copy = sym;
  for (auto& st : s.else_body) visit_stmt(*st, else_copy);
  copies.push_back(std::move(else_copy));
  std::set<std::string> branch_stores;
  for (const Symbols& c : copies) {
    for (const auto& n : c.stores) {
      if (!sym.stores.count(n)) branch_stores.insert(n);
    }
  }
  for (const Symbols& c : copies) {
    sym.refs.insert(c.refs.begin(), c.refs.end());
    sym.stores.insert(c.stores.begin(), c.stores.end());
    for (const auto& n : c.undefined) {
      if (!branch_stores.count(n)) sym.undefined.insert(n);
    }
  }
  for (const auto& n : branch_stores) sym.undefined.erase(n);
}

// Statements at this frame's level; bodies of nested frames are analysed separately.
void visit_stmt(Stmt& s, Symbols& sym) {
  switch (s.kind) {
    case StmtKind::kText:
    case StmtKind::kBreak:
    case StmtKind::kContinue:
    case StmtKind::kScope:
      return;
    case StmtKind::kOutput:
      visit_expr(s.expr.get(), sym);
      return;
    case StmtKind::kSet:
      visit_expr(s.expr.get(), sym);
      visit_target(*s.target, sym);
      return;
    case StmtKind::kSetBlock:
      visit_target(*s.target, sym);
      return;
    case StmtKind::kFor:
      visit_expr(s.expr.get(), sym);
      return;
    case StmtKind::kIf:
      visit_if(s, sym);
      return;
    case StmtKind::kMacro:
      sym.store(s.text);
      return;
    case StmtKind::kCallBlock:
    case StmtKind::kFilterBlock:
      visit_expr(s.expr.get(), sym);
      return;
    case StmtKind::kWith:
      for (const auto& a : s.assignments) visit_expr(a.second.get(), sym);
      return;
  }
}

void finish(const Symbols& sym, std::vector<std::string>& out) { out.assign(sym.undefined.begin(), sym.undefined.end()); }

// Analyses the frames nested in `body` (whose own frame is `sym`).
void analyze_children(StmtList& body, const Symbols& sym) {
  for (auto& sp : body) {
    Stmt& s = *sp;
    auto child = [&]() {
      Symbols c;
      c.parent = &sym;
      return c;
    };
    switch (s.kind) {
      case StmtKind::kFor: {
        Symbols c = child();
        declare_params(*s.target, c);
        c.param("loop");
        for (auto& st : s.body) visit_stmt(*st, c);
        finish(c, s.frame_undefined);
        analyze_children(s.body, c);
        Symbols e = child();
        for (auto& st : s.else_body) visit_stmt(*st, e);
        finish(e, s.else_undefined);
        analyze_children(s.else_body, e);
        break;
      }
      case StmtKind::kIf:
        for (auto& b : s.branches) analyze_children(b.second, sym);
        analyze_children(s.else_body, sym);
        break;
      case StmtKind::kMacro:
      case StmtKind::kCallBlock: {
        Symbols c = child();
        for (const auto& p : s.sig.params) c.param(p);
        if (s.sig.uses_caller) c.param("caller");
        if (s.sig.uses_varargs) c.param("varargs");
        if (s.sig.uses_kwargs) c.param("kwargs");
        for (const auto& d : s.sig.defaults) visit_expr(d.get(), c);
        for (auto& st : s.body) visit_stmt(*st, c);
        finish(c, s.frame_undefined);
        analyze_children(s.body, c);
        break;
      }
      case StmtKind::kSetBlock:
      case StmtKind::kFilterBlock:
      case StmtKind::kScope: {
        Symbols c = child();
        for (auto& st : s.body) visit_stmt(*st, c);
        finish(c, s.frame_undefined);
        analyze_children(s.body, c);
        break;
      }
      case StmtKind::kWith: {
        Symbols c = child();
        for (const auto& a : s.assignments) declare_params(*a.first, c);
        for (auto& st : s.body) visit_stmt(*st, c);
        finish(c, s.frame_undefined);
        analyze_children(s.body, c);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace

void analyze_scopes(TemplateAst& ast) {
  Symbols root;
  for (auto& st : ast.body) visit_stmt(*st, root);
  finish(root, ast.frame_undefined);
  analyze_children(ast.body, root);
}

}  // namespace pocket::jinja
