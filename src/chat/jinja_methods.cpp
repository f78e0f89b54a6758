// Methods of the builtin types reachable from templates (str, list, tuple, dict) and the
// global functions of transformers' environment (range, dict, namespace, cycler, joiner,
// raise_exception, strftime_now). The immutable sandbox exposes mutating list/dict methods
// only as "unsafe" undefined values that fail when called
// (ref: pallets/jinja src/jinja2/sandbox.py _mutable_spec, safe_range MAX_RANGE).
#include <algorithm>

#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {
namespace {

[[noreturn]] void value_error(const std::string& msg) { throw TemplateError("ValueError: " + msg, 0); }

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

Value arg_or(const CallArgs& a, size_t i, std::string_view name, const Value& def) {
  const Value* v = a.get(i, name);
  return v ? *v : def;
}

const std::string& want_str(const Value& v, const char* what) {
  if (!v.is_string()) type_error(std::string(what) + " must be str, not " + type_name(v));
  return v.str();
}

// Resolves Python's optional [start, end] arguments to a code point range of `u`.
void clamp_range(const CallArgs& a, size_t first, size_t len, size_t& b, size_t& e) {
  auto idx = [&](size_t i, int64_t def) -> int64_t {
    if (i >= a.pos.size() || a.pos[i].is_none()) return def;
    if (!a.pos[i].is_integral()) type_error("slice indices must be integers or None or have an __index__ method");
    int64_t v = a.pos[i].as_int();
    const auto n = static_cast<int64_t>(len);
    if (v < 0) v = std::max<int64_t>(0, v + n);
    return std::min<int64_t>(v, n);
  };
  b = static_cast<size_t>(idx(first, 0));
  e = static_cast<size_t>(idx(first + 1, static_cast<int64_t>(len)));
}

int64_t find_u32(const std::u32string& hay, const std::u32string& needle, size_t b, size_t e, bool reverse) {
  if (b > e || e - b < needle.size()) return -1;
  const std::u32string_view view = std::u32string_view(hay).substr(b, e - b);
  const size_t r = reverse ? rfind_sub32(view, needle, view.size()) : find_sub32(view, needle);
  return r == std::u32string_view::npos ? -1 : static_cast<int64_t>(b + r);
}

std::vector<Value> split_ws(const std::string& s, int64_t maxsplit, bool reverse) {
  std::u32string u = to_u32(s);
  if (reverse) std::reverse(u.begin(), u.end());
  std::vector<Value> out;
  size_t i = 0;
  const size_t n = u.size();
  while (true) {
    while (i < n && py_isspace(u[i])) ++i;
    if (i >= n) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      std::u32string rest = u.substr(i);
      if (reverse) std::reverse(rest.begin(), rest.end());
      out.push_back(Value::string(to_utf8(rest)));
      break;
    }
    size_t j = i;
    while (j < n && !py_isspace(u[j])) ++j;
    std::u32string word = u.substr(i, j - i);
    if (reverse) std::reverse(word.begin(), word.end());
    out.push_back(Value::string(to_utf8(word)));
    i = j;
  }
  if (reverse) std::reverse(out.begin(), out.end());
  return out;
}

std::vector<Value> split_sep(const std::string& s, const std::string& sep, int64_t maxsplit, bool reverse) {
  if (sep.empty()) value_error("empty separator");
  std::vector<Value> out;
  if (!reverse) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      const size_t p = find_sub(s, sep, start);
      if (p == std::string::npos) break;
      out.push_back(Value::string(s.substr(start, p - start)));
      start = p + sep.size();
    }
    out.push_back(Value::string(s.substr(start)));
    return out;
  }
  size_t end = s.size();
  std::vector<Value> rev;
  while (maxsplit < 0 || static_cast<int64_t>(rev.size()) < maxsplit) {
    if (end < sep.size()) break;
    const size_t p = rfind_sub(s, sep, end);
    if (p == std::string::npos) break;
    rev.push_back(Value::string(s.substr(p + sep.size(), end - p - sep.size())));
    end = p;
  }
  rev.push_back(Value::string(s.substr(0, end)));
  out.assign(rev.rbegin(), rev.rend());
  return out;
}

