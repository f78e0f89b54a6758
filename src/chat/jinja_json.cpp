// JSON on the template boundary: converting the caller's context (nlohmann ordered_json,
// key order kept, as Python's json.loads keeps it) into values, and Python's json.dumps
// for the tojson filter — its separators (", " / ": ", or "," with indent), float repr,
// NaN/Infinity and key coercion (ref: CPython Lib/json/encoder.py).
#include "chat/jinja_json.h"

#include <algorithm>
#include <cmath>

#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {

Value from_json(const nlohmann::ordered_json& j, uint32_t depth) {
  if (depth > kMaxValueDepth) throw TemplateError("context JSON is nested too deeply", 0);
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(from_json(item, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      DictData d;
      d.items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) {
        d.items.emplace_back(Value::string(it.key()), from_json(it.value(), depth + 1));
      }
      return Value::dict(std::move(d));
    }
    default:
      throw TemplateError("unsupported JSON value in template context", 0);
  }
}

namespace {

void append_json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x80) {
      const size_t start = i;
      const char32_t cp = next_code_point(s, i);
      if (!ensure_ascii) {
        out.append(s, start, i - start);
        continue;
      }
      auto u16 = [&](uint32_t v) {
        out += "\\u";
        for (int k = 3; k >= 0; --k) out += kHex[(v >> (4 * k)) & 0xF];
      };
      if (cp >= 0x10000) {
        const uint32_t v = cp - 0x10000;
        u16(0xD800 | (v >> 10));
        u16(0xDC00 | (v & 0x3FF));
      } else {
        u16(cp);
      }
      continue;
    }
    ++i;
    switch (b) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (b < 0x20 || (ensure_ascii && b == 0x7F)) {
          out += "\\u00";
          out += kHex[b >> 4];
          out += kHex[b & 0xF];
        } else {
          out += static_cast<char>(b);
        }
    }
  }
  out += '"';
}

std::string float_json(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return py_repr_float(d);
}

[[noreturn]] void not_serializable(const Value& v) {
  type_error("Object of type " + type_name(v) + " is not JSON serializable");
}

class Dumper {
 public:
  Dumper(Interp& in, const JsonStyle& style) : in_(in), style_(style) {}

  void dump(const Value& v, int level) {
    in_.charge(1);
    if (out_.size() > in_.limits().max_string_bytes) throw TemplateError("MemoryError: JSON output is too large", 0);
    switch (v.kind()) {
      case Kind::kNone: out_ += "null"; return;
      case Kind::kBool: out_ += v.as_bool() ? "true" : "false"; return;
      case Kind::kInt: out_ += std::to_string(v.as_int()); return;
      case Kind::kFloat: out_ += float_json(v.as_float()); return;
      case Kind::kString: append_json_string(out_, v.str(), style_.ensure_ascii); return;
      case Kind::kList:
        if (!v.is_sequence_like() || v.has_tag(ListData::Tag::kRange)) not_serializable(v);
        open_container('[');
        for (size_t i = 0; i < v.items().size(); ++i) {
          separator(i, level + 1);
          dump(v.items()[i], level + 1);
        }
        close_container(']', v.items().empty(), level);
        return;
      case Kind::kDict: dump_dict(v.dict(), level); return;
      default: not_serializable(v);
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void newline(int level) {
    out_ += '\n';
    for (int k = 0; k < level; ++k) out_ += style_.indent;
  }
  void open_container(char c) { out_ += c; }
  void close_container(char c, bool empty, int level) {
    if (!empty && style_.has_indent) newline(level);
    out_ += c;
  }
  void separator(size_t index, int level) {
    if (index > 0) out_ += style_.item_sep;
    if (style_.has_indent) newline(level);
  }

  static std::string key_string(const Value& k) {
    switch (k.kind()) {
      case Kind::kString: return k.str();
      case Kind::kNone: return "null";
      case Kind::kBool: return k.as_bool() ? "true" : "false";
      case Kind::kInt: return std::to_string(k.as_int());
      case Kind::kFloat: return float_json(k.as_float());
      default: type_error("keys must be str, int, float, bool or None, not " + type_name(k));
    }
  }

  void dump_dict(const DictData& d, int level) {
    std::vector<const std::pair<Value, Value>*> items;
    for (const auto& kv : d.items) items.push_back(&kv);
    if (style_.sort_keys) {
      std::stable_sort(items.begin(), items.end(),
                       [](const auto* a, const auto* b) { return compare(a->first, b->first) == -1; });
    }
    open_container('{');
    for (size_t i = 0; i < items.size(); ++i) {
      separator(i, level + 1);
      append_json_string(out_, key_string(items[i]->first), style_.ensure_ascii);
      out_ += style_.key_sep;
      dump(items[i]->second, level + 1);
    }
    close_container('}', items.empty(), level);
  }

  Interp& in_;
  const JsonStyle& style_;
  std::string out_;
};

}  // namespace

std::string dump_json(Interp& in, const Value& v, const JsonStyle& style) {
  Dumper d(in, style);
  d.dump(v, 0);
  return d.take();
}

}  // namespace pocket::jinja
