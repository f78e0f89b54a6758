// Prompt-suite JSONL parser; see prompt_suite.h.
#include "io/prompt_suite.h"

#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace pocket {

namespace fs = std::filesystem;

MatchKind parse_match_kind(std::string_view s) {
  if (s == "exact") return MatchKind::Exact;
  if (s == "contains") return MatchKind::Contains;
  if (s == "anls") return MatchKind::Anls;
  fail("unknown match kind '{}' (expected exact, contains or anls)", s);
}

const char* match_kind_name(MatchKind k) {
  switch (k) {
    case MatchKind::Exact: return "exact";
    case MatchKind::Contains: return "contains";
    case MatchKind::Anls: return "anls";
  }
  return "?";
}

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

std::vector<PromptSpec> parse_prompt_suite(const std::string& text, const std::string& base_dir,
                                           const std::string& source_name) {
  std::vector<PromptSpec> out;
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
    PromptSpec p;
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

}  // namespace pocket
