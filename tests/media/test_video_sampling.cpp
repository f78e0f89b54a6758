// SmolVLM2 video frame sampling against ../shared/golden/video/cases.json
// (transformers + numpy + num2words outputs, exact), plus the Python formatting helpers on
// values whose Python results are stated in the golden README or follow from the language.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "media/frame_sampling.h"

namespace pocket {
namespace {

using nlohmann::json;

json load_cases() {
  const std::string path = std::string(POCKET_SHARED_DIR) + "/golden/video/cases.json";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

TEST(VideoSampling, EveryGoldenCase) {
  const json cases = load_cases();
  ASSERT_GE(cases.size(), 10u);
  for (const json& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const json& in = c["inputs"];
    const json& p = c["params"];
    const json& out = c["outputs"];
    VideoTiming timing{in["total_num_frames"].get<int64_t>(), in["fps"].get<double>(), in["duration"].get<double>()};
    FrameSamplingParams params;
    params.target_fps = p["target_fps"].get<double>();
    params.max_frames = p["max_frames"].get<int64_t>();
    params.skip_secs = p["skip_secs"].get<double>();
    const FrameSamplingPlan plan = sample_video_frames(timing, params);
    EXPECT_EQ(plan.estimated_frames, out["estimated_frames"].get<int64_t>());
    EXPECT_EQ(plan.desired_frames, out["desired_frames"].get<int64_t>());
    EXPECT_EQ(plan.skip_applied, out["skip_applied"].get<bool>());
    EXPECT_EQ(plan.range_reset_to_full, out["range_reset_to_full"].get<bool>());
    EXPECT_EQ(plan.start_idx, out["start_idx"].get<int64_t>());
    EXPECT_EQ(plan.end_idx, out["end_idx"].get<int64_t>());
    EXPECT_EQ(plan.linspace, out["linspace"].get<std::vector<int64_t>>());
    EXPECT_EQ(plan.indices, out["indices"].get<std::vector<int64_t>>());
    EXPECT_EQ(static_cast<int64_t>(plan.indices.size()), out["num_frames"].get<int64_t>());
    EXPECT_EQ(plan.timestamps, out["timestamps"].get<std::vector<std::string>>());
    const auto secs = out["timestamps_seconds"].get<std::vector<double>>();
    ASSERT_EQ(plan.timestamps_seconds.size(), secs.size());
    for (size_t i = 0; i < secs.size(); ++i) EXPECT_NEAR(plan.timestamps_seconds[i], secs[i], 1e-12);
    EXPECT_EQ(number_to_words_en(static_cast<int64_t>(plan.indices.size())),
              out["frame_count_words"].get<std::string>());
    EXPECT_EQ(timedelta_text(static_cast<int64_t>(timing.duration)), out["duration_text"].get<std::string>());
    const int seq = p["image_seq_len"].get<int>();
    EXPECT_EQ(static_cast<int64_t>(plan.indices.size()) * seq, out["num_image_tokens"].get<int64_t>());
  }
}

// README traps that the golden cases do not all pin down directly.
TEST(VideoSampling, BoundaryTraps) {
  // 66.5 s skips (strictly more than 66 s), 65.998 s (1978 frames at 29.97 fps) does not.
  const double ntsc = 30000.0 / 1001.0;
  EXPECT_TRUE(sample_video_frames({1995, 30.0, 1995 / 30.0}).skip_applied);
  EXPECT_FALSE(sample_video_frames({1978, ntsc, 1978 / ntsc}).skip_applied);
  // Ties in round: 2.5 s gives 2 frames, 3.5 s gives 4.
  EXPECT_EQ(sample_video_frames({75, 30.0, 2.5}).desired_frames, 2);
  EXPECT_EQ(sample_video_frames({105, 30.0, 3.5}).desired_frames, 4);
  // Overrides: 2 frames per second, at most 8, on 20 s at 30 fps: 18 > 8 · 2 skips 1 s at both
  // ends (frames 30 .. 570), step 540 / 7.
  FrameSamplingParams p;
  p.target_fps = 2;
  p.max_frames = 8;
  const auto plan = sample_video_frames({600, 30.0, 20.0}, p);
  EXPECT_EQ(plan.desired_frames, 8);
  EXPECT_TRUE(plan.skip_applied);
  EXPECT_EQ(plan.indices, (std::vector<int64_t>{30, 107, 184, 261, 338, 415, 492, 570}));
}

TEST(VideoSampling, PythonHelpers) {
  EXPECT_EQ(python_round(0.5), 0);
  EXPECT_EQ(python_round(1.5), 2);
  EXPECT_EQ(python_round(2.5), 2);
  EXPECT_EQ(python_round(-0.5), -0.0);
  EXPECT_EQ(number_to_words_en(0), "zero");
  EXPECT_EQ(number_to_words_en(1), "one");
  EXPECT_EQ(number_to_words_en(21), "twenty-one");
  EXPECT_EQ(number_to_words_en(64), "sixty-four");
  EXPECT_EQ(number_to_words_en(100), "one hundred");
  EXPECT_EQ(number_to_words_en(101), "one hundred and one");
  EXPECT_EQ(number_to_words_en(155), "one hundred and fifty-five");
  EXPECT_EQ(number_to_words_en(1000), "one thousand");
  EXPECT_EQ(number_to_words_en(1001), "one thousand and one");
  EXPECT_EQ(number_to_words_en(1100), "one thousand, one hundred");
  EXPECT_EQ(number_to_words_en(1234), "one thousand, two hundred and thirty-four");
  EXPECT_EQ(number_to_words_en(21000), "twenty-one thousand");
  EXPECT_EQ(number_to_words_en(2000001), "two million and one");
  EXPECT_EQ(timedelta_text(0), "0:00:00");
  EXPECT_EQ(timedelta_text(65), "0:01:05");
  EXPECT_EQ(timedelta_text(7200), "2:00:00");
  EXPECT_EQ(timedelta_text(86400), "1 day, 0:00:00");
  EXPECT_EQ(timedelta_text(2 * 86400 + 3661), "2 days, 1:01:01");
  EXPECT_EQ(timestamp_mmss(0.0), "00:00");
  EXPECT_EQ(timestamp_mmss(59.999), "00:59");
  EXPECT_EQ(timestamp_mmss(7199.96), "119:59");
}

TEST(VideoSampling, RejectsBadMetadata) {
  EXPECT_THROW(sample_video_frames({0, 30.0, 0.0}), Error);
  EXPECT_THROW(sample_video_frames({10, 0.0, 1.0}), Error);
  EXPECT_THROW(sample_video_frames({10, -1.0, 1.0}), Error);
  EXPECT_THROW(sample_video_frames({10, 30.0, -1.0}), Error);
  EXPECT_THROW(sample_video_frames({10, 30.0, std::nan("")}), Error);
  FrameSamplingParams p;
  p.max_frames = 0;
  EXPECT_THROW(sample_video_frames({10, 30.0, 1.0}, p), Error);
  EXPECT_THROW(number_to_words_en(-1), Error);
  // Absurd but finite metadata stays well defined (64 frames, no overflow).
  const auto huge = sample_video_frames({INT64_C(1) << 40, 1e6, 1.0e12});
  EXPECT_EQ(huge.indices.size(), 64u);
}

}  // namespace
}  // namespace pocket
