// `pocket preprocess` contract: the plan.json, tile PNGs and pixels.f32 it writes for every
// golden image, and the --sizes arithmetic for every row of size_cases.json, compared with the
// reference processors' outputs in golden/preprocess (tolerances from its README).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/cli_util.h"
#include "media/image.h"

namespace pocket {
namespace {

using Json = nlohmann::json;
using test::run_pocket;
using test::shared_path;
using test::shq;

const char* const kSmolConfigs[] = {"smolvlm2-small", "smolvlm2-2.2b"};

std::string mmproj_for(const std::string& config) {
  if (config == "pixtral") return shared_path("models/tiny-pixtral-mmproj.gguf");
  return shared_path("models/" + config + "-tiny-mmproj.gguf");
}

std::string golden_path(const std::string& rel) { return shared_path("golden/preprocess/" + rel); }

Json read_json(const std::string& path) { return Json::parse(test::read_text(path)); }

const Json& golden_index() {
  static const Json index = read_json(golden_path("index.json"));
  return index;
}

// The input to feed the CLI: for lossy files the golden was computed from Pillow's decode,
// which other decoders do not reproduce (README "Which input").
std::string input_image(const Json& entry) {
  return golden_path(entry.contains("decoded") ? entry["decoded"].get<std::string>() : entry["image"].get<std::string>());
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = test::binary_path("preprocess_cli_out/" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

// Accumulates |d| statistics of uint8 tiles over one image (README: max <= 2, at most 0.01%
// of values off by more than 1, mean <= 0.01).
struct DiffStats {
  int max_abs = 0;
  size_t over_one = 0, n = 0;
  double sum_abs = 0;
  void add(const Image& got, const Image& want) {
    for (size_t i = 0; i < got.pixels.size(); ++i) {
      const int d = std::abs(static_cast<int>(got.pixels[i]) - static_cast<int>(want.pixels[i]));
      max_abs = std::max(max_abs, d);
      over_one += d > 1;
      sum_abs += d;
    }
    n += got.pixels.size();
  }
};

TEST(PreprocessCli, SmolVlmTilesAndPlanMatchGolden) {
  for (const char* config : kSmolConfigs) {
    for (const Json& entry : golden_index()) {
      const std::string stem = entry["stem"].get<std::string>();
      SCOPED_TRACE(std::string(config) + " / " + stem);
      const Json full = read_json(golden_path(entry["configs"][config].get<std::string>()));
      // Given a path, transformers' load_image converts L/P/RGBA to RGB first: the `.rgb.` set.
      const Json& g = full.contains("variant_rgb_input") ? full["variant_rgb_input"] : full;
      const std::string out = fresh_dir(std::string(config) + "_" + stem);
      const auto r = run_pocket("preprocess --mmproj " + shq(mmproj_for(config)) + " --image " +
                                shq(input_image(entry)) + " --out " + shq(out));
      ASSERT_EQ(r.status, 0) << r.err;
      Json plan = read_json(out + "/plan.json");
      EXPECT_EQ(plan["resized_size"], g["resized_size"]);
      EXPECT_EQ(plan["snapped_size"], g["snapped_size"]);
      EXPECT_EQ(plan["rows"], g["grid"]["rows"]);
      EXPECT_EQ(plan["cols"], g["grid"]["cols"]);
      EXPECT_EQ(plan["num_tiles"], g["num_tiles"]);
      EXPECT_EQ(plan["num_image_tokens"], g["num_image_tokens"]);
      EXPECT_EQ(plan["prompt"], g["prompt"]);

      const Json& tiles = g["tiles"];
      ASSERT_EQ(static_cast<size_t>(g["num_tiles"].get<int>()), tiles.size());
      DiffStats st;
      for (size_t k = 0; k < tiles.size(); ++k) {
        const Image got = decode_image_file(out + "/tile" + std::to_string(k) + ".png");
        const Image want = decode_image_file(golden_path(std::string(config) + "/" + tiles[k]["file"].get<std::string>()));
        ASSERT_EQ(got.mode, PixelMode::RGB) << "tile " << k;
        ASSERT_EQ(want.mode, PixelMode::RGB) << "tile " << k;
        ASSERT_EQ(got.width, want.width) << "tile " << k;
        ASSERT_EQ(got.height, want.height) << "tile " << k;
        st.add(got, want);
      }
      EXPECT_FALSE(std::filesystem::exists(out + "/tile" + std::to_string(tiles.size()) + ".png"));
      EXPECT_LE(st.max_abs, 2);
      EXPECT_LE(static_cast<double>(st.over_one), 1e-4 * static_cast<double>(st.n));
      EXPECT_LE(st.sum_abs / static_cast<double>(st.n), 0.01);
      std::filesystem::remove_all(out);
    }
  }
}

TEST(PreprocessCli, PixtralPixelsAndPlanMatchGolden) {
  for (const Json& entry : golden_index()) {
    const std::string stem = entry["stem"].get<std::string>();
    SCOPED_TRACE("pixtral / " + stem);
    const Json g = read_json(golden_path(entry["configs"]["pixtral"].get<std::string>()));
    const std::string out = fresh_dir("pixtral_" + stem);
    const auto r =
        run_pocket("preprocess --mmproj " + shq(mmproj_for("pixtral")) + " --image " + shq(input_image(entry)) +
                   " --out " + shq(out));
    ASSERT_EQ(r.status, 0) << r.err;
    Json plan = read_json(out + "/plan.json");
    const Json& shape = g["pixels"]["shape"];  // [3, H, W]
    EXPECT_EQ(plan["size"], Json::array({shape[2], shape[1]}));
    EXPECT_EQ(plan["grid"], g["grid"]);
    EXPECT_EQ(plan["num_img_tokens"], g["num_img_tokens"]);
    EXPECT_EQ(plan["num_tokens"], g["num_tokens"]);

    const std::vector<float> got = test::read_f32(out + "/pixels.f32");
    const std::vector<float> want = test::read_f32(golden_path("pixtral/" + g["pixels"]["file"].get<std::string>()));
    ASSERT_EQ(want.size(), shape[0].get<size_t>() * shape[1].get<size_t>() * shape[2].get<size_t>());
    ASSERT_EQ(got.size(), want.size());
    double max_abs = 0, sum_abs = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
      max_abs = std::max(max_abs, d);
      sum_abs += d;
    }
    EXPECT_LE(max_abs, 1e-3);
    EXPECT_LE(sum_abs / static_cast<double>(got.size()), 1e-5);
    std::filesystem::remove_all(out);
  }
}

TEST(PreprocessCli, SizesMatchEveryGoldenCase) {
  const Json cases = read_json(golden_path("size_cases.json"));
  for (const char* config : {"smolvlm2-small", "smolvlm2-2.2b", "pixtral"}) {
    SCOPED_TRACE(config);
    const Json& rows = cases[config];
    Json sizes = Json::array();
    for (const Json& c : rows) sizes.push_back(Json::array({c["w"], c["h"]}));
    const std::string sizes_file = test::binary_path(std::string("preprocess_cli_sizes_") + config + ".json");
    {
      std::FILE* f = std::fopen(sizes_file.c_str(), "wb");
      ASSERT_NE(f, nullptr);
      const std::string s = sizes.dump();
      ASSERT_EQ(std::fwrite(s.data(), 1, s.size(), f), s.size());
      std::fclose(f);
    }
    const auto r = run_pocket("preprocess --mmproj " + shq(mmproj_for(config)) + " --sizes " + shq(sizes_file));
    std::remove(sizes_file.c_str());
    ASSERT_EQ(r.status, 0) << r.err;
    const Json got = Json::parse(r.out);
    ASSERT_TRUE(got.is_array());
    ASSERT_EQ(got.size(), rows.size());
    const bool pixtral = std::string(config) == "pixtral";
    std::string mismatches;
    size_t n_bad = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const Json& want = rows[i];
      Json p = got[i];  // non-const: a missing key reads as null instead of asserting
      bool ok;
      if (want.contains("error")) {
        ok = p.contains("error") && p["error"].is_string() && !p["error"].get<std::string>().empty();
      } else if (pixtral) {
        ok = !p.contains("error") && p["size"] == want["size"] && p["grid"]["h"] == want["grid_hw"][0] &&
             p["grid"]["w"] == want["grid_hw"][1] && p["num_img_tokens"] == want["num_img_tokens"] &&
             p["num_tokens"] == want["num_tokens"];
      } else {
        ok = !p.contains("error") && p["resized_size"] == want["resized"] && p["snapped_size"] == want["snapped"] &&
             p["rows"] == want["rows"] && p["cols"] == want["cols"] && p["num_tiles"] == want["num_tiles"] &&
             p["num_image_tokens"] == want["num_image_tokens"];
      }
      if (!ok && n_bad++ < 5) mismatches += "\n  want " + want.dump() + "\n  got  " + p.dump();
    }
    EXPECT_EQ(n_bad, 0u) << "first mismatches:" << mismatches;
  }
}

TEST(PreprocessCli, BadInputsFailCleanly) {
  const std::string smol = mmproj_for("smolvlm2-small");
  const std::string image = golden_path("../../images/tiny_32x24.png");
  const std::string junk = test::binary_path("preprocess_cli_junk.json");
  auto write = [](const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  };
  auto expect_error = [](const test::CmdResult& r, const std::string& what) {
    EXPECT_EQ(r.status, 1) << what << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << what << ": " << r.err;
  };
  const std::string out = fresh_dir("bad");
  expect_error(run_pocket("preprocess --mmproj " + shq(smol)), "neither --image nor --sizes");
  expect_error(run_pocket("preprocess --mmproj " + shq(smol) + " --image " + shq(image)), "--image without --out");
  expect_error(run_pocket("preprocess --mmproj " + shq(smol) + " --image " + shq(image) + " --sizes " + shq(junk) +
                          " --out " + shq(out)),
               "both --image and --sizes");
  expect_error(run_pocket("preprocess --mmproj " + shq(test::binary_path("no_such.gguf")) + " --image " + shq(image) +
                          " --out " + shq(out)),
               "missing mmproj");
  expect_error(run_pocket("preprocess --mmproj " + shq(image) + " --image " + shq(image) + " --out " + shq(out)),
               "mmproj that is not a GGUF");
  expect_error(run_pocket("preprocess --mmproj " + shq(smol) + " --image " + shq(smol) + " --out " + shq(out)),
               "image that is not an image");
  expect_error(run_pocket("preprocess --mmproj " + shq(smol) + " --image " + shq(test::binary_path("no_such.png")) +
                          " --out " + shq(out)),
               "missing image");
  expect_error(run_pocket("preprocess --mmproj " + shq(smol) + " --sizes " + shq(junk) + " --out " + shq(out)),
               "--out with --sizes");
  EXPECT_FALSE(std::filesystem::exists(out));
  for (const char* text : {"not json", "{\"w\": 3}", "[[1, 2, 3]]", "[[1.5, 2]]", "[[\"1\", 2]]", "[[99999999999, 2]]"}) {
    write(junk, text);
    expect_error(run_pocket("preprocess --mmproj " + shq(smol) + " --sizes " + shq(junk)), text);
  }
  // Sizes the reference rejects are entries, not failures; valid ones around them still plan.
  write(junk, "[[0, 5], [32, 24], [-1, -1]]");
  const auto r = run_pocket("preprocess --mmproj " + shq(smol) + " --sizes " + shq(junk));
  ASSERT_EQ(r.status, 0) << r.err;
  const Json got = Json::parse(r.out);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].contains("error"));
  EXPECT_FALSE(got[1].contains("error"));
  EXPECT_TRUE(got[2].contains("error"));
  write(junk, "[]");
  const auto empty = run_pocket("preprocess --mmproj " + shq(smol) + " --sizes " + shq(junk));
  ASSERT_EQ(empty.status, 0) << empty.err;
  EXPECT_EQ(Json::parse(empty.out), Json::array());
  // The image cost flags: a cap plans at most N tiles, no splitting one; a family without tiles
  // refuses both by name; low detail is accepted by every family.
  write(junk, "[[1920, 1080], [32, 24]]");
  const auto capped = run_pocket("preprocess --mmproj " + shq(smol) + " --sizes " + shq(junk) + " --image-max-tiles 5");
  ASSERT_EQ(capped.status, 0) << capped.err;
  const Json c5 = Json::parse(capped.out);
  EXPECT_EQ(c5[0]["num_tiles"], 5);  // longest edge 1024: 2 x 2 crops + global
  EXPECT_EQ(c5[1]["num_tiles"], 5);  // 32x24 at 1024: 1024x768 -> 2 x 2 + global
  const auto single = run_pocket("preprocess --mmproj " + shq(smol) + " --sizes " + shq(junk) + " --no-image-splitting");
  ASSERT_EQ(single.status, 0) << single.err;
  EXPECT_EQ(Json::parse(single.out)[0]["num_tiles"], 1);
  const std::string pix = mmproj_for("pixtral");
  for (const char* flag : {"--image-max-tiles 4", "--no-image-splitting"}) {
    const auto r = run_pocket("preprocess --mmproj " + shq(pix) + " --sizes " + shq(junk) + " " + flag);
    expect_error(r, flag);
    EXPECT_NE(r.err.find(std::string(flag).substr(0, std::string(flag).find(' '))), std::string::npos) << r.err;
  }
  EXPECT_EQ(run_pocket("preprocess --mmproj " + shq(pix) + " --sizes " + shq(junk) + " --image-detail low").status, 0);
  // Values out of range are the argument parser's errors (its own exit status, the flag named).
  for (const char* bad : {"--image-max-tiles 0", "--image-detail huge"}) {
    const auto r = run_pocket("preprocess --mmproj " + shq(smol) + " --sizes " + shq(junk) + " " + bad);
    EXPECT_NE(r.status, 0) << bad;
    EXPECT_NE(r.err.find(std::string(bad).substr(0, std::string(bad).find(' '))), std::string::npos) << r.err;
  }
  std::remove(junk.c_str());
}

}  // namespace
}  // namespace pocket
