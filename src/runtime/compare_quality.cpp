// Answer scoring for `pocket compare` (see compare_quality.h for the definitions and sources).
#include "runtime/compare_quality.h"

#include <algorithm>
#include <cstdint>

#include "core/error.h"

namespace pocket {

std::string normalize_answer(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : ch;
  }
  return out;
}

namespace {

// Splits UTF-8 into code points; a malformed byte becomes its own unit (so scoring never
// fails on a model's broken output).
std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      out.push_back(0x80000000u | c);  // outside Unicode: cannot equal a real code point
      ++i;
      continue;
    }
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

}  // namespace

size_t levenshtein_codepoints(std::string_view a, std::string_view b) {
  const std::vector<uint32_t> x = code_points(a), y = code_points(b);
  // One row of the DP table: O(|y|) memory.
  std::vector<size_t> row(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= x.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= y.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (x[i - 1] == y[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[y.size()];
}

double anls_pair(std::string_view answer, std::string_view reference, double threshold) {
  const std::string a = normalize_answer(answer), r = normalize_answer(reference);
  const size_t la = code_points(a).size(), lr = code_points(r).size();
  const size_t longest = std::max(la, lr);
  if (longest == 0) return 1.0;
  const double nl = static_cast<double>(levenshtein_codepoints(a, r)) / static_cast<double>(longest);
  return nl < threshold ? 1.0 - nl : 0.0;
}

AnswerScores score_answer(std::string_view answer, const std::vector<std::string>& references, MatchKind kind) {
  POCKET_CHECK(!references.empty(), "score_answer: no reference answer");
  AnswerScores s;
  const std::string a = normalize_answer(answer);
  for (const std::string& ref : references) {
    const std::string r = normalize_answer(ref);
    if (a == r) s.exact = 1;
    if (a.find(r) != std::string::npos) s.contains = 1;
    s.anls = std::max(s.anls, anls_pair(a, r));
  }
  s.score = kind == MatchKind::Exact ? s.exact : kind == MatchKind::Contains ? s.contains : s.anls;
  return s;
}

}  // namespace pocket
