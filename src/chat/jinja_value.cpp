// Value model of the Jinja engine; see jinja_value.h. str()/repr()/== follow CPython's
// object protocols for the builtin types, and jinja2.runtime.Undefined for undefined values.
#include "chat/jinja_value.h"

#include <algorithm>
#include <cmath>

#include "chat/jinja_text.h"

namespace pocket::jinja {

[[noreturn]] void type_error(const std::string& msg) { throw TemplateError("TypeError: " + msg, 0); }

[[noreturn]] void raise_undefined(const Value& v) {
  if (v.undefined_unsafe()) throw TemplateError("SecurityError: " + v.undefined_message(), 0);
  throw TemplateError("UndefinedError: " + v.undefined_message(), 0);
}

Value undefined_attribute(const Value& obj, const std::string& name) {
  std::string msg = "'";
  msg += object_type_repr(obj);
  msg += "' has no attribute ";
  msg += py_repr_str(name);
  return Value::undefined(std::move(msg));
}

namespace {
struct Undef {
  std::string hint;
  bool unsafe = false;
};
}  // namespace

namespace {
constexpr size_t kIndexThreshold = 24;
}

uint32_t value_depth(const Value& v) {
  switch (v.kind()) {
    case Kind::kList: return v.list_data().depth;
    case Kind::kDict: return v.dict().depth;
    case Kind::kObject: return v.object()->depth();
    case Kind::kCallable: return v.callable()->depth();
    default: return 0;
  }
}

uint32_t checked_depth(uint32_t depth) {
  if (depth > kMaxValueDepth) throw TemplateError("value nesting is too deep", 0);
  return depth;
}

static void check_depth(uint32_t depth) {
  if (depth > kMaxValueDepth) throw TemplateError("value nesting is too deep", 0);
}

Value Value::undefined(std::string hint, bool unsafe) {
  Value v;
  v.p_ = std::make_shared<const Undef>(Undef{std::move(hint), unsafe});
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.u_.b = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.u_.i = i;
  return v;
}

Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.u_.f = f;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.p_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::markup(std::string s) {
  Value v = string(std::move(s));
  v.u_.b = true;
  return v;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Value escape_markup(const Value& v) {
  if (v.is_markup()) return v;
  return Value::markup(html_escape(to_str(v)));
}

Value Value::list(std::vector<Value> items, ListData::Tag tag) {
  auto data = std::make_shared<ListData>();
  uint32_t depth = 0;
  for (const Value& item : items) depth = std::max(depth, value_depth(item));
  check_depth(depth + 1);
  data->depth = depth + 1;
  data->items = std::move(items);
  data->tag = tag;
  return list_data(std::move(data));
}

Value Value::list_known_depth(std::vector<Value> items, ListData::Tag tag, uint32_t depth) {
  auto data = std::make_shared<ListData>();
  data->depth = depth;
  data->items = std::move(items);
  data->tag = tag;
  return list_data(std::move(data));
}

Value Value::list_data(std::shared_ptr<const ListData> data) {
  check_depth(data->depth);
  Value v;
  v.kind_ = Kind::kList;
  v.p_ = std::move(data);
  return v;
}

Value Value::dict(DictData d) {
  uint32_t depth = 0;
  for (const auto& kv : d.items) depth = std::max({depth, value_depth(kv.first), value_depth(kv.second)});
  check_depth(depth + 1);
  d.depth = depth + 1;
  if (d.items.size() >= kIndexThreshold && d.index.empty()) d.reindex();
  Value v;
  v.kind_ = Kind::kDict;
  v.p_ = std::make_shared<const DictData>(std::move(d));
  return v;
}

Value Value::ns(Namespace* n) {
  Value v;
  v.kind_ = Kind::kNamespace;
  v.u_.ns = n;
  return v;
}

Value Value::object(std::shared_ptr<Object> o) {
  Value v;
  v.kind_ = Kind::kObject;
  v.p_ = std::move(o);
  return v;
}

Value Value::callable(std::shared_ptr<Callable> c) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.p_ = std::move(c);
  return v;
}

bool Value::is_sequence_like() const {
  if (kind_ != Kind::kList) return false;
  const auto tag = list_data().tag;
  return tag == ListData::Tag::kList || tag == ListData::Tag::kTuple || tag == ListData::Tag::kRange;
}

std::string Value::undefined_message() const {
  if (p_) return static_cast<const Undef*>(p_.get())->hint;
  return "value is undefined";
}

bool Value::undefined_unsafe() const { return p_ && static_cast<const Undef*>(p_.get())->unsafe; }

void DictData::reindex() {
  index.clear();
  if (items.size() < kIndexThreshold) return;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].first.is_string()) index.emplace(items[i].first.str(), i);
  }
}

