// resolve_model(): local files and directories resolve to themselves. The model store
// (pull on first use, short names) extends this.
#include "runtime/model_ref.h"

#include <filesystem>

#include "core/error.h"

namespace pocket {

ResolvedModel resolve_model(const std::string& spec, const ResolveOptions&) {
  std::error_code ec;
  if (std::filesystem::exists(spec, ec)) return ResolvedModel{spec, ""};
  fail("model '{}' not found (expected a GGUF file or a checkpoint directory)", spec);
}

}  // namespace pocket
