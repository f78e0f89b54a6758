// Jinja parser; see jinja_parser.h. Follows jinja2/parser.py function by function
// (ref: pallets/jinja src/jinja2/parser.py) so precedence and corner cases agree:
// left-associative **, filters binding tighter than unary minus's operand, `is` tests
// taking one bare argument, tuples without parentheses.
#include "chat/jinja_parser_impl.h"

namespace pocket::jinja {

// ---- statements ---------------------------------------------------------------------
StmtList Parser::subparse(std::vector<std::string> end_tokens) {
  StmtList body;
  while (cur().type != Tok::kEof) {
    const Token& t = cur();
    if (t.type == Tok::kData) {
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kText;
      s->line = t.line;
      s->text = t.text;
      body.push_back(std::move(s));
      advance();
    } else if (t.type == Tok::kVarBegin) {
      advance();
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kOutput;
      s->line = cur().line;
      s->expr = parse_tuple(false, true, {}, false, false);
      expect(Tok::kVarEnd, "end of print statement");
      body.push_back(std::move(s));
    } else if (t.type == Tok::kBlockBegin) {
      advance();
      if (cur().type == Tok::kName &&
          std::find(end_tokens.begin(), end_tokens.end(), cur().text) != end_tokens.end()) {
        return body;
      }
      parse_statement(body, end_tokens);
      expect(Tok::kBlockEnd, "end of statement block");
    } else {
      fail("unexpected '" + describe(t) + "'");
    }
  }
  if (!end_tokens.empty()) {
    std::string want;
    for (size_t i = 0; i < end_tokens.size(); ++i) want += (i ? " or '" : "'") + end_tokens[i] + "'";
    fail("Unexpected end of template. Jinja was looking for the following tags: " + want + ".");
  }
  return body;
}

// Parses a body up to one of `ends`; leaves the matched end tag name as current token.
StmtList Parser::parse_body(std::vector<std::string> ends, bool drop_needle) {
  skip_op(":");
  expect(Tok::kBlockEnd, "end of statement block");
  StmtList body = subparse(ends);
  if (drop_needle) advance();
  return body;
}

void Parser::parse_statement(StmtList& out, const std::vector<std::string>& end_tokens) {
  DepthGuard guard(*this);
  if (cur().type != Tok::kName) fail("tag name expected");
  const std::string tag = cur().text;
  const int line = cur().line;
  if (tag == "for") return out.push_back(parse_for());
  if (tag == "if") return out.push_back(parse_if());
  if (tag == "set") return out.push_back(parse_set());
  if (tag == "macro") return out.push_back(parse_macro());
  if (tag == "call") return out.push_back(parse_call_block());
  if (tag == "filter") return out.push_back(parse_filter_block());
  if (tag == "with") return out.push_back(parse_with());
  if (tag == "generation") {
    advance();
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kScope;
    s->line = line;
    s->body = parse_body({"endgeneration"}, true);
    return out.push_back(std::move(s));
  }
  if (tag == "print") {
    advance();
    bool first = true;
    while (cur().type != Tok::kBlockEnd) {
      if (cur().type == Tok::kEof) fail("unexpected end of template");
      if (!first) expect_op(",");
      first = false;
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kOutput;
      s->line = line;
      s->expr = parse_expression(true);
      out.push_back(std::move(s));
    }
    return;
  }
  if (tag == "break" || tag == "continue") {
    advance();
    if (loop_depth_ == 0) fail("'" + tag + "' outside loop");
    auto s = std::make_unique<Stmt>();
    s->kind = tag == "break" ? StmtKind::kBreak : StmtKind::kContinue;
    s->line = line;
    return out.push_back(std::move(s));
  }
  static const char* kUnsupported[] = {"block", "extends", "include", "import", "from", "autoescape"};
  for (const char* u : kUnsupported) {
    if (tag == u) fail("tag '" + tag + "' is not supported in chat templates");
  }
  std::string msg = "Encountered unknown tag '" + tag + "'.";
  if (!end_tokens.empty()) {
    msg += " Jinja was looking for the following tags: ";
    for (size_t i = 0; i < end_tokens.size(); ++i) msg += (i ? " or '" : "'") + end_tokens[i] + "'";
    msg += ".";
  }
  fail(msg);
}

StmtPtr Parser::parse_for() {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kFor;
  s->line = cur().line;
  expect_name("for");
  s->target = parse_assign_target(true, false, {"in"}, false);
  expect_name("in");
  s->expr = parse_tuple(false, false, {"recursive"}, false, false);
  if (skip_name("if")) s->cond = parse_expression(true);
  s->recursive = skip_name("recursive");
  ++loop_depth_;
  s->body = parse_body({"endfor", "else"}, false);
  --loop_depth_;
  const bool has_else = cur().text == "else";
  advance();
  if (has_else) s->else_body = parse_body({"endfor"}, true);
  return s;
}

StmtPtr Parser::parse_if() {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kIf;
  s->line = cur().line;
  expect_name("if");
  while (true) {
    ExprPtr test = parse_tuple(false, false, {}, false, false);
    StmtList body = parse_body({"elif", "else", "endif"}, false);
    s->branches.emplace_back(std::move(test), std::move(body));
    const std::string tok = cur().text;
    advance();
    if (tok == "elif") continue;
    if (tok == "else") s->else_body = parse_body({"endif"}, true);
    break;
  }
  return s;
}

StmtPtr Parser::parse_set() {
  auto s = std::make_unique<Stmt>();
  s->line = cur().line;
  advance();
  s->target = parse_assign_target(true, false, {}, true);
  if (skip_op("=")) {
    s->kind = StmtKind::kSet;
    s->expr = parse_tuple(false, true, {}, false, false);
    return s;
  }
  s->kind = StmtKind::kSetBlock;
  if (is_op("|")) s->expr = parse_filter(nullptr, false);
  s->body = parse_body({"endset"}, true);
  return s;
}

void Parser::parse_signature(MacroSig& sig) {
  expect_op("(");
  while (!is_op(")")) {
    if (!sig.params.empty()) expect_op(",");
    if (cur().type != Tok::kName) fail("expected token 'name', got '" + describe(cur()) + "'");
    sig.params.push_back(cur().text);
    advance();
    if (skip_op("=")) {
      sig.defaults.push_back(parse_expression(true));
    } else if (!sig.defaults.empty()) {
      fail("non-default argument follows default argument");
    }
  }
  expect_op(")");
}

// Parses a macro or caller body, recording which of caller/varargs/kwargs it reads.
StmtList Parser::parse_macro_body(MacroSig& sig, const char* end) {
  const int saved_loops = loop_depth_;
  loop_depth_ = 0;  // break/continue cannot cross a macro boundary
  macro_uses_.push_back({});
  StmtList body = parse_body({end}, true);
  const auto uses = macro_uses_.back();
  macro_uses_.pop_back();
  loop_depth_ = saved_loops;
  sig.uses_caller = uses[0];
  sig.uses_varargs = uses[1];
  sig.uses_kwargs = uses[2];
  return body;
}

StmtPtr Parser::parse_macro() {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kMacro;
  s->line = cur().line;
  advance();
  s->text = expect_any_name();
  parse_signature(s->sig);
  s->body = parse_macro_body(s->sig, "endmacro");
  return s;
}

StmtPtr Parser::parse_call_block() {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kCallBlock;
  s->line = cur().line;
  advance();
  if (is_op("(")) parse_signature(s->sig);
  s->expr = parse_expression(true);
  if (s->expr->kind != ExprKind::kCall) fail("expected call", s->line);
  s->body = parse_macro_body(s->sig, "endcall");
  return s;
}

StmtPtr Parser::parse_filter_block() {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kFilterBlock;
  s->line = cur().line;
  advance();
  s->expr = parse_filter(nullptr, true);
  s->body = parse_body({"endfilter"}, true);
  return s;
}

StmtPtr Parser::parse_with() {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kWith;
  s->line = cur().line;
  advance();
  while (cur().type != Tok::kBlockEnd) {
    if (cur().type == Tok::kEof) fail("unexpected end of template");
    if (!s->assignments.empty()) expect_op(",");
    ExprPtr target = parse_assign_target(true, false, {}, false);
    expect_op("=");
    ExprPtr value = parse_expression(true);
    s->assignments.emplace_back(std::move(target), std::move(value));
  }
  s->body = parse_body({"endwith"}, true);
  return s;
}

ExprPtr Parser::parse_assign_target(bool with_tuple, bool name_only, std::vector<std::string> extra_end,
                                    bool with_namespace) {
  ExprPtr target;
  if (name_only) {
    const int line = cur().line;
    target = make(ExprKind::kName, line);
    target->name = expect_any_name();
    return finish(std::move(target));
  }
  target = with_tuple ? parse_tuple(true, true, extra_end, false, with_namespace) : parse_primary(with_namespace);
  auto assignable = [](const Expr& e) {
    if (e.kind == ExprKind::kName) {
      return e.name != "true" && e.name != "false" && e.name != "none" && e.name != "True" &&
             e.name != "False" && e.name != "None";
    }
    return e.kind == ExprKind::kNSRef;
  };
  bool ok = assignable(*target);
  if (target->kind == ExprKind::kTuple) {
    ok = std::all_of(target->items.begin(), target->items.end(), [&](const ExprPtr& e) { return assignable(*e); });
  }
  if (!ok) fail("can't assign to this expression", target->line);
  return target;
}

TemplateAst parse_template(std::string_view source) {
  Parser parser(tokenize(source));
  return parser.parse();
}

}  // namespace pocket::jinja