const Value* DictData::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.str()));
  for (const auto& kv : items) {
    if (equals(kv.first, key)) return &kv.second;
  }
  return nullptr;
}

const Value* DictData::find(std::string_view key) const {
  if (!index.empty() || items.size() >= kIndexThreshold) {
    auto it = index.find(std::string(key));
    return it == index.end() ? nullptr : &items[it->second].second;
  }
  for (const auto& kv : items) {
    if (kv.first.is_string() && kv.first.str() == key) return &kv.second;
  }
  return nullptr;
}

void DictData::set(Value key, Value value) {
  check_depth(std::max(value_depth(key), value_depth(value)) + 1);
  depth = std::max({depth, value_depth(key) + 1, value_depth(value) + 1});
  if (key.is_string()) {
    if (const Value* found = find(std::string_view(key.str()))) {
      const_cast<Value&>(*found) = std::move(value);
      return;
    }
  } else {
    for (auto& kv : items) {
      if (equals(kv.first, key)) {
        kv.second = std::move(value);
        return;
      }
    }
  }
  items.emplace_back(std::move(key), std::move(value));
  if (items.size() == kIndexThreshold) {
    reindex();
  } else if (items.size() > kIndexThreshold && items.back().first.is_string()) {
    index.emplace(items.back().first.str(), items.size() - 1);
  }
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  if (index < pos.size()) return &pos[index];
  for (const auto& kv : kw) {
    if (kv.first == name) return &kv.second;
  }
  return nullptr;
}

void CallArgs::check(std::string_view func, size_t max_pos, std::initializer_list<std::string_view> names) const {
  if (pos.size() > max_pos) {
    type_error(std::string(func) + "() takes at most " + std::to_string(max_pos) + " arguments (" +
               std::to_string(pos.size()) + " given)");
  }
  size_t index = 0;
  std::vector<std::string_view> list(names);
  for (const auto& kv : kw) {
    auto it = std::find(list.begin(), list.end(), kv.first);
    if (it == list.end()) type_error(std::string(func) + "() got an unexpected keyword argument '" + kv.first + "'");
    index = static_cast<size_t>(it - list.begin());
    if (index < pos.size()) type_error(std::string(func) + "() got multiple values for argument '" + kv.first + "'");
  }
}

uint64_t cost_of(const Value& v) {
  switch (v.kind()) {
    case Kind::kString: return v.str().size() / 64;
    case Kind::kList: return v.items().size() / 4;
    case Kind::kDict: return v.dict().items.size() / 4;
    default: return 0;
  }
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.as_bool();
    case Kind::kInt:
      return v.as_int() != 0;
    case Kind::kFloat:
      return v.as_float() != 0.0;
    case Kind::kString:
      return !v.str().empty();
    case Kind::kList:
      return v.list_data().tag == ListData::Tag::kGenerator || !v.items().empty();
    case Kind::kDict:
      return !v.dict().items.empty();
    default:
      return true;
  }
}

static void repr_into(std::string& out, const Value& v, std::vector<const Namespace*>& active);

static void repr_items(std::string& out, const std::vector<Value>& items, std::vector<const Namespace*>& active) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    repr_into(out, items[i], active);
  }
}

static void repr_dict(std::string& out, const DictData& d, std::vector<const Namespace*>& active) {
  out += '{';
  for (size_t i = 0; i < d.items.size(); ++i) {
    if (i) out += ", ";
    repr_into(out, d.items[i].first, active);
    out += ": ";
    repr_into(out, d.items[i].second, active);
  }
  out += '}';
}

