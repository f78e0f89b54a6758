// libFuzzer target for the Hub listing parser and file selection: any byte string must parse or
// fail with pocket::Error. The first byte picks a quant tag so the selection rules run too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "io/hub_listing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kTags[] = {"", "Q8_0", "Q4_K_M", "f16", "Q8", "-"};
  if (size == 0) return 0;
  const char* tag = kTags[data[0] % (sizeof kTags / sizeof kTags[0])];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  volatile size_t sink = pocket::parse_link_next(text).size() + pocket::gguf_quant_tag(text).size() +
                         pocket::is_valid_repo_id(text) + pocket::is_safe_repo_path(text);
  try {
    const auto files = pocket::parse_hub_listing(text);
    for (const auto& f : files) sink = sink + f.path.size() + f.sha256.size() + static_cast<size_t>(f.size & 1);
    try {
      const pocket::HubSelection s = pocket::select_hub_files(files, tag);
      sink = sink + s.files.size() + s.model_file.size() + s.mmproj_file.size() + s.quant.size();
    } catch (const pocket::Error&) {
    }
  } catch (const pocket::Error&) {
  }
  (void)sink;
  return 0;
}
