// JSON Schema compiler (see json_schema.h for what is supported). Layout of the JSON it admits,
// close to what models write and to llama.cpp's json-schema-to-grammar (ref: ggml-org/llama.cpp
// common/json-schema-to-grammar.cpp): objects `{` ws members `}` with each member
// `"key"` ws `:` ws value ws and `,` ws between members; arrays likewise; ws is nothing, one space,
// or a newline and up to 20 spaces, so whitespace cannot run on forever. Integers have at
// most 16 digits and numbers at most 16 fraction digits, so every text parses to a finite
// double and an int64.
#include "sampling/json_schema.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "core/error.h"

namespace pocket {
namespace {

using json = nlohmann::ordered_json;
using Seq = Grammar::Seq;
using Sym = Grammar::Sym;

constexpr int64_t kMaxCount = 10000;     // minItems, maxItems, minLength, maxLength
constexpr int kMaxIntDigits = 16;
constexpr int kMaxDepth = 64;            // nested schemas (the compiler recurses)

const std::set<std::string, std::less<>> kKeywords = {
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
    "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions", "pattern", "format", "minLength", "maxLength",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
const std::set<std::string, std::less<>> kAnnotations = {
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
    "writeOnly", "contentMediaType", "contentEncoding"};

// Patterns for the formats (RFC 3339 full-date / full-time; a date never names a day its month
// lacks: February stops at 28, so every text is a real date in every year).
const std::map<std::string, std::string, std::less<>> kFormats = {
    {"date", "^[1-9][0-9]{3}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
             "|02-(?:0[1-9]|1[0-9]|2[0-8]))$"},
    {"time", "^(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"},
    {"date-time", ""},  // date "T" time, built from the two above
    {"email", "^[A-Za-z0-9_%+-]+(?:\\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$"},
    {"uuid", "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"},
    {"ipv4", "^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"},
};

std::string strip_anchors(const std::string& p) { return p.substr(1, p.size() - 2); }

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const json& root) : root_(root) {}

  std::shared_ptr<const Grammar> run(bool any_object) {
    const uint32_t top = g_.declare();
    g_.define(top, {{any_object ? object_any() : value(root_, "#")}});
    if (g_.size() > kMaxGrammarSymbols) fail("json_schema: the schema compiles to more than {} symbols", kMaxGrammarSymbols);
    try {
      g_.finish(top);
    } catch (const std::runtime_error& e) {
      fail("json_schema: {}", e.what());
    }
    return std::make_shared<Grammar>(std::move(g_));
  }

 private:
  [[noreturn]] static void bad(const std::string& path, const std::string& keyword, const std::string& what) {
    fail("json_schema: {}: '{}' {}", path, keyword, what);
  }

  // --- shared pieces, made on first use ---
  Sym ws() {
    if (!ws_) ws_ = g_.rule({{}, g_.lit(" "), g_.lit("\n") + g_.repeat(g_.lit(" "), 0, 20)});
    return *ws_;
  }
  Sym string_char() {
    if (!char_) {
      ByteClass plain = ByteClass::range(0x20, 0x7F);
      plain.bits = {plain.bits[0] & ~(uint64_t{1} << '"'), plain.bits[1] & ~(uint64_t{1} << ('\\' - 64)), 0, 0};
      ByteClass esc;
      for (char c : std::string_view("\"\\/bfnrt")) esc.add(static_cast<uint8_t>(c));
      ByteClass hex = ByteClass::range('0', '9');
      hex.add_range('a', 'f');
      hex.add_range('A', 'F');
      const Sym h = g_.bytes(hex);
      std::vector<Seq> alts = {{g_.bytes(plain)}, g_.lit("\\") + g_.bytes(esc), g_.lit("\\u") + Seq{h, h, h, h}};
      for (Seq& m : utf8_multibyte(g_)) alts.push_back(std::move(m));
      char_ = g_.rule(alts);
    }
    return *char_;
  }
  Sym string_any() {
    if (!string_) string_ = g_.rule({g_.lit("\"") + g_.star({string_char()}) + g_.lit("\"")});
    return *string_;
  }
  Seq digits(int64_t min, int64_t max) { return g_.repeat({g_.bytes(ByteClass::range('0', '9'))}, min, max); }
  Sym integer_any() {
    if (!integer_)
      integer_ = g_.rule({g_.lit("0"), Seq{g_.bytes(ByteClass::range('1', '9'))} + digits(0, kMaxIntDigits - 1),
                          g_.lit("-") + Seq{g_.bytes(ByteClass::range('1', '9'))} + digits(0, kMaxIntDigits - 1)});
    return *integer_;
  }
  Sym number_any() {
    if (!number_) {
      ByteClass e = ByteClass::of('e');
      e.add('E');
      ByteClass sign = ByteClass::of('+');
      sign.add('-');
      number_ = g_.rule({Seq{g_.opt(g_.lit("-")), g_.rule({g_.lit("0"), Seq{g_.bytes(ByteClass::range('1', '9'))} +
                                                                              digits(0, kMaxIntDigits - 1)}),
                             g_.opt(g_.lit(".") + digits(1, 16)), g_.opt(Seq{g_.bytes(e), g_.opt({g_.bytes(sign)})} + digits(1, 2))}});
    }
    return *number_;
  }
  Sym any() {
    if (!any_) {
      const uint32_t r = g_.declare();
      any_ = Grammar::ref(r);
      g_.define(r, {{object_any()}, {array_of(*any_, 0, -1)}, {string_any()}, {number_any()}, g_.lit("true"),
                    g_.lit("false"), g_.lit("null")});
    }
    return *any_;
  }
  Sym object_any() { return map_of(std::nullopt); }

