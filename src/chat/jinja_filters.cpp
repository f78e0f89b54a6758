// Jinja filters on strings and numbers, plus the filter dispatch. Each follows the
// corresponding function of jinja2/filters.py (ref: pallets/jinja src/jinja2/filters.py);
// tojson is transformers' override: json.dumps(x, ensure_ascii=False, indent=...)
// (ref: huggingface/transformers src/transformers/utils/chat_template_utils.py).
#include "chat/jinja_filters.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/jinja_text.h"

namespace pocket::jinja {
namespace {

const Value kNone = Value::none();

Value arg(const CallArgs& a, size_t i, std::string_view name, const Value& def) {
  const Value* v = a.get(i, name);
  return v ? *v : def;
}

int64_t int_arg(const CallArgs& a, size_t i, std::string_view name, int64_t def) {
  const Value* v = a.get(i, name);
  if (v == nullptr) return def;
  if (!v->is_integral()) type_error("'" + type_name(*v) + "' object cannot be interpreted as an integer");
  return v->as_int();
}

// Python float(str): whitespace, sign, inf/nan words, digits with single underscores.
bool parse_py_float(const std::string& text, double& out) {
  std::string s = py_strip(text, nullptr, true, true);
  std::string clean;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean += s[i++];
  std::string rest = py_lower(s.substr(i));
  if (rest == "inf" || rest == "infinity" || rest == "nan") {
    out = rest == "nan" ? NAN : INFINITY;
    if (clean == "-") out = -out;
    return true;
  }
  bool digits = false, prev_digit = false;
  for (size_t k = i; k < s.size(); ++k) {
    const char c = s[k];
    if (c >= '0' && c <= '9') {
      clean += c;
      digits = prev_digit = true;
    } else if (c == '_') {
      if (!prev_digit || k + 1 >= s.size() || !(s[k + 1] >= '0' && s[k + 1] <= '9')) return false;
      prev_digit = false;
    } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
      clean += c;
      prev_digit = false;
    } else {
      return false;
    }
  }
  if (!digits) return false;
  const char* b = clean.data();
  const char* e = clean.data() + clean.size();
  if (*b == '+') ++b;
  auto res = std::from_chars(b, e, out);
  if (res.ec == std::errc::result_out_of_range) {
    out = std::strtod(clean.c_str(), nullptr);
    return true;
  }
  return res.ec == std::errc() && res.ptr == e;
}

// Python int(str, base).
bool parse_py_int(const std::string& text, int base, int64_t& out) {
  std::string s = py_strip(text, nullptr, true, true);
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i + 1 < s.size() && s[i] == '0') {
    const char p = static_cast<char>(s[i + 1] | 0x20);
    const int pb = p == 'x' ? 16 : (p == 'o' ? 8 : (p == 'b' ? 2 : 0));
    if (pb != 0 && (base == pb || base == 0)) {
      base = pb;
      i += 2;
      if (i < s.size() && s[i] == '_') ++i;
    }
  }
  if (base == 0) base = 10;
  if (i >= s.size()) return false;
  uint64_t v = 0;
  bool prev_digit = false;
  for (size_t k = i; k < s.size(); ++k) {
    const char c = s[k];
    if (c == '_') {
      if (!prev_digit || k + 1 >= s.size()) return false;
      prev_digit = false;
      continue;
    }
    const char l = static_cast<char>(c | 0x20);
    int d = c >= '0' && c <= '9' ? c - '0' : (l >= 'a' && l <= 'z' ? l - 'a' + 10 : 99);
    if (d >= base) return false;
    if (v > (static_cast<uint64_t>(INT64_MAX) - d) / static_cast<uint64_t>(base)) {
      throw TemplateError("OverflowError: integer does not fit in 64 bits", 0);
    }
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    prev_digit = true;
  }
  if (!prev_digit) return false;
  out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

bool float_to_int(double d, int64_t& out) {
  if (!std::isfinite(d)) return false;
  const double t = std::trunc(d);
  if (t >= 9.2233720368547758e18 || t < -9.2233720368547758e18) {
    throw TemplateError("OverflowError: integer does not fit in 64 bits", 0);
  }
  out = static_cast<int64_t>(t);
  return true;
}

Value f_int(Interp&, const Value& v, CallArgs& a) {
  a.check("int", 2, {"default", "base"});
  const Value& def = arg(a, 0, "default", Value::integer(0));
  const int64_t base = int_arg(a, 1, "base", 10);
  if (v.is_undefined()) raise_undefined(v);  // Undefined.__int__ fails outside the except
  int64_t out;
  if (v.is_string()) {
    if (base != 0 && (base < 2 || base > 36)) throw TemplateError("ValueError: int() base must be >= 2 and <= 36, or 0", 0);
    if (parse_py_int(v.str(), static_cast<int>(base), out)) return Value::integer(out);
    double d;
    if (parse_py_float(v.str(), d) && float_to_int(d, out)) return Value::integer(out);
    return def;
  }
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float() && float_to_int(v.as_float(), out)) return Value::integer(out);
  return def;
}

