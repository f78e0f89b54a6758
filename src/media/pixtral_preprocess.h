// Pixtral image preprocessing as mistral-common's ImageEncoder does it (Ministral 3, Mistral
// Small 3.x, Pixtral): token grid from the size scaled under max_image_size (Python round, ties
// to even), colour to RGB over white, one OpenCV INTER_CUBIC resize from the original size to
// 28·cols × 28·rows, then CLIP mean/std normalization, CHW. (The token layout in the prompt is the
// vision family's: vision/pixtral_family.cpp.)
// mistral-common opens images with plain Image.open: no EXIF orientation is applied, so pass
// decode_image_*() results directly (not load_image_rgb()).
#pragma once

#include <array>
#include <vector>

#include "media/image.h"

namespace pocket {

struct PixtralParams {
  int max_image_size = 1540;
  int patch_size = 14;
  int spatial_merge_size = 2;
  std::array<double, 3> image_mean{0.48145466, 0.4578275, 0.40821073};
  std::array<double, 3> image_std{0.26862954, 0.26130258, 0.27577711};
};

struct PixtralPlan {
  int width = 0, height = 0;    // input
  int fitted_w = 0, fitted_h = 0;  // size scaled under max_image_size (only chooses the grid)
  int rows = 0, cols = 0;       // token grid (one [IMG] per spatial_merge² patches)
  int out_w = 0, out_h = 0;     // resize target: cols·unit × rows·unit, unit = patch·merge
  int num_img_tokens = 0;       // rows·cols
  int num_tokens = 0;           // rows·(cols + 1), with [IMG_BREAK]s and the final [IMG_END]
};

// The fitted size alone (mistral-common's _image_to_num_tokens before the grid); may be 0.
std::array<int, 2> pixtral_fitted_size(int width, int height, const PixtralParams& params);

// Throws pocket::Error where mistral-common fails its assertion (a side rounds to 0 tokens).
PixtralPlan pixtral_plan(int width, int height, const PixtralParams& params);

struct PixtralImage {
  PixtralPlan plan;
  std::vector<float> pixels;  // [3, out_h, out_w], normalized
};

// mistral-common _convert_to_rgb: RGB unchanged; any other mode converted to RGBA (palette
// transparency and tRNS grey become alpha) and pasted over white with its alpha as mask.
Image pixtral_to_rgb(const Image& image);

PixtralImage pixtral_preprocess(const Image& image, const PixtralParams& params);

}  // namespace pocket
