// PCRE2 wrapper for pre-tokenizer patterns. Patterns are compiled with UTF + UCP so that \p{L},
// \p{N}, \s, \w and lookaheads follow real Unicode properties (as Oniguruma does for Hugging
// Face's tokenizers), and with MATCH_INVALID_UTF so arbitrary bytes never make a match fail.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pcre2_real_code_8;

namespace pocket::tok {

class Regex {
 public:
  // Throws pocket::Error when the pattern does not compile.
  explicit Regex(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends [start, end) byte ranges of successive non-overlapping matches in `text`.
  // Empty matches are reported too (callers drop them), like the regex crates' find_iter.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  pcre2_real_code_8* code_ = nullptr;
};

}  // namespace pocket::tok