Value f_float(Interp&, const Value& v, CallArgs& a) {
  a.check("float", 1, {"default"});
  const Value& def = arg(a, 0, "default", Value::number(0.0));
  if (v.is_undefined()) raise_undefined(v);
  if (v.is_number()) return Value::number(v.as_float());
  double d;
  if (v.is_string() && parse_py_float(v.str(), d)) return Value::number(d);
  return def;
}

Value f_abs(Interp&, const Value& v, CallArgs& a) {
  a.check("abs", 0, {});
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) throw TemplateError("OverflowError: integer does not fit in 64 bits", 0);
    return Value::integer(std::llabs(v.as_int()));
  }
  if (v.is_float()) return Value::number(std::fabs(v.as_float()));
  if (v.is_undefined()) raise_undefined(v);
  type_error("bad operand type for abs(): '" + type_name(v) + "'");
}

// CPython round(x, n): correctly rounded through a decimal string (Objects/floatobject.c).
double py_round(double x, int64_t n) {
  if (!std::isfinite(x) || n > 323) return x;
  if (n < -308) return std::copysign(0.0, x);
  if (n >= 0) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  const double p = std::pow(10.0, static_cast<double>(-n));
  const double y = x / p;
  double r = std::round(y);
  if (std::fabs(y - std::trunc(y)) == 0.5) r = 2.0 * std::round(y / 2.0);  // half to even
  return r * p;
}

Value f_round(Interp&, const Value& v, CallArgs& a) {
  a.check("round", 2, {"precision", "method"});
  const int64_t precision = int_arg(a, 0, "precision", 0);
  const Value& method = arg(a, 1, "method", Value::string("common"));
  const std::string m = to_str(method);
  if (m != "common" && m != "ceil" && m != "floor") {
    throw TemplateError("FilterArgumentError: method must be common, ceil or floor", 0);
  }
  if (v.is_undefined()) raise_undefined(v);
  if (!v.is_number()) type_error("type " + type_name(v) + " doesn't define __round__ method");
  if (m == "common") {
    if (v.is_integral()) {
      if (precision >= 0) return Value::integer(v.as_int());
      return Value::integer(static_cast<int64_t>(py_round(static_cast<double>(v.as_int()), precision)));
    }
    return Value::number(py_round(v.as_float(), precision));
  }
  const double p = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_float() * p;
  return Value::number((m == "ceil" ? std::ceil(x) : std::floor(x)) / p);
}

// Keeps the Markup-ness of the input string, as soft_str(s).upper() etc. do.
Value same_kind(const Value& input, std::string s) {
  return input.is_markup() ? Value::markup(std::move(s)) : Value::string(std::move(s));
}

Value f_string(Interp&, const Value& v, CallArgs& a) {
  a.check("string", 0, {});
  return v.is_string() ? v : Value::string(to_str(v));
}

Value f_upper(Interp&, const Value& v, CallArgs& a) {
  a.check("upper", 0, {});
  return same_kind(v, py_upper(to_str(v)));
}

Value f_lower(Interp&, const Value& v, CallArgs& a) {
  a.check("lower", 0, {});
  return same_kind(v, py_lower(to_str(v)));
}

Value f_capitalize(Interp&, const Value& v, CallArgs& a) {
  a.check("capitalize", 0, {});
  return same_kind(v, py_capitalize(to_str(v)));
}

// jinja2 do_title: split on runs of [-\s({\[<], upper-case the first char of each piece.
Value f_title(Interp&, const Value& v, CallArgs& a) {
  a.check("title", 0, {});
  const std::u32string u = to_u32(to_str(v));
  auto is_sep = [](char32_t c) { return py_isspace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; };
  std::string out;
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i;
    const bool sep = is_sep(u[i]);
    while (j < u.size() && is_sep(u[j]) == sep) ++j;
    const std::string piece = to_utf8(std::u32string_view(u).substr(i, j - i));
    if (sep) {
      out += piece;
    } else {
      std::string first;
      append_utf8(first, u[i]);
      out += py_upper(first);
      out += py_lower(to_utf8(std::u32string_view(u).substr(i + 1, j - i - 1)));
    }
    i = j;
  }
  return Value::string(std::move(out));
}

Value f_trim(Interp&, const Value& v, CallArgs& a) {
  a.check("trim", 1, {"chars"});
  const Value& chars = arg(a, 0, "chars", kNone);
  if (!chars.is_none() && !chars.is_string()) type_error("strip arg must be None or str");
  return same_kind(v, py_strip(to_str(v), chars.is_none() ? nullptr : &chars.str(), true, true));
}

