// Expression evaluation for the Jinja interpreter: operators with Python's numeric and
// sequence semantics, attribute/item lookup with jinja2's sandbox rules
// (ref: pallets/jinja src/jinja2/sandbox.py SandboxedEnvironment.getattr/getitem,
// src/jinja2/runtime.py Undefined), slicing, calls and comparisons.
#include <algorithm>
#include <cmath>

#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {
namespace {

[[noreturn]] void value_error(const std::string& msg) { throw TemplateError("ValueError: " + msg, 0); }
[[noreturn]] void zero_division(const std::string& msg) { throw TemplateError("ZeroDivisionError: " + msg, 0); }
[[noreturn]] void overflow() {
  throw TemplateError("OverflowError: integer result does not fit in 64 bits", 0);
}

std::string name_repr(const Value& key) { return key.is_string() ? py_repr_str(key.str()) : repr(key); }


Value undefined_item(const Value& obj, const Value& key) {
  if (key.is_string()) return undefined_attribute(obj, key.str());
  return Value::undefined(object_type_repr(obj) + " has no element " + name_repr(key));
}

bool hashable(const Value& v) {
  if (v.kind() == Kind::kDict) return false;
  if (v.kind() == Kind::kList) {
    if (!v.has_tag(ListData::Tag::kTuple)) return v.has_tag(ListData::Tag::kRange);
    for (const Value& item : v.items()) {
      if (!hashable(item)) return false;
    }
  }
  return true;
}

// Python floor division / modulo for floats (Objects/floatobject.c float_divmod).
void float_divmod(double vx, double wx, double& floordiv, double& mod) {
  mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, vx / wx);
  }
}

int64_t checked_repeat_count(const Value& n) { return n.as_int() < 0 ? 0 : n.as_int(); }

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  type_error("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

Value repeat(Interp& in, const Value& seq, const Value& n) {
  int64_t count = checked_repeat_count(n);
  if (seq.is_string()) {
    const std::string& s = seq.str();
    if (s.empty()) count = 0;  // "" * 2**60 must not loop 2**60 times
    if (count > 0 && s.size() > in.limits().max_string_bytes / static_cast<uint64_t>(count)) {
      throw TemplateError("MemoryError: string repetition is too large", 0);
    }
    in.charge_bytes(s.size() * static_cast<size_t>(count));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) out += s;
    return seq.is_markup() ? Value::markup(std::move(out)) : Value::string(std::move(out));
  }
  const auto& items = seq.items();
  if (items.empty()) count = 0;
  if (count > 0 && items.size() > (in.limits().max_string_bytes / 16) / static_cast<uint64_t>(count)) {
    throw TemplateError("MemoryError: list repetition is too large", 0);
  }
  in.charge(items.size() * static_cast<size_t>(count));
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list_known_depth(std::move(out), seq.list_data().tag, value_depth(seq));
}

Value int_pow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, base, &result)) overflow();
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
  }
  return Value::integer(result);
}

bool is_plain_seq(const Value& v, ListData::Tag tag) { return v.has_tag(tag); }

}  // namespace

