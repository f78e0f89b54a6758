// Reading ../shared/golden case folders (every NAME.json with its metadata) and the comparisons
// their READMEs define, shared by the in-process golden tests and the executable's.
#pragma once

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace pocket::test {

struct GoldenCase {
  std::string name;     // NAME of NAME.json
  nlohmann::json meta;  // its contents
};

// The cases of a folder under ../shared (e.g. "golden/text"), sorted by name.
inline std::vector<GoldenCase> golden_cases(const std::string& folder) {
  std::vector<GoldenCase> cases;
  for (const auto& e : std::filesystem::directory_iterator(shared_path(folder))) {
    if (e.path().extension() != ".json") continue;
    cases.push_back({e.path().stem().string(), nlohmann::json::parse(read_text(e.path().string()))});
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return cases;
}

// Fraction of the n_rows rows of [n_rows, n_vocab] logits whose arg-max agrees (golden/text).
inline double argmax_agreement(const float* got, const float* want, size_t n_rows, size_t n_vocab) {
  size_t agree = 0;
  for (size_t i = 0; i < n_rows; ++i)
    agree += argmax_of(got + i * n_vocab, n_vocab) == argmax_of(want + i * n_vocab, n_vocab);
  return static_cast<double>(agree) / static_cast<double>(n_rows);
}

// The [IMG] rows of a pixtral vision golden, which has an [IMG_BREAK] row after every merged row
// but the last (golden/vision/README.md): golden row r*(cols+1) + j holds merged token (r, j).
inline std::vector<float> pixtral_img_rows(const std::vector<float>& golden, int64_t rows, int64_t cols,
                                           int64_t n_embd) {
  std::vector<float> img;
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = golden.data() + r * (cols + 1) * n_embd;
    img.insert(img.end(), src, src + cols * n_embd);
  }
  return img;
}

}  // namespace pocket::test
