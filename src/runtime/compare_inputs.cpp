// Prompt suites for `pocket compare`: JSONL files, image folders, videos, the smoke suite.
#include "runtime/compare_inputs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace pocket {

namespace fs = std::filesystem;

namespace {

std::string resolve_media(const std::string& p, const std::string& base_dir) {
  if (p.empty()) return p;
  if (p.rfind("synthetic:", 0) == 0) return p;
  fs::path path(p);
  if (path.is_absolute() || base_dir.empty()) return p;
  return (fs::path(base_dir) / path).string();
}

std::string expect_string(const nlohmann::json& v, const char* key, const std::string& where) {
  POCKET_CHECK(v.is_string(), "{}: \"{}\" must be a string", where, key);
  return v.get<std::string>();
}

}  // namespace

std::vector<ComparePrompt> parse_prompts_jsonl(const std::string& text, const std::string& base_dir,
                                               const std::string& source_name) {
  std::vector<ComparePrompt> out;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const std::string where = fmt::format("{}:{}", source_name, line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail("{}: not valid JSON ({})", where, e.what());
    }
    POCKET_CHECK(j.is_object(), "{}: each line must be a JSON object", where);
    ComparePrompt p;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      const nlohmann::json& v = it.value();
      if (key == "prompt") {
        p.prompt = expect_string(v, "prompt", where);
      } else if (key == "id") {
        p.id = v.is_string() ? v.get<std::string>() : v.dump();
      } else if (key == "images" || key == "image") {
        if (v.is_string()) {
          p.images.push_back(resolve_media(v.get<std::string>(), base_dir));
        } else {
          POCKET_CHECK(v.is_array(), "{}: \"images\" must be an array of paths", where);
          for (const auto& e : v) p.images.push_back(resolve_media(expect_string(e, "images", where), base_dir));
        }
      } else if (key == "video") {
        if (!v.is_null()) p.video = resolve_media(expect_string(v, "video", where), base_dir);
      } else if (key == "reference" || key == "references") {
        if (v.is_null()) continue;
        if (v.is_string()) {
          p.references.push_back(v.get<std::string>());
        } else {
          POCKET_CHECK(v.is_array() && !v.empty(), "{}: \"reference\" must be a string or a non-empty array", where);
          for (const auto& e : v) p.references.push_back(expect_string(e, "reference", where));
        }
      } else if (key == "match") {
        try {
          p.match = parse_match_kind(expect_string(v, "match", where));
        } catch (const Error& e) {
          fail("{}: {}", where, e.what());
        }
      } else {
        fail("{}: unknown key \"{}\" (expected prompt, images, video, reference, match, id)", where, key);
      }
    }
    POCKET_CHECK(!p.prompt.empty(), "{}: \"prompt\" is missing or empty", where);
    if (p.id.empty()) p.id = fmt::format("p{}", out.size() + 1);
    out.push_back(std::move(p));
  }
  POCKET_CHECK(!out.empty(), "{}: no prompts", source_name);
  return out;
}

std::vector<ComparePrompt> load_prompts_jsonl(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  POCKET_CHECK(f, "cannot read prompts file '{}'", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_prompts_jsonl(ss.str(), fs::path(path).parent_path().string(), path);
}

std::vector<ComparePrompt> prompts_from_image_dir(const std::string& dir) {
  std::error_code ec;
  POCKET_CHECK(fs::is_directory(dir, ec), "--images: '{}' is not a folder", dir);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".webp" || ext == ".gif" || ext == ".tif" ||
        ext == ".tiff")
      files.push_back(e.path().string());
  }
  POCKET_CHECK(!files.empty(), "--images: no image files in '{}'", dir);
  std::sort(files.begin(), files.end());
  std::vector<ComparePrompt> out;
  for (const std::string& f : files) {
    ComparePrompt p;
    p.id = fs::path(f).filename().string();
    p.prompt = "Describe this image.";
    p.images.push_back(f);
    out.push_back(std::move(p));
  }
  return out;
}

ComparePrompt prompt_for_video(const std::string& path) {
  ComparePrompt p;
  p.id = fs::path(path).filename().string();
  p.prompt = "Describe this video.";
  p.video = path;
  return p;
}

std::vector<ComparePrompt> smoke_suite() {
  auto q = [](const char* id, const char* prompt, const char* ref, MatchKind m) {
    ComparePrompt p;
    p.id = id;
    p.prompt = prompt;
    p.references = {ref};
    p.match = m;
    return p;
  };
  std::vector<ComparePrompt> s = {
      q("capital", "What is the capital of France? Answer with one word.", "Paris", MatchKind::Contains),
      q("arithmetic", "What is 7 + 5? Answer with a number only.", "12", MatchKind::Exact),
      q("spelling", "Write the word 'pocket' backwards, letters only.", "tekcop", MatchKind::Anls),
  };
  ComparePrompt img = q("image-colour", "Which colour fills most of this image? Answer with one word.", "red",
                        MatchKind::Contains);
  img.images = {"synthetic:red-640x480"};
  s.push_back(std::move(img));
  return s;
}

}  // namespace pocket