Value binary_op(Interp& in, const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) raise_undefined(a);
  if (b.is_undefined()) raise_undefined(b);
  const bool ints = a.is_integral() && b.is_integral();
  const bool nums = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) overflow();
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_float() + b.as_float());
    if (a.is_string()) {
      if (!b.is_string()) type_error("can only concatenate str (not \"" + type_name(b) + "\") to str");
      in.charge_bytes(a.str().size() + b.str().size());
      if (a.is_markup() || b.is_markup()) {
        // Markup.__add__ / __radd__ escape the plain operand.
        return Value::markup((a.is_markup() ? a.str() : html_escape(a.str())) +
                             (b.is_markup() ? b.str() : html_escape(b.str())));
      }
      return Value::string(a.str() + b.str());
    }
    for (auto tag : {ListData::Tag::kList, ListData::Tag::kTuple}) {
      if (is_plain_seq(a, tag)) {
        if (!is_plain_seq(b, tag)) {
          type_error("can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " + type_name(a));
        }
        in.charge(a.items().size() + b.items().size());
        std::vector<Value> out;
        out.reserve(a.items().size() + b.items().size());
        out.insert(out.end(), a.items().begin(), a.items().end());
        out.insert(out.end(), b.items().begin(), b.items().end());
        return Value::list_known_depth(std::move(out), tag, std::max(value_depth(a), value_depth(b)));
      }
    }
    unsupported("+", a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) overflow();
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_float() - b.as_float());
    unsupported("-", a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) overflow();
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_float() * b.as_float());
    const bool a_seq = a.is_string() || is_plain_seq(a, ListData::Tag::kList) || is_plain_seq(a, ListData::Tag::kTuple);
    const bool b_seq = b.is_string() || is_plain_seq(b, ListData::Tag::kList) || is_plain_seq(b, ListData::Tag::kTuple);
    if (a_seq && b.is_integral()) return repeat(in, a, b);
    if (b_seq && a.is_integral()) return repeat(in, b, a);
    if (a_seq && !b_seq) type_error("can't multiply sequence by non-int of type '" + type_name(b) + "'");
    if (b_seq && !a_seq) type_error("can't multiply sequence by non-int of type '" + type_name(a) + "'");
    unsupported("*", a, b);
  }
  if (op == "/") {
    if (!nums) unsupported("/", a, b);
    if (b.as_float() == 0.0) zero_division("division by zero");
    return Value::number(a.as_float() / b.as_float());
  }
  if (op == "//" || op == "%") {
    if (op == "%" && a.is_string()) {
      std::string s = py_percent_format(in, a.str(), b, a.is_markup());
      in.charge_bytes(s.size());
      return a.is_markup() ? Value::markup(std::move(s)) : Value::string(std::move(s));
    }
    if (!nums) unsupported(op, a, b);
    if (ints) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) zero_division(op == "//" ? "integer division or modulo by zero" : "integer modulo by zero");
      if (y == -1) {
        if (op == "%") return Value::integer(0);
        if (x == INT64_MIN) overflow();
        return Value::integer(-x);
      }
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        --q;
        r += y;
      }
      return Value::integer(op == "//" ? q : r);
    }
    const double y = b.as_float();
    if (y == 0.0) zero_division(op == "//" ? "float floor division by zero" : "float modulo");
    double q, r;
    float_divmod(a.as_float(), y, q, r);
    return Value::number(op == "//" ? q : r);
  }
  if (op == "**") {
    if (!nums) unsupported("** or pow()", a, b);
    if (ints && b.as_int() >= 0) return int_pow(a.as_int(), b.as_int());
    const double x = a.as_float(), y = b.as_float();
    if (x == 0.0 && y < 0) zero_division("0.0 cannot be raised to a negative power");
    if (x < 0 && y != std::floor(y)) value_error("complex results are not supported");
    const double r = std::pow(x, y);
    if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) {
      throw TemplateError("OverflowError: (34, 'Numerical result out of range')", 0);
    }
    return Value::number(r);
  }
  type_error("unknown operator " + op);
}

static bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined:
      return false;
    case Kind::kString:
      if (!item.is_string()) type_error("'in <string>' requires string as left operand, not " + type_name(item));
      return find_sub(container.str(), item.str()) != std::string::npos;
    case Kind::kList: {
      std::vector<Value> items;
      iterate(container, items);
      for (const Value& v : items) {
        if (equals(v, item)) return true;
      }
      return false;
    }
    case Kind::kDict:
      if (!hashable(item)) type_error("unhashable type: '" + type_name(item) + "'");
      return container.dict().find(item) != nullptr;
    default:
      type_error("argument of type '" + type_name(container) + "' is not iterable");
  }
}

Value Interp::eval_compare(const Expr& e, Scope* scope) {
  Value left = eval(*e.items[0], scope);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.items[i + 1], scope);
    const std::string& op = e.ops[i];
    charge(cost_of(left) + cost_of(right));
    bool ok;
    if (op == "==") {
      ok = equals(left, right);
    } else if (op == "!=") {
      ok = !equals(left, right);
    } else if (op == "in") {
      ok = contains(right, left);
    } else if (op == "notin") {
      ok = !contains(right, left);
    } else {
      const int c = compare(left, right, op.c_str());
      if (op == "<") ok = c == -1;
      else if (op == "<=") ok = c == -1 || c == 0;
      else if (op == ">") ok = c == 1;
      else ok = c == 1 || c == 0;
    }
    if (!ok) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

void Interp::eval_args(const Arguments& a, Scope* scope, CallArgs& out) {
  for (const auto& p : a.pos) out.pos.push_back(eval(*p, scope));
  if (a.dyn_args) {
    Value extra = eval(*a.dyn_args, scope);
    charge(cost_of(extra));
    iterate(extra, out.pos);
  }
  for (const auto& kv : a.kw) out.kw.emplace_back(kv.first, eval(*kv.second, scope));
  if (a.dyn_kwargs) {
    Value extra = eval(*a.dyn_kwargs, scope);
    if (!extra.is_dict()) type_error("argument after ** must be a mapping, not " + type_name(extra));
    for (const auto& kv : extra.dict().items) {
      if (!kv.first.is_string()) type_error("keywords must be strings");
      out.kw.emplace_back(kv.first.str(), kv.second);
    }
  }
}

Value Interp::lookup(const std::string& name, Scope* scope) {
  for (Scope* s = scope; s != nullptr; s = s->parent) {
    if (const Value* v = s->find(name)) return *v;
  }
  return Value::undefined(py_repr_str(name) + " is undefined");
}