std::vector<Value> splitlines(const std::string& s, bool keepends) {
  const std::u32string u = to_u32(s);
  std::vector<Value> out;
  size_t i = 0, start = 0;
  auto is_break = [](char32_t c) {
    return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
           c == 0x2028 || c == 0x2029;
  };
  while (i < u.size()) {
    if (!is_break(u[i])) {
      ++i;
      continue;
    }
    size_t eol = i + 1;
    if (u[i] == '\r' && eol < u.size() && u[eol] == '\n') ++eol;
    out.push_back(Value::string(to_utf8(std::u32string_view(u).substr(start, (keepends ? eol : i) - start))));
    start = i = eol;
  }
  if (start < u.size()) out.push_back(Value::string(to_utf8(std::u32string_view(u).substr(start))));
  return out;
}

std::string replace_all(Interp& in, const std::string& s, const std::string& old, const std::string& rep, int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts the replacement before every character and at the end.
    int64_t done = 0;
    size_t i = 0;
    while (i <= s.size()) {
      if (count < 0 || done < count) {
        out += rep;
        ++done;
      }
      if (i == s.size()) break;
      const size_t start = i;
      next_code_point(s, i);
      out.append(s, start, i - start);
      in.check_size(out.size());
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t p = find_sub(s, old, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += rep;
    start = p + old.size();
    ++done;
    if (rep.size() > old.size()) in.check_size(out.size());
  }
  out.append(s, start, std::string::npos);
  return out;
}

std::string justify(Interp& in, const std::string& s, int64_t width, const std::string& fill, char how) {
  const auto len = static_cast<int64_t>(cp_length(s));
  if (width <= len) return s;
  if (static_cast<uint64_t>(width) > in.limits().max_string_bytes / fill.size()) {
    throw TemplateError("MemoryError: justified string is too large", 0);
  }
  const int64_t marg = width - len;
  int64_t left = 0;
  if (how == 'c') left = marg / 2 + (marg & width & 1);
  else if (how == 'r') left = marg;
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < marg - left; ++i) out += fill;
  return out;
}

bool starts_or_ends(const Value& self, CallArgs& a, bool ends) {
  const char* fname = ends ? "endswith" : "startswith";
  if (a.pos.empty()) type_error(std::string(fname) + "() takes at least 1 argument (0 given)");
  const std::u32string u = to_u32(self.str());
  size_t b, e;
  clamp_range(a, 1, u.size(), b, e);
  std::vector<Value> cands;
  if (a.pos[0].has_tag(ListData::Tag::kTuple)) {
    cands = a.pos[0].items();
  } else if (a.pos[0].is_string()) {
    cands.push_back(a.pos[0]);
  } else {
    type_error(std::string(fname) + " first arg must be str or a tuple of str, not " + type_name(a.pos[0]));
  }
  for (const Value& c : cands) {
    if (!c.is_string()) {
      type_error(std::string("tuple for ") + fname + " must only contain str, not " + type_name(c));
    }
    const std::u32string p = to_u32(c.str());
    if (b > e || e - b < p.size()) continue;
    const size_t at = ends ? e - p.size() : b;
    if (u.compare(at, p.size(), p) == 0) return true;
  }
  return false;
}

bool str_predicate(const std::string& name, const std::string& s) {
  const std::u32string u = to_u32(s);
  if (name == "isascii") return is_ascii(s);
  if (u.empty()) return false;
  auto all = [&](auto pred) { return std::all_of(u.begin(), u.end(), pred); };
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") return all(py_isdigit);
  if (name == "isalpha") return all(py_isalpha);
  if (name == "isalnum") return all(py_isalnum);
  if (name == "isspace") return all(py_isspace);
  if (name == "isidentifier") return (py_isalpha(u[0]) || u[0] == '_') && all(py_isword);
  bool cased = false;
  if (name == "islower" || name == "isupper") {
    for (char32_t c : u) {
      if (name == "islower" ? py_isupper_char(c) : py_islower_char(c)) return false;
      cased = cased || py_iscased(c);
    }
    return cased;
  }
  if (name == "istitle") {
    bool prev_cased = false;
    for (char32_t c : u) {
      if (py_isupper_char(c)) {
        if (prev_cased) return false;
        prev_cased = cased = true;
      } else if (py_islower_char(c)) {
        if (!prev_cased) return false;
        prev_cased = cased = true;
      } else {
        prev_cased = false;
      }
    }
    return cased;
  }
  return false;
}

