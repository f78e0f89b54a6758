// libFuzzer target for video input (FFmpeg demuxers and decoders behind VideoReader): any byte
// string, read from memory through VideoReader's custom AVIOContext, must either open, sample
// and decode, or fail with pocket::Error. Decoded frames go through the SmolVLM2 tile resize
// at a small size, and the plan through the SmolVLM2 video text (vision/smolvlm_prompt.h).
// Corpus (tests/corpus/fuzz_video/): 16×16 clips made with the ffmpeg CLI, e.g.
//   ffmpeg -f lavfi -i testsrc2=size=16x16:rate=5 -frames:v 2 -c:v libx264 -preset ultrafast \
//          -bsf:v filter_units=remove_types=6 -movflags +faststart h264_2f.mp4
// (likewise VP9 WebM, MJPEG MKV, MPEG-4 MP4, H.264 TS, a rotated MP4), plus truncated and
// byte-flipped copies.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "media/frame_sampling.h"
#include "vision/smolvlm_prompt.h"
#include "media/video.h"
#include "media/video_smolvlm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pocket;
  VideoOpenOptions options;
  options.limits.max_pixels = 1u << 20;  // keep each run fast and under the RSS limit
  options.limits.max_bytes = 1u << 22;
  options.limits.max_frames = 20000;
  options.threads = 1;
  try {
    auto reader = VideoReader::open_memory(std::span<const uint8_t>(data, size), options);
    FrameSamplingParams sampling;
    sampling.max_frames = 4;
    const FrameSamplingPlan plan = sample_video_frames(reader->info().timing(), sampling);
    SmolVlmVideoParams params;
    params.longest_edge = 48;
    params.tile_size = 16;
    volatile size_t sink = 0;
    reader->read_frames(plan.indices, [&](VideoFrame&& frame) {
      sink = sink + smolvlm_video_tile(frame.rgb, params).pixels.size();
    });
    // Again from the start: exercises seeking back over the same input.
    reader->read_frames(std::span<const int64_t>(plan.indices.data(), 1), [&](VideoFrame&& frame) {
      sink = sink + frame.rgb.pixels.size();
    });
    sink = sink + smolvlm_video_prompt(plan.timestamps, reader->info().duration, 4).size();
    (void)sink;
  } catch (const Error&) {
  }
  return 0;
}
