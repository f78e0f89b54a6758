// The local model store: models pulled from the Hugging Face Hub, one directory per repository
// and quant, each with a manifest written when (and only when) all of its files are verified.
//
// Layout under $POCKET_HOME (default $XDG_CACHE_HOME/pocket, else ~/.cache/pocket):
//   models/<owner>/<name>/<QUANT>/manifest.json   what was pulled (repo, quant, files + sha256)
//   models/<owner>/<name>/<QUANT>/<repo path>     the files, under their names in the repository
//   models/<owner>/<name>/<QUANT>/<file>.part     an interrupted download, resumed by the next pull
// <QUANT> is the requested tag upper-cased ("Q8_0"), the chosen file's tag when none was given, or
// "safetensors" for a checkpoint repository (the directory then is the checkpoint directory).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/hub_client.h"

namespace pocket {

// A model named by the user: a short name or "owner/name", with an optional ":QUANT".
struct ModelRef {
  std::string repo;   // "owner/name"
  std::string quant;  // as typed (matched case-insensitively); empty = default
};

// Short names of the seed models and their repositories, in display order.
struct ShortName {
  const char* name;
  const char* repo;
};
const std::vector<ShortName>& short_names();

// Parses a short name or "owner/name[:QUANT]"; nullopt when `spec` is neither (e.g. a file path:
// anything starting with '/', '.', '~' or ending in .gguf / .safetensors is not a repository).
std::optional<ModelRef> parse_model_ref(std::string_view spec);

struct StoreEntry {
  std::string repo;         // "owner/name"
  std::string quant;        // directory label: "Q8_0", "safetensors", ...
  bool checkpoint = false;
  std::string dir;          // the entry's directory
  std::string model_path;   // the GGUF (first part) or, for checkpoints, `dir`
  std::string mmproj_path;  // "" when none
  uint64_t size = 0;        // bytes of all its files
  std::vector<HubFile> files;
};

class ModelStore {
 public:
  explicit ModelStore(std::string root);
  // $POCKET_HOME, else $XDG_CACHE_HOME/pocket, else $HOME/.cache/pocket.
  static std::string default_root();

  const std::string& root() const { return root_; }
  std::string entry_dir(const std::string& repo, const std::string& quant_label) const;

  // Complete entries (manifest present, every file there), sorted by repo then quant.
  std::vector<StoreEntry> list() const;
  // The entry for `ref`: its quant's directory, or with no quant the cached one Pocket prefers
  // (Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q5_0, Q4_0, F16, BF16, F32, safetensors, then by name).
  std::optional<StoreEntry> find(const ModelRef& ref) const;
  // Lists the repository, selects its files (io/hub_listing.h rules), downloads what is missing
  // or changed, and writes the manifest. Files already present with the listed size and sha256
  // are kept. Holds an exclusive lock on the entry so concurrent pulls do not interleave.
  StoreEntry pull(const ModelRef& ref, const HubClient& client);
  // Removes one quant (ref.quant set) or every quant of the repository; returns the entries removed.
  int remove(const ModelRef& ref);

 private:
  std::optional<StoreEntry> read_entry(const std::string& dir) const;
  std::string root_;
};

}  // namespace pocket
