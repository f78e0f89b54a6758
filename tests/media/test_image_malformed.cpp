// Untrusted image input: truncated files (every short prefix and a spread of longer ones),
// corrupted bytes, zero sizes, 1x1 images, headers over the pixel limit (which must be refused
// from the header, before any pixel memory) and random bytes behind every magic number. Each
// must either decode consistently or throw pocket::Error; nothing may crash (see also the
// fuzz_image target, which runs the same decoder under ASan/UBSan).
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "codec_writers.h"
#include "core/error.h"
#include "media/image.h"
#include "media/pixtral_preprocess.h"
#include "media/smolvlm_preprocess.h"
#include "media_test_util.h"

namespace pocket {
namespace {

using media_test::Bytes;

struct Seed {
  std::string name;
  Bytes bytes;
};

std::vector<Seed> synthetic_seeds() {
  std::vector<Seed> seeds;
  const int w = 24, h = 16;
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3), rgba(static_cast<size_t>(w) * h * 4);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7);
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<uint8_t>(i * 3 + 1);
  seeds.push_back({"jpeg-progressive", media_test::write_jpeg(rgb.data(), w, h, 3, JCS_RGB, 85, media_test::make_exif(6), true)});
  seeds.push_back({"jpeg", media_test::write_jpeg(rgb.data(), w, h, 3, JCS_RGB, 85)});
  seeds.push_back({"webp-lossy", media_test::write_webp(rgb.data(), w, h, false, false)});
  seeds.push_back({"webp-lossless-alpha", media_test::write_webp(rgba.data(), w, h, true, true, media_test::make_exif(3))});
  media_test::PngSpec p;
  p.width = w;
  p.height = h;
  p.color_type = PNG_COLOR_TYPE_PALETTE;
  p.bit_depth = 4;
  p.interlace = true;
  p.palette = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
  p.trns_alpha = {255, 0};
  p.rows.resize(static_cast<size_t>(w / 2) * h);
  for (size_t i = 0; i < p.rows.size(); ++i) p.rows[i] = static_cast<uint8_t>(i % 3 * 16 + (i + 1) % 3);
  p.exif = media_test::make_exif(8, true, false);
  seeds.push_back({"png-palette", media_test::write_png(p)});
  media_test::GifSpec g;
  g.screen_w = g.width = w;
  g.screen_h = g.height = h;
  g.global_palette = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}};
  g.interlace = true;
  g.transparent = 1;
  for (int i = 0; i < w * h; ++i) g.indices.push_back(static_cast<uint8_t>(i % 4));
  seeds.push_back({"gif", media_test::write_gif(g)});
  media_test::TiffSpec t;
  t.width = w;
  t.height = h;
  t.compression = COMPRESSION_LZW;
  t.data = rgb;
  seeds.push_back({"tiff", media_test::write_tiff(t)});
  return seeds;
}

std::vector<Seed> golden_seeds() {
  std::vector<Seed> seeds;
  for (const auto& e : media_test::index_json()) {
    seeds.push_back({e["stem"].get<std::string>(), media_test::read_u8(media_test::golden(e["image"].get<std::string>()))});
  }
  return seeds;
}

// Decodes `b`; returns false if it threw pocket::Error. Any other exception fails the test.
bool try_decode(const Bytes& b, Image* out, const DecodeLimits& limits = {}) {
  try {
    Image im = decode_image_memory(b, limits);
    EXPECT_GT(im.width, 0);
    EXPECT_GT(im.height, 0);
    EXPECT_EQ(im.pixels.size(), static_cast<size_t>(im.width) * im.height * im.channels);
    if (im.mode == PixelMode::P) {
      EXPECT_EQ(im.palette.size(), 768u);
    }
    if (out) *out = std::move(im);
    return true;
  } catch (const Error&) {
    return false;
  }
}

