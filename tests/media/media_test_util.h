// Helpers for the media tests: paths into ../shared/golden/preprocess, JSON loading and the
// pixel-difference statistics the golden README's tolerances are stated in.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "media/image.h"

namespace pocket::media_test {

inline std::string shared(const std::string& rel) { return std::string(POCKET_SHARED_DIR) + "/" + rel; }
inline std::string golden(const std::string& rel) { return shared("golden/preprocess/" + rel); }

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<uint8_t> read_u8(const std::string& path) {
  const std::string s = read_bytes(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_bytes(path)); }

inline const nlohmann::json& index_json() {
  static const nlohmann::json j = read_json(golden("index.json"));
  return j;
}

// The pixels the goldens were computed from: decoded/<stem>.png for lossy inputs, else the file.
// A greyscale lossy input (mode L) whose decoded/ file was stored as RGB is turned back into L,
// since the processor's path depends on the mode.
inline Image golden_input(const nlohmann::json& entry) {
  if (!entry.contains("decoded")) return decode_image_file(golden(entry["image"].get<std::string>()));
  Image im = decode_image_file(golden(entry["decoded"].get<std::string>()));
  if (entry.value("mode", "") == "L" && im.mode == PixelMode::RGB) {
    Image l = make_image(im.width, im.height, PixelMode::L);
    for (size_t i = 0; i < l.pixels.size(); ++i) l.pixels[i] = im.pixels[3 * i];
    im = std::move(l);
  }
  return im;
}

// Accumulates |a - b| statistics over several arrays (e.g. all tiles of one image).
struct DiffStats {
  double max_abs = 0;
  double sum_abs = 0;
  uint64_t n = 0;
  uint64_t n_over = 0;     // |d| > over
  uint64_t n_nonzero = 0;  // d != 0
  double over = 1.0;

  template <typename T>
  void add(const T* a, const T* b, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
      max_abs = std::max(max_abs, d);
      sum_abs += d;
      n_over += d > over;
      n_nonzero += d != 0;
    }
    n += count;
  }
  double mean_abs() const { return n ? sum_abs / n : 0; }
  double frac_over() const { return n ? static_cast<double>(n_over) / n : 0; }
};

}  // namespace pocket::media_test
