// libFuzzer target for the Jinja chat-template engine: any byte string, used as a template,
// must render or fail with pocket::Error (TemplateError) — never crash, hang or exhaust
// memory. What is done with each input is shared with tests/chat/test_jinja_fragments.cpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../tests/chat/jinja_fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocket::jinja_fuzz::render(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
