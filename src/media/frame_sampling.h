// SmolVLM2 video frame sampling: pure functions of a video's metadata (frame count, native
// frame rate, duration), reproducing transformers' SmolVLMVideoProcessor.sample_frames byte for
// byte, including Python's rounding and float64 numpy.linspace, plus the num2words and
// timedelta formatting the prompt text (vision/smolvlm_prompt.h) needs. No tokens here.
// ref: huggingface/transformers src/transformers/models/smolvlm/video_processing_smolvlm.py,
//      src/transformers/models/smolvlm/processing_smolvlm.py, src/transformers/video_utils.py.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pocket {

// What transformers' video decoders put in VideoMetadata: duration = total_num_frames / fps.
struct VideoTiming {
  int64_t total_num_frames = 0;
  double fps = 0;       // native frame rate
  double duration = 0;  // seconds
};

// The `video_sampling` values of every SmolVLM2 preprocessor_config.json (apply_chat_template
// injects num_frames = 64 and fps = 1).
struct FrameSamplingParams {
  double target_fps = 1.0;  // frames sampled per second of video
  int64_t max_frames = 64;  // `num_frames`: upper bound on sampled frames
  double skip_secs = 1.0;   // trimmed at both ends of long videos
};

// Every intermediate of sample_frames, so tests can check each step.
struct FrameSamplingPlan {
  int64_t estimated_frames = 0;  // round(target_fps · duration), ties to even
  int64_t desired_frames = 0;    // min(estimated, max_frames), at least 1
  bool skip_applied = false;     // duration − 2·skip_secs > max_frames · target_fps
  bool range_reset_to_full = false;
  int64_t start_idx = 0, end_idx = 0;
  std::vector<int64_t> linspace;            // numpy.linspace(start, end, desired, dtype=int)
  std::vector<int64_t> indices;             // sorted, de-duplicated: the frames fed to the model
  std::vector<double> timestamps_seconds;   // indices[k] / fps
  std::vector<std::string> timestamps;      // "MM:SS", minutes not wrapped at 60
};

// Throws pocket::Error on a frame count < 1, a non-finite or non-positive fps, a non-finite or
// negative duration, max_frames < 1 or non-finite sampling parameters.
FrameSamplingPlan sample_video_frames(const VideoTiming& timing, const FrameSamplingParams& params = {});

// Python helpers the SmolVLM2 video prompt depends on (vision/smolvlm_prompt.h).
// round(x) on a float: nearest integer, ties to even.
double python_round(double x);
// num2words(n) (English cardinal, num2words 0.5.x): "sixty-four", "one hundred and one",
// "one thousand, two hundred". Throws for n < 0 or n ≥ 10^15.
std::string number_to_words_en(int64_t n);
// str(datetime.timedelta(seconds=s)): "0:00:03", "2:00:00", "1 day, 0:00:00".
std::string timedelta_text(int64_t seconds);
// f"{int(t // 60):02d}:{int(t % 60):02d}" with Python's float floor division and modulo.
std::string timestamp_mmss(double t);

}  // namespace pocket