Value f_replace(Interp& in, const Value& v, CallArgs& a) {
  a.check("replace", 3, {"old", "new", "count"});
  const Value* old_v = a.get(0, "old");
  const Value* new_v = a.get(1, "new");
  if (!old_v || !new_v) type_error("do_replace() missing required arguments 'old' and 'new'");
  const Value& count = arg(a, 2, "count", kNone);
  CallArgs inner;
  inner.pos = {Value::string(to_str(*old_v)), Value::string(to_str(*new_v))};
  if (!count.is_none()) inner.pos.push_back(count);
  Value method = builtin_attribute(in, Value::string(to_str(v)), "replace");
  return in.call(method, inner);
}

Value f_center(Interp& in, const Value& v, CallArgs& a) {
  a.check("center", 1, {"width"});
  CallArgs inner;
  inner.pos = {Value::integer(int_arg(a, 0, "width", 80))};
  return in.call(builtin_attribute(in, v.is_string() ? v : Value::string(to_str(v)), "center"), inner);
}

Value f_escape(Interp&, const Value& v, CallArgs& a) {
  a.check("escape", 0, {});
  return escape_markup(v);
}

Value f_forceescape(Interp&, const Value& v, CallArgs& a) {
  a.check("forceescape", 0, {});
  return Value::markup(html_escape(to_str(v)));
}

Value f_safe(Interp&, const Value& v, CallArgs& a) {
  a.check("safe", 0, {});
  return v.is_markup() ? v : Value::markup(to_str(v));
}

Value f_default(Interp&, const Value& v, CallArgs& a) {
  a.check("default", 2, {"default_value", "boolean"});
  const Value& def = arg(a, 0, "default_value", Value::string(""));
  const bool boolean = truthy(arg(a, 1, "boolean", Value::boolean(false)));
  if (v.is_undefined() || (boolean && !truthy(v))) return def;
  return v;
}

Value f_length(Interp&, const Value& v, CallArgs& a) {
  a.check("length", 0, {});
  return Value::integer(length(v));
}

Value f_wordcount(Interp&, const Value& v, CallArgs& a) {
  a.check("wordcount", 0, {});
  int64_t n = 0;
  bool in_word = false;
  const std::string s = to_str(v);
  for (size_t i = 0; i < s.size();) {
    const bool w = py_isword(next_code_point(s, i));
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

Value f_indent(Interp& in, const Value& v, CallArgs& a) {
  a.check("indent", 3, {"width", "first", "blank"});
  if (v.is_undefined()) raise_undefined(v);
  if (!v.is_string()) type_error("unsupported operand type(s) for +=: '" + type_name(v) + "' and 'str'");
  const Value& width = arg(a, 0, "width", Value::integer(4));
  const bool first = truthy(arg(a, 1, "first", Value::boolean(false)));
  const bool blank = truthy(arg(a, 2, "blank", Value::boolean(false)));
  std::string indention;
  if (width.is_string()) {
    indention = width.str();
  } else if (width.is_integral()) {
    if (static_cast<uint64_t>(std::max<int64_t>(0, width.as_int())) > in.limits().max_string_bytes) {
      throw TemplateError("MemoryError: indent width is too large", 0);
    }
    indention.assign(static_cast<size_t>(std::max<int64_t>(0, width.as_int())), ' ');
  } else {
    type_error("can't multiply sequence by non-int of type '" + type_name(width) + "'");
  }
  CallArgs none;
  Value lines_v = in.call(builtin_attribute(in, Value::string(to_str(v) + "\n"), "splitlines"), none);
  const auto& lines = lines_v.items();
  std::string rv;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i].str();
    if (i > 0) rv += '\n';
    if (i > 0 && (blank || !line.empty())) rv += indention;
    rv += line;
    in.check_size(rv.size());
  }
  if (first) rv = indention + rv;
  in.charge_bytes(rv.size());
  return same_kind(v, std::move(rv));
}

Value f_truncate(Interp&, const Value& v, CallArgs& a) {
  a.check("truncate", 4, {"length", "killwords", "end", "leeway"});
  const int64_t len = int_arg(a, 0, "length", 255);
  const bool killwords = truthy(arg(a, 1, "killwords", Value::boolean(false)));
  const std::string end = to_str(arg(a, 2, "end", Value::string("...")));
  const int64_t leeway = int_arg(a, 3, "leeway", 5);
  const auto end_len = static_cast<int64_t>(cp_length(end));
  if (len < end_len) throw TemplateError("AssertionError: expected length >= " + std::to_string(end_len) + ", got " + std::to_string(len), 0);
  if (leeway < 0) throw TemplateError("AssertionError: expected leeway >= 0, got " + std::to_string(leeway), 0);
  if (!v.is_string()) {
    // len(s) works for undefined values and containers; only short ones come back unchanged.
    const int64_t n = length(v);
    if (n <= len + leeway) return v;
    type_error("can only concatenate " + type_name(v) + " (not \"str\") to " + type_name(v));
  }
  const std::string s = to_str(v);
  const std::u32string u = to_u32(s);
  if (static_cast<int64_t>(u.size()) <= len + leeway) return v;
  std::string head = to_utf8(std::u32string_view(u).substr(0, static_cast<size_t>(len - end_len)));
  if (!killwords) {
    const size_t sp = head.rfind(' ');
    if (sp != std::string::npos) head.resize(sp);
  }
  return same_kind(v, head + end);
}