static void repr_into(std::string& out, const Value& v, std::vector<const Namespace*>& active) {
  // Namespaces reset value depth, so chains of them need their own bound (CPython raises
  // RecursionError for reprs nested too deeply as well).
  if (active.size() > kMaxValueDepth) {
    throw TemplateError("RecursionError: maximum recursion depth exceeded while getting the repr of an object", 0);
  }
  switch (v.kind()) {
    case Kind::kUndefined:
      out += "Undefined";
      return;
    case Kind::kNone:
      out += "None";
      return;
    case Kind::kBool:
      out += v.as_bool() ? "True" : "False";
      return;
    case Kind::kInt:
      out += std::to_string(v.as_int());
      return;
    case Kind::kFloat:
      out += py_repr_float(v.as_float());
      return;
    case Kind::kString:
      if (v.is_markup()) {
        out += "Markup(" + py_repr_str(v.str()) + ")";
      } else {
        out += py_repr_str(v.str());
      }
      return;
    case Kind::kList: {
      const ListData& l = v.list_data();
      switch (l.tag) {
        case ListData::Tag::kList:
          out += '[';
          repr_items(out, l.items, active);
          out += ']';
          return;
        case ListData::Tag::kTuple:
          out += '(';
          repr_items(out, l.items, active);
          if (l.items.size() == 1) out += ',';
          out += ')';
          return;
        case ListData::Tag::kRange:
          out += l.extra;
          return;
        case ListData::Tag::kKeys:
        case ListData::Tag::kValues:
        case ListData::Tag::kItems:
          out += l.tag == ListData::Tag::kKeys ? "dict_keys([" : l.tag == ListData::Tag::kValues ? "dict_values([" : "dict_items([";
          repr_items(out, l.items, active);
          out += "])";
          return;
        case ListData::Tag::kGenerator:
          out += "<generator object>";
          return;
      }
      return;
    }
    case Kind::kDict:
      repr_dict(out, v.dict(), active);
      return;
    case Kind::kNamespace: {
      // Namespaces may contain themselves; CPython's dict repr prints the cycle as {...}.
      out += "<Namespace ";
      if (std::find(active.begin(), active.end(), v.ns()) != active.end()) {
        out += "{...}";
      } else {
        active.push_back(v.ns());
        repr_dict(out, v.ns()->attrs, active);
        active.pop_back();
      }
      out += '>';
      return;
    }
    case Kind::kObject:
      out += v.object()->repr();
      return;
    case Kind::kCallable:
      out += v.callable()->repr();
      return;
  }
}

std::string repr(const Value& v) {
  std::string out;
  std::vector<const Namespace*> active;
  repr_into(out, v, active);
  return out;
}

std::string to_str(const Value& v) {
  if (v.is_string()) return v.str();
  if (v.is_undefined()) return "";
  return repr(v);
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList:
      switch (v.list_data().tag) {
        case ListData::Tag::kList: return "list";
        case ListData::Tag::kTuple: return "tuple";
        case ListData::Tag::kRange: return "range";
        case ListData::Tag::kKeys: return "dict_keys";
        case ListData::Tag::kValues: return "dict_values";
        case ListData::Tag::kItems: return "dict_items";
        case ListData::Tag::kGenerator: return "generator";
      }
      return "list";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kObject: return v.object()->type_name();
    case Kind::kCallable: return v.callable()->is_macro() ? "Macro" : "builtin_function_or_method";
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  switch (v.kind()) {
    case Kind::kNone: return "None";
    case Kind::kUndefined: return "jinja2.runtime.Undefined object";
    case Kind::kNamespace: return "jinja2.utils.Namespace object";
    case Kind::kObject: return std::string("jinja2.runtime.") + v.object()->type_name() + " object";
    case Kind::kCallable:
      if (v.callable()->is_macro()) return "jinja2.runtime.Macro object";
      return "builtin_function_or_method object";
    default: return type_name(v) + " object";
  }
}

