// Pixtral (mistral-common ImageEncoder) preprocessing against ../shared/golden/preprocess/pixtral:
// grid and token counts exactly (the [IMG]/[IMG_BREAK]/[IMG_END] text is tests/vision/test_prompt_layout.cpp), the normalized
// float tensor within the README's tolerance, and every pixtral row of size_cases.json
// (including the sizes where mistral-common fails).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/error.h"
#include "media/pixtral_preprocess.h"
#include "media_test_util.h"

namespace pocket {
namespace {

using media_test::DiffStats;
using media_test::golden;
using media_test::index_json;
using nlohmann::json;

PixtralParams params_from(const json& p) {
  PixtralParams params;
  params.max_image_size = p["max_image_size"].get<int>();
  params.patch_size = p["patch_size"].get<int>();
  params.spatial_merge_size = p["spatial_merge_size"].get<int>();
  for (int c = 0; c < 3; ++c) {
    params.image_mean[c] = p["image_mean"][c].get<double>();
    params.image_std[c] = p["image_std"][c].get<double>();
  }
  return params;
}

TEST(PixtralGolden, GridAndPixels) {
  for (const json& entry : index_json()) {
    const std::string rel = entry["configs"]["pixtral"].get<std::string>();
    const std::string stem = entry["stem"].get<std::string>();
    SCOPED_TRACE(stem);
    const json g = media_test::read_json(golden(rel));
    const PixtralParams params = params_from(g["params"]);
    const Image input = media_test::golden_input(entry);
    ASSERT_EQ(g["input"]["width"].get<int>(), input.width);
    ASSERT_EQ(g["input"]["height"].get<int>(), input.height);

    const PixtralImage out = pixtral_preprocess(input, params);
    const PixtralPlan& plan = out.plan;
    EXPECT_EQ(g["grid"]["h"].get<int>(), plan.rows);
    EXPECT_EQ(g["grid"]["w"].get<int>(), plan.cols);
    EXPECT_EQ(g["num_img_tokens"].get<int>(), plan.num_img_tokens);
    EXPECT_EQ(g["num_tokens"].get<int>(), plan.num_tokens);
    for (const json& step : g["steps"]) {
      if (step["op"] == "token_grid") {
        EXPECT_EQ(step["fitted_size"][0].get<int>(), plan.fitted_w);
        EXPECT_EQ(step["fitted_size"][1].get<int>(), plan.fitted_h);
      } else if (step["op"] == "resize") {
        EXPECT_EQ(step["from"][0].get<int>(), input.width);
        EXPECT_EQ(step["from"][1].get<int>(), input.height);
        EXPECT_EQ(step["to"][0].get<int>(), plan.out_w);
        EXPECT_EQ(step["to"][1].get<int>(), plan.out_h);
      }
    }

    const json& px = g["pixels"];
    ASSERT_EQ(px["dtype"].get<std::string>(), "float32");
    ASSERT_EQ(px["layout"].get<std::string>(), "CHW");
    ASSERT_EQ(px["shape"][0].get<int>(), 3);
    ASSERT_EQ(px["shape"][1].get<int>(), plan.out_h);
    ASSERT_EQ(px["shape"][2].get<int>(), plan.out_w);
    const std::string raw = media_test::read_bytes(golden("pixtral/" + px["file"].get<std::string>()));
    ASSERT_EQ(raw.size(), out.pixels.size() * 4);
    std::vector<float> ref(out.pixels.size());
    std::memcpy(ref.data(), raw.data(), raw.size());  // little-endian host
    DiffStats stats;
    stats.add(out.pixels.data(), ref.data(), ref.size());
    // README "Tolerances", Pixtral tensor in normalized units.
    EXPECT_LE(stats.max_abs, 1e-3);
    EXPECT_LE(stats.mean_abs(), 1e-5);
    std::printf("  pixtral %-20s %4dx%-4d grid %2dx%-2d max|d| %.2e mean|d| %.2e\n", stem.c_str(), plan.out_w,
                plan.out_h, plan.cols, plan.rows, stats.max_abs, stats.mean_abs());
  }
}

TEST(PixtralGolden, SizeCases) {
  const json cases = media_test::read_json(golden("size_cases.json"));
  const json g = media_test::read_json(golden(index_json()[0]["configs"]["pixtral"].get<std::string>()));
  const PixtralParams params = params_from(g["params"]);
  size_t n = 0, n_err = 0, n_tie = 0;
  for (const json& c : cases["pixtral"]) {
    const int w = c["w"].get<int>(), h = c["h"].get<int>();
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    const auto fitted = pixtral_fitted_size(w, h, params);
    EXPECT_EQ(c["fitted"][0].get<int>(), fitted[0]);
    EXPECT_EQ(c["fitted"][1].get<int>(), fitted[1]);
    ++n;
    n_tie += c.value("half_tie", false);
    if (c.contains("error")) {
      ++n_err;
      EXPECT_THROW(pixtral_plan(w, h, params), Error);
      continue;
    }
    const PixtralPlan plan = pixtral_plan(w, h, params);
    EXPECT_EQ(c["grid_hw"][0].get<int>(), plan.rows);
    EXPECT_EQ(c["grid_hw"][1].get<int>(), plan.cols);
    EXPECT_EQ(c["size"][0].get<int>(), plan.out_w);
    EXPECT_EQ(c["size"][1].get<int>(), plan.out_h);
    EXPECT_EQ(c["num_img_tokens"].get<int>(), plan.num_img_tokens);
    EXPECT_EQ(c["num_tokens"].get<int>(), plan.num_tokens);
  }
  EXPECT_GT(n, 100u);
  EXPECT_GT(n_err, 0u);
  EXPECT_GT(n_tie, 0u);
}

TEST(Pixtral, RejectsEmptyImages) {
  EXPECT_THROW(pixtral_plan(0, 5, PixtralParams{}), Error);
  EXPECT_THROW(pixtral_plan(5, 0, PixtralParams{}), Error);
}

}  // namespace
}  // namespace pocket
