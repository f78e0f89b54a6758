// Tool calls held to their functions' schemas, driven through Generation with synthetic logits
// (no forward pass: the Ministral 3 tiny model gives the real v13 vocabulary and markers):
//   - tool_choice auto with strict functions: a call the model opens with [TOOL_CALLS] gets a
//     tool's name and arguments that meet that tool's schema, and free text may follow;
//   - forced calls among several tools: each tool's own schema after the chosen name.
// Arguments are checked against the schemas field by field here and, for the random runs, by
// Python's jsonschema (tests/sampling/validate_samples.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <set>

#include "chat/tool_calls.h"
#include "runtime/engine.h"
#include "runtime/generation.h"
#include "test_util.h"

namespace pocket {
namespace {

using json = nlohmann::ordered_json;

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "strict": true, "parameters": {"type": "object",
    "properties": {"city": {"type": "string", "maxLength": 16}, "unit": {"enum": ["c", "f"]}},
    "required": ["city", "unit"], "additionalProperties": false}}},
  {"type": "function", "function": {"name": "set_alarm", "strict": true, "parameters": {"type": "object",
    "properties": {"hour": {"type": "integer", "minimum": 0, "maximum": 23}}, "required": ["hour"],
    "additionalProperties": false}}}])");

const json& schema_of(const std::string& name) {
  for (const json& t : kTools)
    if (t["function"]["name"] == name) return t["function"]["parameters"];
  throw std::runtime_error("no tool " + name);
}

struct Sample {
  std::string text;
  FinishReason why = FinishReason::None;
};

// Noise logits, with `boost` added to token `first` at the first step (the model opening a call).
Sample generate(const Engine& e, GenerationParams p, uint32_t seed, int32_t first) {
  Generation g(e);
  g.start({1}, p, 4096);
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 2.0f);
  std::vector<float> logits(static_cast<size_t>(e.hparams().n_vocab));
  Sample r;
  for (int64_t pos = 1; r.why == FinishReason::None; ++pos) {
    for (float& l : logits) l = noise(rng);
    if (pos == 1 && first >= 0) logits[static_cast<size_t>(first)] += 40.0f;
    for (int32_t id = 0; id < e.hparams().n_vocab; ++id)
      if (e.tokenizer().is_eog(id)) logits[static_cast<size_t>(id)] -= 40.0f;  // run to the budget
    r.why = g.accept(g.choose(logits.data()), pos, r.text);
  }
  g.finish(r.why, r.text);
  return r;
}

// The tiny Ministral 3 engine (real v13 vocabulary and markers).
std::unique_ptr<Engine> ministral() {
  EngineOptions eo;
  eo.n_threads = 1;
  return Engine::load(test::shared_path("models/tiny-ministral3-f16.gguf"), eo);
}

// Sampled generation whose calls are followed as the server sets them up under tool_choice auto.
GenerationParams triggered(const ToolCallFormat& f, const TriggeredToolCalls& calls, int64_t max_tokens) {
  GenerationParams p;
  p.max_tokens = max_tokens;
  p.sampling.temperature = 1.0f;
  p.keep_control = f.markers();
  p.tool_trigger = calls.trigger;
  p.choices = calls.choices;
  p.choice_grammars = calls.grammars;
  return p;
}

TEST(GenerationTools, StrictFunctionsHoldCallsTheModelOpens) {
  const auto e = ministral();
  const ToolCallFormat f = ToolCallFormat::mistral_v13();
  const auto strict = strict_tool_calls(f, kTools, e->tokenizer());
  ASSERT_TRUE(strict.has_value());
  GenerationParams p = triggered(f, *strict, 120);
  const int32_t open = *e->tokenizer().token_id(f.call_start);
  const std::string samples = ::testing::TempDir() + "/pocket_tool_args.jsonl";
  std::ofstream out(samples);
  int calls = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    p.sampling.seed = seed;
    const Sample r = generate(*e, p, seed, open);
    SCOPED_TRACE(r.text);
    const ToolCallParseResult parsed = parse_tool_calls(r.text, f);
    // Every call the model opened is complete and valid; what the noise writes after a call
    // is not constrained (the parser may report it as trailing text).
    ASSERT_GE(parsed.calls.size(), 1u);
    for (const ToolCall& c : parsed.calls) {
      out << json{{"schema", schema_of(c.name)}, {"text", c.raw_arguments}}.dump() << "\n";
      const json args = c.arguments;
      if (c.name == "get_weather") {
        EXPECT_TRUE(args["unit"] == "c" || args["unit"] == "f");
        EXPECT_EQ(args.size(), 2u);
      } else {
        ASSERT_EQ(c.name, "set_alarm");
        EXPECT_GE(args["hour"].get<int>(), 0);
        EXPECT_LE(args["hour"].get<int>(), 23);
      }
      ++calls;
    }
  }
  out.close();
  EXPECT_GE(calls, 6);
  const std::string cmd = "python3 " + std::string(POCKET_SOURCE_DIR) + "/tests/sampling/validate_samples.py " + samples;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;

  // Without the marker the model writes free text: nothing is constrained.
  p.sampling.seed = 3;
  const Sample plain = generate(*e, p, 3, -1);
  EXPECT_EQ(plain.why, FinishReason::Length);
}

