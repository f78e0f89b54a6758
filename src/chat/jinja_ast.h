// Syntax tree of a parsed Jinja template (the subset of jinja2/nodes.py that the parser
// produces for chat templates). Nodes are tagged structs rather than a class hierarchy:
// the interpreter switches on the kind, which keeps each construct's semantics in one place.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace pocket::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

enum class ExprKind : uint8_t {
  kConst,    // value
  kName,     // name
  kNSRef,    // name.attr as an assignment target
  kList,     // items
  kTuple,    // items
  kDict,     // items: key0, value0, key1, value1, ...
  kGetattr,  // target.name
  kGetitem,  // target[items[0]]
  kSlice,    // items: start, stop, step (each may be null)
  kCall,     // target(args)
  kFilter,   // target|name(args); target is null in filter blocks
  kTest,     // target is name(args)
  kNeg,      // -items[0]
  kPos,      // +items[0]
  kNot,      // not items[0]
  kBinary,   // items[0] name items[1] for + - * / // % **
  kAnd,
  kOr,
  kConcat,   // items joined with ~
  kCompare,  // items[0] ops[0] items[1] ops[1] items[2] ...
  kCond,     // items: test, then, else (else may be null)
};

struct Arguments {
  std::vector<ExprPtr> pos;
  std::vector<std::pair<std::string, ExprPtr>> kw;
  ExprPtr dyn_args;    // *args
  ExprPtr dyn_kwargs;  // **kwargs
};

struct Expr {
  ExprKind kind = ExprKind::kConst;
  int line = 0;
  int depth = 1;
  Value value;
  std::string name;
  std::vector<ExprPtr> items;
  std::vector<std::string> ops;
  Arguments args;
  ExprPtr target;
};

enum class StmtKind : uint8_t {
  kText,         // text
  kOutput,       // {{ expr }}
  kFor,          // for target in expr [if cond]: body [else: else_body]
  kIf,           // branches, else_body
  kSet,          // target = expr
  kSetBlock,     // target = body (optionally through filter expr)
  kMacro,        // macro name(params) body
  kCallBlock,    // call(params) expr: body becomes `caller`
  kFilterBlock,  // filter expr: body
  kBreak,
  kContinue,
  kWith,         // with targets = values: body
  kScope,        // transformers' {% generation %}: renders its body unchanged
};

struct MacroSig {
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // defaults for the last defaults.size() params
  bool uses_caller = false;
  bool uses_varargs = false;
  bool uses_kwargs = false;
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  std::string text;  // kText data, kMacro name
  ExprPtr expr;
  ExprPtr target;
  ExprPtr cond;
  bool recursive = false;
  StmtList body;
  StmtList else_body;
  std::vector<std::pair<ExprPtr, StmtList>> branches;       // kIf
  std::vector<std::pair<ExprPtr, ExprPtr>> assignments;      // kWith
  MacroSig sig;
  // Names this statement's body frame assigns unconditionally before any read and that no
  // enclosing frame knows: jinja2 starts them as undefined rather than looking outward
  // (see jinja_scope.cpp). For loops: body frame here, else frame in else_undefined.
  std::vector<std::string> frame_undefined;
  std::vector<std::string> else_undefined;
};

struct TemplateAst {
  StmtList body;
  std::vector<std::string> frame_undefined;  // root frame, see Stmt::frame_undefined
};

}  // namespace pocket::jinja
