// Jinja tests (`x is name(args)`), following jinja2/tests.py. Note the Python-isms that
// templates rely on: `true is number` is True (bool is an int), `1 is true` is False
// (identity, not equality), an undefined value is iterable and a "sequence".
// ref: pallets/jinja src/jinja2/tests.py
#include <map>

#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {

namespace {

using TestFn = bool (*)(Interp&, const Value&, CallArgs&);

const Value& need(const CallArgs& a, size_t i, const char* name, const char* test) {
  const Value* v = a.get(i, name);
  if (v == nullptr) type_error(std::string(test) + "() missing 1 required positional argument: '" + name + "'");
  return *v;
}

bool t_defined(Interp&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Interp&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(Interp&, const Value& v, CallArgs&) { return v.is_none(); }
bool t_boolean(Interp&, const Value& v, CallArgs&) { return v.is_bool(); }
bool t_true(Interp&, const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); }
bool t_false(Interp&, const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); }
bool t_integer(Interp&, const Value& v, CallArgs&) { return v.is_int(); }
bool t_float(Interp&, const Value& v, CallArgs&) { return v.is_float(); }
bool t_number(Interp&, const Value& v, CallArgs&) { return v.is_number(); }
bool t_string(Interp&, const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(Interp&, const Value& v, CallArgs&) { return v.is_dict(); }
bool t_escaped(Interp&, const Value&, CallArgs&) { return false; }

bool t_sequence(Interp&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_dict() || v.is_sequence_like();
}

bool t_iterable(Interp&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_dict() || v.kind() == Kind::kList;
}

bool t_callable(Interp&, const Value& v, CallArgs&) {
  if (v.is_undefined() || v.is_callable()) return true;
  return v.kind() == Kind::kObject && std::string(v.object()->type_name()) == "LoopContext";
}

// `x % n` with Python semantics, so strings and undefined values fail as in jinja2.
bool mod_equals(Interp& in, const Value& v, const Value& n, int64_t want) {
  return equals(binary_op(in, "%", v, n), Value::integer(want));
}

bool t_odd(Interp& in, const Value& v, CallArgs&) { return mod_equals(in, v, Value::integer(2), 1); }
bool t_even(Interp& in, const Value& v, CallArgs&) { return mod_equals(in, v, Value::integer(2), 0); }
bool t_divisibleby(Interp& in, const Value& v, CallArgs& a) {
  return mod_equals(in, v, need(a, 0, "num", "test_divisibleby"), 0);
}

bool t_lower(Interp&, const Value& v, CallArgs&) {
  const std::string s = to_str(v);
  bool cased = false;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = next_code_point(s, i);
    if (py_isupper_char(c)) return false;
    cased = cased || py_islower_char(c);
  }
  return cased;
}

bool t_upper(Interp&, const Value& v, CallArgs&) {
  const std::string s = to_str(v);
  bool cased = false;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = next_code_point(s, i);
    if (py_islower_char(c)) return false;
    cased = cased || py_isupper_char(c);
  }
  return cased;
}

bool t_eq(Interp&, const Value& v, CallArgs& a) { return equals(v, need(a, 0, "b", "eq")); }
bool t_ne(Interp&, const Value& v, CallArgs& a) { return !equals(v, need(a, 0, "b", "ne")); }
bool t_lt(Interp&, const Value& v, CallArgs& a) { return compare(v, need(a, 0, "b", "lt"), "<") == -1; }
bool t_le(Interp&, const Value& v, CallArgs& a) {
  const int c = compare(v, need(a, 0, "b", "le"), "<=");
  return c == -1 || c == 0;
}
bool t_gt(Interp&, const Value& v, CallArgs& a) { return compare(v, need(a, 0, "b", "gt"), ">") == 1; }
bool t_ge(Interp&, const Value& v, CallArgs& a) {
  const int c = compare(v, need(a, 0, "b", "ge"), ">=");
  return c == 1 || c == 0;
}

bool t_in(Interp& in, const Value& v, CallArgs& a) {
  const Value& seq = need(a, 0, "seq", "test_in");
  // Reuse the `in` operator through a tiny comparison.
  if (seq.is_string()) {
    if (!v.is_string()) type_error("'in <string>' requires string as left operand, not " + type_name(v));
    return find_sub(seq.str(), v.str()) != std::string::npos;
  }
  if (seq.is_dict()) return seq.dict().find(v) != nullptr;
  std::vector<Value> items;
  iterate(seq, items);
  (void)in;
  for (const Value& x : items) {
    if (equals(x, v)) return true;
  }
  return false;
}

// Python `is`: identity. Small ints, None, bools and equal short strings are shared objects
// in CPython; containers are identical only when they are the same object.
bool t_sameas(Interp&, const Value& v, CallArgs& a) {
  const Value& o = need(a, 0, "other", "test_sameas");
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Kind::kNone: return true;
    case Kind::kBool: return v.as_bool() == o.as_bool();
    case Kind::kInt: return v.as_int() == o.as_int() && v.as_int() >= -5 && v.as_int() <= 256;
    case Kind::kFloat: return false;
    case Kind::kString: return v.identity() == o.identity() || (v.str() == o.str() && v.str().size() <= 1);
    default: return v.identity() == o.identity();
  }
}

bool t_filter(Interp&, const Value& v, CallArgs&) { return v.is_string() && has_filter(v.str()); }
bool t_test(Interp&, const Value& v, CallArgs&) { return v.is_string() && has_test(v.str()); }

const std::map<std::string, TestFn, std::less<>>& table() {
  static const std::map<std::string, TestFn, std::less<>> t = {
      {"odd", t_odd},           {"even", t_even},         {"divisibleby", t_divisibleby},
      {"defined", t_defined},   {"undefined", t_undefined}, {"filter", t_filter},
      {"test", t_test},         {"none", t_none},         {"boolean", t_boolean},
      {"false", t_false},       {"true", t_true},         {"integer", t_integer},
      {"float", t_float},       {"lower", t_lower},       {"upper", t_upper},
      {"string", t_string},     {"mapping", t_mapping},   {"number", t_number},
      {"sequence", t_sequence}, {"iterable", t_iterable}, {"callable", t_callable},
      {"sameas", t_sameas},     {"escaped", t_escaped},   {"in", t_in},
      {"==", t_eq},             {"eq", t_eq},             {"equalto", t_eq},
      {"!=", t_ne},             {"ne", t_ne},             {">", t_gt},
      {"gt", t_gt},             {"greaterthan", t_gt},    {"ge", t_ge},
      {">=", t_ge},             {"<", t_lt},              {"lt", t_lt},
      {"lessthan", t_lt},       {"<=", t_le},             {"le", t_le},
  };
  return t;
}

}  // namespace

bool has_test(const std::string& name) { return table().count(name) != 0; }

bool apply_test(Interp& in, const std::string& name, const Value& input, CallArgs& args) {
  auto it = table().find(name);
  if (it == table().end()) throw TemplateError("TemplateAssertionError: No test named " + py_repr_str(name) + ".", 0);
  return it->second(in, input, args);
}

}  // namespace pocket::jinja
