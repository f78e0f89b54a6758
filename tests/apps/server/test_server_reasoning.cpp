// A reasoning model over HTTP: thinking in `reasoning_content` (and `delta.reasoning_content`),
// the answer in `content`, the budget from `reasoning_effort` / `max_reasoning_tokens`, and tool
// calls parsed whether the model opens them inside its thinking or after it (llama.cpp #29248 is
// a server that misses the first). The tiny Ministral 3 has the reasoning vocabulary's [THINK]
// (34) and [/THINK] (35); its own template is the instruct one, so the server is given a
// reasoning template (written here) whose generation prompt opens a thinking block and begins
// it, as templates that force thinking do. (The tiny model repeats its last token with logit
// margins over 100, so what it writes is known: "," while thinking, then [/THINK] again.)
#include <cstdio>
#include <fstream>

#include "server_process.h"

namespace pocket::test {
namespace {

const char* kTemplate =
    "{{ bos_token }}[SYSTEM_PROMPT]Think first inside [THINK]...[/THINK], then answer.[/SYSTEM_PROMPT]"
    "{% if tools %}[AVAILABLE_TOOLS]{{ tools | tojson }}[/AVAILABLE_TOOLS]{% endif %}"
    "{% for m in messages %}{% if m.role == 'user' %}[INST]{{ m.content }}[/INST]"
    "{% elif m.role == 'assistant' %}{{ m.content or '' }}{% for c in m.tool_calls or [] %}[TOOL_CALLS]"
    "{{ c.function.name }}[ARGS]{{ c.function.arguments }}{% endfor %}{{ eos_token }}"
    "{% elif m.role == 'tool' %}[TOOL_RESULTS]{{ m.content }}[/TOOL_RESULTS]{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}[THINK]Hmm,{% endif %}";

// The template file, written once per test process and removed when it exits.
struct TemplateFile {
  std::string path = binary_path("reasoning_template_" + std::to_string(::getpid()) + ".jinja");
  TemplateFile() { std::ofstream(path) << kTemplate; }
  ~TemplateFile() { std::remove(path.c_str()); }
};

std::string reasoning_server_args() {
  static const TemplateFile file;
  return "-m " + model_path("tiny-ministral3-f16.gguf") + " -c 1024 --chat-template-file " + file.path;
}

// Greedy, with the tokens' texts (logprobs) to check the split against.
json thinking_body(int max_tokens) {
  return json{{"messages", json::array({json{{"role", "user"}, {"content", "What is two plus two?"}}})},
              {"max_tokens", max_tokens}, {"temperature", 0}, {"logprobs", true}, {"logit_bias", {{"2", -100}}}};
}

// The split by the format's rules, token by token (the reference): the reply starts inside the
// block the prompt opened; [/THINK] closes it; a marker where it means nothing is dropped.
std::pair<std::string, std::string> split_tokens(const json& logprobs) {
  std::string thinking, answer;
  bool inside = true;
  for (const json& t : logprobs) {
    const std::string tok = t["token"];
    if (tok == "[THINK]" || tok == "[/THINK]") {
      inside = tok == "[THINK]" ? inside || true : false;
      continue;
    }
    (inside ? thinking : answer) += tok;
  }
  return {thinking, answer};
}

TEST(ServerReasoning, ThinkingApartFromTheAnswer) {
  ServerProcess srv(reasoning_server_args());
  auto c = srv.client();
  json body = thinking_body(10);
  body["max_reasoning_tokens"] = 4;
  const HttpResult r = post_json(c, "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.raw;
  const json& choice = r.body["choices"][0];
  const json& msg = choice["message"];
  const std::string thinking = msg.value("reasoning_content", ""), answer = msg["content"];
  const json& tokens = choice["logprobs"]["content"];
  ASSERT_EQ(tokens.size(), 10u);
  EXPECT_EQ(tokens[4]["token"], "[/THINK]") << "the budget of 4 closes the block";
  const auto [ref_thinking, ref_answer] = split_tokens(tokens);
  EXPECT_FALSE(thinking.empty()) << r.raw;
  EXPECT_EQ(thinking, ref_thinking);
  EXPECT_EQ(answer, ref_answer);
  EXPECT_EQ(answer.find("THINK]"), std::string::npos) << answer;
  EXPECT_EQ(r.body["usage"]["completion_tokens"], 10);
  EXPECT_EQ(r.body["usage"]["completion_tokens_details"]["reasoning_tokens"], 4);

  // Streamed: the same thinking and answer, in reasoning_content and content deltas.
  body["stream"] = true;
  std::string raw;
  post_streaming(c, "/v1/chat/completions", body.dump(), [&](const char* d, size_t n) {
    raw.append(d, n);
    return true;
  });
  std::string s_thinking, s_answer;
  for (const std::string& e : sse_events(raw)) {
    if (e == "[DONE]") break;
    const json chunk = json::parse(e);
    for (const json& ch : chunk["choices"]) {
      s_thinking += ch["delta"].value("reasoning_content", "");
      s_answer += ch["delta"].value("content", "");
    }
  }
  EXPECT_EQ(s_thinking, thinking);
  EXPECT_EQ(s_answer, answer);

  // reasoning_effort "none": the block closes at once; nothing is thinking.
  json none = thinking_body(6);
  none["reasoning_effort"] = "none";
  const HttpResult n = post_json(c, "/v1/chat/completions", none);
  ASSERT_EQ(n.status, 200) << n.raw;
  EXPECT_EQ(n.body["choices"][0]["logprobs"]["content"][0]["token"], "[/THINK]");
  EXPECT_FALSE(n.body["choices"][0]["message"].contains("reasoning_content")) << n.raw;
  EXPECT_EQ(n.body["usage"]["completion_tokens_details"]["reasoning_tokens"], 0);

  json bad = thinking_body(6);
  bad["reasoning_effort"] = "extreme";
  const HttpResult b = post_json(c, "/v1/chat/completions", bad);
  EXPECT_EQ(b.status, 400);
  EXPECT_EQ(error_code(b), "invalid_value");

  // A raw completion has no thinking block: both budgets are refused by name, not ignored.
  for (const auto& [name, value] : {std::pair<std::string, json>{"reasoning_effort", "low"}, {"max_reasoning_tokens", 8}}) {
    const HttpResult r = post_json(c, "/v1/completions", json{{"prompt", "Hi"}, {"max_tokens", 2}, {name, value}});
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_EQ(error_code(r), "unsupported_value");
    EXPECT_EQ(r.body["error"]["param"], name);
  }
}

TEST(ServerReasoning, ToolCallsInsideAndAfterThinking) {
  ServerProcess srv(reasoning_server_args());
  auto c = srv.client();
  const json tools = json::parse(R"([{"type": "function", "function": {"name": "get_weather", "strict": true,
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}},
    "required": ["city"], "additionalProperties": false}}}])");
  for (const char* effort : {"high", "none"}) {
    SCOPED_TRACE(effort);
    // "high": the model opens the call while thinking; "none": after the block is closed.
    json body = thinking_body(60);
    body["tools"] = tools;
    body["parallel_tool_calls"] = false;
    body["reasoning_effort"] = effort;
    // The model calls: [TOOL_CALLS] favoured, and the token it repeats damped.
    body["logit_bias"]["9"] = 100;
    body["repetition_penalty"] = 10;
    const HttpResult r = post_json(c, "/v1/chat/completions", body);
    ASSERT_EQ(r.status, 200) << r.raw;
    const json& choice = r.body["choices"][0];
    EXPECT_EQ(choice["finish_reason"], "tool_calls") << r.raw;
    ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u) << r.raw;
    const json& fn = choice["message"]["tool_calls"][0]["function"];
    EXPECT_EQ(fn["name"], "get_weather");
    EXPECT_TRUE(json::parse(fn["arguments"].get<std::string>())["city"].is_string()) << fn;
    EXPECT_FALSE(choice["message"].contains("reasoning_content")) << r.raw;
  }
}

TEST(ServerReasoning, RefusedForAModelThatDoesNotReason) {
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 512");
  auto c = srv.client();
  json body = chat_body("hi", 4);
  body["reasoning_effort"] = "low";
  const HttpResult r = post_json(c, "/v1/chat/completions", body);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(error_code(r), "unsupported_value");
  EXPECT_EQ(r.body["error"]["param"], "reasoning_effort");
}

}  // namespace
}  // namespace pocket::test
