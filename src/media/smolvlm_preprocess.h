// SmolVLM / SmolVLM2 (Idefics3 family) image preprocessing, reproducing transformers' slow PIL
// SmolVLMImageProcessor + SmolVLMProcessor (image_processing_smolvlm.py, processing_smolvlm.py):
// longest-edge resize (small images are upscaled), stretch to tile multiples, row-major S×S
// crops plus a global S×S tile last, and the float rescale / normalization (the `<image>`
// expansion text is the vision family's: vision/smolvlm_prompt.h). Sizes come from the model (mmproj GGUF: clip.vision.image_size = tile size,
// clip.vision.preproc_image_size = longest edge, image_seq_len from the projector scale factor).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "media/image.h"
#include "media/resample.h"

namespace pocket {

struct SmolVlmParams {
  int longest_edge = 2048;  // size.longest_edge
  int tile_size = 512;      // max_image_size.longest_edge (the vision encoder's image size)
  int image_seq_len = 64;   // `<image>` tokens per tile: (tile / patch)^2 / scale_factor^2
  bool do_image_splitting = true;
  ResampleFilter resample = ResampleFilter::Lanczos;
  double rescale_factor = 1.0 / 255.0;
  std::array<float, 3> image_mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> image_std{0.5f, 0.5f, 0.5f};
  int max_image_size = 4096;  // transformers' MAX_IMAGE_SIZE cap after the longest-edge resize
};

// What one resize did: sizes and the filter Pillow really applied.
enum class SmolVlmResizeKind {
  Copy,        // same size: Pillow returns a copy
  Filter,      // the requested filter on RGB data
  Premultiplied,  // the requested filter on premultiplied RGBa
  Nearest,     // 1-channel input, which Pillow receives as mode P
};

struct SmolVlmResizeStep {
  int from_w = 0, from_h = 0, to_w = 0, to_h = 0;
  SmolVlmResizeKind kind = SmolVlmResizeKind::Filter;
};

// Parameters from an mmproj GGUF: tile = clip.vision.image_size, longest edge =
// clip.vision.preproc_image_size (4 · tile in the shipped models), image_seq_len =
// (tile / patch)^2 / scale_factor^2 (64 for 512/16/4, 81 for 384/14/3). Throws if the patch grid
// does not divide by the scale factor.
SmolVlmParams smolvlm_params_for(int tile_size, int longest_edge, int patch_size, int scale_factor);

// Size arithmetic only (no pixels).
struct SmolVlmPlan {
  int width = 0, height = 0;          // input
  int resized_w = 0, resized_h = 0;   // after the longest-edge resize
  int snapped_w = 0, snapped_h = 0;   // after the tile-multiple (or square, without splitting) resize
  int rows = 0, cols = 0;             // 0, 0 when the image is not split
  int num_tiles = 0;                  // rows·cols crops + 1 global (1 when not split)
  int num_image_tokens = 0;           // num_tiles · image_seq_len
};

// Throws pocket::Error on a non-positive size or parameters that give an empty tile grid.
SmolVlmPlan smolvlm_plan(int width, int height, const SmolVlmParams& params);

struct SmolVlmTile {
  bool global = false;
  int row = 0, col = 0;           // 1-based, as in <row_r_col_c>; 0 for the global tile
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // crop box in the snapped image (whole image if global)
  Image rgb;                      // 8-bit RGB, before rescaling and normalization
};

struct SmolVlmImage {
  SmolVlmPlan plan;
  SmolVlmResizeStep resize_longest, resize_snap, resize_global;  // resize_global unused if not split
  std::vector<SmolVlmTile> tiles;  // crops row by row, left to right, then the global tile
};

// Runs the processor on an image in the mode it is given (transformers' behaviour differs per
// PIL mode): RGB as is; RGBA (and LA, converted to RGBA) resized premultiplied and composited
// over white after the last resize; L and P resized with NEAREST, then grey replicated /
// palette looked up. Use load_image_rgb() first to get what a path or URL input produces.
SmolVlmImage smolvlm_preprocess(const Image& image, const SmolVlmParams& params);

// pixel_values of one tile: float32(u8 · rescale_factor), then (x − mean) / std in float32, CHW.
std::vector<float> smolvlm_pixel_values(const Image& rgb_tile, const SmolVlmParams& params);

}  // namespace pocket
