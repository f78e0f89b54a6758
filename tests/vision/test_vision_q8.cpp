// Vision towers with Q8_0 weights vs the llama.cpp goldens in ../shared/golden/vision: each
// golden mmproj (F16) is requantized in memory (every 2-D matrix whose rows are a multiple of 32,
// as llama.cpp's mmproj quantization; the patch convolution stays F16), then encoded through
// the integer Q8_0 product (AVX512-VNNI CPUs) and through the float one. The goldens were made
// with F16 weights, so this bounds weight + activation quantization together: README tolerance
// NMSE <= 1e-3 (golden/vision/README.md quotes ~1e-4 for Q8_0 weights).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "kernels/gemm_f32.h"
#include "vision/vision_encoder.h"

namespace pocket {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(POCKET_SHARED_DIR) / "golden" / "vision";
const fs::path kModels = fs::path(POCKET_SHARED_DIR) / "models";
constexpr double kTolerance = 1e-3;  // golden/vision/README.md

std::vector<float> read_f32(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in) << p;
  std::vector<float> v(fs::file_size(p) / sizeof(float));
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

// The mmproj at `path` with its matrices in Q8_0, as bytes of a GGUF file.
std::vector<uint8_t> requantize_q8_0(const fs::path& path) {
  auto f = GgufFile::open(path.string());
  GgufWriter w;
  for (const auto& [key, v] : f->metadata()) {
    switch (v.type) {
      case GgufType::U32: w.set_u32(key, static_cast<uint32_t>(v.as_uint())); break;
      case GgufType::I32: w.set_i32(key, static_cast<int32_t>(v.as_int())); break;
      case GgufType::F32: w.set_f32(key, static_cast<float>(v.as_double())); break;
      case GgufType::BOOL: w.set_bool(key, v.as_bool()); break;
      case GgufType::STRING: w.set_string(key, std::string(v.as_string())); break;
      case GgufType::ARRAY: {
        const GgufArray& a = v.as_array();
        std::vector<float> x;
        for (uint64_t i = 0; i < a.count; ++i) x.push_back(static_cast<float>(a.number_at(i)));
        w.set_array_f32(key, x);
        break;
      }
      default: ADD_FAILURE() << "unexpected metadata type for " << key;
    }
  }
  for (const GgufTensorInfo& t : f->tensors()) {
    std::vector<float> vals(static_cast<size_t>(t.n_elements()));
    dequantize_row(t.type, t.data, vals.data(), t.n_elements());
    const bool quantize = t.type == DType::F16 && t.n_dims == 2 && t.ne[0] % 32 == 0;
    w.add_tensor_f32(t.name, quantize ? DType::Q8_0 : t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims), vals);
  }
  return w.to_bytes();
}

double nmse(const float* a, const float* ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (a[i] - static_cast<double>(ref[i])) * (a[i] - static_cast<double>(ref[i]));
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0 ? num / den : num;
}

TEST(VisionQ8_0, GoldenCasesWithRequantizedTowers) {
  ThreadPool pool(2);
  std::map<std::string, std::pair<std::vector<uint8_t>, std::unique_ptr<VisionEncoder>>> towers;
  int n_cases = 0;
  for (const auto& e : fs::directory_iterator(kGolden)) {
    if (e.path().extension() != ".json") continue;
    SCOPED_TRACE(e.path().stem().string());
    std::ifstream in(e.path());
    const nlohmann::json m = nlohmann::json::parse(in);
    const std::string model = m.at("model");
    auto& tower = towers[model];
    if (!tower.second) {
      tower.first = requantize_q8_0(kModels / model);
      tower.second = VisionEncoder::load(GgufFile::parse(tower.first.data(), tower.first.size(), model + " (q8_0)"));
    }
    const VisionEncoder& enc = *tower.second;
    const int64_t w = m.at("width"), h = m.at("height"), n_embd = m.at("n_embd");
    const std::vector<float> hwc = read_f32(kGolden / m.at("pixels").get<std::string>());  // golden layout
    ASSERT_EQ(hwc.size(), static_cast<size_t>(w * h * 3));
    const std::vector<float> px = hwc_to_chw(hwc.data(), w, h);
    const std::vector<float> want_all = read_f32(kGolden / m.at("embeddings").get<std::string>());
    // Pixtral goldens interleave [IMG_BREAK] rows after each merged row but the last.
    std::vector<float> want;
    if (enc.projector() == ProjectorType::Pixtral) {
      const int64_t rows = m.at("merged_rows"), cols = m.at("merged_cols");
      for (int64_t r = 0; r < rows; ++r) {
        const float* src = want_all.data() + r * (cols + 1) * n_embd;
        want.insert(want.end(), src, src + cols * n_embd);
      }
    } else {
      want = want_all;
    }
    for (bool int8 : {true, false}) {
      kernels::gemm_f32_disable_int8(!int8);
      std::vector<float> got;
      enc.encode(px.data(), w, h, got, pool);
      ASSERT_EQ(got.size(), want.size());
      const double err = nmse(got.data(), want.data(), want.size());
      std::printf("  %-22s %s nmse %.3g\n", e.path().stem().string().c_str(),
                  int8 && kernels::gemm_f32_q8_is_int8() ? "int8 " : "float", err);
      EXPECT_LE(err, kTolerance);
    }
    kernels::gemm_f32_disable_int8(false);
    ++n_cases;
  }
  EXPECT_GE(n_cases, 5);
}

}  // namespace
}  // namespace pocket
