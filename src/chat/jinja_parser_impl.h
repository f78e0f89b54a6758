// Internal: the Jinja parser class, shared by jinja_parser.cpp (template structure and
// statements) and jinja_parser_expr.cpp (expressions).
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"
#include "chat/jinja_parser.h"
#include "chat/template_error.h"

namespace pocket::jinja {

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
  StmtList subparse(std::vector<std::string> end_tokens);
  // Parses a body up to one of `ends`; leaves the matched end tag name as current token.
  StmtList parse_body(std::vector<std::string> ends, bool drop_needle);
  void parse_statement(StmtList& out, const std::vector<std::string>& end_tokens);
  StmtPtr parse_for();
  StmtPtr parse_if();
  StmtPtr parse_set();
  void parse_signature(MacroSig& sig);
  // Parses a macro or caller body, recording which of caller/varargs/kwargs it reads.
  StmtList parse_macro_body(MacroSig& sig, const char* end);
  StmtPtr parse_macro();
  StmtPtr parse_call_block();
  StmtPtr parse_filter_block();
  StmtPtr parse_with();
  ExprPtr parse_assign_target(bool with_tuple, bool name_only, std::vector<std::string> extra_end,
                              bool with_namespace);

  // ---- expressions --------------------------------------------------------------------
  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }
  ExprPtr parse_condexpr();
  ExprPtr binary(ExprKind kind, int line, ExprPtr a, ExprPtr b, std::string op = {});
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary(bool with_namespace);
  bool is_tuple_end(const std::vector<std::string>& extra) const;
  ExprPtr parse_tuple(bool simplified, bool with_condexpr, std::vector<std::string> extra_end,
                      bool explicit_parens, bool with_namespace);
  ExprPtr parse_list();
  ExprPtr parse_dict();
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  ExprPtr parse_subscribed();
  void parse_call_args(Arguments& a);
  ExprPtr parse_call(ExprPtr node);
  ExprPtr parse_filter(ExprPtr node, bool start_inline);
  ExprPtr parse_test(ExprPtr node);
  void note_name(const std::string& name);
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::array<bool, 3>> macro_uses_;
};

}  // namespace pocket::jinja
