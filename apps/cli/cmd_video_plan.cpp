// `pocket video-plan`: the SmolVLM2 frame plan of a video as one line of JSON — which frames
// are sampled (indices), their MM:SS timestamps and the prompt text that replaces one
// `<video>` — from metadata alone (--frames, --fps, optional --duration, which defaults to
// frames / fps as transformers' decoders compute it) or from a file's metadata (--video FILE,
// probed with FFmpeg; no frame is decoded).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "media/frame_sampling.h"
#include "vision/smolvlm_prompt.h"
#include "media/video.h"

namespace pocket {
namespace {

struct VideoPlanOptions {
  std::string video;
  int64_t frames = 0;
  // Numbers with a fraction are kept as text and parsed with from_chars: CLI11 parses through
  // long double, whose double rounding can differ from Python's float() in the last bit.
  std::string fps, duration, target_fps = "1", skip_secs = "1";
  int image_seq_len = 64;
  int64_t max_frames = 64;
  bool verbose = false;
  CLI::Option* frames_opt = nullptr;
  CLI::Option* fps_opt = nullptr;
  CLI::Option* duration_opt = nullptr;
};

// A decimal number, or a ratio "30000/1001" (divided in double, like Python's `/`).
double parse_number(const std::string& text, const char* what) {
  const auto parse = [&](std::string_view t) {
    double v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size()) fail("video-plan: {} '{}' is not a number", what, text);
    return v;
  };
  const auto slash = text.find('/');
  const double v = slash == std::string::npos
                       ? parse(text)
                       : parse(std::string_view(text).substr(0, slash)) / parse(std::string_view(text).substr(slash + 1));
  if (!std::isfinite(v)) fail("video-plan: {} '{}' is not a finite number", what, text);
  return v;
}

const char* frame_count_source_name(FrameCountSource s) {
  return s == FrameCountSource::ContainerHeader ? "container" : "packet_scan";
}

void run_video_plan(const VideoPlanOptions& o) {
  const bool from_file = !o.video.empty();
  if (from_file == (o.frames_opt->count() > 0)) fail("video-plan: give either --video FILE or --frames N --fps F");
  if (o.image_seq_len < 1) fail("video-plan: --image-seq-len must be positive");

  nlohmann::json out = nlohmann::json::object();
  VideoTiming timing;
  if (from_file) {
    if (o.fps_opt->count() > 0 || o.duration_opt->count() > 0)
      fail("video-plan: --fps and --duration describe metadata; with --video they come from the file");
    VideoOpenOptions options;
    options.verbose = o.verbose;
    const auto reader = VideoReader::open_file(o.video, options);
    const VideoInfo& info = reader->info();
    timing = info.timing();
    out["video"] = o.video;
    out["container"] = info.container;
    out["codec"] = info.codec;
    out["width"] = info.width;
    out["height"] = info.height;
    out["rotation"] = info.rotation;
    out["frame_count_source"] = frame_count_source_name(info.frame_count_source);
    out["variable_frame_rate"] = info.variable_frame_rate;
    out["has_audio"] = info.has_audio;
  } else {
    if (o.fps_opt->count() == 0) fail("video-plan: --frames needs --fps");
    if (o.frames < 1) fail("video-plan: --frames must be at least 1");
    const double fps = parse_number(o.fps, "--fps");
    if (fps <= 0) fail("video-plan: --fps must be positive");
    timing.total_num_frames = o.frames;
    timing.fps = fps;
    timing.duration = o.duration_opt->count() > 0 ? parse_number(o.duration, "--duration")
                                                  : static_cast<double>(o.frames) / fps;
  }
  FrameSamplingParams params;
  params.target_fps = parse_number(o.target_fps, "--target-fps");
  params.max_frames = o.max_frames;
  params.skip_secs = parse_number(o.skip_secs, "--skip-secs");
  const FrameSamplingPlan plan = sample_video_frames(timing, params);

  out["num_frames"] = timing.total_num_frames;
  out["fps"] = timing.fps;
  out["duration"] = timing.duration;
  out["indices"] = plan.indices;
  out["timestamps"] = plan.timestamps;
  out["timestamps_seconds"] = plan.timestamps_seconds;
  out["num_image_tokens"] = static_cast<int64_t>(plan.indices.size()) * o.image_seq_len;
  out["prompt"] = smolvlm_video_prompt(plan.timestamps, timing.duration, o.image_seq_len);
  std::cout << out.dump() << "\n";
}

}  // namespace
}  // namespace pocket

// Global namespace, as apps/cli/commands.h declares the standalone commands.
void register_video_plan(CLI::App& app) {
  using pocket::VideoPlanOptions;
  auto opts = std::make_shared<VideoPlanOptions>();
  CLI::App* cmd = app.add_subcommand("video-plan", "Print the SmolVLM2 frame sampling and video prompt as JSON");
  cmd->add_option("--video", opts->video, "Video file whose metadata to use");
  opts->frames_opt = cmd->add_option("--frames", opts->frames, "Total number of frames in the video");
  opts->fps_opt = cmd->add_option("--fps", opts->fps, "Native frame rate of the video (e.g. 25 or 30000/1001)");
  opts->duration_opt = cmd->add_option("--duration", opts->duration, "Duration in seconds (default frames / fps)");
  cmd->add_option("--image-seq-len", opts->image_seq_len, "<image> tokens per frame: 64 (256M/500M) or 81 (2.2B)")
      ->capture_default_str();
  cmd->add_option("--max-frames", opts->max_frames, "Most frames to sample")->capture_default_str();
  cmd->add_option("--target-fps", opts->target_fps, "Frames sampled per second of video")->capture_default_str();
  cmd->add_option("--skip-secs", opts->skip_secs, "Seconds trimmed at both ends of long videos")
      ->capture_default_str();
  cmd->add_flag("--verbose", opts->verbose, "Let FFmpeg log warnings while probing --video");
  cmd->callback([opts]() { pocket::run_video_plan(*opts); });
}
