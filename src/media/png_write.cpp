// Minimal PNG writer (media/png_write.h).
#include "media/png_write.h"

#include <array>

#include "core/error.h"

namespace pocket {

namespace {

uint32_t crc32_update(uint32_t crc, const uint8_t* p, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

void put_u32_be(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

void put_chunk(std::vector<uint8_t>& png, const char type[4], const std::vector<uint8_t>& data) {
  POCKET_CHECK(data.size() <= 0x7FFFFFFFu, "PNG chunk too large ({} bytes)", data.size());
  put_u32_be(png, static_cast<uint32_t>(data.size()));
  const size_t type_at = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data.begin(), data.end());
  const uint32_t crc = crc32_update(0xFFFFFFFFu, png.data() + type_at, 4 + data.size()) ^ 0xFFFFFFFFu;
  put_u32_be(png, crc);
}

}  // namespace

std::vector<uint8_t> encode_png_rgb(const Image& img) {
  POCKET_CHECK(img.mode == PixelMode::RGB && img.channels == 3 && img.width > 0 && img.height > 0,
               "PNG writer: expected a non-empty RGB image");
  // Filtered scanlines: filter type 0 (None) before each row.
  const size_t row = img.row_bytes();
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * img.height);
  for (int y = 0; y < img.height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), img.row(y), img.row(y) + row);
  }
  std::vector<uint8_t> z;
  z.reserve(raw.size() + raw.size() / 65535 * 5 + 16);
  z.push_back(0x78);  // CMF: deflate, 32K window
  z.push_back(0x01);  // FLG: no dictionary, check bits make 0x7801 a multiple of 31
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    z.push_back(pos + n == raw.size() ? 1 : 0);  // BFINAL, BTYPE = 00 (stored)
    z.push_back(static_cast<uint8_t>(n));
    z.push_back(static_cast<uint8_t>(n >> 8));
    z.push_back(static_cast<uint8_t>(~n));
    z.push_back(static_cast<uint8_t>(~n >> 8));
    z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos), raw.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;  // Adler-32 of the uncompressed data
  for (uint8_t v : raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  put_u32_be(z, (b << 16) | a);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32_be(ihdr, static_cast<uint32_t>(img.width));
  put_u32_be(ihdr, static_cast<uint32_t>(img.height));
  for (uint8_t v : {8, 2, 0, 0, 0}) ihdr.push_back(v);  // 8-bit, truecolour, deflate, adaptive, no interlace
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", z);
  put_chunk(png, "IEND", {});
  return png;
}

}  // namespace pocket
