// Statement execution for the Jinja interpreter: output, for loops (with jinja2's
// LoopContext), if, set (names, tuples, namespace attributes, blocks), macros and call
// blocks, filter blocks, with, break/continue. Scoping follows jinja2's compiled code:
// every loop iteration, macro call, set/filter block body and with block gets a fresh
// scope; if blocks do not (ref: pallets/jinja src/jinja2/compiler.py, runtime.py).
#include <algorithm>
#include <new>
#include <stdexcept>

#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {

const Value* Scope::find(const std::string& name) const {
  for (const auto& kv : vars) {
    if (kv.first == name) return &kv.second;
  }
  return nullptr;
}

void Scope::set(const std::string& name, Value v) {
  for (auto& kv : vars) {
    if (kv.first == name) {
      kv.second = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

namespace {

struct DepthGuard {
  explicit DepthGuard(int& depth, int max) : depth_(depth) {
    if (++depth_ > max) {
      --depth_;
      throw TemplateError("RecursionError: maximum template recursion depth exceeded", 0);
    }
  }
  ~DepthGuard() { --depth_; }
  int& depth_;
};

class MacroFn : public Callable {
 public:
  MacroFn(const Stmt& def, std::string name, Scope* closure) : def_(def), name_(std::move(name)), closure_(closure) {}
  Value call(Interp& in, CallArgs& args) override {
    return in.make_string(in.run_macro(def_, name_, closure_, args));
  }
  std::string repr() const override { return "<Macro " + py_repr_str(name_) + ">"; }
  bool is_macro() const override { return true; }

 private:
  const Stmt& def_;
  std::string name_;
  Scope* closure_;
};

// jinja2.runtime.LoopContext.
class LoopObj : public Object {
 public:
  std::vector<Value> items;
  size_t index0 = 0;
  int depth0 = 0;
  const Stmt* stmt = nullptr;  // recursive loops only
  Scope* scope = nullptr;
  mutable Value last_changed;
  mutable bool has_last_changed = false;
  std::weak_ptr<LoopObj> self;
  uint32_t depth_ = 1;

  uint32_t depth() const override { return depth_; }
  void clear_state() override {
    last_changed = Value();
    has_last_changed = false;
  }

  Value get_attr(const std::string& name) const override;
  std::string repr() const override {
    return "<LoopContext " + std::to_string(index0 + 1) + "/" + std::to_string(items.size()) + ">";
  }
  const char* type_name() const override { return "LoopContext"; }
};

class LoopMethod : public Callable {
 public:
  LoopMethod(std::shared_ptr<LoopObj> loop, std::string name) : loop_(std::move(loop)), name_(std::move(name)) {}
  uint32_t depth() const override { return loop_->depth() + 1; }
  Value call(Interp& in, CallArgs& args) override {
    LoopObj& l = *loop_;
    if (name_ == "cycle") {
      if (args.pos.empty()) type_error("no items for cycling given");
      return args.pos[l.index0 % args.pos.size()];
    }
    if (name_ == "changed") {
      Value v = Value::tuple(args.pos);
      if (!l.has_last_changed || !equals(v, l.last_changed)) {
        l.last_changed = v;
        l.has_last_changed = true;
        return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    // loop(iterable): one more level of a recursive loop.
    if (l.stmt == nullptr) {
      type_error("Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.");
    }
    if (args.pos.size() != 1 || !args.kw.empty()) type_error("loop() takes exactly one argument");
    return in.make_string(in.run_loop(*l.stmt, l.scope, args.pos[0], l.depth0 + 1));
  }
  std::string repr() const override { return "<bound method LoopContext." + name_ + ">"; }

 private:
  std::shared_ptr<LoopObj> loop_;
  std::string name_;
};

Value LoopObj::get_attr(const std::string& name) const {
  const auto n = static_cast<int64_t>(items.size());
  const auto i = static_cast<int64_t>(index0);
  if (name == "index0") return Value::integer(i);
  if (name == "index") return Value::integer(i + 1);
  if (name == "revindex") return Value::integer(n - i);
  if (name == "revindex0") return Value::integer(n - i - 1);
  if (name == "first") return Value::boolean(i == 0);
  if (name == "last") return Value::boolean(i + 1 == n);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(depth0 + 1);
  if (name == "depth0") return Value::integer(depth0);
  if (name == "previtem") {
    if (i == 0) return Value::undefined("there is no previous item");
    return items[index0 - 1];
  }
  if (name == "nextitem") {
    if (i + 1 >= n) return Value::undefined("there is no next item");
    return items[index0 + 1];
  }
  if (name == "cycle" || name == "changed" || name == "__call__") {
    return Value::callable(std::make_shared<LoopMethod>(self.lock(), name));
  }
  return Value::undefined("'jinja2.runtime.LoopContext object' has no attribute " + py_repr_str(name));
}

}  // namespace

Interp::Interp(const TemplateAst& ast, const Limits& limits, const Clock& clock)
    : ast_(ast), limits_(limits), clock_(clock) {}

Interp::~Interp() {
  for (const auto& weak : objects_) {
    if (auto obj = weak.lock()) obj->clear_state();
  }
}

void Interp::charge(uint64_t units) {
  work_ += units;
  if (work_ > limits_.max_work) {
    throw TemplateError("template exceeded its work budget (runaway loop or recursion?)", 0);
  }
}

void Interp::charge_bytes(size_t bytes) {
  if (bytes > limits_.max_string_bytes) throw TemplateError("MemoryError: string exceeds the size limit", 0);
  charge(bytes / 256);
}

Namespace* Interp::new_namespace() {
  charge(16);
  namespaces_.emplace_back();
  return &namespaces_.back();
}

Scope* Interp::new_scope(Scope* parent) {
  Scope* s;
  if (!free_scopes_.empty()) {
    s = free_scopes_.back();
    free_scopes_.pop_back();
  } else {
    charge(4);
    scopes_.emplace_back();
    s = &scopes_.back();
  }
  s->parent = parent;
  s->vars.clear();
  s->captured = false;
  return s;
}

void Interp::bind_undefined(Scope* s, const std::vector<std::string>& names) {
  for (const std::string& n : names) s->set(n, Value::undefined(py_repr_str(n) + " is undefined"));
}

void Interp::release_scope(Scope* s) {
  if (s->captured) return;
  s->vars.clear();
  free_scopes_.push_back(s);
}

void Interp::capture(Scope* s) {
  for (; s != nullptr && !s->captured; s = s->parent) s->captured = true;
}

Value Interp::eval(const Expr& e, Scope* scope) {
  DepthGuard guard(depth_, limits_.max_depth);
  charge(1);
  line_ = e.line;
  return eval_inner(e, scope);
}

Value Interp::make_macro(const Stmt& def, const std::string& name, Scope* closure) {
  capture(closure);
  return Value::callable(std::make_shared<MacroFn>(def, name, closure));
}

void Interp::append_output(std::string& out, const std::string& text) {
  if (out.size() + text.size() > limits_.max_string_bytes) {
    throw TemplateError("MemoryError: rendered output exceeds the size limit", 0);
  }
  charge(text.size() / 256);
  out += text;
}

std::string Interp::render(const std::vector<std::pair<std::string, Value>>& context) {
  std::string out;
  try {
    globals_ = new_scope(nullptr);
    capture(globals_);
    install_globals(*this, *globals_);
    Scope* root = new_scope(globals_);
    capture(root);
    for (const auto& kv : context) root->set(kv.first, kv.second);
    bind_undefined(root, ast_.frame_undefined);
    exec_body(ast_.body, root, out);
  } catch (TemplateError& e) {
    if (e.line() == 0) e.set_line(line_);
    throw;
  } catch (const std::bad_alloc&) {
    throw TemplateError("MemoryError: out of memory while rendering", line_);
  } catch (const std::length_error&) {
    throw TemplateError("MemoryError: value too large", line_);
  }
  return out;
}

Flow Interp::exec_body(const StmtList& body, Scope* scope, std::string& out) {
  for (const auto& s : body) {
    const Flow f = exec(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

void Interp::assign(const Expr& target, Scope* scope, const Value& value) {
  if (target.kind == ExprKind::kName) {
    scope->set(target.name, value);
    return;
  }
  if (target.kind == ExprKind::kNSRef) {
    Value ref = lookup(target.name, scope);
    if (ref.kind() != Kind::kNamespace) {
      throw TemplateError("TemplateRuntimeError: cannot assign attribute on non-namespace object", 0);
    }
    ref.ns()->attrs.set(Value::string(target.ops[0]), value);
    return;
  }
  // Tuple unpacking.
  if (!value.is_string() && value.kind() != Kind::kList && value.kind() != Kind::kDict && !value.is_undefined()) {
    type_error("cannot unpack non-iterable " + type_name(value) + " object");
  }
  charge(cost_of(value));
  std::vector<Value> items;
  iterate(value, items);
  const size_t want = target.items.size();
  if (items.size() < want) {
    throw TemplateError("ValueError: not enough values to unpack (expected " + std::to_string(want) + ", got " +
                            std::to_string(items.size()) + ")",
                        0);
  }
  if (items.size() > want) {
    throw TemplateError("ValueError: too many values to unpack (expected " + std::to_string(want) + ")", 0);
  }
  for (size_t i = 0; i < want; ++i) assign(*target.items[i], scope, items[i]);
}

std::string Interp::run_macro(const Stmt& def, const std::string& name, Scope* closure, CallArgs& args) {
  DepthGuard guard(depth_, limits_.max_depth);
  const MacroSig& sig = def.sig;
  const size_t nparams = sig.params.size();
  std::vector<std::pair<std::string, Value>> kw = args.kw;
  std::vector<Value> bound(nparams);
  std::vector<bool> have(nparams, false);
  for (size_t i = 0; i < nparams && i < args.pos.size(); ++i) {
    bound[i] = args.pos[i];
    have[i] = true;
  }
  for (size_t i = args.pos.size(); i < nparams; ++i) {
    auto it = std::find_if(kw.begin(), kw.end(), [&](const auto& p) { return p.first == sig.params[i]; });
    if (it != kw.end()) {
      bound[i] = it->second;
      have[i] = true;
      kw.erase(it);
    }
  }
  Value caller;
  if (sig.uses_caller) {
    auto it = std::find_if(kw.begin(), kw.end(), [](const auto& p) { return p.first == "caller"; });
    if (it != kw.end()) {
      caller = it->second;
      kw.erase(it);
    } else {
      caller = Value::undefined("No caller defined");
    }
  }
  if (!sig.uses_kwargs && !kw.empty()) {
    if (kw[0].first == "caller") {
      type_error("macro " + py_repr_str(name) + " was invoked with two values for the special caller argument. "
                 "This is most likely a bug.");
    }
    type_error("macro " + py_repr_str(name) + " takes no keyword argument " + py_repr_str(kw[0].first));
  }
  if (!sig.uses_varargs && args.pos.size() > nparams) {
    type_error("macro " + py_repr_str(name) + " takes not more than " + std::to_string(nparams) + " argument(s)");
  }
  Scope* scope = new_scope(closure);
  bind_undefined(scope, def.frame_undefined);
  for (size_t i = 0; i < nparams; ++i) {
    if (have[i]) scope->set(sig.params[i], bound[i]);
  }
  if (sig.uses_caller) scope->set("caller", caller);
  if (sig.uses_kwargs) {
    DictData d;
    for (auto& kv : kw) d.set(Value::string(kv.first), kv.second);
    scope->set("kwargs", Value::dict(std::move(d)));
  }
  if (sig.uses_varargs) {
    std::vector<Value> rest;
    for (size_t i = nparams; i < args.pos.size(); ++i) rest.push_back(args.pos[i]);
    scope->set("varargs", Value::tuple(std::move(rest)));
  }
  const size_t first_default = nparams - sig.defaults.size();
  for (size_t i = 0; i < nparams; ++i) {
    if (have[i]) continue;
    if (i >= first_default) {
      scope->set(sig.params[i], eval(*sig.defaults[i - first_default], scope));
    } else {
      scope->set(sig.params[i], Value::undefined("parameter " + py_repr_str(sig.params[i]) + " was not provided"));
    }
  }
  std::string out;
  exec_body(def.body, scope, out);
  release_scope(scope);
  return out;
}

std::string Interp::run_loop(const Stmt& loop_stmt, Scope* scope, const Value& iterable, int depth) {
  DepthGuard guard(depth_, limits_.max_depth);
  std::string out;
  exec_for(loop_stmt, scope, out, iterable, depth);
  return out;
}

void Interp::exec_for(const Stmt& s, Scope* scope, std::string& out, const Value& iterable, int depth) {
  std::vector<Value> items;
  if (iterable.is_undefined() && iterable.undefined_unsafe()) raise_undefined(iterable);
  iterate(iterable, items);
  charge(items.size());
  Scope* iter_scope = new_scope(scope);
  if (s.cond) {
    // `for x in xs if cond` filters before the loop object exists, so loop.length counts
    // only the kept items.
    std::vector<Value> kept;
    for (const Value& item : items) {
      iter_scope->vars.clear();
      assign(*s.target, iter_scope, item);
      if (truthy(eval(*s.cond, iter_scope))) kept.push_back(item);
      if (iter_scope->captured) iter_scope = new_scope(scope);
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    release_scope(iter_scope);
    if (!s.else_body.empty()) {
      Scope* else_scope = new_scope(scope);
      bind_undefined(else_scope, s.else_undefined);
      exec_body(s.else_body, else_scope, out);
      release_scope(else_scope);
    }
    return;
  }
  auto loop = std::make_shared<LoopObj>();
  loop->self = loop;
  uint32_t item_depth = 0;
  for (const Value& item : items) item_depth = std::max(item_depth, value_depth(item));
  loop->depth_ = checked_depth(item_depth + 1);
  loop->items = std::move(items);
  objects_.push_back(loop);
  loop->depth0 = depth;
  if (s.recursive) {
    loop->stmt = &s;
    loop->scope = scope;
    capture(scope);
  }
  const Value loop_value = Value::object(loop);
  for (size_t i = 0; i < loop->items.size(); ++i) {
    charge(1);
    loop->index0 = i;
    if (iter_scope->captured) {
      iter_scope = new_scope(scope);
    } else {
      iter_scope->vars.clear();
    }
    bind_undefined(iter_scope, s.frame_undefined);
    iter_scope->set("loop", loop_value);
    line_ = s.line;
    assign(*s.target, iter_scope, loop->items[i]);
    const Flow f = exec_body(s.body, iter_scope, out);
    if (f == Flow::kBreak) break;
  }
  release_scope(iter_scope);
}

Flow Interp::exec(const Stmt& s, Scope* scope, std::string& out) {
  DepthGuard guard(depth_, limits_.max_depth);
  charge(1);
  line_ = s.line;
  switch (s.kind) {
    case StmtKind::kText:
      append_output(out, s.text);
      return Flow::kNormal;
    case StmtKind::kOutput: {
      const Value v = eval(*s.expr, scope);
      if (v.is_string()) {
        append_output(out, v.str());
      } else {
        append_output(out, to_str(v));
      }
      return Flow::kNormal;
    }
    case StmtKind::kFor: {
      const Value iterable = eval(*s.expr, scope);
      line_ = s.line;
      exec_for(s, scope, out, iterable, 0);
      return Flow::kNormal;
    }
    case StmtKind::kIf:
      for (const auto& branch : s.branches) {
        if (truthy(eval(*branch.first, scope))) return exec_body(branch.second, scope, out);
      }
      return exec_body(s.else_body, scope, out);
    case StmtKind::kSet: {
      const Value v = eval(*s.expr, scope);
      line_ = s.line;
      assign(*s.target, scope, v);
      return Flow::kNormal;
    }
    case StmtKind::kSetBlock:
    case StmtKind::kFilterBlock: {
      Scope* inner = new_scope(scope);
      bind_undefined(inner, s.frame_undefined);
      std::string body;
      exec_body(s.body, inner, body);
      release_scope(inner);
      Value v = make_string(std::move(body));
      if (s.expr) {
        // Apply the filter chain innermost-first, feeding the body as the first input.
        std::vector<const Expr*> chain;
        for (const Expr* f = s.expr.get(); f != nullptr; f = f->target.get()) chain.push_back(f);
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
          CallArgs args;
          eval_args((*it)->args, scope, args);
          line_ = (*it)->line;
          v = filter((*it)->name, v, args);
        }
      }
      if (s.kind == StmtKind::kSetBlock) {
        assign(*s.target, scope, v);
      } else {
        append_output(out, to_str(v));
      }
      return Flow::kNormal;
    }
    case StmtKind::kMacro:
      scope->set(s.text, make_macro(s, s.text, scope));
      return Flow::kNormal;
    case StmtKind::kCallBlock: {
      const Expr& call_expr = *s.expr;
      Value fn = eval(*call_expr.target, scope);
      CallArgs args;
      eval_args(call_expr.args, scope, args);
      args.kw.emplace_back("caller", make_macro(s, "caller", scope));
      line_ = s.line;
      append_output(out, to_str(call(fn, args)));
      return Flow::kNormal;
    }
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
    case StmtKind::kWith: {
      std::vector<Value> values;
      for (const auto& a : s.assignments) values.push_back(eval(*a.second, scope));
      Scope* inner = new_scope(scope);
      bind_undefined(inner, s.frame_undefined);
      for (size_t i = 0; i < values.size(); ++i) assign(*s.assignments[i].first, inner, values[i]);
      const Flow f = exec_body(s.body, inner, out);
      release_scope(inner);
      return f;
    }
    case StmtKind::kScope: {
      // transformers' {% generation %} is a call block: its body is its own frame.
      Scope* inner = new_scope(scope);
      bind_undefined(inner, s.frame_undefined);
      const Flow f = exec_body(s.body, inner, out);
      release_scope(inner);
      return f;
    }
  }
  return Flow::kNormal;
}

static uint64_t args_cost(const CallArgs& args) {
  uint64_t c = 0;
  for (const Value& v : args.pos) c += cost_of(v);
  for (const auto& kv : args.kw) c += cost_of(kv.second);
  return c;
}

Value Interp::filter(const std::string& name, const Value& input, CallArgs& args) {
  charge(cost_of(input) + args_cost(args));
  return apply_filter(*this, name, input, args);
}

bool Interp::test(const std::string& name, const Value& input, CallArgs& args) {
  charge(cost_of(input) + args_cost(args));
  return apply_test(*this, name, input, args);
}

}  // namespace pocket::jinja
