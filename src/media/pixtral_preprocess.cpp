// Pixtral preprocessing. ref: mistralai/mistral-common src/mistral_common/tokens/tokenizers/image.py
// @ bc022b91aa1c3b1fb771ac70931ae0009dbf9bad (v1.11.7): ImageEncoder._image_to_num_tokens,
// ImageEncoder.__call__, _convert_to_rgb, transform_image, normalize.
#include "media/pixtral_preprocess.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "media/resample.h"

namespace pocket {
namespace {

// Python's round(float) -> int: ties to even on the exact double value.
int py_round(double x) {
  const double r = std::nearbyint(x);  // default rounding mode is round-half-even
  return static_cast<int>(r);
}

// Python's floor division for the small ints of the grid rule ((w - 1) // unit + 1).
int py_floordiv(int a, int b) {
  int q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::array<int, 2> pixtral_fitted_size(int width, int height, const PixtralParams& p) {
  POCKET_CHECK(width > 0 && height > 0, "Pixtral preprocessing: empty image {}x{}", width, height);
  POCKET_CHECK(p.max_image_size > 0 && p.patch_size > 0 && p.spatial_merge_size > 0,
               "Pixtral preprocessing: invalid parameters");
  const double ratio = std::max(static_cast<double>(height) / p.max_image_size,
                                static_cast<double>(width) / p.max_image_size);
  int w = width, h = height;
  if (ratio > 1) {
    w = py_round(width / ratio);
    h = py_round(height / ratio);
  }
  return {w, h};
}

PixtralPlan pixtral_plan(int width, int height, const PixtralParams& p) {
  const auto [w, h] = pixtral_fitted_size(width, height, p);
  const int unit = p.patch_size * p.spatial_merge_size;
  PixtralPlan plan;
  plan.width = width;
  plan.height = height;
  plan.fitted_w = w;
  plan.fitted_h = h;
  plan.cols = py_floordiv(w - 1, unit) + 1;
  plan.rows = py_floordiv(h - 1, unit) + 1;
  POCKET_CHECK(plan.cols > 0 && plan.rows > 0,
               "Pixtral preprocessing: a {}x{} image scales to {}x{}, which has a side of 0 tokens", width, height, w,
               h);
  plan.out_w = plan.cols * unit;
  plan.out_h = plan.rows * unit;
  plan.num_img_tokens = plan.rows * plan.cols;
  plan.num_tokens = plan.rows * (plan.cols + 1);
  return plan;
}

Image pixtral_to_rgb(const Image& image) {
  if (image.mode == PixelMode::RGB) return image;
  return paste_over_white(convert_to_rgba(image));
}

PixtralImage pixtral_preprocess(const Image& image, const PixtralParams& p) {
  PixtralImage out;
  out.plan = pixtral_plan(image.width, image.height, p);
  const Image rgb = pixtral_to_rgb(image);
  const std::vector<float> resized =
      opencv_resize_cubic(rgb.pixels.data(), rgb.width, rgb.height, 3, out.plan.out_w, out.plan.out_h);
  // normalize(): np_image / 255.0 stays float32 (numpy 1.24 keeps the array's dtype for a
  // Python scalar), then (x - mean) / std in float64 with the tuple constants; the result is
  // returned as float32 here.
  const size_t n = static_cast<size_t>(out.plan.out_w) * out.plan.out_h;
  out.pixels.resize(3 * n);
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      const float x = resized[3 * i + c] / 255.0f;
      out.pixels[c * n + i] = static_cast<float>((static_cast<double>(x) - p.image_mean[c]) / p.image_std[c]);
    }
  }
  return out;
}

}  // namespace pocket
