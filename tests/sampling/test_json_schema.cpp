// JSON Schema constraint: the compiled grammar accepts documents the schema allows and refuses
// the ones it does not (expected values written from the JSON Schema 2020-12 validation spec,
// case by case), unsupported keywords are refused by name, and texts sampled at random from
// the grammar are checked by an independent validator: Python's `jsonschema` package
// (tests/sampling/validate_samples.py), with its format checker. The token-level constraint's
// vocabulary walk (enumerate) is checked against trying every token one by one.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "sampling/json_schema.h"
#include "sampling/logit_processor.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace pocket {
namespace {

bool accepts(const Grammar& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.advance(text) && m.accepting();
}

struct Case {
  const char* schema;
  std::vector<const char*> good, bad;
};

// Expected results by the spec's rules (properties in the schema's order; whitespace as the
// compiler's layout allows).
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name"],"additionalProperties":false})",
       {R"({"name":"Ann"})", R"({"name":"Ann","age":31})", R"({ "name": "A\"b\u00e9", "age": -4 })", "{\n  \"name\": \"x\"\n}"},
       {R"({})", R"({"age":3})", R"({"name":3})", R"({"name":"a","age":1.5})", R"({"name":"a","zip":1})", R"({"name":"a",})"}},
      {R"({"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":3})",
       {"[true]", "[true, false,true]", "[ false ]"},
       {"[]", "[true,true,true,true]", "[1]", "[true,]"}},
      {R"({"enum":["red","green",3,null,{"a":[1]}]})", {R"("red")", "3", "null", R"({"a":[1]})"}, {R"("blue")", "4", R"("Red")"}},
      {R"({"const":{"k":"v"}})", {R"({"k":"v"})"}, {R"({"k":"w"})", "{}"}},
      {R"({"type":["string","null"]})", {R"("")", "null"}, {"0", "false"}},
      {R"({"anyOf":[{"type":"integer"},{"type":"string","maxLength":2}]})", {"12", R"("ab")", "-7"}, {R"("abc")", "1.5", "012"}},
      {R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"]}},"$ref":"#/$defs/node"})",
       {R"({"v":1,"next":null})", R"({"v":1,"next":{"v":2,"next":null}})"}, {R"({"v":1})", R"({"v":1,"next":{"v":2}})"}},
      {R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"})", {R"("AB-123")"}, {R"("AB-12")", R"("ab-123")", R"("AB-1234")"}},
      {R"({"type":"string","pattern":"ab+"})", {R"("ab")", R"("xxabbby")"}, {R"("a")", R"("b")"}},
      {R"({"type":"string","pattern":"^(cat|dog)s?$"})", {R"("cat")", R"("dogs")"}, {R"("cow")", R"("cats!")"}},
      {R"({"type":"string","pattern":"^a\"b\\\\c$"})", {R"("a\"b\\c")"}, {R"("a"b\c")", R"("ab")"}},
      {R"({"type":"string","format":"date"})", {R"("2024-02-28")", R"("1999-12-31")"}, {R"("2024-02-30")", R"("2024-13-01")", R"("24-01-01")"}},
      {R"({"type":"string","format":"date-time"})", {R"("2024-05-06T07:08:09Z")", R"("2024-05-06T23:59:59.5+02:00")"},
       {R"("2024-05-06 07:08:09Z")", R"("2024-05-06T24:00:00Z")", R"("2024-05-06T07:08:09")"}},
      {R"({"type":"string","format":"time"})", {R"("07:08:09Z")"}, {R"("7:08:09Z")"}},
      {R"({"type":"string","format":"email"})", {R"("a.b@example.com")"}, {R"("a@b")", R"("@example.com")"}},
      {R"({"type":"string","format":"uuid"})", {R"("123e4567-e89b-12d3-a456-426614174000")"}, {R"("123e4567e89b12d3a456426614174000")"}},
      {R"({"type":"string","format":"ipv4"})", {R"("192.168.0.1")"}, {R"("256.1.1.1")", R"("1.2.3")"}},
      {R"({"type":"string","minLength":2,"maxLength":3})", {R"("ab")", R"("abc")", R"("é\n")"}, {R"("a")", R"("abcd")"}},
      {R"({"type":"integer","minimum":-12,"exclusiveMaximum":105})", {"-12", "0", "7", "99", "104"}, {"-13", "105", "1000", "-100"}},
      {R"({"type":"integer","minimum":37})", {"37", "99", "100", "123456"}, {"36", "0", "-40"}},
      {R"({"type":"number"})", {"0", "-1.25", "3e5", "1E-2"}, {"01", ".5", "1.", "+1", "NaN"}},
      {R"({"type":"object","additionalProperties":{"type":"integer"}})", {R"({})", R"({"a":1,"b":2})"}, {R"({"a":"x"})"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}})",
       {R"({"a":1,"z":"s"})", R"({"z":"s"})"}, {R"({"a":1,"z":2})"}},
      {R"({})", {R"({"any":[1,"x",null]})", "3", R"("s")"}, {"{", "tru"}},
      {R"(true)", {"[]"}, {"]"}},
  };
  return c;
}

TEST(JsonSchema, AcceptsWhatTheSchemaAllowsAndRefusesTheRest) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.schema);
    const auto g = compile_json_schema(c.schema);
    for (const char* t : c.good) EXPECT_TRUE(accepts(*g, t)) << t;
    for (const char* t : c.bad) EXPECT_FALSE(accepts(*g, t)) << t;
  }
}