  // `{` ws (member (`,` ws member)*)? `}` with any keys; values of `value_schema` (nullopt: any).
  Sym map_of(std::optional<Sym> value_schema) {
    const Seq member = Seq{string_any(), ws()} + g_.lit(":") + Seq{ws(), value_schema ? *value_schema : any(), ws()};
    const Sym m = g_.rule({member});
    return g_.rule({g_.lit("{") + Seq{ws(), g_.opt(Seq{m, g_.star(g_.lit(",") + Seq{ws(), m})})} + g_.lit("}")});
  }
  // `[` ws (item ws (`,` ws item ws){min-1, max-1})? `]`
  Sym array_of(Sym item, int64_t min, int64_t max) {
    const Sym one = g_.rule({{item, ws()}});
    const Seq next = g_.lit(",") + Seq{ws(), one};
    Seq body;
    if (max != 0) {
      body = Seq{one} + g_.repeat(next, std::max<int64_t>(min - 1, 0), max < 0 ? -1 : max - 1);
      if (min == 0) body = {g_.opt(body)};
    }
    return g_.rule({g_.lit("[") + Seq{ws()} + body + g_.lit("]")});
  }

  static int64_t count(const json& s, const char* key, int64_t dflt, const std::string& path) {
    const auto it = s.find(key);
    if (it == s.end()) return dflt;
    if (!it->is_number_integer() || it->get<int64_t>() < 0) bad(path, key, "must be a non-negative integer");
    if (it->get<int64_t>() > kMaxCount) bad(path, key, fmt::format("above {} is not supported", kMaxCount));
    return it->get<int64_t>();
  }

  Sym literal(const json& v) { return g_.rule({g_.lit(v.dump(-1, ' ', false, json::error_handler_t::strict))}); }

  Sym resolve(const std::string& ref, const std::string& path) {
    if (const auto it = refs_.find(ref); it != refs_.end()) return Grammar::ref(it->second);
    const json* target = nullptr;
    if (ref == "#") {
      target = &root_;
    } else {
      for (const char* base : {"#/$defs/", "#/definitions/"}) {
        const std::string_view b(base);
        if (ref.compare(0, b.size(), b) != 0) continue;
        std::string name = ref.substr(b.size());
        for (size_t at; (at = name.find("~1")) != std::string::npos;) name.replace(at, 2, "/");
        for (size_t at; (at = name.find("~0")) != std::string::npos;) name.replace(at, 2, "~");
        const std::string table(b.substr(2, b.size() - 3));
        const auto t = root_.find(table);
        if (t != root_.end() && t->is_object() && t->contains(name)) target = &(*t)[name];
      }
    }
    if (!target) bad(path, "$ref", fmt::format("{:?} does not name a schema in this document's $defs or definitions", ref));
    const uint32_t r = g_.declare();
    refs_[ref] = r;
    g_.define(r, {{value(*target, ref)}});
    return Grammar::ref(r);
  }