void check_truncations(const Seed& s, size_t n_spread) {
  SCOPED_TRACE(s.name);
  Image full;
  ASSERT_TRUE(try_decode(s.bytes, &full));
  std::vector<size_t> cuts;
  for (size_t n = 0; n < std::min<size_t>(s.bytes.size(), 80); ++n) cuts.push_back(n);
  for (size_t i = 1; i <= n_spread; ++i) cuts.push_back(s.bytes.size() * i / (n_spread + 1));
  for (size_t k = 1; k <= 16 && k < s.bytes.size(); ++k) cuts.push_back(s.bytes.size() - k);
  size_t n_thrown = 0;
  for (size_t n : cuts) {
    SCOPED_TRACE("truncated to " + std::to_string(n) + " bytes");
    const Bytes b(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    Image im;
    if (!try_decode(b, &im)) {
      ++n_thrown;
      continue;
    }
    // Pillow, too, accepts a file whose damage lies after the image data (e.g. a cut IEND).
    EXPECT_EQ(im.width, full.width);
    EXPECT_EQ(im.height, full.height);
    EXPECT_EQ(im.mode, full.mode);
    EXPECT_TRUE(im.pixels == full.pixels);
  }
  EXPECT_GT(n_thrown, cuts.size() / 2);
  std::printf("  %-22s %3zu of %3zu truncations refused, the rest decode identically\n", s.name.c_str(), n_thrown,
              cuts.size());
}

TEST(Malformed, TruncatedGoldenFiles) {
  for (const Seed& s : golden_seeds()) check_truncations(s, 24);
}

TEST(Malformed, TruncatedSyntheticFiles) {
  for (const Seed& s : synthetic_seeds()) check_truncations(s, 64);
}

TEST(Malformed, CorruptedBytes) {
  std::mt19937 rng(1234);
  for (const Seed& s : synthetic_seeds()) {
    SCOPED_TRACE(s.name);
    size_t n_ok = 0;
    for (int iter = 0; iter < 300; ++iter) {
      Bytes b = s.bytes;
      const int n_flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < n_flips; ++f) {
        // Bias towards headers, where sizes and offsets live.
        const size_t span = (rng() % 2) ? std::min<size_t>(b.size(), 128) : b.size();
        b[rng() % span] = static_cast<uint8_t>(rng());
      }
      n_ok += try_decode(b, nullptr, DecodeLimits{4'000'000, 1u << 20});
    }
    std::printf("  %-22s %3zu of 300 corrupted copies still decode\n", s.name.c_str(), n_ok);
  }
}

TEST(Malformed, RandomBytesBehindEveryMagic) {
  std::mt19937 rng(99);
  const std::vector<std::string> magics = {"", std::string("\xFF\xD8\xFF", 3), "\x89PNG\r\n\x1A\n",
                                           "GIF89a",
                                           std::string("II*\0", 4),
                                           std::string("MM\0*", 4)};
  for (const std::string& m : magics) {
    for (int iter = 0; iter < 200; ++iter) {
      Bytes b(m.begin(), m.end());
      const size_t n = rng() % 600;
      for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(rng()));
      try_decode(b, nullptr, DecodeLimits{4'000'000, 1u << 20});
    }
  }
  for (int iter = 0; iter < 200; ++iter) {
    Bytes b = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
    const size_t n = rng() % 600;
    for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(rng()));
    const uint32_t riff = static_cast<uint32_t>(b.size() - 8);
    std::memcpy(&b[4], &riff, 4);
    try_decode(b, nullptr, DecodeLimits{4'000'000, 1u << 20});
  }
  EXPECT_THROW(decode_image_memory(Bytes{}), Error);
  EXPECT_THROW(decode_image_memory(Bytes{'B', 'M', 0, 0}), Error);
}

// A PNG consisting of the signature and an IHDR (valid CRC) claiming the given size.
Bytes png_header_only(uint32_t w, uint32_t h) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (uint32_t v : {w, h}) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  }
  b.insert(b.end(), {8, 2, 0, 0, 0});
  const uLong crc = crc32(0, b.data() + 12, 17);
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(crc >> s));
  return b;
}

// Rewrites the frame size in a JPEG's SOF marker.
Bytes jpeg_with_size(Bytes b, uint16_t w, uint16_t h) {
  for (size_t i = 2; i + 9 < b.size(); ++i) {
    if (b[i] == 0xFF && (b[i + 1] == 0xC0 || b[i + 1] == 0xC2)) {
      b[i + 5] = static_cast<uint8_t>(h >> 8);
      b[i + 6] = static_cast<uint8_t>(h);
      b[i + 7] = static_cast<uint8_t>(w >> 8);
      b[i + 8] = static_cast<uint8_t>(w);
      return b;
    }
  }
  ADD_FAILURE() << "no SOF marker";
  return b;
}

