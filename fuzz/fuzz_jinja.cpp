// libFuzzer target for the Jinja chat-template engine: any byte string, used as a template,
// must render or fail with pocket::Error (TemplateError) — never crash, hang or exhaust
// memory. The context is a small fixed conversation with list content, tool calls and tools
// so that fuzzed templates reach the code paths real chat templates use.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/chat.h"
#include "core/error.h"

namespace {

const nlohmann::ordered_json& context() {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocket::ChatRenderOptions opts;
  opts.now = pocket::ChatClock{2026, 11, 24, 12, 0, 0, 0};
  // Small limits keep each run fast; they still exercise every limit check.
  opts.max_output_bytes = size_t{256} << 10;
  opts.max_work = 500'000;
  try {
    const std::string out = pocket::render_chat_template(
        std::string_view(reinterpret_cast<const char*>(data), size), context(), opts);
    volatile size_t sink = out.size();
    (void)sink;
  } catch (const pocket::Error&) {
  }
  return 0;
}