Value str_method(Interp& in, const Value& self, const std::string& name, CallArgs& a) {
  const std::string& s = self.str();
  const Value none = Value::none();
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const Value& chars = arg_or(a, 0, "chars", none);
    if (!chars.is_none() && !chars.is_string()) type_error(name + " arg must be None or str");
    return Value::string(py_strip(s, chars.is_none() ? nullptr : &chars.str(), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    const Value& sep = arg_or(a, 0, "sep", none);
    const Value& maxv = arg_or(a, 1, "maxsplit", Value::integer(-1));
    if (!maxv.is_integral()) type_error("'" + type_name(maxv) + "' object cannot be interpreted as an integer");
    in.charge(s.size() / 16);
    if (sep.is_none()) return Value::list(split_ws(s, maxv.as_int(), name == "rsplit"));
    return Value::list(split_sep(s, want_str(sep, "sep"), maxv.as_int(), name == "rsplit"));
  }
  if (name == "splitlines") return Value::list(splitlines(s, truthy(arg_or(a, 0, "keepends", Value::boolean(false)))));
  if (name == "startswith" || name == "endswith") return Value::boolean(starts_or_ends(self, a, name == "endswith"));
  if (name == "replace") {
    if (a.pos.size() < 2) type_error("replace expected at least 2 arguments, got " + std::to_string(a.pos.size()));
    const Value& count = arg_or(a, 2, "count", Value::integer(-1));
    if (!count.is_integral()) type_error("'" + type_name(count) + "' object cannot be interpreted as an integer");
    return in.make_string(replace_all(in, s, want_str(a.pos[0], "replace() argument 1"),
                                      want_str(a.pos[1], "replace() argument 2"), count.as_int()));
  }
  if (name == "upper") return Value::string(py_upper(s));
  if (name == "lower" || name == "casefold") return Value::string(py_lower(s));
  if (name == "title") return Value::string(py_title(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "swapcase") return Value::string(py_swapcase(s));
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    if (a.pos.empty()) type_error(name + "() takes at least 1 argument (0 given)");
    const std::u32string u = to_u32(s);
    const std::u32string sub = to_u32(want_str(a.pos[0], "must be str"));
    size_t b, e;
    clamp_range(a, 1, u.size(), b, e);
    if (name == "count") {
      if (b > e) return Value::integer(0);
      if (sub.empty()) return Value::integer(static_cast<int64_t>(e - b + 1));
      int64_t n = 0;
      for (int64_t p = find_u32(u, sub, b, e, false); p >= 0; p = find_u32(u, sub, static_cast<size_t>(p) + sub.size(), e, false)) ++n;
      return Value::integer(n);
    }
    const int64_t r = find_u32(u, sub, b, e, name[0] == 'r');
    if (r < 0 && (name == "index" || name == "rindex")) value_error("substring not found");
    return Value::integer(r);
  }
  if (name == "join") {
    if (a.pos.size() != 1) type_error("join() takes exactly one argument");
    std::vector<Value> items;
    iterate(a.pos[0], items);
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        type_error("sequence item " + std::to_string(i) + ": expected str instance, " + type_name(items[i]) + " found");
      }
      if (i) out += s;
      out += items[i].str();
      in.check_size(out.size());
    }
    return in.make_string(std::move(out));
  }
  if (name == "format") return in.make_string(py_format(in, s, a));
  if (name == "center" || name == "ljust" || name == "rjust") {
    if (a.pos.empty() || !a.pos[0].is_integral()) type_error(name + "() requires an integer width");
    const Value& fill = arg_or(a, 1, "fillchar", Value::string(" "));
    if (!fill.is_string() || cp_length(fill.str()) != 1) type_error("The fill character must be exactly one character long");
    return in.make_string(justify(in, s, a.pos[0].as_int(), fill.str(), name == "center" ? 'c' : (name == "ljust" ? 'l' : 'r')));
  }
  if (name == "zfill") {
    if (a.pos.empty() || !a.pos[0].is_integral()) type_error("zfill() requires an integer width");
    std::string body = s, sign;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
      sign = body.substr(0, 1);
      body = body.substr(1);
    }
    const std::string padded = justify(in, body, a.pos[0].as_int() - static_cast<int64_t>(sign.size()), "0", 'r');
    return in.make_string(sign + padded);
  }
  if (name == "partition" || name == "rpartition") {
    if (a.pos.size() != 1) type_error(name + "() takes exactly one argument");
    const std::string& sep = want_str(a.pos[0], "must be str");
    if (sep.empty()) value_error("empty separator");
    const size_t p = name == "partition" ? find_sub(s, sep) : rfind_sub(s, sep, s.size());
    if (p == std::string::npos) {
      if (name == "partition") return Value::tuple({self, Value::string(""), Value::string("")});
      return Value::tuple({Value::string(""), Value::string(""), self});
    }
    return Value::tuple({Value::string(s.substr(0, p)), a.pos[0], Value::string(s.substr(p + sep.size()))});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    if (a.pos.size() != 1) type_error(name + "() takes exactly one argument");
    const std::string& x = want_str(a.pos[0], "must be str");
    if (name == "removeprefix" && s.compare(0, x.size(), x) == 0) return Value::string(s.substr(x.size()));
    if (name == "removesuffix" && !x.empty() && s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0) {
      return Value::string(s.substr(0, s.size() - x.size()));
    }
    return self;
  }
  if (name.rfind("is", 0) == 0) return Value::boolean(str_predicate(name, s));
  type_error("str." + name + "() is not supported");
}

