// PNG writer for inspection output (media/png_write.h), through libpng's simplified API.
#include "media/png_write.h"

#include <png.h>

#include "core/error.h"

namespace pocket {

std::vector<uint8_t> encode_png_rgb(const Image& img) {
  POCKET_CHECK(img.mode == PixelMode::RGB && img.channels == 3 && img.width > 0 && img.height > 0,
               "PNG writer: expected a non-empty RGB image");
  png_image pi{};
  pi.version = PNG_IMAGE_VERSION;
  pi.width = static_cast<png_uint_32>(img.width);
  pi.height = static_cast<png_uint_32>(img.height);
  pi.format = PNG_FORMAT_RGB;
  const auto stride = static_cast<png_int_32>(img.row_bytes());
  png_alloc_size_t size = 0;  // first call: the size needed
  POCKET_CHECK(png_image_write_to_memory(&pi, nullptr, &size, 0, img.pixels.data(), stride, nullptr) != 0,
               "PNG writer: {}", pi.message);
  std::vector<uint8_t> out(size);
  POCKET_CHECK(png_image_write_to_memory(&pi, out.data(), &size, 0, img.pixels.data(), stride, nullptr) != 0,
               "PNG writer: {}", pi.message);
  out.resize(size);
  return out;
}

}  // namespace pocket