// Python's int/float comparison is exact; compare through int64 when the float is integral.
static int compare_numbers(const Value& a, const Value& b) {
  if (a.is_integral() && b.is_integral()) {
    const int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const double x = a.as_float(), y = b.as_float();
  if (std::isnan(x) || std::isnan(y)) return 2;  // unordered
  if (a.is_integral() && std::fabs(y) < 9.0e18 && y == std::floor(y)) {
    const int64_t yi = static_cast<int64_t>(y), xi = a.as_int();
    return xi < yi ? -1 : (xi > yi ? 1 : 0);
  }
  if (b.is_integral() && std::fabs(x) < 9.0e18 && x == std::floor(x)) {
    const int64_t xi = static_cast<int64_t>(x), yi = b.as_int();
    return xi < yi ? -1 : (xi > yi ? 1 : 0);
  }
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.str() == b.str();
    case Kind::kList: {
      const ListData& x = a.list_data();
      const ListData& y = b.list_data();
      const bool xs = x.tag == ListData::Tag::kList || x.tag == ListData::Tag::kTuple || x.tag == ListData::Tag::kRange;
      if (x.tag != y.tag) return false;
      if (!xs && x.tag != ListData::Tag::kKeys && x.tag != ListData::Tag::kItems) return a.identity() == b.identity();
      if (x.items.size() != y.items.size()) return false;
      if (x.tag == ListData::Tag::kKeys || x.tag == ListData::Tag::kItems) {
        // Set-like views compare regardless of order.
        for (const Value& item : x.items) {
          if (std::none_of(y.items.begin(), y.items.end(), [&](const Value& o) { return equals(item, o); })) return false;
        }
        return true;
      }
      for (size_t i = 0; i < x.items.size(); ++i) {
        if (!equals(x.items[i], y.items[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const DictData& x = a.dict();
      const DictData& y = b.dict();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& kv : x.items) {
        const Value* other = y.find(kv.first);
        if (other == nullptr || !equals(kv.second, *other)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

int compare(const Value& a, const Value& b, const char* op) {
  if (a.is_undefined()) raise_undefined(a);
  if (b.is_undefined()) raise_undefined(b);
  if (a.is_number() && b.is_number()) {
    const int c = compare_numbers(a, b);
    return c;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.str().compare(b.str());  // UTF-8 byte order == code point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind() == Kind::kList && b.kind() == Kind::kList) {
    const auto ta = a.list_data().tag, tb = b.list_data().tag;
    if (ta == tb && (ta == ListData::Tag::kList || ta == ListData::Tag::kTuple)) {
      const auto& x = a.items();
      const auto& y = b.items();
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (!equals(x[i], y[i])) return compare(x[i], y[i], op);
      }
      return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
  }
  type_error(std::string("'") + op + "' not supported between instances of '" + type_name(a) + "' and '" +
             type_name(b) + "'");
}

void iterate(const Value& v, std::vector<Value>& out) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return;
    case Kind::kString: {
      const std::string& s = v.str();
      for (size_t i = 0; i < s.size();) {
        const size_t start = i;
        next_code_point(s, i);
        out.push_back(Value::string(s.substr(start, i - start)));
      }
      return;
    }
    case Kind::kList: {
      const ListData& l = v.list_data();
      if (l.tag == ListData::Tag::kGenerator) {
        if (l.consumed) return;
        l.consumed = true;
        out.insert(out.end(), l.items.begin(), l.items.end());
        if (!l.extra.empty()) throw TemplateError(l.extra, 0);
        return;
      }
      out.insert(out.end(), l.items.begin(), l.items.end());
      return;
    }
    case Kind::kDict:
      for (const auto& kv : v.dict().items) out.push_back(kv.first);
      return;
    default:
      type_error("'" + type_name(v) + "' object is not iterable");
  }
}

int64_t length(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return 0;
    case Kind::kString:
      return static_cast<int64_t>(cp_length(v.str()));
    case Kind::kList:
      if (v.list_data().tag == ListData::Tag::kGenerator) type_error("object of type 'generator' has no len()");
      return static_cast<int64_t>(v.items().size());
    case Kind::kDict:
      return static_cast<int64_t>(v.dict().items.size());
    case Kind::kNamespace:
    default:
      type_error("object of type '" + type_name(v) + "' has no len()");
  }
}

}  // namespace pocket::jinja
