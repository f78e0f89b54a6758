// Model store on disk (layout in model_store.h): manifests, lookup, pull, removal.
#include "runtime/model_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/ascii.h"
#include "core/error.h"
#include "core/timer.h"
#include "core/sha256.h"

namespace pocket {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kManifest = "manifest.json";
constexpr const char* kCheckpointLabel = "safetensors";

std::string upper(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

bool valid_quant(std::string_view q) {
  return !q.empty() && q.size() <= 64 && std::all_of(q.begin(), q.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Preference among cached quants when the user names none (the same order as the Hub default).
int quant_rank(const std::string& label) {
  static const char* const kOrder[] = {"Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q5_0", "Q4_0", "F16", "BF16", "F32", kCheckpointLabel};
  for (int i = 0; i < static_cast<int>(std::size(kOrder)); ++i)
    if (label == kOrder[i]) return i;
  return static_cast<int>(std::size(kOrder));
}

void write_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    POCKET_CHECK(f, "cannot write '{}'", tmp);
    f << text;
    f.flush();
    POCKET_CHECK(f, "cannot write '{}'", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  POCKET_CHECK(!ec, "cannot write '{}': {}", path, ec.message());
}

// flock() on <dir>/.lock for the lifetime of the object.
class DirLock {
 public:
  explicit DirLock(const std::string& dir) {
    const std::string path = dir + "/.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    POCKET_CHECK(fd_ >= 0, "cannot create lock file '{}'", path);
    ::flock(fd_, LOCK_EX);
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

const std::vector<ShortName>& short_names() {
  // Official repositories, found on huggingface.co (2026-11):
  //  - ggml-org/SmolVLM2-{256M,500M}-Video-Instruct-GGUF and ggml-org/SmolVLM2-2.2B-Instruct-GGUF: the GGUF
  //    conversions by the llama.cpp maintainers (used by llama.cpp's own mtmd tests, tools/mtmd/tests.sh),
  //    with Q8_0 / Q4_K_M / f16 models and matching mmproj-*.gguf projectors.
  //  - mistralai/Ministral-3-3B-Instruct-2512-GGUF: Mistral AI's own GGUF release of Ministral 3 3B
  //    (e.g. Ministral-3-3B-Instruct-2512-Q4_K_M.gguf). The FP8 safetensors checkpoint is
  //    mistralai/Ministral-3-3B-Instruct-2512 (config.json, model.safetensors, chat_template.jinja, plus
  //    Mistral's consolidated.safetensors / params.json): `pocket pull mistralai/Ministral-3-3B-Instruct-2512`.
  static const std::vector<ShortName> kNames = {
      {"smolvlm2-256m", "ggml-org/SmolVLM2-256M-Video-Instruct-GGUF"},
      {"smolvlm2-500m", "ggml-org/SmolVLM2-500M-Video-Instruct-GGUF"},
      {"smolvlm2-2.2b", "ggml-org/SmolVLM2-2.2B-Instruct-GGUF"},
      {"ministral3-3b", "mistralai/Ministral-3-3B-Instruct-2512-GGUF"},
  };
  return kNames;
}

std::optional<ModelRef> parse_model_ref(std::string_view spec) {
  if (spec.empty() || spec.front() == '/' || spec.front() == '.' || spec.front() == '~') return std::nullopt;
  ModelRef ref;
  std::string_view name = spec;
  if (const size_t colon = spec.rfind(':'); colon != std::string_view::npos) {
    const std::string_view q = spec.substr(colon + 1);
    if (!valid_quant(q)) return std::nullopt;
    ref.quant = std::string(q);
    name = spec.substr(0, colon);
  }
  const std::string lname = ascii_lower(name);
  if (lname.size() > 5 && (lname.ends_with(".gguf") || lname.ends_with(".safetensors"))) return std::nullopt;
  if (name.find('/') == std::string_view::npos) {
    for (const auto& s : short_names())
      if (lname == s.name) {
        ref.repo = s.repo;
        return ref;
      }
    return std::nullopt;
  }
  if (!is_valid_repo_id(name)) return std::nullopt;
  ref.repo = std::string(name);
  return ref;
}

ModelStore::ModelStore(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string ModelStore::default_root() {
  if (const char* p = std::getenv("POCKET_HOME"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/pocket";
  const char* home = std::getenv("HOME");
  POCKET_CHECK(home && *home, "cannot locate the model store: set POCKET_HOME (or HOME)");
  return std::string(home) + "/.cache/pocket";
}

std::string ModelStore::entry_dir(const std::string& repo, const std::string& quant_label) const {
  return root_ + "/models/" + repo + "/" + quant_label;
}

std::optional<StoreEntry> ModelStore::read_entry(const std::string& dir) const {
  std::ifstream f(dir + "/" + kManifest, std::ios::binary);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  const json m = json::parse(ss.str(), nullptr, false);
  try {
    if (m.is_discarded() || !m.is_object()) return std::nullopt;
    StoreEntry e;
    e.dir = dir;
    e.repo = m.at("repo").get<std::string>();
    e.quant = m.at("quant").get<std::string>();
    e.checkpoint = m.at("kind").get<std::string>() == "safetensors";
    const std::string model = m.at("model").get<std::string>();
    const std::string mmproj = m.value("mmproj", "");
    if (!is_safe_repo_path(model) || (!mmproj.empty() && !is_safe_repo_path(mmproj))) return std::nullopt;
    for (const json& jf : m.at("files")) {
      HubFile hf{jf.at("path").get<std::string>(), jf.at("size").get<uint64_t>(), jf.value("sha256", "")};
      if (!is_safe_repo_path(hf.path)) return std::nullopt;
      std::error_code ec;
      const auto n = fs::file_size(dir + "/" + hf.path, ec);
      if (ec) return std::nullopt;  // a file is missing: not a complete entry
      e.size += n;
      e.files.push_back(std::move(hf));
    }
    e.model_path = e.checkpoint ? dir : dir + "/" + model;
    e.mmproj_path = mmproj.empty() ? "" : dir + "/" + mmproj;
    if (!e.checkpoint && !fs::exists(e.model_path)) return std::nullopt;
    return e;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::vector<StoreEntry> ModelStore::list() const {
  std::vector<StoreEntry> out;
  const fs::path models = fs::path(root_) / "models";
  std::error_code ec;
  if (!fs::is_directory(models, ec)) return out;
  for (const auto& owner : fs::directory_iterator(models, ec)) {
    if (!owner.is_directory()) continue;
    for (const auto& name : fs::directory_iterator(owner.path(), ec)) {
      if (!name.is_directory()) continue;
      for (const auto& q : fs::directory_iterator(name.path(), ec)) {
        if (!q.is_directory()) continue;
        if (auto e = read_entry(q.path().string())) out.push_back(std::move(*e));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const StoreEntry& a, const StoreEntry& b) {
    return std::tie(a.repo, a.quant) < std::tie(b.repo, b.quant);
  });
  return out;
}

std::optional<StoreEntry> ModelStore::find(const ModelRef& ref) const {
  if (!ref.quant.empty()) return read_entry(entry_dir(ref.repo, upper(ref.quant)));
  const fs::path repo_dir = fs::path(root_) / "models" / ref.repo;
  std::error_code ec;
  if (!fs::is_directory(repo_dir, ec)) return std::nullopt;
  std::optional<StoreEntry> best;
  for (const auto& q : fs::directory_iterator(repo_dir, ec)) {
    if (!q.is_directory()) continue;
    auto e = read_entry(q.path().string());
    if (!e) continue;
    if (!best || std::make_pair(quant_rank(e->quant), e->quant) < std::make_pair(quant_rank(best->quant), best->quant))
      best = std::move(e);
  }
  return best;
}

StoreEntry ModelStore::pull(const ModelRef& ref, const HubClient& client) {
  const std::vector<HubFile> listing = client.list_files(ref.repo);
  HubSelection sel;
  try {
    sel = select_hub_files(listing, ref.quant);
  } catch (const Error& e) {
    fail("{}: {}", ref.repo, e.what());
  }
  const std::string label = !ref.quant.empty() ? upper(ref.quant)
                            : sel.checkpoint   ? std::string(kCheckpointLabel)
                            : sel.quant.empty() ? std::string("default")
                                                : sel.quant;
  const std::string dir = entry_dir(ref.repo, label);
  std::error_code ec;
  fs::create_directories(dir, ec);
  POCKET_CHECK(!ec, "cannot create '{}': {}", dir, ec.message());
  DirLock lock(dir);

  // What an earlier pull verified, so unchanged files are not hashed again.
  std::vector<HubFile> verified;
  if (auto old = read_entry(dir)) verified = old->files;
  for (const HubFile& f : sel.files) {
    const std::string dest = dir + "/" + f.path;
    const auto have = fs::file_size(dest, ec);
    if (!ec && have == f.size) {
      if (f.sha256.empty()) continue;
      const bool known = std::any_of(verified.begin(), verified.end(),
                                     [&](const HubFile& v) { return v.path == f.path && v.sha256 == f.sha256; });
      if (known || sha256_file_hex(dest) == f.sha256) continue;
    }
    client.download(ref.repo, f, dest);
  }

  json m;
  m["format"] = 1;
  m["repo"] = ref.repo;
  m["quant"] = label;
  m["kind"] = sel.checkpoint ? "safetensors" : "gguf";
  m["model"] = sel.model_file;
  m["mmproj"] = sel.mmproj_file;
  m["endpoint"] = client.config().endpoint;
  m["pulled_at"] = utc_now_iso();
  json files = json::array();
  for (const HubFile& f : sel.files) files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  m["files"] = std::move(files);
  write_atomic(dir + "/" + kManifest, m.dump(2) + "\n");
  auto e = read_entry(dir);
  POCKET_CHECK(e, "{}: the pulled files in '{}' are incomplete", ref.repo, dir);
  return *e;
}

int ModelStore::remove(const ModelRef& ref) {
  std::error_code ec;
  int n = 0;
  const fs::path repo_dir = fs::path(root_) / "models" / ref.repo;
  if (!ref.quant.empty()) {
    const fs::path dir = entry_dir(ref.repo, upper(ref.quant));
    if (fs::exists(dir / kManifest, ec)) ++n;
    fs::remove_all(dir, ec);
  } else if (fs::is_directory(repo_dir, ec)) {
    for (const auto& q : fs::directory_iterator(repo_dir, ec))
      if (fs::exists(q.path() / kManifest)) ++n;
    fs::remove_all(repo_dir, ec);
  }
  POCKET_CHECK(!ec, "cannot remove '{}' from the store: {}", ref.repo, ec.message());
  // Drop the now empty <name> and <owner> directories.
  fs::remove(repo_dir, ec);
  fs::remove(repo_dir.parent_path(), ec);
  return n;
}

}  // namespace pocket
