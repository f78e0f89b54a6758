// A minimal PNG writer for inspection output (`pocket preprocess` tiles). The media library
// otherwise only decodes, and a debug output must not pull in an encoder library, so the zlib
// stream uses stored (uncompressed) deflate blocks (RFC 1950/1951), which any decoder accepts.
#pragma once

#include <cstdint>
#include <vector>

#include "media/image.h"

namespace pocket {

// 8-bit RGB image -> PNG file bytes. Throws pocket::Error for another mode or an empty image.
std::vector<uint8_t> encode_png_rgb(const Image& img);

}  // namespace pocket
