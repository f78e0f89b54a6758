// libFuzzer target for the `pocket compare` prompt-suite parser: any byte string must parse or
// fail with pocket::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/prompt_suite.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    size_t sink = 0;
    for (const auto& p : pocket::parse_prompt_suite(text, "base", "fuzz.jsonl"))
      sink += p.prompt.size() + p.images.size() + p.video.size() + p.references.size() + p.id.size();
    (void)sink;
  } catch (const pocket::Error&) {
  }
  return 0;
}
