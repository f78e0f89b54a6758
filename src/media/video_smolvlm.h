// SmolVLM2 video preprocessing: sample frames from a video's metadata (frame_sampling.h),
// decode only those (video.h), and turn each into one square tile for the vision encoder the
// way transformers' SmolVLMVideoProcessor does: resize so the longest edge is `longest_edge`
// (the even-size rule of get_resize_output_image_size), then squash to tile_size × tile_size;
// frames are never split, so each costs image_seq_len tokens.
// ref: huggingface/transformers src/transformers/models/smolvlm/video_processing_smolvlm.py.
//
// Filter: the reference runs torchvision's antialiased BICUBIC (it logs that LANCZOS, the
// configured resample, is unavailable for tensors); the default here is Pillow's BICUBIC
// (same a = −0.5 kernel and antialias support, 8-bit rounding between the two passes).
// ResampleFilter::Lanczos gives what the slow image processor would do to the same frame.
#pragma once

#include <string>
#include <vector>

#include "media/frame_sampling.h"
#include "media/image.h"
#include "media/resample.h"
#include "media/video.h"

namespace pocket {

struct SmolVlmVideoParams {
  // size.longest_edge: preprocessor_config's `size` overrides video_sampling.video_size, so
  // 2048 for the 256M/500M models and 1536 for 2.2B (capped at 4096 like the reference).
  int longest_edge = 2048;
  int tile_size = 512;     // max_image_size.longest_edge: 512, or 384 for 2.2B
  int image_seq_len = 64;  // `<image>` tokens per frame: 64, or 81 for 2.2B
  ResampleFilter resample = ResampleFilter::Bicubic;
  FrameSamplingParams sampling;  // fps 1, 64 frames, skip 1 s
};

// get_resize_output_image_size: the longest edge becomes min(longest_edge, 4096), the other
// int(edge / aspect) (or int(edge · aspect)) rounded up to even, at least 1.
void smolvlm_video_resize_size(int width, int height, int longest_edge, int* out_width, int* out_height);

// One RGB frame -> its tile_size × tile_size RGB tile (8-bit, before rescale/normalize).
Image smolvlm_video_tile(const Image& rgb, const SmolVlmVideoParams& params);

struct SmolVlmVideo {
  VideoInfo info;
  FrameSamplingPlan plan;    // indices, timestamps
  std::vector<Image> tiles;  // one per plan.indices entry
  std::vector<double> frame_times;  // the decoded frames' own times (seconds), informative
  int inexact_frames = 0;  // frames that stood in for one the decoder did not output
  int64_t num_image_tokens = 0;
};

// Samples, decodes and tiles. Memory: the tiles plus one decoded frame at a time.
SmolVlmVideo smolvlm_prepare_video(VideoReader& reader, const SmolVlmVideoParams& params = {});
SmolVlmVideo smolvlm_prepare_video_file(const std::string& path, const SmolVlmVideoParams& params = {},
                                        const VideoOpenOptions& options = {});

}  // namespace pocket
