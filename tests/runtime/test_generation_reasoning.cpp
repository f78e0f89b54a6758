// A reasoning model's thinking budget, driven through Generation with synthetic logits (no
// forward pass; the tiny Ministral 3 gives the real [THINK] = 34 / [/THINK] = 35 tokens):
//   - a block holds max_reasoning_tokens tokens, then [/THINK] is forced, and n_reasoning()
//     counts them; the model's own [/THINK] is never needed (it is suppressed here);
//   - a prompt ending with [THINK] starts the reply inside a block;
//   - a tool call the model opens while thinking ends the block: no close is forced into the
//     call's arguments, however small the budget.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

#include "chat/reasoning.h"
#include "chat/tool_calls.h"
#include "runtime/engine.h"
#include "runtime/generation.h"
#include "test_util.h"

namespace pocket {
namespace {

std::unique_ptr<Engine> ministral() {
  EngineOptions eo;
  eo.n_threads = 1;
  return Engine::load(test::shared_path("models/tiny-ministral3-f16.gguf"), eo);
}

struct Drawn {
  std::vector<int32_t> ids;
  std::string text;
  int64_t reasoning = 0;
};

// Noise logits: end of generation and the model's own [/THINK] suppressed, `first` boosted at
// the first step. Runs to max_tokens.
Drawn generate(const Engine& e, const std::vector<int32_t>& prompt, GenerationParams p, int32_t first) {
  Generation g(e);
  g.start(prompt, p, 4096);
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.0f, 2.0f);
  std::vector<float> logits(static_cast<size_t>(e.hparams().n_vocab));
  const int32_t close = *e.tokenizer().token_id("[/THINK]");
  Drawn r;
  FinishReason why = FinishReason::None;
  for (int64_t pos = static_cast<int64_t>(prompt.size()); why == FinishReason::None; ++pos) {
    for (float& l : logits) l = noise(rng);
    if (r.ids.empty() && first >= 0) logits[static_cast<size_t>(first)] += 40.0f;
    for (int32_t id = 0; id < e.hparams().n_vocab; ++id)
      if (e.tokenizer().is_eog(id) || id == close) logits[static_cast<size_t>(id)] -= 40.0f;
    const int32_t id = g.choose(logits.data());
    r.ids.push_back(id);
    why = g.accept(id, pos, r.text);
  }
  g.finish(why, r.text);
  r.reasoning = g.n_reasoning();
  return r;
}

GenerationParams thinking(int64_t budget, int64_t max_tokens) {
  GenerationParams p;
  p.max_tokens = max_tokens;
  p.sampling.temperature = 1.0f;
  p.sampling.seed = 11;
  p.think_open = "[THINK]";
  p.think_close = "[/THINK]";
  p.max_reasoning_tokens = budget;
  return p;
}

TEST(GenerationReasoning, TheBudgetClosesTheBlock) {
  const auto e = ministral();
  const int32_t open = 34, close = 35;
  ASSERT_EQ(e->tokenizer().token_id("[THINK]"), open);
  ASSERT_EQ(e->tokenizer().token_id("[/THINK]"), close);
  for (int64_t budget : {0, 1, 5}) {
    SCOPED_TRACE(budget);
    // The model opens the block itself.
    const Drawn a = generate(*e, {1}, thinking(budget, 12), open);
    ASSERT_EQ(a.ids.size(), 12u);
    EXPECT_EQ(a.ids[0], open);
    EXPECT_EQ(a.ids[static_cast<size_t>(budget) + 1], close);
    EXPECT_EQ(a.reasoning, budget);
    // The prompt opens it: the reply starts inside.
    const Drawn b = generate(*e, {1, open}, thinking(budget, 12), -1);
    EXPECT_EQ(b.ids[static_cast<size_t>(budget)], close);
    EXPECT_EQ(b.reasoning, budget);
    // Split as a server does: the budget's tokens are the thinking, the rest the answer.
    ReasoningSplitter s(ReasoningFormat{"[THINK]", "[/THINK]"}, {}, true);
    ReasoningSplitter::Parts parts = s.feed(b.text);
    ReasoningSplitter::Parts rest = s.finish();
    std::string expect_thinking;
    for (int64_t i = 0; i < budget; ++i) expect_thinking += e->token_pieces().piece(b.ids[static_cast<size_t>(i)]);
    EXPECT_EQ(parts.reasoning + rest.reasoning, expect_thinking);
  }
  // No budget: the block runs on (the model's own close is suppressed here).
  const Drawn open_ended = generate(*e, {1, open}, thinking(-1, 12), -1);
  EXPECT_EQ(std::count(open_ended.ids.begin(), open_ended.ids.end(), close), 0);
  EXPECT_EQ(open_ended.reasoning, 12);
}

TEST(GenerationReasoning, AToolCallEndsTheBlock) {
  const auto e = ministral();
  const ToolCallFormat f = ToolCallFormat::mistral_v13();
  const nlohmann::ordered_json tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {
    "name": "get_weather", "strict": true, "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
    "required": ["city"], "additionalProperties": false}}}])");
  const auto calls = strict_tool_calls(f, tools, e->tokenizer());
  ASSERT_TRUE(calls.has_value());
  GenerationParams p = thinking(2, 60);  // a budget far smaller than any call
  p.keep_control = f.markers();
  p.tool_trigger = calls->trigger;
  p.choices = calls->choices;
  p.choice_grammars = calls->grammars;
  p.max_tool_calls = 1;
  p.json_suffix = calls->suffix;
  const int32_t call = *e->tokenizer().token_id(f.call_start);
  const Drawn r = generate(*e, {1, 34}, p, call);  // inside a block, the model opens a call
  SCOPED_TRACE(r.text);
  EXPECT_EQ(std::count(r.ids.begin(), r.ids.end(), 35), 0) << "no [/THINK] forced into the call";
  EXPECT_EQ(r.reasoning, 0);
  ReasoningSplitter s(ReasoningFormat{"[THINK]", "[/THINK]"}, {f.call_start}, true);
  const std::string answer = s.feed(r.text).content + s.finish().content;
  const ToolCallParseResult parsed = parse_tool_calls(answer, f);
  ASSERT_EQ(parsed.calls.size(), 1u);
  EXPECT_EQ(parsed.calls[0].name, "get_weather");
  EXPECT_TRUE(parsed.calls[0].arguments["city"].is_string());
}

