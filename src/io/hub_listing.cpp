// Hub listing parser and file selection (see hub_listing.h for the rules).
#include "io/hub_listing.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/ascii.h"
#include "core/error.h"

namespace pocket {

namespace {

using json = nlohmann::json;

std::string to_upper(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

bool ends_with_icase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && ascii_lower(s.substr(s.size() - suffix.size())) == ascii_lower(suffix);
}

std::string_view basename_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view dirname_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

uint64_t read_size(const json& v, std::string_view what) {
  POCKET_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0),
               "hub listing: {} must be a non-negative integer", what);
  return v.get<uint64_t>();
}

// One entry of either listing shape; returns false for entries to skip.
bool parse_entry(const json& e, const char* path_key, HubFile& out) {
  POCKET_CHECK(e.is_object(), "hub listing: entries must be objects");
  if (auto t = e.find("type"); t != e.end()) {
    POCKET_CHECK(t->is_string(), "hub listing: 'type' must be a string");
    if (t->get_ref<const std::string&>() != "file") return false;
  }
  auto p = e.find(path_key);
  POCKET_CHECK(p != e.end() && p->is_string(), "hub listing: entry without a string '{}'", path_key);
  out.path = p->get<std::string>();
  if (!is_safe_repo_path(out.path)) return false;
  out.size = 0;
  out.sha256.clear();
  if (auto s = e.find("size"); s != e.end() && !s->is_null()) out.size = read_size(*s, "'size'");
  if (auto l = e.find("lfs"); l != e.end() && !l->is_null()) {
    POCKET_CHECK(l->is_object(), "hub listing: 'lfs' of '{}' must be an object", out.path);
    auto oid = l->find("oid");
    POCKET_CHECK(oid != l->end() && oid->is_string(), "hub listing: 'lfs' of '{}' has no string 'oid'", out.path);
    const std::string& o = oid->get_ref<const std::string&>();
    // LFS object ids are "sha256:<hex>" in pointer files and bare hex in the API.
    const std::string_view hex = std::string_view(o).substr(o.rfind("sha256:", 0) == 0 ? 7 : 0);
    POCKET_CHECK(hex.size() == 64 && is_hex(hex), "hub listing: LFS oid of '{}' is not a sha256", out.path);
    out.sha256 = ascii_lower(hex);
    if (auto s = l->find("size"); s != l->end() && !s->is_null()) out.size = read_size(*s, "'lfs.size'");
  }
  return true;
}

struct SplitInfo {
  std::string prefix;  // path without ".gguf" and without the split suffix
  int index = 1;
  int count = 1;
};

// "name-00001-of-00003.gguf" -> {name, 1, 3} (ref: llama.cpp common/download.cpp get_gguf_split_info).
SplitInfo split_info(std::string_view path) {
  SplitInfo si;
  std::string_view stem = path;
  if (ends_with_icase(stem, ".gguf")) stem.remove_suffix(5);
  si.prefix = std::string(stem);
  constexpr size_t kSuffix = 15;  // "-00001-of-00003"
  if (stem.size() > kSuffix) {
    const std::string_view s = stem.substr(stem.size() - kSuffix);
    auto digits = [](std::string_view d) { return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }); };
    if (s[0] == '-' && digits(s.substr(1, 5)) && s.substr(6, 4) == "-of-" && digits(s.substr(10, 5))) {
      si.index = std::atoi(std::string(s.substr(1, 5)).c_str());
      si.count = std::atoi(std::string(s.substr(10, 5)).c_str());
      si.prefix = std::string(stem.substr(0, stem.size() - kSuffix));
    }
  }
  return si;
}

bool is_gguf(std::string_view path) { return ends_with_icase(path, ".gguf"); }

bool is_mmproj(std::string_view path) {
  return is_gguf(path) && ascii_lower(basename_of(path)).find("mmproj") != std::string::npos;
}

bool is_model_gguf(std::string_view path) {
  if (!is_gguf(path)) return false;
  const std::string base = ascii_lower(basename_of(path));
  return base.find("mmproj") == std::string::npos && base.find("imatrix") == std::string::npos;
}

std::string join_tags(const std::vector<HubFile>& files) {
  std::vector<std::string> tags;
  for (const auto& f : files) {
    if (!is_model_gguf(f.path)) continue;
    std::string t = gguf_quant_tag(f.path);
    if (t.empty()) t = std::string(basename_of(f.path));
    if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
  }
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : ", ") + t;
  return out.empty() ? "none" : out;
}

