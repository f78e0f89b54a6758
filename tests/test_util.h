// Helpers shared by tests: paths into ../shared, reading golden files, error metrics.
#pragma once

#include <cmath>
#include <cstring>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pocket::test {

inline std::string shared_path(const std::string& rel) { return std::string(POCKET_SHARED_DIR) + "/" + rel; }
inline std::string binary_path(const std::string& rel) { return std::string(POCKET_BINARY_DIR) + "/" + rel; }

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<float> read_f32(const std::string& path) {
  std::string s = read_text(path);
  std::vector<float> v(s.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), s.data(), v.size() * 4);
  return v;
}

// Normalised squared error sum (a-b)^2 / sum b^2, b = reference.
inline double nmse(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? num / den : num;
}

inline size_t argmax_of(const float* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

}  // namespace pocket::test
