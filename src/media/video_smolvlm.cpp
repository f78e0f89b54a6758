// SmolVLM2 video preprocessing (see video_smolvlm.h).
#include "media/video_smolvlm.h"

#include <algorithm>

#include "core/error.h"

namespace pocket {

namespace {
constexpr int kMaxImageSize = 4096;  // MAX_IMAGE_SIZE in video_processing_smolvlm.py
}

void smolvlm_video_resize_size(int width, int height, int longest_edge, int* out_width, int* out_height) {
  // ref: transformers smolvlm/video_processing_smolvlm.py get_resize_output_image_size.
  if (width <= 0 || height <= 0) fail("video frame: invalid size {}x{}", width, height);
  if (longest_edge <= 0) fail("video frame: longest_edge must be positive (got {})", longest_edge);
  const int side = std::min(kMaxImageSize, longest_edge);
  const double aspect = static_cast<double>(width) / static_cast<double>(height);
  int w, h;
  if (width >= height) {
    w = side;
    h = static_cast<int>(static_cast<double>(w) / aspect);
    if (h % 2 != 0) ++h;
  } else {
    h = side;
    w = static_cast<int>(static_cast<double>(h) * aspect);
    if (w % 2 != 0) ++w;
  }
  *out_width = std::max(w, 1);
  *out_height = std::max(h, 1);
}

Image smolvlm_video_tile(const Image& rgb, const SmolVlmVideoParams& params) {
  if (rgb.mode != PixelMode::RGB) fail("video frame: expected an RGB frame");
  if (params.tile_size <= 0) fail("video frame: tile_size must be positive (got {})", params.tile_size);
  int w = 0, h = 0;
  smolvlm_video_resize_size(rgb.width, rgb.height, params.longest_edge, &w, &h);
  // Both resizes of SmolVLMVideoProcessor.resize: longest edge, then squash to the tile.
  const Image resized = pillow_resize(rgb, w, h, params.resample);
  Image tile = pillow_resize(resized, params.tile_size, params.tile_size, params.resample);
  // pillow_resize starts from a copy of its input, so the tile's buffer keeps the capacity of
  // the longest-edge image (~7 MiB at 2048×1152); 64 kept tiles must not hold 64 of those.
  std::vector<uint8_t>(tile.pixels.begin(), tile.pixels.end()).swap(tile.pixels);
  return tile;
}

SmolVlmVideo smolvlm_prepare_video(VideoReader& reader, const SmolVlmVideoParams& params) {
  if (params.image_seq_len < 1) fail("video: image_seq_len must be positive (got {})", params.image_seq_len);
  SmolVlmVideo out;
  out.info = reader.info();
  out.plan = sample_video_frames(out.info.timing(), params.sampling);
  out.tiles.reserve(out.plan.indices.size());
  reader.read_frames(out.plan.indices, [&](VideoFrame&& frame) {
    if (!frame.exact) ++out.inexact_frames;
    out.frame_times.push_back(frame.time);
    out.tiles.push_back(smolvlm_video_tile(frame.rgb, params));
  });
  if (out.tiles.size() != out.plan.indices.size()) fail("video: decoded {} of {} frames", out.tiles.size(),
                                                        out.plan.indices.size());
  out.num_image_tokens = static_cast<int64_t>(out.tiles.size()) * params.image_seq_len;
  return out;
}

SmolVlmVideo smolvlm_prepare_video_file(const std::string& path, const SmolVlmVideoParams& params,
                                        const VideoOpenOptions& options) {
  auto reader = VideoReader::open_file(path, options);
  return smolvlm_prepare_video(*reader, params);
}

}  // namespace pocket
