// `pocket compare`: measures several models one after another in one process, on the same
// inputs, so their numbers are comparable: sizes, load time, peak resident memory, KV bytes
// per token, time to first token for text / one tile / a 1920x1080 image / a video, prefill
// and decode throughput, image encode time per tile, CPU time per answer, answer quality on
// prompts with references, and capabilities. Each model is loaded, measured and freed before
// the next one, so peak memory is per model (see measure_model in compare.cpp).
// The verdict over these numbers lives in compare_verdict.h; rendering lives in apps/cli.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/compare_quality.h"
#include "media/image.h"
#include "runtime/engine.h"

namespace pocket {

// One entry of the command line: the reference as typed and an optional projector override.
struct CompareModelSpec {
  std::string spec;    // GGUF path, checkpoint directory, short name or Hub repo
  std::string mmproj;  // explicit mmproj; empty = whatever resolve_model() found
};

// One prompt of the suite. Media paths are absolute or relative to the working directory
// (the JSONL loader resolves them against the file's folder). An image path of the form
// "synthetic:WxH" is generated in memory (used by the built-in smoke suite).
using ComparePrompt = PromptSpec;  // one prompt of the suite (io/prompt_suite.h)

struct CompareOptions {
  int n_threads = 0;     // 0 = all cores
  int runs = 1;          // repetitions of each latency/throughput probe (the median is kept)
  int max_tokens = 32;   // tokens generated per answer and by the decode probe
  int64_t n_ctx = 4096;  // context per session (capped by the model)
  std::string video_probe;  // video file for the video TTFT probe; empty: synthetic frames
  std::function<void(const std::string&)> progress;  // one line per step (may be empty)
};

struct ComparePromptResult {
  std::string id;
  bool answered = false;
  std::string skipped_reason;  // when !answered: why the model could not take the prompt
  std::string answer;
  std::optional<AnswerScores> scores;  // prompts with references only (0s when not answered)
  double ttft_ms = 0;
  double total_ms = 0;
  double cpu_seconds = 0;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
};

struct CompareCapabilities {
  bool images = false;       // a vision projector is loaded
  bool multi_image = false;  // several images per prompt (both supported families)
  bool video = false;        // video input (SmolVLM2 / idefics3 projectors)
  bool tools = false;        // the chat template handles tool definitions
  int64_t context_length = 0;  // training context (hparams)
  std::string license;         // general.license, or "unknown"
  std::string vision_family;   // "idefics3", "pixtral" or "" (text only)
};

struct ModelMeasurement {
  std::string spec;          // as typed
  std::string label;         // short display name (file stem, de-duplicated)
  std::string model_path, mmproj_path;
  std::string arch, name;    // general.architecture, general.name
  std::string error;         // non-empty: loading or measuring failed (kept, never ranked)
  int threads = 0;

  uint64_t model_bytes = 0, mmproj_bytes = 0;
  double load_ms = 0;
  uint64_t baseline_rss_bytes = 0;  // resident memory just before loading
  uint64_t peak_rss_bytes = 0;      // process peak while this model was loaded and measured
  std::string peak_rss_method;      // "vmhwm-reset" or "sampled"
  int64_t kv_bytes_per_token = 0;

  double ttft_text_ms = 0;
  std::optional<double> ttft_tile_ms, ttft_image_ms, ttft_video_ms;  // unset: unsupported
  std::string video_probe;  // the file, or "synthetic 8 frames 1920x1080"
  double prefill_tokens_per_second = 0;
  double decode_tokens_per_second = 0;
  std::optional<double> encode_ms_per_tile;
  int64_t image_tiles_1080p = 0;  // tiles (SmolVLM2) or images (Pixtral) encoded for the image probe
  double cpu_seconds_per_answer = 0;

  int n_scored = 0;  // prompts with references
  std::optional<double> quality, exact, contains, anls;  // means over the scored prompts

  CompareCapabilities caps;
  std::vector<ComparePromptResult> prompts;  // in suite order
  std::vector<std::string> notes;  // probes that could not run, and why
};

// Measures each model in turn (see the file comment). A model that fails to load or run is
// reported with `error` set; the others go on. Throws only for invalid options.
std::vector<ModelMeasurement> run_compare(const std::vector<CompareModelSpec>& models,
                                          const std::vector<ComparePrompt>& prompts, const CompareOptions& opt);

// Fills a synthetic RGB image (smooth gradients and blocks, so encoders see structure).
Image make_synthetic_image(int width, int height, uint32_t seed = 0);

}  // namespace pocket