Value seq_method(const Value& self, const std::string& name, CallArgs& a) {
  if (name == "count" || name == "index") {
    if (a.pos.empty()) type_error(name + "() takes at least 1 argument (0 given)");
    int64_t n = 0;
    const auto& items = self.items();
    for (size_t i = 0; i < items.size(); ++i) {
      if (equals(items[i], a.pos[0])) {
        if (name == "index") return Value::integer(static_cast<int64_t>(i));
        ++n;
      }
    }
    if (name == "index") value_error(repr(a.pos[0]) + " is not in " + type_name(self));
    return Value::integer(n);
  }
  if (name == "copy") return Value::list(self.items());
  type_error(type_name(self) + "." + name + "() is not supported");
}

Value dict_method(const Value& self, const std::string& name, CallArgs& a) {
  const DictData& d = self.dict();
  if (name == "get") {
    if (a.pos.empty() || a.pos.size() > 2) type_error("get expected 1 or 2 arguments");
    if (a.pos[0].kind() == Kind::kDict || a.pos[0].has_tag(ListData::Tag::kList)) {
      type_error("unhashable type: '" + type_name(a.pos[0]) + "'");
    }
    const Value* v = d.find(a.pos[0]);
    if (v) return *v;
    return a.pos.size() > 1 ? a.pos[1] : Value::none();
  }
  std::vector<Value> out;
  if (name == "keys" || name == "values" || name == "items") {
    for (const auto& kv : d.items) {
      if (name == "keys") out.push_back(kv.first);
      else if (name == "values") out.push_back(kv.second);
      else out.push_back(Value::tuple({kv.first, kv.second}));
    }
    const auto tag = name == "keys" ? ListData::Tag::kKeys : (name == "values" ? ListData::Tag::kValues : ListData::Tag::kItems);
    return Value::list(std::move(out), tag);
  }
  if (name == "copy") return self;
  type_error("dict." + name + "() is not supported");
}

