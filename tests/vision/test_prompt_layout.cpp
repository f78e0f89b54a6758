// The prompt text the vision families write for their media, byte for byte against the
// references: the SmolVLM2 image expansion against every golden/preprocess SmolVLM2 case
// (transformers' processor), the SmolVLM2 video text against every golden/video case
// (transformers + num2words), and the Pixtral [IMG]/[IMG_BREAK]/[IMG_END] layout against every
// golden/preprocess/pixtral case (mistral-common).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "media/frame_sampling.h"
#include "test_util.h"
#include "vision/pixtral.h"
#include "vision/smolvlm_prompt.h"

namespace pocket {
namespace {

using nlohmann::json;

json read_json(const std::string& rel) { return json::parse(test::read_text(test::shared_path(rel))); }

// Every golden image result (and its RGB variant) of both SmolVLM2 configurations: the text
// replacing `<image>` follows from the tile grid and the tokens per tile alone.
TEST(SmolVlmPrompt, ImageExpansionMatchesProcessor) {
  size_t n = 0;
  for (const char* dir : {"golden/preprocess/smolvlm2-small", "golden/preprocess/smolvlm2-2.2b"}) {
    for (const auto& e : std::filesystem::directory_iterator(test::shared_path(dir))) {
      if (e.path().extension() != ".json") continue;
      const json doc = json::parse(test::read_text(e.path().string()));
      for (const json* g : {&doc, doc.contains("variant_rgb_input") ? &doc["variant_rgb_input"] : nullptr}) {
        if (!g || !g->contains("prompt")) continue;
        SCOPED_TRACE(e.path().string());
        const int tiles = (*g)["num_tiles"].get<int>();
        const int seq = (*g)["num_image_tokens"].get<int>() / tiles;
        EXPECT_EQ(smolvlm_image_prompt((*g)["grid"]["rows"].get<int>(), (*g)["grid"]["cols"].get<int>(), seq),
                  (*g)["prompt"].get<std::string>());
        ++n;
      }
    }
  }
  EXPECT_GT(n, 10u);
  // ref: processing_smolvlm.py _prompt_single_image
  EXPECT_EQ(smolvlm_image_prompt(0, 0, 2),
            "<fake_token_around_image><global-img><image><image><fake_token_around_image>");
}

TEST(SmolVlmPrompt, VideoTextMatchesProcessor) {
  const json cases = read_json("golden/video/cases.json");
  ASSERT_GE(cases.size(), 10u);
  for (const json& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const json& out = c["outputs"];
    EXPECT_EQ(smolvlm_video_prompt(out["timestamps"].get<std::vector<std::string>>(),
                                   c["inputs"]["duration"].get<double>(), c["params"]["image_seq_len"].get<int>()),
              out["prompt"].get<std::string>());
  }
  EXPECT_THROW(smolvlm_video_prompt({"00:00"}, 1.0, 0), Error);
}

// The 2.2B model differs only in `<image>` per frame (README): the 64-token golden prompt with
// every run of 64 `<image>` replaced by 81 must be what image_seq_len = 81 gives.
TEST(SmolVlmPrompt, ImageSeqLen81OnlyChangesTheTileLength) {
  const json cases = read_json("golden/video/cases.json");
  std::string run64, run81;
  for (int i = 0; i < 64; ++i) run64 += "<image>";
  for (int i = 0; i < 81; ++i) run81 += "<image>";
  for (const json& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const json& in = c["inputs"];
    VideoTiming timing{in["total_num_frames"].get<int64_t>(), in["fps"].get<double>(), in["duration"].get<double>()};
    std::string expected = c["outputs"]["prompt"].get<std::string>();
    for (size_t at = expected.find(run64); at != std::string::npos; at = expected.find(run64, at + run81.size()))
      expected.replace(at, run64.size(), run81);
    const FrameSamplingPlan plan = sample_video_frames(timing);
    EXPECT_EQ(smolvlm_video_prompt(plan.timestamps, timing.duration, 81), expected);
  }
}

TEST(PixtralPrompt, ImageLayoutMatchesMistralCommon) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::shared_path("golden/preprocess/pixtral"))) {
    if (e.path().extension() != ".json") continue;
    const json g = json::parse(test::read_text(e.path().string()));
    if (!g.contains("tokens")) continue;
    SCOPED_TRACE(e.path().string());
    const std::string text = pixtral_image_layout(g["grid"]["h"].get<int>(), g["grid"]["w"].get<int>());
    EXPECT_EQ(text, g["tokens"].get<std::string>());
    size_t tokens = 0;
    for (size_t at = text.find('['); at != std::string::npos; at = text.find('[', at + 1)) ++tokens;
    EXPECT_EQ(tokens, g["num_tokens"].get<size_t>());
    ++n;
  }
  EXPECT_GT(n, 5u);
  EXPECT_EQ(pixtral_image_layout(2, 3), "[IMG][IMG][IMG][IMG_BREAK][IMG][IMG][IMG][IMG_END]");
}

}  // namespace
}  // namespace pocket