TEST(GenerationReasoning, WhereAReplyStarts) {
  const auto e = ministral();
  const Tokenizer& tok = e->tokenizer();
  const std::vector<int32_t> inst = tok.encode("[INST]hi[/INST]", false, true);
  auto with = [&](std::vector<int32_t> head, const std::string& tail) {
    const std::vector<int32_t> t = tok.encode(tail, false, true);
    head.insert(head.end(), t.begin(), t.end());
    return head;
  };
  GenerationParams p = thinking(-1, 8);
  // A system prompt that explains the markers leaves no block open; a generation prompt that
  // opens one (or begins its text) does.
  EXPECT_FALSE(reply_starts_thinking(p, with(tok.encode("[SYSTEM_PROMPT]Use [THINK]x[/THINK][/SYSTEM_PROMPT]", false, true), "[INST]hi[/INST]"), tok));
  EXPECT_TRUE(reply_starts_thinking(p, with(inst, "[THINK]"), tok));
  EXPECT_TRUE(reply_starts_thinking(p, with(inst, "[THINK]Let me see,"), tok));
  // A forced tool call's prefix after it: the call is the answer.
  GenerationParams forced = p;
  forced.keep_control = ToolCallFormat::mistral_v13().markers();
  forced.choices = {"get_weather"};
  EXPECT_FALSE(reply_starts_thinking(forced, with(inst, "[THINK][TOOL_CALLS]"), tok));
  // JSON from the first token: no thinking.
  GenerationParams json = p;
  json.json_object = true;
  EXPECT_FALSE(reply_starts_thinking(json, with(inst, "[THINK]"), tok));
  // A model without markers.
  GenerationParams none;
  EXPECT_FALSE(reply_starts_thinking(none, with(inst, "[THINK]"), tok));
}

}  // namespace
}  // namespace pocket