void expect_error_mentioning(const Bytes& b, const std::string& word, const DecodeLimits& limits = {}) {
  try {
    decode_image_memory(b, limits);
    ADD_FAILURE() << "decoded, expected an error mentioning '" << word << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
  }
}

TEST(Malformed, ZeroSizes) {
  expect_error_mentioning(png_header_only(0, 10), "PNG");
  expect_error_mentioning(png_header_only(10, 0), "PNG");
  std::vector<uint8_t> rgb(8 * 8 * 3, 9);
  const Bytes jpeg = media_test::write_jpeg(rgb.data(), 8, 8, 3, JCS_RGB);
  expect_error_mentioning(jpeg_with_size(jpeg, 0, 8), "JPEG");
  expect_error_mentioning(jpeg_with_size(jpeg, 8, 0), "JPEG");
  const Bytes gif0 = {'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0, 0, 0, 0, ',', 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, ';'};
  expect_error_mentioning(gif0, "GIF");
}

TEST(Malformed, PixelLimitIsCheckedFromTheHeader) {
  // Headers alone claiming 3.6 gigapixels: refused as over the limit, not as truncated.
  expect_error_mentioning(png_header_only(60000, 60000), "limit");
  std::vector<uint8_t> rgb(8 * 8 * 3, 9);
  expect_error_mentioning(jpeg_with_size(media_test::write_jpeg(rgb.data(), 8, 8, 3, JCS_RGB), 60000, 60000), "limit");
  const Bytes gif = {'G', 'I', 'F', '8', '9', 'a', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, ',', 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 2};
  expect_error_mentioning(gif, "limit");

  // Every format against a limit one pixel below its size; the exact size is accepted.
  for (const Seed& s : synthetic_seeds()) {
    SCOPED_TRACE(s.name);
    const Image im = decode_image_memory(s.bytes);
    const uint64_t n = static_cast<uint64_t>(im.width) * im.height;
    expect_error_mentioning(s.bytes, "limit", DecodeLimits{n - 1});
    EXPECT_NO_THROW(decode_image_memory(s.bytes, DecodeLimits{n}));
  }
  const Bytes photo = media_test::read_u8(media_test::shared("images/photo_1920x1080.jpg"));
  expect_error_mentioning(photo, "limit", DecodeLimits{1920 * 1080 - 1});
  expect_error_mentioning(photo, "bytes", DecodeLimits{100'000'000, 1000});
}

TEST(Malformed, OneByOneImagesRunThroughBothPipelines) {
  std::vector<Bytes> files;
  const uint8_t px[4] = {200, 100, 50, 128};
  files.push_back(media_test::write_jpeg(px, 1, 1, 3, JCS_RGB));
  files.push_back(media_test::write_webp(px, 1, 1, true, true));
  media_test::PngSpec p;
  p.width = p.height = 1;
  p.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  p.rows = {200, 100, 50, 128};
  files.push_back(media_test::write_png(p));
  media_test::GifSpec g;
  g.screen_w = g.screen_h = g.width = g.height = 1;
  g.global_palette = {{1, 2, 3}, {4, 5, 6}};
  g.indices = {1};
  files.push_back(media_test::write_gif(g));
  media_test::TiffSpec t;
  t.width = t.height = 1;
  t.data = {200, 100, 50};
  files.push_back(media_test::write_tiff(t));
  SmolVlmParams sp;
  sp.longest_edge = 768;  // keep the upscale small; the 1x1 edge case is what matters
  sp.tile_size = 384;
  for (const Bytes& b : files) {
    const Image im = decode_image_memory(b);
    ASSERT_EQ(im.width, 1);
    ASSERT_EQ(im.height, 1);
    const SmolVlmImage s = smolvlm_preprocess(im, sp);
    EXPECT_EQ(s.plan.rows, 2);
    EXPECT_EQ(s.tiles.size(), 5u);
    const SmolVlmImage r = smolvlm_preprocess(load_image_rgb(b), sp);
    EXPECT_EQ(r.tiles.size(), 5u);
    const PixtralImage x = pixtral_preprocess(im, PixtralParams{});
    EXPECT_EQ(x.plan.out_w, 28);
    EXPECT_EQ(x.pixels.size(), 3u * 28 * 28);
  }
}

}  // namespace
}  // namespace pocket
