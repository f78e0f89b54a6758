// Jinja parser; see jinja_parser.h. Follows jinja2/parser.py function by function
// (ref: pallets/jinja src/jinja2/parser.py) so precedence and corner cases agree:
// left-associative **, filters binding tighter than unary minus's operand, `is` tests
// taking one bare argument, tuples without parentheses.
#include "chat/jinja_parser.h"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "chat/jinja_lexer.h"
#include "chat/template_error.h"

namespace pocket::jinja {
namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  TemplateAst parse() {
    TemplateAst ast;
    ast.body = subparse({});
    return ast;
  }

 private:
  // ---- token stream -------------------------------------------------------------------
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek() const { return toks_[std::min(pos_ + 1, toks_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(std::string_view op) const { return cur().type == Tok::kOp && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::kName && cur().text == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    advance();
    return true;
  }

  [[noreturn]] void fail(const std::string& msg, int line = 0) const {
    throw TemplateError(msg, line > 0 ? line : cur().line);
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::kData: return "template data";
      case Tok::kVarBegin: return "begin of print statement";
      case Tok::kVarEnd: return "end of print statement";
      case Tok::kBlockBegin: return "begin of statement block";
      case Tok::kBlockEnd: return "end of statement block";
      case Tok::kString: return "string";
      case Tok::kInteger: return "integer";
      case Tok::kFloat: return "float";
      case Tok::kEof: return "end of template";
      default: return t.text;
    }
  }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected token '" + std::string(op) + "', got '" + describe(cur()) + "'");
  }
  void expect_name(std::string_view n) {
    if (!skip_name(n)) fail("expected token '" + std::string(n) + "', got '" + describe(cur()) + "'");
  }
  std::string expect_any_name() {
    if (cur().type != Tok::kName) fail("expected token 'name', got '" + describe(cur()) + "'");
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect(Tok type, const char* what) {
    if (cur().type != type) {
      if (cur().type == Tok::kEof) fail(std::string("unexpected end of template, expected '") + what + "'");
      fail(std::string("expected token '") + what + "', got '" + describe(cur()) + "'");
    }
    advance();
  }

  // ---- nesting bounds -----------------------------------------------------------------
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxParseDepth) p_.fail("template nesting is too deep");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  ExprPtr make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // Records the node's depth; loops that build left-nested chains (a+b+c..., a.b.c...)
  // would otherwise create trees deeper than the recursion guard sees.
  ExprPtr finish(ExprPtr e) {
    int d = 0;
    auto see = [&](const ExprPtr& c) {
      if (c) d = std::max(d, c->depth);
    };
    see(e->target);
    for (const auto& c : e->items) see(c);
    for (const auto& c : e->args.pos) see(c);
    for (const auto& kv : e->args.kw) see(kv.second);
    see(e->args.dyn_args);
    see(e->args.dyn_kwargs);
    e->depth = d + 1;
    if (e->depth > kMaxParseDepth) fail("expression nesting is too deep", e->line);
    return e;
  }

  // ---- statements ---------------------------------------------------------------------
  StmtList subparse(std::vector<std::string> end_tokens) {
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
  StmtList parse_body(std::vector<std::string> ends, bool drop_needle) {
    skip_op(":");
    expect(Tok::kBlockEnd, "end of statement block");
    StmtList body = subparse(ends);
    if (drop_needle) advance();
    return body;
  }

  void parse_statement(StmtList& out, const std::vector<std::string>& end_tokens) {
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

  StmtPtr parse_for() {
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

  StmtPtr parse_if() {
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

  StmtPtr parse_set() {
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

  void parse_signature(MacroSig& sig) {
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
  StmtList parse_macro_body(MacroSig& sig, const char* end) {
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

  StmtPtr parse_macro() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kMacro;
    s->line = cur().line;
    advance();
    s->text = expect_any_name();
    parse_signature(s->sig);
    s->body = parse_macro_body(s->sig, "endmacro");
    return s;
  }

  StmtPtr parse_call_block() {
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

  StmtPtr parse_filter_block() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kFilterBlock;
    s->line = cur().line;
    advance();
    s->expr = parse_filter(nullptr, true);
    s->body = parse_body({"endfilter"}, true);
    return s;
  }

  StmtPtr parse_with() {
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

  ExprPtr parse_assign_target(bool with_tuple, bool name_only, std::vector<std::string> extra_end,
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

  // ---- expressions --------------------------------------------------------------------
  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
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

  ExprPtr binary(ExprKind kind, int line, ExprPtr a, ExprPtr b, std::string op = {}) {
    auto e = make(kind, line);
    e->name = std::move(op);
    e->items.push_back(std::move(a));
    e->items.push_back(std::move(b));
    return finish(std::move(e));
  }

  ExprPtr parse_or() {
    const int line = cur().line;
    ExprPtr left = parse_and();
    while (skip_name("or")) left = binary(ExprKind::kOr, line, std::move(left), parse_and());
    return left;
  }

  ExprPtr parse_and() {
    const int line = cur().line;
    ExprPtr left = parse_not();
    while (skip_name("and")) left = binary(ExprKind::kAnd, line, std::move(left), parse_not());
    return left;
  }

  ExprPtr parse_not() {
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

  ExprPtr parse_compare() {
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

  ExprPtr parse_math1() {
    const int line = cur().line;
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      advance();
      left = binary(ExprKind::kBinary, line, std::move(left), parse_concat(), op);
    }
    return left;
  }

  ExprPtr parse_concat() {
    const int line = cur().line;
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = make(ExprKind::kConcat, line);
    e->items.push_back(std::move(first));
    while (skip_op("~")) e->items.push_back(parse_math2());
    return finish(std::move(e));
  }

  ExprPtr parse_math2() {
    const int line = cur().line;
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      advance();
      left = binary(ExprKind::kBinary, line, std::move(left), parse_pow(), op);
    }
    return left;
  }

  ExprPtr parse_pow() {
    const int line = cur().line;
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) left = binary(ExprKind::kBinary, line, std::move(left), parse_unary(true), "**");
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
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

  ExprPtr parse_primary(bool with_namespace) {
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

  bool is_tuple_end(const std::vector<std::string>& extra) const {
    if (cur().type == Tok::kVarEnd || cur().type == Tok::kBlockEnd || is_op(")")) return true;
    return cur().type == Tok::kName && std::find(extra.begin(), extra.end(), cur().text) != extra.end();
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr, std::vector<std::string> extra_end,
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

  ExprPtr parse_list() {
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

  ExprPtr parse_dict() {
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

  ExprPtr parse_postfix(ExprPtr node) {
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

  ExprPtr parse_filter_expr(ExprPtr node) {
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

  ExprPtr parse_subscript(ExprPtr node) {
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

  ExprPtr parse_subscribed() {
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

  void parse_call_args(Arguments& a) {
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

  ExprPtr parse_call(ExprPtr node) {
    auto e = make(ExprKind::kCall, cur().line);
    parse_call_args(e->args);
    e->target = std::move(node);
    return finish(std::move(e));
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
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

  ExprPtr parse_test(ExprPtr node) {
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

  void note_name(const std::string& name) {
    if (macro_uses_.empty()) return;
    const int idx = name == "caller" ? 0 : (name == "varargs" ? 1 : (name == "kwargs" ? 2 : -1));
    if (idx < 0) return;
    for (auto& u : macro_uses_) u[static_cast<size_t>(idx)] = true;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::array<bool, 3>> macro_uses_;
};

}  // namespace

TemplateAst parse_template(std::string_view source) {
  Parser parser(tokenize(source));
  return parser.parse();
}

}  // namespace pocket::jinja
