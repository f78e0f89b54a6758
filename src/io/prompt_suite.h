// The prompt-suite file of `pocket compare` (JSONL, documented in docs/compare.md): one
// prompt per line with optional media and reference answers. A pure parser (no model, no
// file access besides the caller's text) so it can be fuzzed in the parsers-only build.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pocket {

// How an answer is scored against its references.
enum class MatchKind { Exact, Contains, Anls };

// "exact" | "contains" | "anls"; throws pocket::Error otherwise.
MatchKind parse_match_kind(std::string_view s);
const char* match_kind_name(MatchKind k);

struct PromptSpec {
  std::string id;
  std::string prompt;
  std::vector<std::string> images;
  std::string video;
  std::vector<std::string> references;  // empty: not scored
  MatchKind match = MatchKind::Anls;
};

// One JSON object per line: {"prompt": text, "images": [paths], "video": path,
// "reference": text | [texts], "match": "exact|contains|anls", "id": text}. Blank lines and
// lines starting with '#' are skipped. Relative media paths are resolved against base_dir.
// Throws pocket::Error naming source_name and the line on any malformed entry.
std::vector<PromptSpec> parse_prompt_suite(const std::string& text, const std::string& base_dir,
                                           const std::string& source_name);

}  // namespace pocket
