// libFuzzer target for the incremental tool-call parser: any generated text must parse
// without crashing, hanging or growing memory past the limits, and feeding it in pieces
// (split where the input's first byte says) must give exactly the one-shot result.
// Input layout: byte 0 = format (low 2 bits) and split seed (high bits); the rest is text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chat/tool_calls.h"

namespace {

const pocket::ToolCallFormat& format_for(uint8_t selector) {
  static const pocket::ToolCallFormat formats[] = {
      pocket::ToolCallFormat::mistral_v13(), pocket::ToolCallFormat::mistral_v11(),
      pocket::ToolCallFormat::hermes(), pocket::ToolCallFormat::mistral_v13()};
  return formats[selector & 3];
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const pocket::ToolCallFormat& format = format_for(data[0]);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  pocket::ToolCallParserOptions opt;
  opt.max_argument_bytes = 4096;  // small limits so the fuzzer reaches every limit check
  opt.max_nesting = 32;
  opt.max_error_raw_bytes = 64;

  const pocket::ToolCallParseResult whole = pocket::parse_tool_calls(text, format, opt);

  pocket::ToolCallParser parser(format, opt);
  pocket::ToolCallParseResult streamed;
  uint32_t rng = data[0] * 2654435761u + 1;
  size_t at = 0;
  while (at < text.size()) {
    rng = rng * 1664525u + 1013904223u;
    const size_t len = std::min<size_t>(text.size() - at, (rng >> 24) % 17);  // 0..16 bytes
    streamed.append(parser.feed(text.substr(at, len)));
    check(parser.partial_name().size() <= opt.max_name_bytes);
    check(parser.partial_arguments().size() <= opt.max_argument_bytes);
    at += len;
  }
  streamed.append(parser.finish());

  check(streamed.content == whole.content);
  check(streamed.calls == whole.calls);
  check(streamed.errors == whole.errors);
  check(whole.content.size() <= text.size());
  for (const pocket::ToolCall& c : whole.calls) {
    check(c.arguments.is_object());
    check(pocket::is_valid_tool_name(c.name));
    check(c.id.size() <= opt.max_id_bytes && !c.id.empty());
  }
  for (const pocket::ToolCallError& e : whole.errors) check(e.raw.size() <= opt.max_error_raw_bytes);
  return 0;
}