bool in_list(const std::string& name, std::initializer_list<const char*> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

// markupsafe.Markup's overrides (3.x): results are Markup; replace() escapes its new text
// and the justify methods their fill character
// (ref: pallets/markupsafe src/markupsafe/__init__.py).
Value markup_method(Interp& in, const Value& self, const std::string& name, CallArgs& a) {
  auto as_markup = [](Value v) {
    if (v.is_string()) return Value::markup(v.str());
    if (v.kind() != Kind::kList) return v;
    std::vector<Value> items = v.items();
    for (Value& item : items) {
      if (item.is_string()) item = Value::markup(item.str());
    }
    return Value::list(std::move(items), v.list_data().tag);
  };
  if (in_list(name, {"replace", "ljust", "rjust", "center"})) {
    CallArgs e = a;
    const size_t i = 1;  // replace(old, new) / ljust(width, fillchar)
    if (i < e.pos.size() && e.pos[i].is_string()) e.pos[i] = escape_markup(e.pos[i]);
    for (auto& kv : e.kw) {
      if (kv.second.is_string()) kv.second = escape_markup(kv.second);
    }
    return as_markup(str_method(in, self, name, e));
  }
  if (in_list(name, {"capitalize", "title", "lower", "upper", "lstrip", "rstrip", "strip", "swapcase", "zfill",
                     "casefold", "removeprefix", "removesuffix", "partition", "rpartition"})) {
    return as_markup(str_method(in, self, name, a));
  }
  if (name == "split" || name == "rsplit" || name == "splitlines") return as_markup(str_method(in, self, name, a));
  if (name == "format") return Value::markup(py_format(in, self.str(), a, true));
  if (name == "join") {
    if (a.pos.size() != 1) type_error("join() takes exactly one argument");
    std::vector<Value> items;
    iterate(a.pos[0], items);
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += self.str();
      out += escape_markup(items[i]).str();
      in.check_size(out.size());
    }
    in.charge_bytes(out.size());
    return Value::markup(std::move(out));
  }
  return str_method(in, self, name, a);
}

class BoundMethod : public Callable {
 public:
  BoundMethod(Value self, std::string name)
      : self_(std::move(self)), name_(std::move(name)), depth_(checked_depth(value_depth(self_) + 1)) {}
  uint32_t depth() const override { return depth_; }
  Value call(Interp& in, CallArgs& args) override {
    uint64_t cost = cost_of(self_);
    for (const Value& v : args.pos) cost += cost_of(v);
    in.charge(cost);
    if (self_.is_markup()) return markup_method(in, self_, name_, args);
    if (self_.is_string()) return str_method(in, self_, name_, args);
    if (self_.is_dict()) return dict_method(self_, name_, args);
    return seq_method(self_, name_, args);
  }
  std::string repr() const override {
    return "<built-in method " + name_ + " of " + type_name(self_) + " object>";
  }

 private:
  Value self_;
  std::string name_;
  uint32_t depth_;
};

// ---- globals ---------------------------------------------------------------------------

class Builtin : public Callable {
 public:
  using Fn = Value (*)(Interp&, CallArgs&);
  Builtin(std::string name, Fn fn) : name_(std::move(name)), fn_(fn) {}
  Value call(Interp& in, CallArgs& args) override { return fn_(in, args); }
  std::string repr() const override { return "<built-in function " + name_ + ">"; }

 private:
  std::string name_;
  Fn fn_;
};

