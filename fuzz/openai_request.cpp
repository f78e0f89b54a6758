// libFuzzer target for OpenAI request validation (chat/openai_request.h): any body must be
// accepted or rejected with an ApiError carrying a 4xx status and a JSON error object, never
// crash or hang. Byte 0 picks the parser: chat completion, completion, or data: URI.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/openai_request.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  pocket::OpenAiLimits limits;
  limits.max_tokens = 512;
  limits.max_string_bytes = 1 << 16;
  try {
    switch (data[0] % 3) {
      case 0: {
        pocket::OpenAiChatRequest r = pocket::parse_chat_request(body, limits);
        check(r.gen.max_tokens >= 1 && r.gen.max_tokens <= limits.max_tokens);
        check(r.media.size() <= limits.max_media && r.gen.stop.size() <= limits.max_stop);
        check(r.tool_choice != pocket::ToolChoice::kNamed || !r.tool_name.empty());
        (void)r.chat.to_context().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        break;
      }
      case 1: {
        pocket::OpenAiCompletionRequest r = pocket::parse_completion_request(body, limits);
        check(r.gen.temperature >= 0 && r.gen.temperature <= 2 && r.gen.top_p >= 0 && r.gen.top_p <= 1);
        break;
      }
      default: {
        const std::string bytes = pocket::decode_data_uri(body, 4096);
        check(!bytes.empty() && bytes.size() <= 4096);
        break;
      }
    }
  } catch (const pocket::ApiError& e) {
    check(e.status() == 400 || e.status() == 413);
    check(nlohmann::json::parse(e.body(), nullptr, false).is_object());
  }
  return 0;
}
