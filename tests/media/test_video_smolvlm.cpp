// SmolVLM2 video preprocessing end to end: real files (generated with the ffmpeg CLI) whose
// metadata equals a golden case of ../shared/golden/video/cases.json must give that case's
// indices and timestamps (what the prompt text is made of), one tile per sampled frame; the frame-size rule of
// video_processing_smolvlm.py get_resize_output_image_size on hand-worked sizes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "media/resample.h"
#include "media/video_smolvlm.h"
#include "test_video_util.h"

namespace pocket {
namespace {

using namespace video_test;
using nlohmann::json;

const json& golden_case(const std::string& name) {
  static const json cases = [] {
    std::ifstream f(std::string(POCKET_SHARED_DIR) + "/golden/video/cases.json", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return json::parse(ss.str());
  }();
  for (const json& c : cases)
    if (c["name"] == name) return c;
  throw std::runtime_error("no golden case " + name);
}

TEST(VideoSmolVlm, ResizeSizeRule) {
  // width >= height: width = side, height = int(side / (w / h)), rounded up to even.
  int w = 0, h = 0;
  smolvlm_video_resize_size(320, 240, 2048, &w, &h);
  EXPECT_EQ(w, 2048);
  EXPECT_EQ(h, 1536);
  smolvlm_video_resize_size(1920, 1080, 2048, &w, &h);  // 2048 / 1.777… = 1152
  EXPECT_EQ(w, 2048);
  EXPECT_EQ(h, 1152);
  smolvlm_video_resize_size(100, 33, 2048, &w, &h);  // int(675.84) = 675 -> 676
  EXPECT_EQ(w, 2048);
  EXPECT_EQ(h, 676);
  smolvlm_video_resize_size(240, 320, 1536, &w, &h);  // portrait: width = int(1536 · 0.75)
  EXPECT_EQ(w, 1152);
  EXPECT_EQ(h, 1536);
  smolvlm_video_resize_size(4000, 1, 2048, &w, &h);  // int(0.512) = 0, raised to 1
  EXPECT_EQ(w, 2048);
  EXPECT_EQ(h, 1);
  smolvlm_video_resize_size(640, 480, 10000, &w, &h);  // capped at MAX_IMAGE_SIZE 4096
  EXPECT_EQ(w, 4096);
  EXPECT_EQ(h, 3072);
  EXPECT_THROW(smolvlm_video_resize_size(0, 10, 2048, &w, &h), Error);
}

struct GoldenClip {
  const char* golden;
  const char* file;
  std::string args;
};

// Clips whose frame count and rate equal the golden metadata (duration = frames / fps).
TEST(VideoSmolVlm, RealFilesGiveTheGoldenPrompt) {
  REQUIRE_FFMPEG();
  const std::string h264 = h264_args();
  const std::vector<GoldenClip> clips = {
      {"3s_30fps", "h264_aac_160x120_30.mp4",
       "-f lavfi -i smptebars=size=160x120:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 3 " + h264 +
           " -c:a aac"},
      {"0.5s_30fps", "h264_0.5s_96x72_30.mp4", "-f lavfi -i testsrc2=size=96x72:rate=30 -t 0.5 " + h264},
      {"10s_24fps", "h264_10s_64x48_24.mp4", "-f lavfi -i testsrc2=size=64x48:rate=24 -t 10 " + h264},
  };
  for (const GoldenClip& clip : clips) {
    SCOPED_TRACE(clip.golden);
    const json& g = golden_case(clip.golden);
    const std::string path = make_video(clip.file, clip.args);
    const SmolVlmVideo v = smolvlm_prepare_video_file(path);
    EXPECT_EQ(v.info.num_frames, g["inputs"]["total_num_frames"].get<int64_t>());
    EXPECT_EQ(v.info.fps, g["inputs"]["fps"].get<double>());
    EXPECT_EQ(v.info.duration, g["inputs"]["duration"].get<double>());
    EXPECT_EQ(v.plan.indices, g["outputs"]["indices"].get<std::vector<int64_t>>());
    // The prompt text is a function of these two (tests/vision/test_smolvlm_prompt.cpp).
    EXPECT_EQ(v.plan.timestamps, g["outputs"]["timestamps"].get<std::vector<std::string>>());
    EXPECT_EQ(v.num_image_tokens, g["outputs"]["num_image_tokens"].get<int64_t>());
    EXPECT_EQ(v.inexact_frames, 0);
    ASSERT_EQ(v.tiles.size(), v.plan.indices.size());
    for (const Image& t : v.tiles) {
      EXPECT_EQ(t.width, 512);
      EXPECT_EQ(t.height, 512);
      EXPECT_EQ(t.mode, PixelMode::RGB);
    }
    // Each frame's own time is its index / fps here (constant frame rate from t = 0).
    for (size_t i = 0; i < v.frame_times.size(); ++i)
      EXPECT_NEAR(v.frame_times[i], v.plan.timestamps_seconds[i], 1e-6);
  }
}

// The tile of a decoded frame equals the tile of the CLI's extraction of that frame (both
// through the two resizes), for the 2.2B sizes (1536 longest edge, 384 tile, 81 tokens).
TEST(VideoSmolVlm, TilesOfTheCliFrames) {
  REQUIRE_FFMPEG();
  const std::string path = make_video("h264_320x240_25.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -t 4 -g 25 " +
                                                                 h264_args());
  SmolVlmVideoParams params;
  params.longest_edge = 1536;
  params.tile_size = 384;
  params.image_seq_len = 81;
  params.sampling.max_frames = 2;
  const SmolVlmVideo v = smolvlm_prepare_video_file(path, params);
  ASSERT_EQ(v.plan.indices, (std::vector<int64_t>{0, 99}));
  EXPECT_EQ(v.num_image_tokens, 2 * 81);
  EXPECT_EQ(static_cast<int>(v.info.duration), 4);
  const auto ref = cli_frames(path, v.plan.indices);
  const size_t n = 320 * 240 * 3;
  for (size_t i = 0; i < 2; ++i) {
    Image frame = make_image(320, 240, PixelMode::RGB);
    std::copy(ref.begin() + i * n, ref.begin() + (i + 1) * n, frame.pixels.begin());
    const Image tile = smolvlm_video_tile(frame, params);
    ASSERT_EQ(tile.width, 384);
    EXPECT_GE(psnr(tile.pixels.data(), v.tiles[i].pixels.data(), tile.pixels.size()), 40.0);
    // The same two resizes by hand: 320x240 -> 1536x1152 -> 384x384.
    const Image by_hand =
        pillow_resize(pillow_resize(frame, 1536, 1152, ResampleFilter::Bicubic), 384, 384, ResampleFilter::Bicubic);
    EXPECT_EQ(by_hand.pixels, tile.pixels);
  }
}

}  // namespace
}  // namespace pocket