HubSelection select_checkpoint(const std::vector<HubFile>& files, std::string_view quant) {
  static const char* const kSideFiles[] = {
      "config.json",          "generation_config.json", "tokenizer.json",           "tokenizer_config.json",
      "special_tokens_map.json", "chat_template.jinja", "chat_template.json",       "preprocessor_config.json",
      "processor_config.json", "model.safetensors.index.json"};
  HubSelection sel;
  sel.checkpoint = true;
  bool has_config = false, has_model_prefix = false;
  for (const auto& f : files) {
    if (f.path == "config.json") has_config = true;
    if (f.path.find('/') == std::string::npos && ends_with_icase(f.path, ".safetensors") && f.path.rfind("model", 0) == 0)
      has_model_prefix = true;
  }
  size_t n_weights = 0;
  for (const auto& f : files) {
    if (f.path.find('/') != std::string::npos) continue;
    bool take = std::find(std::begin(kSideFiles), std::end(kSideFiles), f.path) != std::end(kSideFiles);
    if (ends_with_icase(f.path, ".safetensors") && (!has_model_prefix || f.path.rfind("model", 0) == 0)) {
      take = true;
      ++n_weights;
    }
    if (take) sel.files.push_back(f);
  }
  POCKET_CHECK(has_config && n_weights > 0,
               "no GGUF files and no safetensors checkpoint (config.json + *.safetensors) in the repository");
  POCKET_CHECK(quant.empty(),
               "the repository has no GGUF files, only a safetensors checkpoint: drop ':{}' (checkpoints are "
               "quantized when loaded)",
               quant);
  sel.model_file = "config.json";
  return sel;
}

}  // namespace

std::vector<HubFile> parse_hub_listing(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  POCKET_CHECK(!j.is_discarded(), "hub listing: not valid JSON");
  const json* entries = &j;
  const char* path_key = "path";
  if (j.is_object()) {
    if (auto err = j.find("error"); err != j.end() && err->is_string())
      fail("hub listing: the Hub answered with an error: {}", err->get<std::string>());
    auto s = j.find("siblings");
    POCKET_CHECK(s != j.end() && s->is_array(), "hub listing: object without a 'siblings' array");
    entries = &*s;
    path_key = "rfilename";
  }
  POCKET_CHECK(entries->is_array(), "hub listing: expected a JSON array of files");
  std::vector<HubFile> out;
  for (const json& e : *entries) {
    HubFile f;
    if (!parse_entry(e, path_key, f)) continue;
    const bool dup = std::any_of(out.begin(), out.end(), [&](const HubFile& g) { return g.path == f.path; });
    if (!dup) out.push_back(std::move(f));
  }
  return out;
}

std::string parse_link_next(std::string_view h) {
  size_t i = 0;
  while (i < h.size()) {
    const size_t lt = h.find('<', i);
    if (lt == std::string_view::npos) break;
    const size_t gt = h.find('>', lt);
    if (gt == std::string_view::npos) break;
    const std::string_view url = h.substr(lt + 1, gt - lt - 1);
    // Parameters run to the next link (a comma outside <...>).
    size_t end = h.find(',', gt);
    if (end == std::string_view::npos) end = h.size();
    std::string params = ascii_lower(h.substr(gt + 1, end - gt - 1));
    params.erase(std::remove_if(params.begin(), params.end(), [](char c) { return c == ' ' || c == '"' || c == '\t'; }),
                 params.end());
    size_t pos = 0;
    while ((pos = params.find("rel=", pos)) != std::string::npos) {
      pos += 4;
      size_t stop = params.find(';', pos);
      if (stop == std::string::npos) stop = params.size();
      if (params.substr(pos, stop - pos) == "next") return std::string(url);
    }
    i = end + 1;
  }
  return "";
}