  Sym value(const json& s, const std::string& path) {
    struct Depth {
      int& d;
      explicit Depth(int& x) : d(++x) {}
      ~Depth() { --d; }
    } depth(depth_);
    if (depth_ > kMaxDepth) fail("json_schema: {}: schemas nested more than {} deep are not supported", path, kMaxDepth);
    if (g_.size() > kMaxGrammarSymbols) fail("json_schema: the schema compiles to more than {} symbols", kMaxGrammarSymbols);
    if (s.is_boolean()) {
      if (!s.get<bool>()) bad(path, "false", "admits no value");
      return any();
    }
    if (!s.is_object()) bad(path, "schema", "must be an object or a boolean");
    for (const auto& [k, v] : s.items()) {
      if (kKeywords.count(k) || kAnnotations.count(k) || k.rfind("x-", 0) == 0) continue;
      bad(path, k, "is not supported");
    }
    auto has = [&](const char* k) { return s.contains(k); };
    auto only = [&](const char* k, std::initializer_list<const char*> also) {
      for (const auto& item : s.items()) {
        const std::string& key = item.key();
        if (key != k && kKeywords.count(key) && key != "$defs" && key != "definitions" &&
            std::none_of(also.begin(), also.end(), [&](const char* a) { return key == a; }))
          bad(path, key, fmt::format("next to '{}' is not supported", k));
      }
    };
    if (has("$ref")) {
      only("$ref", {});
      if (!s["$ref"].is_string()) bad(path, "$ref", "must be a string");
      return resolve(s["$ref"].get<std::string>(), path);
    }
    if (has("const")) {
      only("const", {"type"});
      return literal(s["const"]);
    }
    if (has("enum")) {
      only("enum", {"type"});
      const json& e = s["enum"];
      if (!e.is_array() || e.empty()) bad(path, "enum", "must be a non-empty array");
      std::vector<Seq> alts;
      for (const json& v : e) alts.push_back({literal(v)});
      return g_.rule(alts);
    }
    for (const char* k : {"anyOf", "oneOf"}) {
      if (!has(k)) continue;
      only(k, {});
      const json& a = s[k];
      if (!a.is_array() || a.empty()) bad(path, k, "must be a non-empty array");
      std::vector<Seq> alts;
      for (size_t i = 0; i < a.size(); ++i) alts.push_back({value(a[i], fmt::format("{}/{}/{}", path, k, i))});
      return g_.rule(alts);
    }
    if (has("allOf")) {
      only("allOf", {});
      const json& a = s["allOf"];
      if (!a.is_array() || a.size() != 1) bad(path, "allOf", "with other than exactly one schema is not supported");
      return value(a[0], path + "/allOf/0");
    }
    std::vector<std::string> types;
    if (const auto t = s.find("type"); t != s.end()) {
      if (t->is_string()) types.push_back(t->get<std::string>());
      else if (t->is_array() && !t->empty())
        for (const json& x : *t) {
          if (!x.is_string()) bad(path, "type", "must be a string or an array of strings");
          types.push_back(x.get<std::string>());
        }
      else bad(path, "type", "must be a string or an array of strings");
    } else if (has("properties") || has("additionalProperties") || has("required")) {
      types = {"object"};
    } else if (has("items") || has("minItems") || has("maxItems")) {
      types = {"array"};
    } else if (has("pattern") || has("format") || has("minLength") || has("maxLength")) {
      types = {"string"};
    } else if (has("minimum") || has("maximum") || has("exclusiveMinimum") || has("exclusiveMaximum")) {
      bad(path, "minimum", "without \"type\": \"integer\" is not supported");
    } else {
      return any();
    }
    std::vector<Seq> alts;
    for (const std::string& t : types) alts.push_back({typed(s, t, path)});
    return alts.size() == 1 ? alts[0][0] : g_.rule(alts);
  }

  Sym typed(const json& s, const std::string& t, const std::string& path) {
    if (t == "string") return string_schema(s, path);
    if (t == "integer") return integer_schema(s, path);
    if (t == "number") {
      for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
        if (s.contains(k)) bad(path, k, "on a number is not supported (it is on an integer)");
      return number_any();
    }
    if (t == "boolean") return g_.rule({g_.lit("true"), g_.lit("false")});
    if (t == "null") return g_.rule({g_.lit("null")});
    if (t == "object") return object_schema(s, path);
    if (t == "array") return array_schema(s, path);
    bad(path, "type", fmt::format("{:?} is not a JSON Schema type", t));
  }

