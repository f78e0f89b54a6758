// Placeholder handling shared by the vision families (internal to src/vision/): splitting a
// rendered prompt at a placeholder that lies outside the caller-text spans, re-basing spans,
// and the pixel layout the towers take.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace pocket::vision_detail {

// Text between placeholders, with the caller-text spans that fall inside it (re-based).
struct TextPart {
  std::string text;
  std::vector<TextSpan> literal;
};

// Splits `s` at each `sep` that lies outside every literal span (caller text keeps a typed
// placeholder as text).
std::vector<TextPart> split_on(const std::string& s, const std::string& sep, const std::vector<TextSpan>& literal);

// Appends a part to `text`, moving its spans along.
void append(std::string& text, std::vector<TextSpan>& literal, const TextPart& p);

// [3, h, w] -> [h, w, 3]: the processors write channel-first, the towers read pixel-major.
std::vector<float> chw_to_hwc(const std::vector<float>& chw, int w, int h);

}  // namespace pocket::vision_detail