// parallel_tool_calls false: the first complete call ends the generation (non-strict tools are
// followed too, to know where the call ends).
TEST(GenerationTools, OneCallWhenParallelCallsAreOff) {
  const auto e = ministral();
  const ToolCallFormat f = ToolCallFormat::mistral_v13();
  json tools = kTools;
  for (json& t : tools) t["function"].erase("strict");
  EXPECT_FALSE(strict_tool_calls(f, tools, e->tokenizer()).has_value());
  const auto calls = strict_tool_calls(f, tools, e->tokenizer(), /*always=*/true);
  ASSERT_TRUE(calls.has_value());
  GenerationParams p = triggered(f, *calls, 200);
  p.max_tool_calls = 1;
  p.json_suffix = calls->suffix;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    p.sampling.seed = seed;
    const Sample r = generate(*e, p, seed, *e->tokenizer().token_id(f.call_start));
    SCOPED_TRACE(r.text);
    EXPECT_EQ(r.why, FinishReason::Stop);
    const ToolCallParseResult parsed = parse_tool_calls(r.text, f);
    EXPECT_EQ(parsed.calls.size(), 1u);
    EXPECT_TRUE(parsed.errors.empty());
  }
}

TEST(GenerationTools, ForcedCallUsesTheChosenToolsSchema) {
  const auto e = ministral();
  const ToolCallFormat f = ToolCallFormat::mistral_v13();
  const ForcedToolCall call = force_tool_call(f, kTools, "");
  ASSERT_EQ(call.choices.size(), 2u);
  ASSERT_EQ(call.grammars.size(), 2u);
  GenerationParams p;
  p.max_tokens = 60;
  p.sampling.temperature = 1.0f;
  p.keep_control = f.markers();
  p.json_object = true;
  p.choices = call.choices;
  p.choice_grammars = call.grammars;
  std::set<std::string> names;
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    p.sampling.seed = seed;
    const Sample r = generate(*e, p, seed, -1);
    SCOPED_TRACE(r.text);
    EXPECT_EQ(r.why, FinishReason::Stop);
    const ToolCallParseResult parsed = parse_tool_calls(call.prefix + r.text, f);
    ASSERT_EQ(parsed.calls.size(), 1u);
    const json args = parsed.calls[0].arguments;
    names.insert(parsed.calls[0].name);
    if (parsed.calls[0].name == "set_alarm") {
      ASSERT_TRUE(args["hour"].is_number_integer());
      EXPECT_LE(args["hour"].get<int>(), 23);
    } else {
      EXPECT_TRUE(args["city"].is_string());
    }
  }
  EXPECT_EQ(names.size(), 2u);  // both tools were chosen across the seeds
}

TEST(GenerationTools, UnenforceableStrictSchemaIsRefusedByName) {
  json tools = kTools;
  tools[1]["function"]["parameters"]["properties"]["hour"]["multipleOf"] = 2;
  try {
    (void)force_tool_call(ToolCallFormat::mistral_v13(), tools, "set_alarm");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("multipleOf"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("set_alarm"), std::string::npos) << e.what();
  }
  tools[1]["function"]["strict"] = false;  // not strict: any JSON object, as OpenAI
  EXPECT_EQ(force_tool_call(ToolCallFormat::mistral_v13(), tools, "set_alarm").grammars.at(0), nullptr);
}

}  // namespace
}  // namespace pocket