  Sym string_schema(const json& s, const std::string& path) {
    const int64_t min = count(s, "minLength", 0, path), max = count(s, "maxLength", -1, path);
    if (max >= 0 && max < min) bad(path, "maxLength", "is below minLength");
    std::string pattern;
    if (const auto p = s.find("pattern"); p != s.end()) {
      if (!p->is_string()) bad(path, "pattern", "must be a string");
      pattern = p->get<std::string>();
    }
    if (const auto f = s.find("format"); f != s.end()) {
      if (!f->is_string()) bad(path, "format", "must be a string");
      const std::string name = f->get<std::string>();
      if (!pattern.empty()) bad(path, "format", "next to 'pattern' is not supported");
      const auto it = kFormats.find(name);
      if (it == kFormats.end()) bad(path, "format", fmt::format("{:?} is not supported (date, time, date-time, email, uuid, ipv4)", name));
      pattern = name == "date-time" ? "^" + strip_anchors(kFormats.at("date")) + "T" + strip_anchors(kFormats.at("time")) + "$"
                                    : it->second;
    }
    if (!pattern.empty()) {
      if (s.contains("minLength") || s.contains("maxLength")) bad(path, "minLength", "next to 'pattern' or 'format' is not supported");
      return g_.rule({g_.lit("\"") + compile_pattern(g_, pattern, path) + g_.lit("\"")});
    }
    if (min == 0 && max < 0) return string_any();
    return g_.rule({g_.lit("\"") + g_.repeat({string_char()}, min, max) + g_.lit("\"")});
  }

  // Decimal digit strings of equal length between x and y (inclusive).
  Seq same_length_range(const std::string& x, const std::string& y) {
    if (x.empty()) return {};
    const auto d = [&](char lo, char hi) { return g_.bytes(ByteClass::range(static_cast<uint8_t>(lo), static_cast<uint8_t>(hi))); };
    const size_t rest = x.size() - 1;
    if (x[0] == y[0]) return Seq{d(x[0], x[0])} + same_length_range(x.substr(1), y.substr(1));
    if (x.find_first_not_of('0', 1) == std::string::npos && y.find_first_not_of('9', 1) == std::string::npos)
      return Seq{d(x[0], y[0])} + digits(static_cast<int64_t>(rest), static_cast<int64_t>(rest));
    std::vector<Seq> alts;
    alts.push_back(Seq{d(x[0], x[0])} + same_length_range(x.substr(1), std::string(rest, '9')));
    if (x[0] + 1 <= y[0] - 1) alts.push_back(Seq{d(static_cast<char>(x[0] + 1), static_cast<char>(y[0] - 1))} + digits(static_cast<int64_t>(rest), static_cast<int64_t>(rest)));
    alts.push_back(Seq{d(y[0], y[0])} + same_length_range(std::string(rest, '0'), y.substr(1)));
    return {g_.rule(alts)};
  }
  // Non-negative integers in [lo, hi] without leading zeros.
  std::vector<Seq> nonneg_range(int64_t lo, int64_t hi) {
    std::vector<Seq> alts;
    for (int64_t p = 1, len = 1; len <= kMaxIntDigits; ++len, p *= 10) {
      const int64_t a = std::max(lo, len == 1 ? 0 : p), b = std::min(hi, p * 10 - 1);
      if (a <= b) alts.push_back(same_length_range(std::to_string(a), std::to_string(b)));
    }
    return alts;
  }
  Sym integer_schema(const json& s, const std::string& path) {
    const int64_t kLimit = 9'999'999'999'999'999;  // 16 digits
    int64_t lo = -kLimit, hi = kLimit;
    bool bounded = false;
    for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      const auto it = s.find(k);
      if (it == s.end()) continue;
      if (!it->is_number()) bad(path, k, "must be a number");
      const double v = it->get<double>();
      if (!(std::abs(v) < static_cast<double>(kLimit))) bad(path, k, "beyond 16 digits is not supported");
      const std::string_view key(k);
      if (key == "minimum") lo = std::max(lo, static_cast<int64_t>(std::ceil(v)));
      else if (key == "maximum") hi = std::min(hi, static_cast<int64_t>(std::floor(v)));
      else if (key == "exclusiveMinimum") lo = std::max(lo, static_cast<int64_t>(std::floor(v)) + 1);
      else hi = std::min(hi, static_cast<int64_t>(std::ceil(v)) - 1);
      bounded = true;
    }
    if (!bounded) return integer_any();
    if (lo > hi) bad(path, "minimum", "and maximum leave no integer");
    std::vector<Seq> alts;
    if (hi >= 0) alts = nonneg_range(std::max<int64_t>(lo, 0), hi);
    if (lo < 0)
      for (Seq& neg : nonneg_range(std::max<int64_t>(-hi, 1), -lo)) alts.push_back(g_.lit("-") + neg);
    return g_.rule(alts);
  }

