// resolve_model(): local files and directories resolve to themselves; short names and Hub
// repositories resolve through the model store, pulling on first use unless offline.
#include "runtime/model_ref.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "runtime/model_store.h"

namespace pocket {

ResolvedModel resolve_model(const std::string& spec, const ResolveOptions& opt) {
  std::error_code ec;
  if (std::filesystem::exists(spec, ec)) return ResolvedModel{spec, ""};
  const std::optional<ModelRef> ref = parse_model_ref(spec);
  if (!ref) {
    std::string names;
    for (const auto& s : short_names()) names += (names.empty() ? "" : ", ") + std::string(s.name);
    fail("model '{}' not found: not a GGUF file or checkpoint directory, a short name ({}) or a Hub repository "
         "owner/name[:QUANT]",
         spec, names);
  }
  ModelStore store(ModelStore::default_root());
  if (auto e = store.find(*ref)) return ResolvedModel{e->model_path, e->mmproj_path};
  HubConfig cfg = HubConfig::from_env();
  if (opt.offline || cfg.offline)
    fail("model '{}' is not in the model store ({}) and offline mode is on (--offline, POCKET_OFFLINE or "
         "HF_HUB_OFFLINE); run `pocket pull {}` while online",
         spec, store.root(), spec);
  const bool tty = isatty(fileno(stderr)) != 0;
  if (!opt.quiet) std::fprintf(stderr, "pulling %s from %s ...\n", ref->repo.c_str(), cfg.endpoint.c_str());
  HubClient client(std::move(cfg), tty && !opt.quiet);
  const StoreEntry e = store.pull(*ref, client);
  return ResolvedModel{e.model_path, e.mmproj_path};
}

}  // namespace pocket
