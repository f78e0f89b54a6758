// SmolVLM2 video frame sampling and the prompt text that replaces one `<video>`: pure functions
// of a video's metadata (frame count, native frame rate, duration), reproducing transformers'
// SmolVLMVideoProcessor.sample_frames and SmolVLMProcessor.process_video byte for byte,
// including Python's rounding, float64 numpy.linspace, num2words and timedelta formatting.
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

// Text pieces of the SmolVLM2 video prompt.
struct SmolVlmVideoPromptTokens {
  std::string fake_token_around_image = "<fake_token_around_image>";
  std::string image_token = "<image>";
  std::string global_image_token = "<global-img>";
};

// The exact text replacing one `<video>`: intro with the frame count in words and the
// duration as H:MM:SS, then "\nFrame from MM:SS:" + one global tile (image_seq_len `<image>`)
// per frame, then "\n\n". image_seq_len: 64 (256M/500M) or 81 (2.2B).
std::string smolvlm_video_prompt(const std::vector<std::string>& timestamps, double duration, int image_seq_len,
                                 const SmolVlmVideoPromptTokens& tokens = {});

// Python helpers the prompt depends on, exposed for tests.
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