  Sym object_schema(const json& s, const std::string& path) {
    std::vector<std::string> keys;
    std::vector<Sym> values;
    if (const auto p = s.find("properties"); p != s.end()) {
      if (!p->is_object()) bad(path, "properties", "must be an object");
      for (const auto& [k, v] : p->items()) {
        keys.push_back(k);
        values.push_back(value(v, path + "/properties/" + k));
      }
    }
    std::vector<bool> required(keys.size(), false);
    if (const auto r = s.find("required"); r != s.end()) {
      if (!r->is_array()) bad(path, "required", "must be an array of strings");
      for (const json& name : *r) {
        const auto at = name.is_string() ? std::find(keys.begin(), keys.end(), name.get<std::string>()) : keys.end();
        if (at == keys.end()) bad(path, "required", fmt::format("names {}, which is not in 'properties'", name.dump()));
        required[static_cast<size_t>(at - keys.begin())] = true;
      }
    }
    // Extra members: additionalProperties as a schema; true or absent only when no property is
    // declared (else the declared ones alone are written, which every reading allows).
    std::optional<Sym> extra;
    if (const auto a = s.find("additionalProperties"); a != s.end()) {
      if (a->is_object()) extra = value(*a, path + "/additionalProperties");
      else if (!a->is_boolean()) bad(path, "additionalProperties", "must be a boolean or a schema");
      else if (a->get<bool>() && keys.empty()) extra = any();
    } else if (keys.empty()) {
      extra = any();
    }
    if (keys.empty()) {
      if (!extra) return g_.rule({g_.lit("{") + Seq{ws()} + g_.lit("}")});
      return map_of(*extra);
    }
    const size_t n = keys.size();
    std::vector<Sym> member;
    for (size_t i = 0; i < n; ++i)
      member.push_back(g_.rule({g_.lit(json(keys[i]).dump()) + Seq{ws()} + g_.lit(":") + Seq{ws(), values[i], ws()}}));
    Seq tail, extras_only;  // what may end the members: extra ones after the declared
    if (extra) {
      const Sym m = g_.rule({Seq{string_any(), ws()} + g_.lit(":") + Seq{ws(), *extra, ws()}});
      tail = {g_.star(g_.lit(",") + Seq{ws(), m})};
      extras_only = Seq{m} + tail;
    }
    // Members in the schema's order; rest[i] follows a member, with properties i.. still open.
    std::vector<bool> required_from(n + 1, false);
    for (size_t i = n; i-- > 0;) required_from[i] = required[i] || required_from[i + 1];
    std::vector<Sym> rest(n + 1);
    for (size_t i = n + 1; i-- > 1;) {
      std::vector<Seq> alts;
      for (size_t j = i; j < n; ++j) {
        alts.push_back(g_.lit(",") + Seq{ws(), member[j], rest[j + 1]});
        if (required[j]) break;
      }
      if (!required_from[i]) alts.push_back(tail);
      rest[i] = g_.rule(alts);
    }
    std::vector<Seq> first;
    for (size_t j = 0; j < n; ++j) {
      first.push_back(Seq{member[j], rest[j + 1]});
      if (required[j]) break;
    }
    if (!required_from[0]) {
      first.push_back({});
      if (extra) first.push_back(extras_only);
    }
    return g_.rule({g_.lit("{") + Seq{ws(), g_.rule(first)} + g_.lit("}")});
  }

  Sym array_schema(const json& s, const std::string& path) {
    const int64_t min = count(s, "minItems", 0, path), max = count(s, "maxItems", -1, path);
    if (max >= 0 && max < min) bad(path, "maxItems", "is below minItems");
    Sym item = any();
    if (const auto it = s.find("items"); it != s.end()) {
      if (it->is_array()) bad(path, "items", "as an array (tuple validation) is not supported");
      item = value(*it, path + "/items");
    }
    return array_of(item, min, max);
  }

  const json& root_;
  Grammar g_;
  std::map<std::string, uint32_t> refs_;
  std::optional<Sym> ws_, char_, string_, integer_, number_, any_;
  int depth_ = 0;
};

}  // namespace

std::shared_ptr<const Grammar> compile_json_schema(std::string_view schema_json) {
  const json schema = json::parse(schema_json, nullptr, false);
  if (schema.is_discarded()) fail("json_schema: the schema is not valid JSON");
  return SchemaCompiler(schema).run(false);
}

std::shared_ptr<const Grammar> json_object_grammar() {
  static const std::shared_ptr<const Grammar> g = SchemaCompiler(json::object()).run(true);
  return g;
}

}  // namespace pocket
