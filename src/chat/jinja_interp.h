// Tree-walking interpreter for a parsed Jinja template (internal to the chat module).
// One Interp renders one template once. It owns every scope and namespace created during
// the render (arena-style, so closures and namespaces can reference each other without
// reference-count cycles) and enforces the resource limits that keep hostile templates
// from hanging or exhausting memory: a work budget, an output/string size cap and a
// recursion depth cap.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace pocket::jinja {

struct Clock {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, microsecond = 0;
};

struct Limits {
  size_t max_string_bytes = size_t{64} << 20;  // any single string, including the output
  uint64_t max_work = 200'000'000;            // ~ expression evaluations + bytes/256 produced
  int max_depth = 256;                          // nested evaluation frames
};

struct Scope {
  Scope* parent = nullptr;
  std::vector<std::pair<std::string, Value>> vars;
  bool captured = false;  // referenced by a macro closure: never recycled

  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value v);
};

// Loop control flow inside a for body.
enum class Flow : uint8_t { kNormal, kBreak, kContinue };

class Interp {
 public:
  Interp(const TemplateAst& ast, const Limits& limits, const Clock& clock);
  ~Interp();
  Interp(const Interp&) = delete;
  Interp& operator=(const Interp&) = delete;

  // Renders with `context` as the template's variables (on top of the builtin globals).
  std::string render(const std::vector<std::pair<std::string, Value>>& context);

  // ---- services used by filters, tests, methods and globals --------------------------
  Value call(const Value& fn, CallArgs& args);
  Value filter(const std::string& name, const Value& input, CallArgs& args);
  bool test(const std::string& name, const Value& input, CallArgs& args);
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  Namespace* new_namespace();
  // Charges `units` of work; fails when the budget is exhausted.
  void charge(uint64_t units);
  // Charges for producing `bytes` of string data and enforces the size cap.
  void charge_bytes(size_t bytes);
  // Enforces the size cap only: for strings grown in a loop, whose total is charged once.
  void check_size(size_t bytes) const {
    if (bytes > limits_.max_string_bytes) throw TemplateError("MemoryError: string exceeds the size limit", 0);
  }
  Value make_string(std::string s) {
    charge_bytes(s.size());
    return Value::string(std::move(s));
  }
  const Clock& clock() const { return clock_; }
  const Limits& limits() const { return limits_; }
  int current_line() const { return line_; }

  // Executes `body` in a fresh child scope of `closure` (macro and caller invocation).
  std::string run_macro(const Stmt& def, const std::string& name, Scope* closure, CallArgs& args);
  // Renders one level of a recursive for loop (loop(...) inside its body).
  std::string run_loop(const Stmt& loop_stmt, Scope* scope, const Value& iterable, int depth);

 private:
  Flow exec_body(const StmtList& body, Scope* scope, std::string& out);
  Flow exec(const Stmt& s, Scope* scope, std::string& out);
  void exec_for(const Stmt& s, Scope* scope, std::string& out, const Value& iterable, int depth);
  void exec_set(const Stmt& s, Scope* scope, Value value);
  void assign(const Expr& target, Scope* scope, const Value& value);
  Value eval(const Expr& e, Scope* scope);
  Value eval_inner(const Expr& e, Scope* scope);
  Value eval_compare(const Expr& e, Scope* scope);
  void eval_args(const Arguments& a, Scope* scope, CallArgs& out);
  Value lookup(const std::string& name, Scope* scope);
  Value make_macro(const Stmt& def, const std::string& name, Scope* closure);
  void append_output(std::string& out, const std::string& text);

  Scope* new_scope(Scope* parent);
  // Pre-binds a frame's statically "missing" names (see jinja_scope.cpp).
  void bind_undefined(Scope* s, const std::vector<std::string>& names);
  void release_scope(Scope* s);
  void capture(Scope* s);
  void enter();
  void leave() { --depth_; }

  const TemplateAst& ast_;
  Limits limits_;
  Clock clock_;
  uint64_t work_ = 0;
  int depth_ = 0;
  int line_ = 0;
  std::deque<Scope> scopes_;
  std::vector<Scope*> free_scopes_;
  std::deque<Namespace> namespaces_;
  std::vector<std::weak_ptr<Object>> objects_;  // stateful objects to reset when done
  Scope* globals_ = nullptr;
};

// Builtins implemented in separate files.
Value apply_filter(Interp& in, const std::string& name, const Value& input, CallArgs& args);
bool apply_test(Interp& in, const std::string& name, const Value& input, CallArgs& args);
bool has_test(const std::string& name);
bool has_filter(const std::string& name);
// Rejects unknown filters/tests outside `if` bodies, as jinja2's compiler does.
void check_filter_and_test_names(const TemplateAst& ast);
// Fills the frame_undefined lists of the AST (jinja2's static scoping, see jinja_scope.cpp).
void analyze_scopes(TemplateAst& ast);
// Attribute of a builtin value resolved to a bound method; Undefined if it has none.
Value builtin_attribute(Interp& in, const Value& obj, const std::string& name);
void install_globals(Interp& in, Scope& globals);
// Python binary operators (+ - * / // % **) on values.
Value binary_op(Interp& in, const std::string& op, const Value& a, const Value& b);
// json.dumps(v, ensure_ascii=..., indent=..., separators=..., sort_keys=...) as transformers' tojson.
struct JsonStyle {
  bool ensure_ascii = false;
  bool sort_keys = false;
  bool has_indent = false;
  std::string indent;
  std::string item_sep = ", ";
  std::string key_sep = ": ";
};
std::string dump_json(Interp& in, const Value& v, const JsonStyle& style);
// str.format(*args, **kwargs) and printf-style `%` formatting; `escape` HTML-escapes
// the substituted values as Markup.format / Markup.__mod__ do.
std::string py_format(Interp& in, const std::string& fmt, const CallArgs& args, bool escape = false);
std::string py_percent_format(Interp& in, const std::string& fmt, const Value& args, bool escape = false);
// datetime.strftime(fmt) of the render clock.
std::string format_clock(const Clock& clock, const std::string& fmt);
// Python slicing of a str/list/tuple.
Value slice_value(Interp& in, const Value& obj, const Value& start, const Value& stop, const Value& step);

}  // namespace pocket::jinja
