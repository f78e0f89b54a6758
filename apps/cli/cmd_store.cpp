// `pocket pull`, `pocket list`, `pocket rm`: the model store (runtime/model_store.h) from the
// command line. pull prints the model's path on stdout so scripts can use it.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "apps/cli/commands.h"
#include "core/error.h"
#include "runtime/model_store.h"

namespace pocket::cli {

namespace {

ModelRef parse_ref_or_fail(const std::string& spec) {
  auto ref = parse_model_ref(spec);
  if (!ref) {
    std::string names;
    for (const auto& s : short_names()) names += (names.empty() ? "" : ", ") + std::string(s.name);
    fail("'{}' is not a short name ({}) or a Hub repository owner/name[:QUANT]", spec, names);
  }
  return *ref;
}

}  // namespace

void register_store(CLI::App& app) {
  {
    auto* cmd = app.add_subcommand("pull", "Download a model from the Hugging Face Hub into the local store");
    struct Args {
      std::string spec;
      bool offline = false, quiet = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("model", a->spec, "Short name (smolvlm2-256m, ...) or Hub repository owner/name[:QUANT]")->required();
    cmd->add_flag("--offline", a->offline, "Do not use the network: succeed only if the model is already in the store");
    cmd->add_flag("-q,--quiet", a->quiet, "No progress bar");
    cmd->callback([a] {
      const ModelRef ref = parse_ref_or_fail(a->spec);
      ModelStore store(ModelStore::default_root());
      HubConfig cfg = HubConfig::from_env();
      StoreEntry e;
      if (a->offline || cfg.offline) {
        auto found = store.find(ref);
        POCKET_CHECK(found, "'{}' is not in the model store ({}) and offline mode is on", a->spec, store.root());
        e = *found;
      } else {
        HubClient client(std::move(cfg), !a->quiet && isatty(fileno(stderr)));
        e = store.pull(ref, client);
      }
      if (!a->quiet)
        std::fprintf(stderr, "%s:%s  %s%s%s\n", e.repo.c_str(), e.quant.c_str(), format_byte_size(e.size).c_str(),
                     e.mmproj_path.empty() ? "" : "  mmproj: ", e.mmproj_path.c_str());
      std::printf("%s\n", e.model_path.c_str());
    });
  }
  {
    auto* cmd = app.add_subcommand("list", "List the models in the local store");
    cmd->callback([] {
      ModelStore store(ModelStore::default_root());
      const auto entries = store.list();
      if (entries.empty()) {
        std::fprintf(stderr, "no models in %s (pocket pull NAME adds one)\n", store.root().c_str());
        return;
      }
      size_t w_name = 4, w_quant = 5;
      for (const auto& e : entries) {
        w_name = std::max(w_name, e.repo.size());
        w_quant = std::max(w_quant, e.quant.size());
      }
      std::printf("%-*s  %-*s  %10s  %s\n", static_cast<int>(w_name), "NAME", static_cast<int>(w_quant), "QUANT", "SIZE",
                  "PATH");
      for (const auto& e : entries)
        std::printf("%-*s  %-*s  %10s  %s\n", static_cast<int>(w_name), e.repo.c_str(), static_cast<int>(w_quant),
                    e.quant.c_str(), format_byte_size(e.size).c_str(), e.model_path.c_str());
    });
  }
  {
    auto* cmd = app.add_subcommand("rm", "Remove a model from the local store (every quant unless NAME:QUANT)");
    auto spec = std::make_shared<std::string>();
    cmd->add_option("model", *spec, "Short name or owner/name[:QUANT]")->required();
    cmd->callback([spec] {
      const ModelRef ref = parse_ref_or_fail(*spec);
      ModelStore store(ModelStore::default_root());
      const int n = store.remove(ref);
      POCKET_CHECK(n > 0, "'{}' is not in the model store ({})", *spec, store.root());
      std::fprintf(stderr, "removed %s%s%s (%d %s)\n", ref.repo.c_str(), ref.quant.empty() ? "" : ":",
                   ref.quant.c_str(), n, n == 1 ? "entry" : "entries");
    });
  }
}

}  // namespace pocket::cli
