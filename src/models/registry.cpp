// general.architecture -> loader table.
#include "models/registry.h"

#include "core/error.h"
#include "io/gguf.h"

namespace pocket {

namespace {
struct Arch {
  const char* name;
  std::unique_ptr<DecoderModel> (*load)(const GgufFile&);
};
constexpr Arch kArchs[] = {
    {"llama", load_llama},
    {"mistral3", load_mistral3},
};
}  // namespace

std::unique_ptr<DecoderModel> load_decoder(const GgufFile& f) {
  const std::string arch = f.get_string_or("general.architecture", "");
  POCKET_CHECK(!arch.empty(), "{}: no general.architecture in metadata", f.path());
  for (const Arch& a : kArchs)
    if (arch == a.name) return a.load(f);
  std::string names;
  for (const Arch& a : kArchs) names += std::string(names.empty() ? "" : ", ") + a.name;
  fail("{}: architecture '{}' is not supported (supported: {})", f.path(), arch, names);
}

}  // namespace pocket