Value Interp::eval_inner(const Expr& e, Scope* scope) {
  switch (e.kind) {
    case ExprKind::kConst:
      return e.value;
    case ExprKind::kName:
      return lookup(e.name, scope);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.items.size());
      for (const auto& item : e.items) items.push_back(eval(*item, scope));
      return Value::list(std::move(items), e.kind == ExprKind::kList ? ListData::Tag::kList : ListData::Tag::kTuple);
    }
    case ExprKind::kDict: {
      DictData d;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        Value key = eval(*e.items[i], scope);
        if (!hashable(key)) type_error("unhashable type: '" + type_name(key) + "'");
        d.set(std::move(key), eval(*e.items[i + 1], scope));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::kGetattr:
      return getattr(eval(*e.target, scope), e.name);
    case ExprKind::kGetitem: {
      Value obj = eval(*e.target, scope);
      const Expr& key = *e.items[0];
      if (key.kind == ExprKind::kSlice) {
        Value parts[3];
        for (int i = 0; i < 3; ++i) parts[i] = key.items[i] ? eval(*key.items[i], scope) : Value::none();
        // Slices bypass environment.getitem in jinja2's compiled code, so Python's own
        // errors surface (ref: jinja2/compiler.py visit_Getitem).
        if (obj.is_undefined()) raise_undefined(obj);
        if (!obj.is_string() && !obj.is_sequence_like()) {
          if (obj.is_dict()) type_error("unhashable type: 'slice'");
          type_error("'" + type_name(obj) + "' object is not subscriptable");
        }
        for (const Value& p : parts) {
          if (!p.is_none() && !p.is_integral()) {
            type_error("slice indices must be integers or None or have an __index__ method");
          }
        }
        return slice_value(*this, obj, parts[0], parts[1], parts[2]);
      }
      return getitem(obj, eval(key, scope));
    }
    case ExprKind::kSlice:
      return Value::undefined("slice objects are not supported here");
    case ExprKind::kCall: {
      Value fn = eval(*e.target, scope);
      CallArgs args;
      eval_args(e.args, scope, args);
      return call(fn, args);
    }
    case ExprKind::kFilter: {
      Value input = e.target ? eval(*e.target, scope) : Value();
      CallArgs args;
      eval_args(e.args, scope, args);
      line_ = e.line;
      return filter(e.name, input, args);
    }
    case ExprKind::kTest: {
      Value input = eval(*e.target, scope);
      CallArgs args;
      eval_args(e.args, scope, args);
      line_ = e.line;
      return Value::boolean(test(e.name, input, args));
    }
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      Value v = eval(*e.items[0], scope);
      if (v.is_undefined()) raise_undefined(v);
      const bool neg = e.kind == ExprKind::kNeg;
      if (v.is_integral()) {
        if (neg && v.as_int() == INT64_MIN) overflow();
        return Value::integer(neg ? -v.as_int() : v.as_int());
      }
      if (v.is_float()) return Value::number(neg ? -v.as_float() : v.as_float());
      type_error(std::string("bad operand type for unary ") + (neg ? "-" : "+") + ": '" + type_name(v) + "'");
    }
    case ExprKind::kNot:
      return Value::boolean(!truthy(eval(*e.items[0], scope)));
    case ExprKind::kBinary: {
      Value a = eval(*e.items[0], scope);
      Value b = eval(*e.items[1], scope);
      line_ = e.line;
      return binary_op(*this, e.name, a, b);
    }
    case ExprKind::kAnd: {
      Value a = eval(*e.items[0], scope);
      if (!truthy(a)) return a;
      return eval(*e.items[1], scope);
    }
    case ExprKind::kOr: {
      Value a = eval(*e.items[0], scope);
      if (truthy(a)) return a;
      return eval(*e.items[1], scope);
    }
    case ExprKind::kConcat: {
      std::string out;
      for (const auto& item : e.items) out += to_str(eval(*item, scope));
      return make_string(std::move(out));
    }
    case ExprKind::kCompare:
      return eval_compare(e, scope);
    case ExprKind::kCond:
      if (truthy(eval(*e.items[0], scope))) return eval(*e.items[1], scope);
      if (e.items[2]) return eval(*e.items[2], scope);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    case ExprKind::kNSRef:
      type_error("namespace references can only be assigned to");
  }
  return Value();
}

Value Interp::call(const Value& fn, CallArgs& args) {
  switch (fn.kind()) {
    case Kind::kCallable:
      return fn.callable()->call(*this, args);
    case Kind::kUndefined:
      raise_undefined(fn);
    case Kind::kObject: {
      const Value method = fn.object()->get_attr("__call__");  // recursive loop(...)
      if (method.is_callable()) return method.callable()->call(*this, args);
      type_error("'" + type_name(fn) + "' object is not callable");
    }
    default:
      type_error("'" + type_name(fn) + "' object is not callable");
  }
}

