// Value model of the Jinja engine: the Python objects a Hugging Face chat template can
// see (None, bool, int, float, str, list, tuple, dict, jinja2's Undefined, namespace,
// loop objects, callables) with Python's semantics for str(), repr(), ==, <, truthiness.
// Lists and dicts are immutable once built (the sandbox forbids mutating methods), so they
// are shared by pointer. Namespaces are the only mutable objects; they live in the render's
// arena and are referenced by raw pointer, which keeps reference cycles impossible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/template_error.h"

namespace pocket::jinja {

class Interp;
class Value;

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,       // also tuples, range(), dict views and generators, see ListData::Tag
  kDict,
  kNamespace,
  kObject,     // loop, cycler, joiner
  kCallable,
};

struct ListData {
  enum class Tag : uint8_t { kList, kTuple, kRange, kKeys, kValues, kItems, kGenerator };
  std::vector<Value> items;
  Tag tag = Tag::kList;
  std::string extra;     // range(): its repr; generator: the error deferred to iteration
  uint32_t depth = 1;    // nesting depth, bounded so recursion over values stays shallow
  mutable bool consumed = false;  // generators can be iterated once
};

struct DictData {
  std::vector<std::pair<Value, Value>> items;
  uint32_t depth = 1;
  // Large dicts index their str keys (position in items) so lookups stay O(1); small ones
  // scan, which is faster and keeps copies cheap.
  std::unordered_map<std::string, size_t> index;

  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
  void reindex();
};

struct Namespace {
  DictData attrs;
};

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;

  // Binds parameter `index`/`name` of a Python-style signature; returns nullptr if absent.
  const Value* get(size_t index, std::string_view name) const;
  // Fails if more positional args than `max_pos` or a keyword not in `names` was given.
  void check(std::string_view func, size_t max_pos, std::initializer_list<std::string_view> names) const;
};

class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value call(Interp& in, CallArgs& args) = 0;
  virtual std::string repr() const = 0;
  virtual bool is_macro() const { return false; }
  // Nesting depth of the values it holds (bound receiver, loop items), so that chains built
  // through callables and objects are bounded like nested lists.
  virtual uint32_t depth() const { return 0; }
};

class Object {
 public:
  virtual ~Object() = default;
  // Attribute lookup; returns an Undefined value when the attribute does not exist.
  virtual Value get_attr(const std::string& name) const = 0;
  virtual std::string repr() const = 0;
  virtual const char* type_name() const = 0;
  virtual uint32_t depth() const { return 1; }
  // Drops mutable references (loop.changed's memory) so no reference cycle outlives a render.
  virtual void clear_state() {}
};

class Value {
 public:
  Value() = default;  // Undefined without a hint

  static Value undefined(std::string hint, bool unsafe = false);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s);
  // markupsafe.Markup: a str marked safe (|safe, |e). `+`, `%`, format() and most str
  // methods of a Markup HTML-escape their plain-string operands, as jinja2 does even with
  // autoescape off.
  static Value markup(std::string s);
  static Value list(std::vector<Value> items, ListData::Tag tag = ListData::Tag::kList);
  // As list(), when the nesting depth is already known (concatenation, slicing, repetition
  // of existing lists) — skips the per-item scan.
  static Value list_known_depth(std::vector<Value> items, ListData::Tag tag, uint32_t depth);
  static Value tuple(std::vector<Value> items) { return list(std::move(items), ListData::Tag::kTuple); }
  static Value list_data(std::shared_ptr<const ListData> data);
  static Value dict(DictData d);
  static Value ns(Namespace* n);
  static Value object(std::shared_ptr<Object> o);
  static Value callable(std::shared_ptr<Callable> c);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  // Python int (bool is a subclass of int) or float.
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_integral() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_markup() const { return kind_ == Kind::kString && u_.b; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_callable() const { return kind_ == Kind::kCallable; }
  // A list-kind value with the given tag.
  bool has_tag(ListData::Tag t) const { return kind_ == Kind::kList && list_data().tag == t; }
  // Python list or tuple (indexable with len()), excluding views and generators.
  bool is_sequence_like() const;

  bool as_bool() const { return u_.b; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (u_.b ? 1 : 0) : u_.i; }
  double as_float() const { return kind_ == Kind::kFloat ? u_.f : static_cast<double>(as_int()); }
  const std::string& str() const { return *static_cast<const std::string*>(p_.get()); }
  const ListData& list_data() const { return *static_cast<const ListData*>(p_.get()); }
  std::shared_ptr<const ListData> list_ptr() const { return std::static_pointer_cast<const ListData>(p_); }
  const std::vector<Value>& items() const { return list_data().items; }
  const DictData& dict() const { return *static_cast<const DictData*>(p_.get()); }
  Namespace* ns() const { return u_.ns; }
  Object* object() const { return const_cast<Object*>(static_cast<const Object*>(p_.get())); }
  Callable* callable() const { return const_cast<Callable*>(static_cast<const Callable*>(p_.get())); }
  const void* identity() const { return kind_ == Kind::kNamespace ? static_cast<const void*>(u_.ns) : p_.get(); }
  // Error message for using an undefined value (jinja2 Undefined._undefined_message).
  std::string undefined_message() const;
  bool undefined_unsafe() const;

 private:
  Kind kind_ = Kind::kUndefined;
  union {
    bool b;
    int64_t i;
    double f;
    Namespace* ns;
  } u_{};
  std::shared_ptr<const void> p_;
};

// Deepest list/dict nesting a value may have (Python's own repr recursion limit is ~1000).
inline constexpr uint32_t kMaxValueDepth = 256;
uint32_t value_depth(const Value& v);
// Returns depth, or fails when it exceeds kMaxValueDepth.
uint32_t checked_depth(uint32_t depth);

// Work units an O(size) operation on v costs (strings by bytes, containers by items);
// charged by filters, tests, methods and operators so no loop can hide quadratic work.
uint64_t cost_of(const Value& v);

// Python semantics.
bool truthy(const Value& v);
std::string to_str(const Value& v);  // str(v); Undefined -> ""
// markupsafe.escape: & < > ' " as HTML entities.
std::string html_escape(std::string_view s);
// escape(v) as a Markup value (Markup stays as is).
Value escape_markup(const Value& v);
std::string repr(const Value& v);
std::string type_name(const Value& v);  // Python type name: 'str', 'int', 'NoneType'...
// object_type_repr of jinja2.utils: "dict object", "None"...
std::string object_type_repr(const Value& v);
bool equals(const Value& a, const Value& b);
// Three-way comparison for <, <=, sort(); throws a TypeError like Python when unordered.
int compare(const Value& a, const Value& b, const char* op = "<");

// Iteration protocol: fills `out` with the items `for x in v` would see (chars of a str,
// keys of a dict). Fails for non-iterables; consumes generators.
void iterate(const Value& v, std::vector<Value>& out);
// len(v) or a TypeError.
int64_t length(const Value& v);

// Raises a render-time error (line attached by the interpreter).
[[noreturn]] void type_error(const std::string& msg);
[[noreturn]] void raise_undefined(const Value& v);
// The Undefined jinja2 returns for a missing attribute: "'dict object' has no attribute 'x'".
Value undefined_attribute(const Value& obj, const std::string& name);

}  // namespace pocket::jinja