Value f_format(Interp& in, const Value& v, CallArgs& a) {
  if (!a.pos.empty() && !a.kw.empty()) {
    throw TemplateError("FilterArgumentError: can't handle positional and keyword arguments at the same time", 0);
  }
  Value args;
  if (!a.kw.empty()) {
    DictData d;
    for (const auto& kv : a.kw) d.set(Value::string(kv.first), kv.second);
    args = Value::dict(std::move(d));
  } else {
    args = Value::tuple(a.pos);
  }
  return in.make_string(py_percent_format(in, to_str(v), args));
}

Value f_tojson(Interp& in, const Value& v, CallArgs& a) {
  a.check("tojson", 4, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonStyle style;
  style.ensure_ascii = truthy(arg(a, 0, "ensure_ascii", Value::boolean(false)));
  const Value& indent = arg(a, 1, "indent", kNone);
  const Value& seps = arg(a, 2, "separators", kNone);
  style.sort_keys = truthy(arg(a, 3, "sort_keys", Value::boolean(false)));
  if (!indent.is_none()) {
    style.has_indent = true;
    style.item_sep.assign(1, ',');
    if (indent.is_string()) {
      style.indent = indent.str();
    } else if (indent.is_integral()) {
      if (static_cast<uint64_t>(std::max<int64_t>(0, indent.as_int())) > in.limits().max_string_bytes) {
        throw TemplateError("MemoryError: indent is too large", 0);
      }
      style.indent.assign(static_cast<size_t>(std::max<int64_t>(0, indent.as_int())), ' ');
    } else {
      type_error("can't multiply sequence by non-int of type '" + type_name(indent) + "'");
    }
  }
  if (!seps.is_none()) {
    std::vector<Value> parts;
    iterate(seps, parts);
    if (parts.size() != 2 || !parts[0].is_string() || !parts[1].is_string()) {
      throw TemplateError("ValueError: separators must be a pair of strings", 0);
    }
    style.item_sep = parts[0].str();
    style.key_sep = parts[1].str();
  }
  return in.make_string(dump_json(in, v, style));
}

Value f_attr(Interp& in, const Value& v, CallArgs& a) {
  a.check("attr", 1, {"name"});
  const Value* name = a.get(0, "name");
  if (name == nullptr) type_error("do_attr() missing 1 required positional argument: 'name'");
  if (v.is_undefined()) raise_undefined(v);
  const std::string n = to_str(*name);
  if (v.kind() == Kind::kNamespace || v.kind() == Kind::kObject) return in.getattr(v, n);
  Value m = builtin_attribute(in, v, n);
  if (!m.is_undefined() || m.undefined_unsafe()) return m;
  return undefined_attribute(v, n);
}

const FilterTable& table() {
  static const FilterTable t = [] {
    FilterTable t;
    t["abs"] = f_abs;
    t["attr"] = f_attr;
    t["capitalize"] = f_capitalize;
    t["center"] = f_center;
    t["count"] = f_length;
    t["d"] = f_default;
    t["default"] = f_default;
    t["e"] = f_escape;
    t["escape"] = f_escape;
    t["forceescape"] = f_forceescape;
    t["float"] = f_float;
    t["format"] = f_format;
    t["indent"] = f_indent;
    t["int"] = f_int;
    t["length"] = f_length;
    t["lower"] = f_lower;
    t["replace"] = f_replace;
    t["round"] = f_round;
    t["safe"] = f_safe;
    t["string"] = f_string;
    t["title"] = f_title;
    t["tojson"] = f_tojson;
    t["trim"] = f_trim;
    t["truncate"] = f_truncate;
    t["upper"] = f_upper;
    t["wordcount"] = f_wordcount;
    register_sequence_filters(t);
    return t;
  }();
  return t;
}

}  // namespace

bool has_filter(const std::string& name) { return table().count(name) != 0; }

Value apply_filter(Interp& in, const std::string& name, const Value& input, CallArgs& args) {
  auto it = table().find(name);
  if (it == table().end()) throw TemplateError("TemplateAssertionError: No filter named " + py_repr_str(name) + ".", 0);
  return it->second(in, input, args);
}

}  // namespace pocket::jinja
