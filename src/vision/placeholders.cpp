// Placeholder splitting and pixel layout shared by the vision families.
#include "vision/placeholders.h"

#include <algorithm>

namespace pocket::vision_detail {

std::vector<TextPart> split_on(const std::string& s, const std::string& sep, const std::vector<TextSpan>& literal) {
  std::vector<TextPart> parts;
  size_t i = 0, from = 0, li = 0;
  auto part = [&](size_t b, size_t e) {
    TextPart p;
    p.text = s.substr(b, e - b);
    for (; li < literal.size() && literal[li].begin < e; ++li)
      p.literal.push_back({std::max(literal[li].begin, b) - b, std::min(literal[li].end, e) - b});
    parts.push_back(std::move(p));
  };
  for (;;) {
    const size_t j = s.find(sep, from);
    if (j == std::string::npos) {
      part(i, s.size());
      return parts;
    }
    const auto inside = std::find_if(literal.begin(), literal.end(),
                                     [&](const TextSpan& r) { return r.begin < j + sep.size() && j < r.end; });
    if (inside != literal.end()) {
      from = j + 1;
      continue;
    }
    part(i, j);
    i = from = j + sep.size();
  }
}

void append(std::string& text, std::vector<TextSpan>& literal, const TextPart& p) {
  for (const TextSpan& r : p.literal) literal.push_back({r.begin + text.size(), r.end + text.size()});
  text += p.text;
}

std::vector<float> chw_to_hwc(const std::vector<float>& chw, int w, int h) {
  std::vector<float> hwc(chw.size());
  const size_t plane = static_cast<size_t>(w) * h;
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) hwc[i * 3 + c] = chw[c * plane + i];
  return hwc;
}

}  // namespace pocket::vision_detail
