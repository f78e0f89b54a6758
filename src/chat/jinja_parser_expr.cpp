// Jinja expression parser: precedence climbing exactly as jinja2/parser.py's parse_condexpr
// ... parse_primary chain (ref: pallets/jinja src/jinja2/parser.py), plus subscripts,
// calls, filters and tests. Every node records its depth so chains stay bounded.
#include "chat/jinja_parser_impl.h"

namespace pocket::jinja {

ExprPtr Parser::parse_condexpr() {
  DepthGuard guard(*this);
  int line = cur().line;
  ExprPtr expr1 = parse_or();
  while (skip_name("if")) {
    auto e = make(ExprKind::kCond, line);
    ExprPtr test = parse_or();
    ExprPtr other = skip_name("else") ? parse_condexpr() : nullptr;
    e->items.push_back(std::move(test));
    e->items.push_back(std::move(expr1));
    e->items.push_back(std::move(other));
    expr1 = finish(std::move(e));
    line = cur().line;
  }
  return expr1;
}

ExprPtr Parser::binary(ExprKind kind, int line, ExprPtr a, ExprPtr b, std::string op) {
  auto e = make(kind, line);
  e->name = std::move(op);
  e->items.push_back(std::move(a));
  e->items.push_back(std::move(b));
  return finish(std::move(e));
}

ExprPtr Parser::parse_or() {
  const int line = cur().line;
  ExprPtr left = parse_and();
  while (skip_name("or")) left = binary(ExprKind::kOr, line, std::move(left), parse_and());
  return left;
}

ExprPtr Parser::parse_and() {
  const int line = cur().line;
  ExprPtr left = parse_not();
  while (skip_name("and")) left = binary(ExprKind::kAnd, line, std::move(left), parse_not());
  return left;
}

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    DepthGuard guard(*this);
    const int line = cur().line;
    advance();
    auto e = make(ExprKind::kNot, line);
    e->items.push_back(parse_not());
    return finish(std::move(e));
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  const int line = cur().line;
  ExprPtr expr = parse_math1();
  std::vector<std::string> ops;
  std::vector<ExprPtr> operands;
  while (true) {
    if (cur().type == Tok::kOp &&
        (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
         cur().text == ">" || cur().text == ">=")) {
      ops.push_back(cur().text);
      advance();
    } else if (skip_name("in")) {
      ops.push_back("in");
    } else if (is_name("not") && peek().type == Tok::kName && peek().text == "in") {
      advance();
      advance();
      ops.push_back("notin");
    } else {
      break;
    }
    operands.push_back(parse_math1());
  }
  if (ops.empty()) return expr;
  auto e = make(ExprKind::kCompare, line);
  e->items.push_back(std::move(expr));
  for (auto& o : operands) e->items.push_back(std::move(o));
  e->ops = std::move(ops);
  return finish(std::move(e));
}

ExprPtr Parser::parse_math1() {
  const int line = cur().line;
  ExprPtr left = parse_concat();
  while (is_op("+") || is_op("-")) {
    std::string op = cur().text;
    advance();
    left = binary(ExprKind::kBinary, line, std::move(left), parse_concat(), op);
  }
  return left;
}

ExprPtr Parser::parse_concat() {
  const int line = cur().line;
  ExprPtr first = parse_math2();
  if (!is_op("~")) return first;
  auto e = make(ExprKind::kConcat, line);
  e->items.push_back(std::move(first));
  while (skip_op("~")) e->items.push_back(parse_math2());
  return finish(std::move(e));
}

ExprPtr Parser::parse_math2() {
  const int line = cur().line;
  ExprPtr left = parse_pow();
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    std::string op = cur().text;
    advance();
    left = binary(ExprKind::kBinary, line, std::move(left), parse_pow(), op);
  }
  return left;
}