TEST(JsonSchema, JsonObjectGrammar) {
  const auto g = json_object_grammar();
  for (const char* ok : {"{}", "{\"a\":1}", "{\"a\":[1,2.5e-3,true,null,{\"b\":\"\\u00e9\\n\"}]}", "{ \"k\" : -0 }"})
    EXPECT_TRUE(accepts(*g, ok)) << ok;
  for (const char* bad : {"[1]", "{1:2}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":tru}", "{}x", "{\"a\":1,}", "{\"\x01\":1}"})
    EXPECT_FALSE(accepts(*g, bad)) << bad;
  // Any prefix completes with closing_suffix() into an object.
  for (const char* prefix : {"{", "{\"ab", "{\"a\":", "{\"a\":[1,{\"b\":-", "{\"a\":\"x\\", "{\"a\":tr", "{\"a\":1.", "{\"a\":[]"}) {
    GrammarMatcher m(*g);
    ASSERT_TRUE(m.advance(prefix)) << prefix;
    const std::string full = std::string(prefix) + m.closing_suffix();
    EXPECT_TRUE(m.advance(m.closing_suffix()) && m.done()) << full;
    EXPECT_TRUE(nlohmann::json::parse(full, nullptr, false).is_object()) << full;
  }
}

TEST(JsonSchema, RefusesUnsupportedAndMalformedByName) {
  const std::vector<std::pair<const char*, const char*>> refused = {
      {R"({"type":"object","patternProperties":{"a":{}}})", "'patternProperties'"},
      {R"({"type":"number","minimum":0})", "'minimum'"},
      {R"({"type":"array","uniqueItems":true})", "'uniqueItems'"},
      {R"({"allOf":[{"type":"string"},{"maxLength":3}]})", "'allOf'"},
      {R"({"not":{"type":"string"}})", "'not'"},
      {R"({"type":"string","format":"uri"})", "'format'"},
      {R"({"type":"string","pattern":"(?=a)b"})", "lookaround"},
      {R"({"type":"string","pattern":"(a)\\1"})", "backreference"},
      {R"({"type":"string","pattern":"(a*)*"})", "can match nothing"},
      {R"({"$ref":"https://example.com/s.json"})", "'$ref'"},
      {R"({"$ref":"#/$defs/missing"})", "'$ref'"},
      {R"({"type":"object","properties":{"a":{}},"required":["b"]})", "'required'"},
      {R"({"type":"strin"})", "'type'"},
      {R"({"type":"integer","minimum":5,"maximum":4})", "'minimum'"},
      {R"({"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})", "no finite"},
      {R"({"type":"array","maxItems":100000})", "'maxItems'"},
      {R"({"type":"array","items":[{}]})", "'items'"},
      {R"(false)", "'false'"},
      {R"({"type":)", "not valid JSON"},
      {R"([1])", "must be an object"},
  };
  for (const auto& [schema, needle] : refused) {
    try {
      compile_json_schema(schema);
      ADD_FAILURE() << "accepted " << schema;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << schema << " -> " << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("json_schema: ", 0), 0u) << e.what();
    }
  }
}

// A random text of the grammar: random allowed bytes, ending when complete (sometimes) or
// when a length is reached (then the shortest completion).
std::string random_text(const Grammar& g, std::mt19937& rng, size_t max_len) {
  GrammarMatcher m(g);
  std::string out;
  while (!m.done() && out.size() < max_len) {
    if (m.accepting() && rng() % 8 == 0) break;
    std::vector<uint8_t> ok;
    for (unsigned c = 0; c < 256; ++c)
      if (m.push(static_cast<uint8_t>(c))) {
        m.pop();
        ok.push_back(static_cast<uint8_t>(c));
      }
    if (ok.empty()) break;
    const uint8_t c = ok[rng() % ok.size()];
    EXPECT_TRUE(m.advance(std::string_view(reinterpret_cast<const char*>(&c), 1)));
    out += static_cast<char>(c);
  }
  const std::string close = m.closing_suffix();
  EXPECT_TRUE(m.advance(close) && m.accepting()) << out << " + " << close;
  return out + close;
}

TEST(JsonSchema, RandomTextsValidateWithPythonJsonschema) {
  std::mt19937 rng(1234);
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/pocket_schema_samples.jsonl";
  {
    std::ofstream f(path);
    for (const Case& c : cases()) {
      const auto g = compile_json_schema(c.schema);
      for (int i = 0; i < 40; ++i)
        f << nlohmann::json{{"schema", nlohmann::json::parse(c.schema)}, {"text", random_text(*g, rng, 1 + i * 6)}}.dump(
                 -1, ' ', false, nlohmann::json::error_handler_t::replace)
          << "\n";
    }
  }
  const std::string cmd = "python3 " + std::string(POCKET_SOURCE_DIR) + "/tests/sampling/validate_samples.py " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(GrammarConstraint, EnumerateMatchesTryingEveryToken) {
  const auto tok = Tokenizer::from_tokenizer_json(test::shared_path("tokenizers/smolvlm2/tokenizer.json"));
  const TokenPieces pieces(*tok);
  const int32_t n_vocab = tok->n_vocab();
  const VocabOrder order(pieces, n_vocab);
  const auto g = compile_json_schema(cases()[0].schema);
  GrammarConstraint c(pieces, order, g, {0});
  std::mt19937 rng(5);
  for (int step = 0; step < 40 && c.active(); ++step) {
    const std::vector<int32_t> all = *c.enumerate();
    std::vector<int32_t> brute;
    for (int32_t id = 0; id < n_vocab; ++id)
      if (c.allows(id)) brute.push_back(id);
    std::vector<int32_t> sorted = all;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(sorted, brute) << "step " << step;
    ASSERT_FALSE(all.empty());
    c.accept(all[rng() % all.size()]);
  }
}

}  // namespace
}  // namespace pocket
