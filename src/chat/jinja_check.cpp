// Compile-time check of filter and test names. jinja2 rejects an unknown filter or test
// when it compiles the template — unless the use sits in an `if` body or a conditional
// expression (a "soft" frame), where the failure is deferred until it executes
// (ref: pallets/jinja src/jinja2/compiler.py _filter_test_common, Frame.soft).
#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {
namespace {

void walk_expr(const Expr* e, bool soft);

void walk_args(const Arguments& a, bool soft) {
  for (const auto& p : a.pos) walk_expr(p.get(), soft);
  for (const auto& kv : a.kw) walk_expr(kv.second.get(), soft);
  walk_expr(a.dyn_args.get(), soft);
  walk_expr(a.dyn_kwargs.get(), soft);
}

void walk_expr(const Expr* e, bool soft) {
  if (e == nullptr) return;
  if (!soft && e->kind == ExprKind::kFilter && !has_filter(e->name)) {
    throw TemplateError("TemplateAssertionError: No filter named " + py_repr_str(e->name) + ".", e->line);
  }
  if (!soft && e->kind == ExprKind::kTest && !has_test(e->name)) {
    throw TemplateError("TemplateAssertionError: No test named " + py_repr_str(e->name) + ".", e->line);
  }
  const bool child_soft = soft || e->kind == ExprKind::kCond;
  walk_expr(e->target.get(), child_soft);
  for (const auto& c : e->items) walk_expr(c.get(), child_soft);
  walk_args(e->args, child_soft);
}

void walk_body(const StmtList& body, bool soft);

void walk_stmt(const Stmt& s, bool soft) {
  switch (s.kind) {
    case StmtKind::kText:
    case StmtKind::kBreak:
    case StmtKind::kContinue:
      return;
    case StmtKind::kOutput:
    case StmtKind::kSet:
      walk_expr(s.expr.get(), soft);
      return;
    case StmtKind::kFor:
      // Only the iterable is evaluated in the enclosing frame; the loop filter, body and
      // else block compile in the loop's own frame.
      walk_expr(s.expr.get(), soft);
      walk_expr(s.cond.get(), false);
      walk_body(s.body, false);
      walk_body(s.else_body, false);
      return;
    case StmtKind::kIf:
      for (const auto& b : s.branches) {
        walk_expr(b.first.get(), true);
        walk_body(b.second, true);
      }
      walk_body(s.else_body, true);
      return;
    case StmtKind::kSetBlock:
    case StmtKind::kFilterBlock:
      walk_expr(s.expr.get(), false);
      walk_body(s.body, false);
      return;
    case StmtKind::kMacro:
      for (const auto& d : s.sig.defaults) walk_expr(d.get(), false);
      walk_body(s.body, false);
      return;
    case StmtKind::kCallBlock:
      walk_expr(s.expr.get(), soft);
      for (const auto& d : s.sig.defaults) walk_expr(d.get(), false);
      walk_body(s.body, false);
      return;
    case StmtKind::kWith:
      for (const auto& a : s.assignments) walk_expr(a.second.get(), soft);
      walk_body(s.body, false);
      return;
    case StmtKind::kScope:
      walk_body(s.body, false);
      return;
  }
}

void walk_body(const StmtList& body, bool soft) {
  for (const auto& s : body) walk_stmt(*s, soft);
}

}  // namespace

void check_filter_and_test_names(const TemplateAst& ast) { walk_body(ast.body, false); }

}  // namespace pocket::jinja