Value g_range(Interp& in, CallArgs& a) {
  if (!a.kw.empty()) type_error("range() takes no keyword arguments");
  if (a.pos.empty() || a.pos.size() > 3) type_error("range expected at least 1 argument, got " + std::to_string(a.pos.size()));
  for (const Value& v : a.pos) {
    if (!v.is_integral()) type_error("'" + type_name(v) + "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop, step = 1;
  if (a.pos.size() == 1) {
    stop = a.pos[0].as_int();
  } else {
    start = a.pos[0].as_int();
    stop = a.pos[1].as_int();
    if (a.pos.size() == 3) step = a.pos[2].as_int();
  }
  if (step == 0) value_error("range() arg 3 must not be zero");
  // Length computed in wide arithmetic so extreme bounds cannot overflow.
  const __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  const __int128 astep = step > 0 ? step : -static_cast<__int128>(step);
  const __int128 len = span <= 0 ? 0 : (span + astep - 1) / astep;
  if (len > kMaxRange) {
    throw TemplateError("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).", 0);
  }
  in.charge(static_cast<uint64_t>(len));
  auto data = std::make_shared<ListData>();
  data->tag = ListData::Tag::kRange;
  data->items.reserve(static_cast<size_t>(len));
  for (__int128 i = 0; i < len; ++i) data->items.push_back(Value::integer(static_cast<int64_t>(start + i * step)));
  data->extra = "range(" + std::to_string(start) + ", " + std::to_string(stop) + (step != 1 ? ", " + std::to_string(step) : "") + ")";
  return Value::list_data(std::move(data));
}

void fill_mapping(Interp& in, DictData& d, const CallArgs& a, const char* fname) {
  if (a.pos.size() > 1) type_error(std::string(fname) + " expected at most 1 argument, got " + std::to_string(a.pos.size()));
  if (!a.pos.empty()) {
    const Value& src = a.pos[0];
    if (src.is_dict()) {
      for (const auto& kv : src.dict().items) d.set(kv.first, kv.second);
    } else {
      std::vector<Value> pairs;
      iterate(src, pairs);
      for (const Value& p : pairs) {
        std::vector<Value> kv;
        iterate(p, kv);
        if (kv.size() != 2) value_error("dictionary update sequence element has length " + std::to_string(kv.size()) + "; 2 is required");
        if (!kv[0].is_string()) in.charge(d.items.size() / 8);  // non-str keys are found by scanning
        d.set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& kv : a.kw) d.set(Value::string(kv.first), kv.second);
}

Value g_dict(Interp& in, CallArgs& a) {
  DictData d;
  fill_mapping(in, d, a, "dict");
  return Value::dict(std::move(d));
}

Value g_namespace(Interp& in, CallArgs& a) {
  Namespace* ns = in.new_namespace();
  fill_mapping(in, ns->attrs, a, "namespace");
  return Value::ns(ns);
}

Value g_raise(Interp& in, CallArgs& a) {
  const Value& msg = arg_or(a, 0, "message", Value::string(""));
  throw TemplateRaised(to_str(msg), in.current_line());
}

Value g_strftime(Interp& in, CallArgs& a) {
  if (a.pos.size() != 1) type_error("strftime_now() takes exactly one argument");
  return in.make_string(format_clock(in.clock(), want_str(a.pos[0], "format")));
}

// jinja2.utils.Cycler.
class CyclerObj : public Object {
 public:
  std::vector<Value> items;
  mutable size_t pos = 0;
  std::weak_ptr<CyclerObj> self;
  uint32_t depth_ = 1;
  uint32_t depth() const override { return depth_; }
  Value get_attr(const std::string& name) const override;
  std::string repr() const override { return "<jinja2.utils.Cycler object>"; }
  const char* type_name() const override { return "Cycler"; }
};

class CyclerMethod : public Callable {
 public:
  CyclerMethod(std::shared_ptr<CyclerObj> c, bool next) : c_(std::move(c)), next_(next) {}
  uint32_t depth() const override { return c_->depth() + 1; }
  Value call(Interp&, CallArgs&) override {
    if (!next_) {
      c_->pos = 0;
      return Value::none();
    }
    Value rv = c_->items[c_->pos];
    c_->pos = (c_->pos + 1) % c_->items.size();
    return rv;
  }
  std::string repr() const override { return "<bound method Cycler.next>"; }

 private:
  std::shared_ptr<CyclerObj> c_;
  bool next_;
};

Value CyclerObj::get_attr(const std::string& name) const {
  if (name == "current") return items[pos];
  if (name == "items") return Value::list(items);
  if (name == "pos") return Value::integer(static_cast<int64_t>(pos));
  if (name == "next" || name == "__next__" || name == "reset") {
    return Value::callable(std::make_shared<CyclerMethod>(self.lock(), name != "reset"));
  }
  return Value::undefined("'jinja2.utils.Cycler object' has no attribute " + py_repr_str(name));
}

Value g_cycler(Interp&, CallArgs& a) {
  if (a.pos.empty()) type_error("at least one item has to be provided");
  auto c = std::make_shared<CyclerObj>();
  c->items = a.pos;
  uint32_t d = 0;
  for (const Value& v : c->items) d = std::max(d, value_depth(v));
  c->depth_ = checked_depth(d + 1);
  c->self = c;
  return Value::object(c);
}

class JoinerFn : public Callable {
 public:
  explicit JoinerFn(std::string sep) : sep_(std::move(sep)) {}
  Value call(Interp&, CallArgs&) override {
    if (!used_) {
      used_ = true;
      return Value::string("");
    }
    return Value::string(sep_);
  }
  std::string repr() const override { return "<jinja2.utils.Joiner object>"; }

 private:
  std::string sep_;
  bool used_ = false;
};

Value g_joiner(Interp&, CallArgs& a) {
  return Value::callable(std::make_shared<JoinerFn>(to_str(arg_or(a, 0, "sep", Value::string(", ")))));
}

}  // namespace

Value builtin_attribute(Interp&, const Value& obj, const std::string& name) {
  if (name.rfind("__", 0) == 0) {
    if (obj.is_none()) return Value();
    return Value::undefined("access to attribute " + py_repr_str(name) + " of " + py_repr_str(type_name(obj)) +
                                " object is unsafe.",
                            true);
  }
  auto unsafe = [&]() {
    return Value::undefined("access to attribute " + py_repr_str(name) + " of " + py_repr_str(type_name(obj)) +
                                " object is unsafe.",
                            true);
  };
  auto bound = [&]() { return Value::callable(std::make_shared<BoundMethod>(obj, name)); };
  switch (obj.kind()) {
    case Kind::kString:
      if (in_list(name, {"strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith",
                         "replace", "upper", "lower", "casefold", "title", "capitalize", "swapcase", "find", "rfind",
                         "index", "rindex", "count", "join", "format", "center", "ljust", "rjust", "zfill",
                         "partition", "rpartition", "removeprefix", "removesuffix", "isascii", "isdigit",
                         "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "isidentifier", "islower",
                         "isupper", "istitle", "encode", "expandtabs", "format_map", "isprintable", "maketrans",
                         "translate"})) {
        return bound();
      }
      return Value();
    case Kind::kDict:
      if (in_list(name, {"clear", "pop", "popitem", "setdefault", "update"})) return unsafe();
      if (in_list(name, {"get", "keys", "values", "items", "copy", "fromkeys"})) return bound();
      return Value();
    case Kind::kList: {
      const auto tag = obj.list_data().tag;
      if (tag == ListData::Tag::kList) {
        if (in_list(name, {"append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove"})) return unsafe();
        if (in_list(name, {"count", "index", "copy"})) return bound();
      } else if (tag == ListData::Tag::kTuple && obj.list_data().extra == "group" && (name == "grouper" || name == "list")) {
        return obj.items()[name == "grouper" ? 0 : 1];  // jinja2's _GroupTuple fields
      } else if (tag == ListData::Tag::kTuple || tag == ListData::Tag::kRange) {
        if (in_list(name, {"count", "index"})) return bound();
      }
      return Value();
    }
    default:
      return Value();
  }
}

void install_globals(Interp&, Scope& globals) {
  auto add = [&](const char* name, Builtin::Fn fn) {
    globals.set(name, Value::callable(std::make_shared<Builtin>(name, fn)));
  };
  add("range", g_range);
  add("dict", g_dict);
  add("namespace", g_namespace);
  add("raise_exception", g_raise);
  add("strftime_now", g_strftime);
  add("cycler", g_cycler);
  add("joiner", g_joiner);
}

}  // namespace pocket::jinja