ExprPtr Parser::parse_pow() {
  const int line = cur().line;
  ExprPtr left = parse_unary(true);
  while (skip_op("**")) left = binary(ExprKind::kBinary, line, std::move(left), parse_unary(true), "**");
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
  DepthGuard guard(*this);
  const int line = cur().line;
  ExprPtr node;
  if (is_op("-") || is_op("+")) {
    const bool neg = cur().text == "-";
    advance();
    node = make(neg ? ExprKind::kNeg : ExprKind::kPos, line);
    node->items.push_back(parse_unary(false));
    node = finish(std::move(node));
  } else {
    node = parse_primary(false);
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

ExprPtr Parser::parse_primary(bool with_namespace) {
  DepthGuard guard(*this);
  const Token& t = cur();
  const int line = t.line;
  if (t.type == Tok::kName) {
    const std::string name = t.text;
    advance();
    if (name == "true" || name == "True" || name == "false" || name == "False") {
      auto e = make(ExprKind::kConst, line);
      e->value = Value::boolean(name == "true" || name == "True");
      return finish(std::move(e));
    }
    if (name == "none" || name == "None") {
      auto e = make(ExprKind::kConst, line);
      e->value = Value::none();
      return finish(std::move(e));
    }
    if (with_namespace && is_op(".")) {
      advance();
      auto e = make(ExprKind::kNSRef, line);
      e->name = name;
      e->ops.push_back(expect_any_name());
      return finish(std::move(e));
    }
    auto e = make(ExprKind::kName, line);
    e->name = name;
    note_name(name);
    return finish(std::move(e));
  }
  if (t.type == Tok::kString) {
    std::string s;
    while (cur().type == Tok::kString) {
      s += cur().text;
      advance();
    }
    auto e = make(ExprKind::kConst, line);
    e->value = Value::string(std::move(s));
    return finish(std::move(e));
  }
  if (t.type == Tok::kInteger || t.type == Tok::kFloat) {
    auto e = make(ExprKind::kConst, line);
    e->value = t.type == Tok::kInteger ? Value::integer(t.ival) : Value::number(t.fval);
    advance();
    return finish(std::move(e));
  }
  if (skip_op("(")) {
    ExprPtr e = parse_tuple(false, true, {}, true, false);
    expect_op(")");
    return e;
  }
  if (is_op("[")) return parse_list();
  if (is_op("{")) return parse_dict();
  fail("unexpected '" + describe(t) + "'");
}

bool Parser::is_tuple_end(const std::vector<std::string>& extra) const {
  if (cur().type == Tok::kVarEnd || cur().type == Tok::kBlockEnd || is_op(")")) return true;
  return cur().type == Tok::kName && std::find(extra.begin(), extra.end(), cur().text) != extra.end();
}

ExprPtr Parser::parse_tuple(bool simplified, bool with_condexpr, std::vector<std::string> extra_end,
                            bool explicit_parens, bool with_namespace) {
  DepthGuard guard(*this);
  int line = cur().line;
  std::vector<ExprPtr> args;
  bool is_tuple = false;
  while (true) {
    if (!args.empty()) expect_op(",");
    if (is_tuple_end(extra_end)) break;
    args.push_back(simplified ? parse_primary(with_namespace) : parse_expression(with_condexpr));
    if (is_op(",")) {
      is_tuple = true;
    } else {
      break;
    }
    line = cur().line;
  }
  if (!is_tuple) {
    if (!args.empty()) return std::move(args[0]);
    if (!explicit_parens) fail("Expected an expression, got '" + describe(cur()) + "'");
  }
  auto e = make(ExprKind::kTuple, line);
  e->items = std::move(args);
  return finish(std::move(e));
}

ExprPtr Parser::parse_list() {
  const int line = cur().line;
  expect_op("[");
  auto e = make(ExprKind::kList, line);
  while (!is_op("]")) {
    if (!e->items.empty()) expect_op(",");
    if (is_op("]")) break;
    e->items.push_back(parse_expression(true));
  }
  expect_op("]");
  return finish(std::move(e));
}

ExprPtr Parser::parse_dict() {
  const int line = cur().line;
  expect_op("{");
  auto e = make(ExprKind::kDict, line);
  while (!is_op("}")) {
    if (!e->items.empty()) expect_op(",");
    if (is_op("}")) break;
    e->items.push_back(parse_expression(true));
    expect_op(":");
    e->items.push_back(parse_expression(true));
  }
  expect_op("}");
  return finish(std::move(e));
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  while (true) {
    if (is_op(".") || is_op("[")) {
      node = parse_subscript(std::move(node));
    } else if (is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (is_op("|")) {
      node = parse_filter(std::move(node), false);
    } else if (is_name("is")) {
      node = parse_test(std::move(node));
    } else if (is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
  const int line = cur().line;
  if (skip_op(".")) {
    if (cur().type == Tok::kName) {
      auto e = make(ExprKind::kGetattr, line);
      e->name = cur().text;
      advance();
      e->target = std::move(node);
      return finish(std::move(e));
    }
    if (cur().type != Tok::kInteger) fail("expected name or number");
    auto key = make(ExprKind::kConst, line);
    key->value = Value::integer(cur().ival);
    advance();
    auto e = make(ExprKind::kGetitem, line);
    e->target = std::move(node);
    e->items.push_back(finish(std::move(key)));
    return finish(std::move(e));
  }
  expect_op("[");
  std::vector<ExprPtr> args;
  while (!is_op("]")) {
    if (!args.empty()) expect_op(",");
    if (cur().type == Tok::kEof) fail("unexpected end of template");
    args.push_back(parse_subscribed());
  }
  expect_op("]");
  if (args.empty()) fail("expected subscript expression", line);
  auto e = make(ExprKind::kGetitem, line);
  e->target = std::move(node);
  if (args.size() == 1) {
    e->items.push_back(std::move(args[0]));
  } else {
    auto tuple = make(ExprKind::kTuple, line);
    tuple->items = std::move(args);
    e->items.push_back(finish(std::move(tuple)));
  }
  return finish(std::move(e));
}

ExprPtr Parser::parse_subscribed() {
  const int line = cur().line;
  std::vector<ExprPtr> parts;
  if (skip_op(":")) {
    parts.push_back(nullptr);
  } else {
    ExprPtr node = parse_expression(true);
    if (!skip_op(":")) return node;
    parts.push_back(std::move(node));
  }
  if (is_op(":") || is_op("]") || is_op(",")) {
    parts.push_back(nullptr);
  } else {
    parts.push_back(parse_expression(true));
  }
  if (skip_op(":")) {
    parts.push_back(is_op("]") || is_op(",") ? nullptr : parse_expression(true));
  } else {
    parts.push_back(nullptr);
  }
  auto e = make(ExprKind::kSlice, line);
  e->items = std::move(parts);
  return finish(std::move(e));
}

void Parser::parse_call_args(Arguments& a) {
  const int line = cur().line;
  expect_op("(");
  bool require_comma = false;
  auto ensure = [&](bool ok) {
    if (!ok) fail("invalid syntax for function call expression", line);
  };
  while (!is_op(")")) {
    if (cur().type == Tok::kEof) fail("unexpected end of template");
    if (require_comma) {
      expect_op(",");
      if (is_op(")")) break;
    }
    if (skip_op("*")) {
      ensure(!a.dyn_args && !a.dyn_kwargs);
      a.dyn_args = parse_expression(true);
    } else if (skip_op("**")) {
      ensure(!a.dyn_kwargs);
      a.dyn_kwargs = parse_expression(true);
    } else if (cur().type == Tok::kName && peek().type == Tok::kOp && peek().text == "=") {
      ensure(!a.dyn_kwargs);
      std::string key = cur().text;
      advance();
      advance();
      a.kw.emplace_back(std::move(key), parse_expression(true));
    } else {
      ensure(!a.dyn_args && !a.dyn_kwargs && a.kw.empty());
      a.pos.push_back(parse_expression(true));
    }
    require_comma = true;
  }
  expect_op(")");
}

ExprPtr Parser::parse_call(ExprPtr node) {
  auto e = make(ExprKind::kCall, cur().line);
  parse_call_args(e->args);
  e->target = std::move(node);
  return finish(std::move(e));
}

ExprPtr Parser::parse_filter(ExprPtr node, bool start_inline) {
  while (is_op("|") || start_inline) {
    if (!start_inline) advance();
    const int line = cur().line;
    std::string name = expect_any_name();
    while (skip_op(".")) {
      name += '.';
      name += expect_any_name();
    }
    auto e = make(ExprKind::kFilter, line);
    e->name = std::move(name);
    if (is_op("(")) parse_call_args(e->args);
    e->target = std::move(node);
    node = finish(std::move(e));
    start_inline = false;
  }
  return node;
}

ExprPtr Parser::parse_test(ExprPtr node) {
  const int line = cur().line;
  advance();  // 'is'
  const bool negated = skip_name("not");
  std::string name = expect_any_name();
  while (skip_op(".")) {
      name += '.';
      name += expect_any_name();
    }
  auto e = make(ExprKind::kTest, line);
  e->name = std::move(name);
  const Tok t = cur().type;
  if (is_op("(")) {
    parse_call_args(e->args);
  } else if ((t == Tok::kName || t == Tok::kString || t == Tok::kInteger || t == Tok::kFloat || is_op("[") ||
              is_op("{")) &&
             !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) fail("You cannot chain multiple tests with is");
    e->args.pos.push_back(parse_postfix(parse_primary(false)));
  }
  e->target = std::move(node);
  ExprPtr result = finish(std::move(e));
  if (negated) {
    auto n = make(ExprKind::kNot, line);
    n->items.push_back(std::move(result));
    result = finish(std::move(n));
  }
  return result;
}

void Parser::note_name(const std::string& name) {
  if (macro_uses_.empty()) return;
  const int idx = name == "caller" ? 0 : (name == "varargs" ? 1 : (name == "kwargs" ? 2 : -1));
  if (idx < 0) return;
  for (auto& u : macro_uses_) u[static_cast<size_t>(idx)] = true;
}

}  // namespace pocket::jinja
