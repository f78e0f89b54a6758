// Vision towers vs llama.cpp's embeddings in ../shared/golden/vision (every *.json case), with
// every kernel level this build and CPU can run (the scalar reference included). Tolerance from
// golden/vision/README.md: NMSE <= 1e-3 over all rows; pixtral goldens interleave [IMG_BREAK] rows, so only the [IMG] rows are compared
// with the encoder output and the break rows with the mmproj's img_break embedding.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "golden_util.h"
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

double nmse(const float* a, const float* ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (a[i] - static_cast<double>(ref[i])) * (a[i] - static_cast<double>(ref[i]));
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0 ? num / den : num;
}

class VisionGolden : public ::testing::TestWithParam<kernels::Isa> {  // param: the kernel level
 protected:
  void TearDown() override { kernels::set_isa(kernels::startup_isa()); }
  const VisionEncoder& encoder(const std::string& model) {
    auto& e = encoders_[model];
    if (!e) e = VisionEncoder::load((kModels / model).string());
    return *e;
  }
  void check_all_cases();
  std::map<std::string, std::unique_ptr<VisionEncoder>> encoders_;
};

// On a CPU with BF16 dot products the SIMD levels' F16 towers run BF16 products
// (kernels/gemm_f32.h); AllCasesFloatProducts checks the float paths those replace.
TEST_P(VisionGolden, AllCases) { check_all_cases(); }

TEST_P(VisionGolden, AllCasesFloatProducts) {
  kernels::set_isa(GetParam());
  if (!kernels::active_kernels().bf16_tile) GTEST_SKIP() << "no BF16 products at this level: AllCases ran the float ones";
  kernels::set_vision_bf16(false);
  check_all_cases();
  kernels::set_vision_bf16(true);
}

void VisionGolden::check_all_cases() {
  kernels::set_isa(GetParam());
  ThreadPool pool(2);
  const auto cases = test::golden_cases("golden/vision");
  ASSERT_GE(cases.size(), 5u) << "golden cases missing in " << kGolden;
  for (const test::GoldenCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto& m = c.meta;
    const VisionEncoder& enc = encoder(m.at("model").get<std::string>());
    const int64_t w = m.at("width"), h = m.at("height"), n_embd = m.at("n_embd"), n_tokens = m.at("n_tokens");
    const std::vector<float> hwc = read_f32(kGolden / m.at("pixels").get<std::string>());  // golden layout
    ASSERT_EQ(hwc.size(), static_cast<size_t>(w * h * 3));
    const std::vector<float> px = hwc_to_chw(hwc.data(), w, h);
    const std::vector<float> want = read_f32(kGolden / m.at("embeddings").get<std::string>());
    ASSERT_EQ(want.size(), static_cast<size_t>(n_tokens * n_embd));
    ASSERT_EQ(enc.n_embd(), n_embd);

    std::vector<float> got;
    enc.encode(px.data(), w, h, got, pool);
    const VisionEncoder::Grid g = enc.output_grid(w, h);
    ASSERT_EQ(got.size(), static_cast<size_t>(g.rows * g.cols * n_embd));

    if (enc.projector() == ProjectorType::Idefics3) {
      ASSERT_EQ(g.rows * g.cols, n_tokens);
      const double e = nmse(got.data(), want.data(), want.size());
      std::printf("  %-22s nmse %.3g\n", c.name.c_str(), e);
      EXPECT_LE(e, kTolerance);
    } else {
      const int64_t rows = m.at("merged_rows"), cols = m.at("merged_cols");
      ASSERT_EQ(g.rows, rows);
      ASSERT_EQ(g.cols, cols);
      ASSERT_EQ(n_tokens, rows * cols + rows - 1);
      const std::vector<float> img = test::pixtral_img_rows(want, rows, cols, n_embd);
      // The break rows, one after each merged row but the last, hold the mmproj's embedding.
      for (int64_t r = 0; r + 1 < rows; ++r) {
        ASSERT_EQ(enc.img_break().size(), static_cast<size_t>(n_embd));
        const float* brk = want.data() + (r * (cols + 1) + cols) * n_embd;
        EXPECT_LE(nmse(enc.img_break().data(), brk, n_embd), 1e-10) << "break row " << r;
      }
      const double e = nmse(got.data(), img.data(), img.size());
      std::printf("  %-22s nmse %.3g\n", c.name.c_str(), e);
      EXPECT_LE(e, kTolerance);
    }
  }
}

// Every level this build and CPU can run, the scalar reference included.
INSTANTIATE_TEST_SUITE_P(Kernels, VisionGolden, ::testing::ValuesIn(kernels::available_isas()),
                         [](const auto& info) { return std::string(kernels::isa_name(info.param)); });

TEST(VisionModels, SmolVlm2TowersLoadAndEncode) {
  // The full-size SmolVLM2 metadata (tile 512 / patch 16 / shuffle 4 and tile 384 / patch 14 /
  // shuffle 3): no golden embeddings, so check shapes and that the output is finite.
  ThreadPool pool(2);
  const struct {
    const char* file;
    int64_t tile, tokens;
  } models[] = {{"smolvlm2-small-tiny-mmproj.gguf", 512, 64}, {"smolvlm2-2.2b-tiny-mmproj.gguf", 384, 81}};
  for (const auto& mdl : models) {
    SCOPED_TRACE(mdl.file);
    auto enc = VisionEncoder::load((kModels / mdl.file).string());
    EXPECT_EQ(enc->n_tokens(mdl.tile, mdl.tile), mdl.tokens);
    std::vector<float> px(static_cast<size_t>(mdl.tile * mdl.tile * 3));
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<float>((i * 7919) % 255) / 127.5f - 1.0f;
    std::vector<float> out;
    enc->encode(px.data(), mdl.tile, mdl.tile, out, pool);
    ASSERT_EQ(out.size(), static_cast<size_t>(mdl.tokens * enc->n_embd()));
    for (float v : out) ASSERT_TRUE(std::isfinite(v));
  }
}

}  // namespace
}  // namespace pocket
