// SmolVLM2 image plan, tiles, prompt text and pixel values.
// ref: huggingface/transformers src/transformers/models/smolvlm/image_processing_smolvlm.py and
// processing_smolvlm.py @ 00964605f206d1f8b86e63d0e9afade4762c58c0 (slow PIL processor).
#include "media/smolvlm_preprocess.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace pocket {
namespace {

// Python's int(x) for the positive, bounded floats of the size rules.
int py_int(double x) { return static_cast<int>(std::trunc(x)); }

// math.ceil(a / b) with Python's true (float64) division.
int py_ceil_div(int a, int b) { return static_cast<int>(std::ceil(static_cast<double>(a) / b)); }

// ref: _resize_output_size_rescale_to_max_len (min_len = 1). The float64 operations matter:
// 2048 / (2048 / 93) is 92.99999999999999, so a 2048x93 image becomes 2048x92, not 2048x94.
void rescale_to_max_len(int& h, int& w, int max_len) {
  const double aspect = static_cast<double>(w) / h;
  if (w >= h) {
    w = max_len;
    h = py_int(w / aspect);
    if (h % 2 != 0) h += 1;
  } else {
    h = max_len;
    w = py_int(h * aspect);
    if (w % 2 != 0) w += 1;
  }
  h = std::max(h, 1);
  w = std::max(w, 1);
}

// ref: _resize_output_size_scale_below_upper_bound (MAX_IMAGE_SIZE).
void scale_below_upper_bound(int& h, int& w, int max_len) {
  const double aspect = static_cast<double>(w) / h;
  if (w >= h && w > max_len) {
    w = max_len;
    h = py_int(w / aspect);
  } else if (h > w && h > max_len) {
    h = max_len;
    w = py_int(h * aspect);
  }
  h = std::max(h, 1);
  w = std::max(w, 1);
}

// ref: SmolVLMImageProcessor.resize_for_vision_encoder
void snap_to_tiles(int& h, int& w, int s) {
  const double aspect = static_cast<double>(w) / h;
  if (w >= h) {
    w = py_ceil_div(w, s) * s;
    h = py_int(w / aspect);
    h = py_ceil_div(h, s) * s;
  } else {
    h = py_ceil_div(h, s) * s;
    w = py_int(h * aspect);
    w = py_ceil_div(w, s) * s;
  }
}

// The processor's resize of an image in its current mode (SmolVLMImageProcessor.resize): a
// 1-channel array goes to Pillow as mode P (so NEAREST); RGBA is resized premultiplied.
Image processor_resize(const Image& im, int w, int h, ResampleFilter filter, SmolVlmResizeStep* step) {
  if (step) {
    step->from_w = im.width;
    step->from_h = im.height;
    step->to_w = w;
    step->to_h = h;
  }
  if (im.width == w && im.height == h) {
    if (step) step->kind = SmolVlmResizeKind::Copy;
    return im;
  }
  Image out = im;
  out.width = w;
  out.height = h;
  out.pixels.assign(static_cast<size_t>(w) * h * im.channels, 0);
  if (im.channels == 1 || filter == ResampleFilter::Nearest) {
    if (step) step->kind = SmolVlmResizeKind::Nearest;
    pillow_resize_nearest_u8(im.pixels.data(), im.width, im.height, im.channels, out.pixels.data(), w, h);
    return out;
  }
  if (step) step->kind = im.mode == PixelMode::RGBA ? SmolVlmResizeKind::Premultiplied : SmolVlmResizeKind::Filter;
  return pillow_resize(im, w, h, filter);
}

// convert_to_rgb in image_processing_smolvlm.py: P -> palette, L -> grey, RGBA -> composited
// over white (Image.alpha_composite), RGB unchanged (compositing opaque pixels is exact).
Image tile_to_rgb(const Image& tile) {
  switch (tile.mode) {
    case PixelMode::RGB: return tile;
    case PixelMode::RGBA: return composite_over_white(tile);
    case PixelMode::L:
    case PixelMode::P: {
      // The palette the processor saved comes back without the image's transparency.
      Image t = tile;
      t.palette_alpha.clear();
      return convert_to_rgb(t);
    }
    case PixelMode::LA: break;
  }
  fail("SmolVLM preprocessing: unexpected tile mode {}", pixel_mode_name(tile.mode));
}

}  // namespace

SmolVlmParams smolvlm_params_for(int tile_size, int longest_edge, int patch_size, int scale_factor) {
  POCKET_CHECK(tile_size > 0 && longest_edge > 0 && patch_size > 0 && scale_factor > 0,
               "SmolVLM parameters: tile {}, longest edge {}, patch {}, scale factor {}", tile_size, longest_edge,
               patch_size, scale_factor);
  const int side = tile_size / patch_size;  // 384 / 14 = 27: the last pixels are never seen
  POCKET_CHECK(side % scale_factor == 0, "SmolVLM parameters: {} patches per side do not divide by scale factor {}",
               side, scale_factor);
  SmolVlmParams p;
  p.tile_size = tile_size;
  p.longest_edge = longest_edge;
  p.image_seq_len = (side / scale_factor) * (side / scale_factor);
  return p;
}

