// Answer scoring for `pocket compare`: exact match, contains, and ANLS (Average Normalized
// Levenshtein Similarity) of a model's answer against one or more reference answers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "io/prompt_suite.h"

namespace pocket {

// MatchKind, parse_match_kind and match_kind_name come from io/prompt_suite.h.

// The comparison form of an answer: ASCII letters lowercased, leading/trailing whitespace
// removed, inner whitespace runs collapsed to one space. Non-ASCII bytes are kept as they
// are (no locale-dependent case folding).
std::string normalize_answer(std::string_view s);

// Levenshtein distance between two UTF-8 strings counted in code points (invalid bytes count
// as one unit each), so "é" vs "e" is one edit, not two.
size_t levenshtein_codepoints(std::string_view a, std::string_view b);

// Normalized Levenshtein similarity of one answer/reference pair as in the DocVQA / ST-VQA
// evaluation: NL = lev(a, r) / max(|a|, |r|) on normalized strings, score = 1 - NL when
// NL < threshold (0.5), else 0. Two empty strings score 1.
// ref: Biten et al., "Scene Text Visual Question Answering" (ICCV 2019), section 4 (ANLS);
//      Mathew et al., "DocVQA: A Dataset for VQA on Document Images" (WACV 2021), which
//      adopts ANLS with tau = 0.5.
double anls_pair(std::string_view answer, std::string_view reference, double threshold = 0.5);

struct AnswerScores {
  double exact = 0;     // 1 when the normalized answer equals a normalized reference
  double contains = 0;  // 1 when a normalized reference occurs in the normalized answer
  double anls = 0;      // max over references of anls_pair
  double score = 0;     // the one selected by the prompt's match kind
};

// Scores against every reference (the best one counts, as ANLS takes the max over the
// question's accepted answers). `references` must not be empty.
AnswerScores score_answer(std::string_view answer, const std::vector<std::string>& references, MatchKind kind);

}  // namespace pocket
