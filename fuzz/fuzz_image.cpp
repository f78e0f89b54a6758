// libFuzzer target for image decoding (JPEG, PNG, WebP, GIF, TIFF): any byte string must either
// decode or fail with pocket::Error. What a decode returns is pushed through the conversions,
// EXIF transpose, both resamplers and small versions of the SmolVLM2 / Pixtral pipelines so
// that bad sizes, palettes or strides surface under ASan/UBSan.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "media/image.h"
#include "media/pixtral_preprocess.h"
#include "media/resample.h"
#include "media/smolvlm_preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pocket;
  DecodeLimits limits;
  limits.max_pixels = 4'000'000;  // keep each run fast and under the RSS limit
  limits.max_bytes = 1u << 22;
  try {
    const Image im = decode_image_memory(std::span<const uint8_t>(data, size), limits);
    const Image up = exif_transpose(im);
    const Image rgb = convert_to_rgb(up);
    const Image rgba = convert_to_rgba(up);
    volatile size_t sink = rgb.pixels.size() + rgba.pixels.size() + im.palette.size();
    if (static_cast<uint64_t>(im.width) * im.height <= 65536) {
      const int w = im.width / 2 + 1, h = im.height / 3 + 2;
      sink = sink + pillow_resize(im, w, h, ResampleFilter::Lanczos).pixels.size();
      sink = sink + pillow_resize(rgba, h, w, ResampleFilter::Bicubic).pixels.size();
      std::vector<float> f(rgb.pixels.begin(), rgb.pixels.end());
      sink = sink + opencv_resize_cubic(f.data(), rgb.width, rgb.height, 3, h, w).size();
      SmolVlmParams sp;
      sp.longest_edge = 64;
      sp.tile_size = 32;
      sp.image_seq_len = 4;
      const SmolVlmImage s = smolvlm_preprocess(im, sp);
      sink = sink + s.tiles.size() + static_cast<size_t>(s.plan.num_tiles);
      PixtralParams pp;
      pp.max_image_size = 64;
      try {
        sink = sink + pixtral_preprocess(im, pp).pixels.size();
      } catch (const Error&) {
        // a side that rounds to 0 tokens is a legitimate refusal
      }
    }
    (void)sink;
  } catch (const Error&) {
  }
  return 0;
}
