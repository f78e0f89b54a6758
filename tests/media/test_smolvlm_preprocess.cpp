// SmolVLM2 preprocessing against ../shared/golden/preprocess (smolvlm2-small, smolvlm2-2.2b):
// every image of index.json in the mode the processor receives it (`<stem>.tile<k>.png`) and, for
// L/P/RGBA inputs, after load_image's convert("RGB") (`<stem>.rgb.tile<k>.png`); sizes, steps,
// grid and tile boxes exactly, pixels within the README's tolerance; and every row
// of size_cases.json.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/error.h"
#include "media/smolvlm_preprocess.h"
#include "media_test_util.h"

namespace pocket {
namespace {

using media_test::DiffStats;
using media_test::golden;
using media_test::index_json;
using nlohmann::json;

const char* kConfigs[] = {"smolvlm2-small", "smolvlm2-2.2b"};

SmolVlmParams params_from(const json& p) {
  SmolVlmParams params;
  params.longest_edge = p["longest_edge"].get<int>();
  params.tile_size = p["tile_size"].get<int>();
  params.image_seq_len = p["image_seq_len"].get<int>();
  params.rescale_factor = p["rescale_factor"].get<double>();
  for (int c = 0; c < 3; ++c) {
    params.image_mean[c] = p["image_mean"][c].get<float>();
    params.image_std[c] = p["image_std"][c].get<float>();
  }
  EXPECT_EQ(p["resample"].get<std::string>(), "LANCZOS");
  return params;
}

// Golden `filter` strings: "LANCZOS", "LANCZOS on premultiplied RGBa", "NEAREST (...)", "none (...)".
void expect_step(const json& step, const SmolVlmResizeStep& mine, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(step["from"][0].get<int>(), mine.from_w);
  EXPECT_EQ(step["from"][1].get<int>(), mine.from_h);
  EXPECT_EQ(step["to"][0].get<int>(), mine.to_w);
  EXPECT_EQ(step["to"][1].get<int>(), mine.to_h);
  const std::string f = step["filter"].get<std::string>();
  switch (mine.kind) {
    case SmolVlmResizeKind::Copy: EXPECT_EQ(f.rfind("none", 0), 0u) << f; break;
    case SmolVlmResizeKind::Filter: EXPECT_EQ(f, "LANCZOS"); break;
    case SmolVlmResizeKind::Premultiplied: EXPECT_EQ(f, "LANCZOS on premultiplied RGBa"); break;
    case SmolVlmResizeKind::Nearest: EXPECT_EQ(f.rfind("NEAREST", 0), 0u) << f; break;
  }
}

// Checks one golden result (the top level of <stem>.json or its variant_rgb_input).
void check_case(const json& g, const Image& input, const SmolVlmParams& params, const std::string& dir,
                const std::string& label) {
  SCOPED_TRACE(label);
  const auto t0 = std::chrono::steady_clock::now();
  const SmolVlmImage out = smolvlm_preprocess(input, params);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  const SmolVlmPlan& plan = out.plan;
  EXPECT_EQ(g["resized_size"][0].get<int>(), plan.resized_w);
  EXPECT_EQ(g["resized_size"][1].get<int>(), plan.resized_h);
  EXPECT_EQ(g["snapped_size"][0].get<int>(), plan.snapped_w);
  EXPECT_EQ(g["snapped_size"][1].get<int>(), plan.snapped_h);
  EXPECT_EQ(g["grid"]["rows"].get<int>(), plan.rows);
  EXPECT_EQ(g["grid"]["cols"].get<int>(), plan.cols);
  EXPECT_EQ(g["num_tiles"].get<int>(), plan.num_tiles);
  EXPECT_EQ(g["num_image_tokens"].get<int>(), plan.num_image_tokens);

  for (const json& step : g["steps"]) {
    const std::string op = step["op"].get<std::string>();
    if (op == "resize_longest_edge") expect_step(step, out.resize_longest, op);
    if (op == "resize_to_tile_multiple") expect_step(step, out.resize_snap, op);
    if (op == "global_tile") expect_step(step, out.resize_global, op);
    if (op == "split") {
      EXPECT_EQ(step["rows"].get<int>(), plan.rows);
      EXPECT_EQ(step["cols"].get<int>(), plan.cols);
      EXPECT_EQ(step["tile"].get<int>(), params.tile_size);
    }
  }

  const json& tiles = g["tiles"];
  ASSERT_EQ(tiles.size(), out.tiles.size());
  DiffStats stats;
  for (size_t k = 0; k < tiles.size(); ++k) {
    const json& t = tiles[k];
    const SmolVlmTile& mine = out.tiles[k];
    SCOPED_TRACE(t["file"].get<std::string>());
    EXPECT_EQ(t["kind"].get<std::string>() == "global", mine.global);
    if (!mine.global) {
      EXPECT_EQ(t["row"].get<int>(), mine.row);
      EXPECT_EQ(t["col"].get<int>(), mine.col);
      EXPECT_EQ(t["box_xyxy"][0].get<int>(), mine.x0);
      EXPECT_EQ(t["box_xyxy"][1].get<int>(), mine.y0);
      EXPECT_EQ(t["box_xyxy"][2].get<int>(), mine.x1);
      EXPECT_EQ(t["box_xyxy"][3].get<int>(), mine.y1);
    }
    const Image ref = decode_image_file(golden(dir + "/" + t["file"].get<std::string>()));
    ASSERT_EQ(ref.mode, PixelMode::RGB);
    ASSERT_EQ(ref.width, mine.rgb.width);
    ASSERT_EQ(ref.height, mine.rgb.height);
    ASSERT_EQ(mine.rgb.mode, PixelMode::RGB);
    stats.add(mine.rgb.pixels.data(), ref.pixels.data(), ref.pixels.size());
  }
  // README "Tolerances", SmolVLM2 tiles over all tiles of one image.
  EXPECT_LE(stats.max_abs, 2.0);
  EXPECT_LE(stats.frac_over(), 1e-4);
  EXPECT_LE(stats.mean_abs(), 0.01);
  std::printf("  %-40s %2zu tiles, %8.1f ms, max|d| %.0f, values differing %llu of %llu\n", label.c_str(),
              out.tiles.size(), ms, stats.max_abs, static_cast<unsigned long long>(stats.n_nonzero),
              static_cast<unsigned long long>(stats.n));
}

TEST(SmolVlmGolden, TilesPromptAndSizes) {
  for (const char* config : kConfigs) {
    for (const json& entry : index_json()) {
      const std::string rel = entry["configs"][config].get<std::string>();
      const json g = media_test::read_json(golden(rel));
      const SmolVlmParams params = params_from(g["params"]);
      const std::string dir = rel.substr(0, rel.find('/'));
      const std::string stem = entry["stem"].get<std::string>();

      // What the processor gets from Image.open(path): the decoded image in its own mode.
      const Image decoded = media_test::golden_input(entry);
      ASSERT_EQ(g["input"]["width"].get<int>(), decoded.width);
      ASSERT_EQ(g["input"]["height"].get<int>(), decoded.height);
      if (!entry.contains("decoded")) {
        EXPECT_EQ(g["input"]["mode"].get<std::string>(), pixel_mode_name(decoded.mode));
      }
      if (decoded.mode == PixelMode::P) {
        const json& ti = g["input"]["transparency_index"];
        if (ti.is_null() || ti.is_number_integer()) {
          EXPECT_EQ(ti.is_null() ? -1 : ti.get<int>(), decoded.transparency_index);
        }
      }
      check_case(g, decoded, params, dir, std::string(config) + " " + stem);

      // What load_image(path) hands it: EXIF-transposed and converted to RGB.
      if (g.contains("variant_rgb_input")) {
        check_case(g["variant_rgb_input"], convert_to_rgb(exif_transpose(decoded)), params, dir,
                   std::string(config) + " " + stem + " (rgb)");
      }
    }
  }
}

TEST(SmolVlmGolden, SizeCases) {
  const json cases = media_test::read_json(golden("size_cases.json"));
  const json& first = index_json()[0];
  for (const char* config : kConfigs) {
    const json g = media_test::read_json(golden(first["configs"][config].get<std::string>()));
    const SmolVlmParams params = params_from(g["params"]);
    size_t n = 0, n_trap = 0;
    for (const json& c : cases[config]) {
      const int w = c["w"].get<int>(), h = c["h"].get<int>();
      SCOPED_TRACE(std::string(config) + " " + std::to_string(w) + "x" + std::to_string(h));
      const SmolVlmPlan plan = smolvlm_plan(w, h, params);
      EXPECT_EQ(c["resized"][0].get<int>(), plan.resized_w);
      EXPECT_EQ(c["resized"][1].get<int>(), plan.resized_h);
      EXPECT_EQ(c["snapped"][0].get<int>(), plan.snapped_w);
      EXPECT_EQ(c["snapped"][1].get<int>(), plan.snapped_h);
      EXPECT_EQ(c["rows"].get<int>(), plan.rows);
      EXPECT_EQ(c["cols"].get<int>(), plan.cols);
      EXPECT_EQ(c["num_tiles"].get<int>(), plan.num_tiles);
      EXPECT_EQ(c["num_image_tokens"].get<int>(), plan.num_image_tokens);
      ++n;
      n_trap += c.value("float_trap", false);
    }
    EXPECT_GT(n, 100u);
    EXPECT_GT(n_trap, 0u);
  }
}

TEST(SmolVlm, PlanWithoutSplitting) {
  SmolVlmParams p;
  p.do_image_splitting = false;
  const SmolVlmPlan plan = smolvlm_plan(1920, 1080, p);
  EXPECT_EQ(plan.rows, 0);
  EXPECT_EQ(plan.num_tiles, 1);
  EXPECT_EQ(plan.snapped_w, 512);
  EXPECT_EQ(plan.snapped_h, 512);
}

TEST(SmolVlm, PixelValuesFollowTheReadmeFormula) {
  // README: pixel_values = (float32(u8 * (1/255)) - 0.5) / 0.5 per channel, CHW.
  Image tile = make_image(4, 2, PixelMode::RGB);
  for (size_t i = 0; i < tile.pixels.size(); ++i) tile.pixels[i] = static_cast<uint8_t>(i * 37 % 256);
  const std::vector<float> v = smolvlm_pixel_values(tile, SmolVlmParams{});
  ASSERT_EQ(v.size(), 24u);
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 8; ++i) {
      const float x = static_cast<float>(tile.pixels[3 * i + c] * (1.0 / 255.0));
      EXPECT_EQ(v[c * 8 + i], (x - 0.5f) / 0.5f);
    }
  }
}

TEST(SmolVlm, ParamsFromMmproj) {
  // The golden configs: 512/16/4 -> 64 tokens per tile, 384/14/3 -> 81.
  for (const char* config : kConfigs) {
    const json g = media_test::read_json(golden(index_json()[0]["configs"][config].get<std::string>()));
    const SmolVlmParams want = params_from(g["params"]);
    const bool small = want.tile_size == 512;
    const SmolVlmParams p = smolvlm_params_for(want.tile_size, want.longest_edge, small ? 16 : 14, small ? 4 : 3);
    EXPECT_EQ(p.image_seq_len, want.image_seq_len) << config;
    EXPECT_EQ(p.longest_edge, want.longest_edge);
  }
  EXPECT_THROW(smolvlm_params_for(512, 2048, 16, 5), Error);
}

TEST(SmolVlm, RejectsEmptyImages) {
  EXPECT_THROW(smolvlm_plan(0, 10, SmolVlmParams{}), Error);
  EXPECT_THROW(smolvlm_plan(10, -1, SmolVlmParams{}), Error);
}

}  // namespace
}  // namespace pocket