bool is_safe_repo_path(std::string_view path) {
  if (path.empty() || path.size() > 1024 || path.front() == '/') return false;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

bool is_valid_repo_id(std::string_view repo) {
  const size_t slash = repo.find('/');
  if (slash == std::string_view::npos || repo.size() > 200 || repo.find('/', slash + 1) != std::string_view::npos)
    return false;
  for (std::string_view part : {repo.substr(0, slash), repo.substr(slash + 1)}) {
    if (part.empty() || part.front() == '.' || part.front() == '-' || part.back() == '.' || part.back() == '-' ||
        part.find("..") != std::string_view::npos)
      return false;
    for (char c : part)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

std::string gguf_quant_tag(std::string_view filename) {
  const std::string prefix = split_info(basename_of(filename)).prefix;
  size_t start = prefix.size();
  while (start > 0 && (std::isalnum(static_cast<unsigned char>(prefix[start - 1])) || prefix[start - 1] == '_')) --start;
  if (start == 0 || start == prefix.size() || (prefix[start - 1] != '-' && prefix[start - 1] != '.')) return "";
  const std::string tag = to_upper(std::string_view(prefix).substr(start));
  const bool has_digit = std::any_of(tag.begin(), tag.end(), [](char c) { return c >= '0' && c <= '9'; });
  return has_digit ? tag : "";
}

int quant_tag_bits(std::string_view tag) {
  const size_t d = tag.find_first_of("0123456789");
  if (d == std::string_view::npos) return 0;
  int bits = 0;
  for (size_t i = d; i < tag.size() && i < d + 3 && tag[i] >= '0' && tag[i] <= '9'; ++i) bits = bits * 10 + (tag[i] - '0');
  return bits;
}

HubSelection select_hub_files(const std::vector<HubFile>& files, std::string_view quant_in) {
  const std::string quant = to_upper(quant_in);
  std::vector<const HubFile*> models;  // first split parts only
  for (const auto& f : files)
    if (is_model_gguf(f.path) && split_info(f.path).index <= 1) models.push_back(&f);
  if (models.empty()) return select_checkpoint(files, quant_in);

  const HubFile* chosen = nullptr;
  auto by_tag = [&](const std::string& t) -> const HubFile* {
    for (const HubFile* f : models)
      if (gguf_quant_tag(f->path) == t) return f;
    return nullptr;
  };
  if (!quant.empty()) {
    chosen = by_tag(quant);
    for (size_t i = 0; !chosen && i < models.size(); ++i) {
      const std::string up = to_upper(models[i]->path);
      for (size_t pos = up.find(quant); pos != std::string::npos; pos = up.find(quant, pos + 1)) {
        const size_t after = pos + quant.size();
        if (after < up.size() && (up[after] == '.' || up[after] == '-')) {
          chosen = models[i];
          break;
        }
      }
    }
    POCKET_CHECK(chosen, "no GGUF with quant '{}' in the repository (available: {})", quant_in, join_tags(files));
  } else {
    for (const char* t : {"Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q5_0", "Q4_0", "F16", "BF16", "F32"})
      if ((chosen = by_tag(t))) break;
    if (!chosen)
      chosen = *std::min_element(models.begin(), models.end(),
                                 [](const HubFile* a, const HubFile* b) { return a->size < b->size; });
  }

  HubSelection sel;
  sel.model_file = chosen->path;
  sel.quant = gguf_quant_tag(chosen->path);
  if (sel.quant.empty()) sel.quant = quant;
  const SplitInfo si = split_info(chosen->path);
  if (si.count > 1) {
    for (int part = 1; part <= si.count; ++part) {
      const HubFile* found = nullptr;
      for (const auto& f : files) {
        const SplitInfo o = split_info(f.path);
        if (o.prefix == si.prefix && o.count == si.count && o.index == part && is_gguf(f.path)) found = &f;
      }
      POCKET_CHECK(found, "split GGUF '{}' is missing part {} of {}", chosen->path, part, si.count);
      sel.files.push_back(*found);
    }
  } else {
    sel.files.push_back(*chosen);
  }

  // mmproj: same directory first, then the same tag, then the closest bit width.
  const int model_bits = quant_tag_bits(sel.quant);
  const HubFile* best = nullptr;
  int best_score[3] = {0, 0, 0};
  for (const auto& f : files) {
    if (!is_mmproj(f.path)) continue;
    const std::string tag = gguf_quant_tag(f.path);
    const int score[3] = {dirname_of(f.path) == dirname_of(chosen->path) ? 1 : 0,
                          !sel.quant.empty() && tag == sel.quant ? 1 : 0,
                          -std::abs(quant_tag_bits(tag) - model_bits)};
    if (!best || std::lexicographical_compare(best_score, best_score + 3, score, score + 3)) {
      best = &f;
      std::copy(score, score + 3, best_score);
    }
  }
  if (best) {
    sel.mmproj_file = best->path;
    sel.files.push_back(*best);
  }
  return sel;
}

}  // namespace pocket