Value Interp::getattr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Kind::kUndefined:
      raise_undefined(obj);
    case Kind::kNamespace:
      if (const Value* v = obj.ns()->attrs.find(name)) return *v;
      return undefined_attribute(obj, name);
    case Kind::kObject:
      return obj.object()->get_attr(name);
    default:
      break;
  }
  Value method = builtin_attribute(*this, obj, name);
  if (!method.is_undefined() || method.undefined_unsafe()) return method;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().find(name)) return *v;
  }
  return undefined_attribute(obj, name);
}

Value Interp::getitem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Kind::kUndefined:
      raise_undefined(obj);
    case Kind::kDict:
      if (hashable(key)) {
        if (!key.is_string()) charge(cost_of(obj));  // non-str keys are found by scanning
        if (const Value* v = obj.dict().find(key)) return *v;
      }
      break;
    case Kind::kString:
    case Kind::kList: {
      if (!key.is_integral() || !(obj.is_string() || obj.is_sequence_like())) break;
      int64_t idx = key.as_int();
      if (obj.is_string()) {
        const std::string& s = obj.str();
        if (is_ascii(s)) {
          const auto n = static_cast<int64_t>(s.size());
          if (idx < 0) idx += n;
          if (idx < 0 || idx >= n) return undefined_item(obj, key);
          std::string ch(1, s[static_cast<size_t>(idx)]);
          return obj.is_markup() ? Value::markup(std::move(ch)) : Value::string(std::move(ch));
        }
        charge(cost_of(obj));
        const std::u32string u = to_u32(s);
        const auto n = static_cast<int64_t>(u.size());
        if (idx < 0) idx += n;
        if (idx < 0 || idx >= n) return undefined_item(obj, key);
        std::string ch;
        append_utf8(ch, u[static_cast<size_t>(idx)]);
        return obj.is_markup() ? Value::markup(std::move(ch)) : Value::string(std::move(ch));
      }
      const auto& items = obj.items();
      const auto n = static_cast<int64_t>(items.size());
      if (idx < 0) idx += n;
      if (idx < 0 || idx >= n) return undefined_item(obj, key);
      return items[static_cast<size_t>(idx)];
    }
    case Kind::kNamespace:
    case Kind::kObject:
      if (key.is_string()) return getattr(obj, key.str());
      break;
    default:
      break;
  }
  // jinja2 falls back to attribute lookup for string keys.
  if (key.is_string()) {
    Value method = builtin_attribute(*this, obj, key.str());
    if (!method.is_undefined() || method.undefined_unsafe()) return method;
  }
  return undefined_item(obj, key);
}

// PySlice_AdjustIndices semantics.
Value slice_value(Interp& in, const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
  const int64_t step = step_v.is_none() ? 1 : step_v.as_int();
  if (step == 0) value_error("slice step cannot be zero");
  in.charge(cost_of(obj));
  std::u32string u;
  const bool ascii = obj.is_string() && is_ascii(obj.str());
  if (obj.is_string() && !ascii) u = to_u32(obj.str());
  const int64_t len = obj.is_string() ? static_cast<int64_t>(ascii ? obj.str().size() : u.size())
                                      : static_cast<int64_t>(obj.items().size());
  auto adjust = [&](const Value& v, int64_t def) -> int64_t {
    if (v.is_none()) return def;
    int64_t i = v.as_int();
    if (i < 0) {
      i += len;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= len) {
      i = step < 0 ? len - 1 : len;
    }
    return i;
  };
  const int64_t start = adjust(start_v, step < 0 ? len - 1 : 0);
  const int64_t stop = adjust(stop_v, step < 0 ? -1 : len);
  std::vector<int64_t> idx;
  if (step > 0) {
    for (int64_t i = start; i < stop; i += step) idx.push_back(i);
  } else {
    for (int64_t i = start; i > stop; i += step) idx.push_back(i);
  }
  in.charge(idx.size());
  if (obj.is_string()) {
    std::string out;
    for (int64_t i : idx) {
      if (ascii) {
        out += obj.str()[static_cast<size_t>(i)];
      } else {
        append_utf8(out, u[static_cast<size_t>(i)]);
      }
    }
    in.charge_bytes(out.size());
    return obj.is_markup() ? Value::markup(std::move(out)) : Value::string(std::move(out));
  }
  std::vector<Value> out;
  out.reserve(idx.size());
  for (int64_t i : idx) out.push_back(obj.items()[static_cast<size_t>(i)]);
  const auto tag = obj.list_data().tag == ListData::Tag::kTuple ? ListData::Tag::kTuple : ListData::Tag::kList;
  return Value::list_known_depth(std::move(out), tag, value_depth(obj));
}

}  // namespace pocket::jinja
