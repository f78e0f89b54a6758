// How one byte string is exercised as a chat template, shared by the libFuzzer target
// (fuzz/fuzz_jinja.cpp) and the fragment test (test_jinja_fragments.cpp): render it against a
// small fixed conversation with list content, tool calls and tools, so that fuzzed templates
// reach the code paths real chat templates use. Any input must render or throw pocket::Error.
#pragma once

#include <string>
#include <string_view>

#include "chat/chat.h"
#include "core/error.h"

namespace pocket::jinja_fuzz {

inline const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this? é 😀"}]},
      {"role": "assistant", "content": "", "tool_calls": [{"id": "call12345", "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 3, "metric": true}}}]},
      {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"t\": 21.5}"},
      {"role": "user", "content": "Thanks\n"}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "add_generation_prompt": true,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "n": 3, "f": 2.5, "nothing": null
  })");
  return ctx;
}

// Renders `text` as a template; returns true when it rendered, false when it failed cleanly.
inline bool render(std::string_view text) {
  ChatRenderOptions opts;
  opts.now = ChatClock{2026, 11, 24, 12, 0, 0, 0};
  // Small limits keep each run fast; they still exercise every limit check.
  opts.max_output_bytes = size_t{256} << 10;
  opts.max_work = 500'000;
  try {
    const std::string out = render_chat_template(text, context(), opts);
    volatile size_t sink = out.size();
    (void)sink;
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace pocket::jinja_fuzz
