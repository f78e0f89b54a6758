// `pocket video-plan` (apps/cli/cmd_video_plan.cpp, compiled into this test): every golden
// case of ../shared/golden/video/cases.json given as --frames/--fps/--duration prints that
// case's indices, timestamps and prompt; --video FILE reads a generated clip's metadata;
// bad arguments are refused.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "test_video_util.h"

void register_video_plan(CLI::App& app);

namespace pocket {
namespace {

using nlohmann::json;

// Runs `pocket video-plan ARGS` in-process and parses its stdout.
json video_plan(std::vector<std::string> args) {
  CLI::App app{"pocket"};
  register_video_plan(app);
  args.insert(args.begin(), "video-plan");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  testing::internal::CaptureStdout();
  try {
    app.parse(reversed);
  } catch (...) {
    testing::internal::GetCapturedStdout();
    throw;
  }
  return json::parse(testing::internal::GetCapturedStdout());
}

json load_cases() {
  std::ifstream f(std::string(POCKET_SHARED_DIR) + "/golden/video/cases.json", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

// Shortest text that reads back as the same double (Python's repr).
std::string repr(double v) { return fmt::format("{}", v); }

TEST(VideoPlanCli, GoldenCasesFromMetadata) {
  for (const json& c : load_cases()) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const json& in = c["inputs"];
    const json& out = c["outputs"];
    const json j = video_plan({"--frames", std::to_string(in["total_num_frames"].get<int64_t>()), "--fps",
                               repr(in["fps"].get<double>()), "--duration", repr(in["duration"].get<double>())});
    EXPECT_EQ(j["indices"], out["indices"]);
    EXPECT_EQ(j["timestamps"], out["timestamps"]);
    EXPECT_EQ(j["prompt"], out["prompt"]);
    EXPECT_EQ(j["num_image_tokens"], out["num_image_tokens"]);
    // Without --duration it is frames / fps, which is how every golden case was made.
    const json d = video_plan({"--frames", std::to_string(in["total_num_frames"].get<int64_t>()), "--fps",
                               repr(in["fps"].get<double>())});
    EXPECT_EQ(d["duration"].get<double>(), in["duration"].get<double>());
    EXPECT_EQ(d["prompt"], out["prompt"]);
  }
}

TEST(VideoPlanCli, RatioFpsAndOverrides) {
  // 30000/1001 is the 100s_29.97fps case's rate.
  const json j = video_plan({"--frames", "3000", "--fps", "30000/1001"});
  for (const json& c : load_cases()) {
    if (c["name"] == "100s_29.97fps") {
      EXPECT_EQ(j["prompt"], c["outputs"]["prompt"]);
    }
  }
  const json k = video_plan({"--frames", "600", "--fps", "30", "--target-fps", "2", "--max-frames", "8",
                             "--image-seq-len", "81"});
  EXPECT_EQ(k["indices"], json({30, 107, 184, 261, 338, 415, 492, 570}));
  EXPECT_EQ(k["num_image_tokens"], 8 * 81);
  EXPECT_NE(k["prompt"].get<std::string>().find("eight frames from a 0:00:20"), std::string::npos);
}

TEST(VideoPlanCli, FromAVideoFile) {
  REQUIRE_FFMPEG();
  const std::string path = video_test::make_video(
      "h264_10s_64x48_24.mp4", "-f lavfi -i testsrc2=size=64x48:rate=24 -t 10 " + video_test::h264_args());
  const json j = video_plan({"--video", path});
  EXPECT_EQ(j["num_frames"], 240);
  EXPECT_EQ(j["fps"], 24.0);
  EXPECT_EQ(j["duration"], 10.0);
  EXPECT_EQ(j["width"], 64);
  for (const json& c : load_cases()) {
    if (c["name"] != "10s_24fps") continue;
    EXPECT_EQ(j["indices"], c["outputs"]["indices"]);
    EXPECT_EQ(j["prompt"], c["outputs"]["prompt"]);
  }
}

TEST(VideoPlanCli, RefusesBadArguments) {
  EXPECT_THROW(video_plan({}), Error);
  EXPECT_THROW(video_plan({"--frames", "10"}), Error);
  EXPECT_THROW(video_plan({"--frames", "0", "--fps", "30"}), Error);
  EXPECT_THROW(video_plan({"--frames", "10", "--fps", "abc"}), Error);
  EXPECT_THROW(video_plan({"--frames", "10", "--fps", "-3"}), Error);
  EXPECT_THROW(video_plan({"--frames", "10", "--fps", "1/0"}), Error);
  EXPECT_THROW(video_plan({"--frames", "10", "--fps", "30", "--max-frames", "0"}), Error);
  EXPECT_THROW(video_plan({"--frames", "10", "--fps", "30", "--image-seq-len", "0"}), Error);
  EXPECT_THROW(video_plan({"--video", "/nonexistent.mp4"}), Error);
  EXPECT_THROW(video_plan({"--video", "x.mp4", "--frames", "10", "--fps", "30"}), Error);
}

}  // namespace
}  // namespace pocket
