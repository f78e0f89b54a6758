// PNG encoding for inspection output (`pocket preprocess` tiles), with the libpng the decoders
// already use.
#pragma once

#include <cstdint>
#include <vector>

#include "media/image.h"

namespace pocket {

// 8-bit RGB image -> PNG file bytes. Throws pocket::Error for another mode or an empty image.
std::vector<uint8_t> encode_png_rgb(const Image& img);

}  // namespace pocket