SmolVlmPlan smolvlm_plan(int width, int height, const SmolVlmParams& p) {
  POCKET_CHECK(width > 0 && height > 0, "SmolVLM preprocessing: empty image {}x{}", width, height);
  POCKET_CHECK(p.longest_edge > 0 && p.tile_size > 0 && p.image_seq_len > 0 && p.max_image_size > 0,
               "SmolVLM preprocessing: invalid parameters (longest_edge {}, tile {}, image_seq_len {})",
               p.longest_edge, p.tile_size, p.image_seq_len);
  SmolVlmPlan plan;
  plan.width = width;
  plan.height = height;
  int h = height, w = width;
  rescale_to_max_len(h, w, p.longest_edge);
  scale_below_upper_bound(h, w, p.max_image_size);
  plan.resized_w = w;
  plan.resized_h = h;
  if (p.do_image_splitting) {
    snap_to_tiles(h, w, p.tile_size);
    POCKET_CHECK(w > 0 && h > 0, "SmolVLM preprocessing: {}x{} snaps to an empty {}x{} image", width, height, w, h);
    plan.snapped_w = w;
    plan.snapped_h = h;
    if (h > p.tile_size || w > p.tile_size) {
      // ref: split_image: ceil(height / S) rows of ceil(height / rows) pixels.
      plan.rows = py_ceil_div(h, p.tile_size);
      plan.cols = py_ceil_div(w, p.tile_size);
      plan.num_tiles = plan.rows * plan.cols + 1;
    } else {
      plan.num_tiles = 1;
    }
  } else {
    plan.snapped_w = plan.snapped_h = p.tile_size;
    plan.num_tiles = 1;
  }
  plan.num_image_tokens = plan.num_tiles * p.image_seq_len;
  return plan;
}

SmolVlmImage smolvlm_preprocess(const Image& input, const SmolVlmParams& p) {
  SmolVlmImage out;
  out.plan = smolvlm_plan(input.width, input.height, p);
  const SmolVlmPlan& plan = out.plan;
  // transformers has no LA path (2 channels are rejected); treat it as the RGBA it stands for.
  const Image converted = input.mode == PixelMode::LA ? convert_to_rgba(input) : Image();
  const Image& src = input.mode == PixelMode::LA ? converted : input;

  Image resized = processor_resize(src, plan.resized_w, plan.resized_h, p.resample, &out.resize_longest);
  Image snapped = processor_resize(resized, plan.snapped_w, plan.snapped_h, p.resample, &out.resize_snap);
  resized = Image();

  if (plan.rows > 0) {
    const int S = p.tile_size;
    const int tile_h = py_ceil_div(snapped.height, plan.rows);
    const int tile_w = py_ceil_div(snapped.width, plan.cols);
    for (int r = 0; r < plan.rows; ++r) {
      for (int c = 0; c < plan.cols; ++c) {
        SmolVlmTile t;
        t.row = r + 1;
        t.col = c + 1;
        t.x0 = c * tile_w;
        t.y0 = r * tile_h;
        t.x1 = std::min(t.x0 + tile_w, snapped.width);
        t.y1 = std::min(t.y0 + tile_h, snapped.height);
        t.rgb = tile_to_rgb(crop_image(snapped, t.x0, t.y0, t.x1, t.y1));
        out.tiles.push_back(std::move(t));
      }
    }
    SmolVlmTile g;
    g.global = true;
    g.x1 = snapped.width;
    g.y1 = snapped.height;
    g.rgb = tile_to_rgb(processor_resize(snapped, S, S, p.resample, &out.resize_global));
    out.tiles.push_back(std::move(g));
  } else {
    SmolVlmTile g;
    g.global = true;
    g.x1 = snapped.width;
    g.y1 = snapped.height;
    g.rgb = tile_to_rgb(snapped);
    out.tiles.push_back(std::move(g));
  }
  return out;
}

std::vector<float> smolvlm_pixel_values(const Image& tile, const SmolVlmParams& p) {
  POCKET_CHECK(tile.mode == PixelMode::RGB, "SmolVLM pixel values need an RGB tile, got {}",
               pixel_mode_name(tile.mode));
  // ref: transformers image_transforms.rescale (float64 product, cast to float32) and
  // normalize ((x - mean) / std with float32 mean/std arrays): a 256-entry table per channel.
  float table[3][256];
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      const float x = static_cast<float>(v * p.rescale_factor);
      table[c][v] = (x - p.image_mean[c]) / p.image_std[c];
    }
  }
  const size_t n = static_cast<size_t>(tile.width) * tile.height;
  std::vector<float> out(3 * n);
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) out[c * n + i] = table[c][tile.pixels[3 * i + c]];
  }
  return out;
}

}  // namespace pocket
