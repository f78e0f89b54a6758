// Prompt suites for `pocket compare`: JSONL files, image folders, videos, the smoke suite.
#include "runtime/compare_inputs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/ascii.h"
#include "core/error.h"

namespace pocket {

namespace fs = std::filesystem;

std::vector<ComparePrompt> load_prompts_jsonl(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  POCKET_CHECK(f, "cannot read prompts file '{}'", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_prompt_suite(ss.str(), fs::path(path).parent_path().string(), path);
}

std::vector<ComparePrompt> prompts_from_image_dir(const std::string& dir) {
  std::error_code ec;
  POCKET_CHECK(fs::is_directory(dir, ec), "--images: '{}' is not a folder", dir);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string ext = ascii_lower(e.path().extension().string());
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
