// Image decoding: the shared test images (size, PIL mode, and for lossy files the exact pixels
// Pillow decoded, ../shared/golden/preprocess/decoded/), synthetic files of every PNG / GIF /
// TIFF / WebP / JPEG layout with the modes and values Pillow 9.4 gives them, EXIF orientation
// from every place Pillow reads it, and the mode conversions.
#include <gtest/gtest.h>

#include <string>

#include "codec_writers.h"
#include "core/error.h"
#include "media/image.h"
#include "media_test_util.h"

namespace pocket {
namespace {

using media_test::Bytes;
using nlohmann::json;

Image decode(const Bytes& b) { return decode_image_memory(b); }

// ---------------------------------------------------------------- shared images

TEST(DecodeGolden, SizesAndModes) {
  for (const json& e : media_test::index_json()) {
    const std::string path = media_test::golden(e["image"].get<std::string>());
    SCOPED_TRACE(path);
    const Image im = decode_image_file(path);
    EXPECT_EQ(im.width, e["width"].get<int>());
    EXPECT_EQ(im.height, e["height"].get<int>());
    EXPECT_EQ(std::string(pixel_mode_name(im.mode)), e["mode"].get<std::string>());
    EXPECT_EQ(im.channels, pixel_mode_channels(im.mode));
    EXPECT_EQ(im.pixels.size(), static_cast<size_t>(im.width) * im.height * im.channels);
    const std::string container = e["container"].get<std::string>();
    const std::string fmt = image_format_name(im.format);
    if (container.rfind("webp", 0) == 0) {
      EXPECT_EQ(fmt, "WEBP");
    } else if (container == "jpeg") {
      EXPECT_EQ(fmt, "JPEG");
    } else {
      EXPECT_EQ(fmt, std::string(container == "png" ? "PNG" : container == "gif" ? "GIF" : "TIFF"));
    }
  }
}

TEST(DecodeGolden, LossyFilesDecodeExactlyAsPillow) {
  int n = 0;
  for (const json& e : media_test::index_json()) {
    if (!e.contains("decoded")) continue;
    SCOPED_TRACE(e["stem"].get<std::string>());
    const Image decoded = decode_image_file(media_test::golden(e["image"].get<std::string>()));
    const Image ref = decode_image_file(media_test::golden(e["decoded"].get<std::string>()));
    // decoded/ holds RGB (RGBA if the file has alpha); compare in that mode.
    const Image mine = ref.mode == PixelMode::RGBA ? convert_to_rgba(decoded)
                       : ref.mode == PixelMode::L  ? decoded
                                                   : convert_to_rgb(decoded);
    ASSERT_EQ(mine.mode, ref.mode);
    ASSERT_EQ(mine.width, ref.width);
    ASSERT_EQ(mine.height, ref.height);
    media_test::DiffStats d;
    d.add(mine.pixels.data(), ref.pixels.data(), ref.pixels.size());
    EXPECT_EQ(d.n_nonzero, 0u) << "max |d| " << d.max_abs;
    ++n;
  }
  EXPECT_GT(n, 0);
}

TEST(DecodeGolden, FileErrorsNameThePath) {
  try {
    decode_image_file("/nonexistent/image.png");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/image.png"), std::string::npos);
  }
}

// ---------------------------------------------------------------- PNG

media_test::PngSpec png_spec(int w, int h, int color_type, int depth, std::vector<uint8_t> rows) {
  media_test::PngSpec s;
  s.width = w;
  s.height = h;
  s.color_type = color_type;
  s.bit_depth = depth;
  s.rows = std::move(rows);
  return s;
}

TEST(DecodePng, GreyDepthsScaleLikePillow) {
  // 8 pixels per row; low bit depths are scaled by 255 / (2^bits - 1) (Pillow's L;2, L;4, 1).
  const Image g1 = decode(media_test::write_png(png_spec(8, 1, PNG_COLOR_TYPE_GRAY, 1, {0b10110001})));
  EXPECT_EQ(g1.mode, PixelMode::L);
  EXPECT_EQ(g1.pixels, (std::vector<uint8_t>{255, 0, 255, 255, 0, 0, 0, 255}));
  const Image g2 = decode(media_test::write_png(png_spec(4, 1, PNG_COLOR_TYPE_GRAY, 2, {0b00011011})));
  EXPECT_EQ(g2.pixels, (std::vector<uint8_t>{0, 85, 170, 255}));
  const Image g4 = decode(media_test::write_png(png_spec(2, 1, PNG_COLOR_TYPE_GRAY, 4, {0x3F})));
  EXPECT_EQ(g4.pixels, (std::vector<uint8_t>{51, 255}));
  const Image g8 = decode(media_test::write_png(png_spec(3, 1, PNG_COLOR_TYPE_GRAY, 8, {7, 128, 250})));
  EXPECT_EQ(g8.pixels, (std::vector<uint8_t>{7, 128, 250}));
  // 16-bit grey is Pillow mode "I"; its conversion to L/RGB clips at 255.
  const Image g16 = decode(
      media_test::write_png(png_spec(4, 1, PNG_COLOR_TYPE_GRAY, 16, {0, 0, 0, 100, 0, 255, 0x9C, 0x40})));
  EXPECT_EQ(g16.mode, PixelMode::L);
  EXPECT_EQ(g16.pixels, (std::vector<uint8_t>{0, 100, 255, 255}));
}

TEST(DecodePng, AlphaAndSixteenBitModes) {
  const Image la = decode(media_test::write_png(png_spec(2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, {10, 20, 30, 40})));
  EXPECT_EQ(la.mode, PixelMode::LA);
  EXPECT_EQ(la.pixels, (std::vector<uint8_t>{10, 20, 30, 40}));
  // 16-bit grey+alpha is RGBA in Pillow ("LA;16B"), high bytes.
  const Image la16 = decode(media_test::write_png(png_spec(1, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 16, {0x12, 0xFF, 0x80, 0x01})));
  EXPECT_EQ(la16.mode, PixelMode::RGBA);
  EXPECT_EQ(la16.pixels, (std::vector<uint8_t>{0x12, 0x12, 0x12, 0x80}));
  const Image rgb16 = decode(media_test::write_png(png_spec(1, 1, PNG_COLOR_TYPE_RGB, 16, {1, 255, 2, 0, 3, 128})));
  EXPECT_EQ(rgb16.mode, PixelMode::RGB);
  EXPECT_EQ(rgb16.pixels, (std::vector<uint8_t>{1, 2, 3}));
  const Image rgba16 =
      decode(media_test::write_png(png_spec(1, 1, PNG_COLOR_TYPE_RGB_ALPHA, 16, {9, 9, 8, 8, 7, 7, 6, 6})));
  EXPECT_EQ(rgba16.mode, PixelMode::RGBA);
  EXPECT_EQ(rgba16.pixels, (std::vector<uint8_t>{9, 8, 7, 6}));
  const Image rgba = decode(media_test::write_png(png_spec(1, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, {1, 2, 3, 4})));
  EXPECT_EQ(rgba.mode, PixelMode::RGBA);
  EXPECT_EQ(rgba.pixels, (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(DecodePng, PaletteTransparency) {
  auto s = png_spec(4, 1, PNG_COLOR_TYPE_PALETTE, 4, {0x01, 0x22});
  s.palette = {{200, 10, 20}, {0, 255, 0}, {1, 2, 3}};
  s.trns_alpha = {255, 0, 255};
  const Image p = decode(media_test::write_png(s));
  EXPECT_EQ(p.mode, PixelMode::P);
  EXPECT_EQ(p.pixels, (std::vector<uint8_t>{0, 1, 2, 2}));
  EXPECT_EQ(p.transparency_index, 1);  // a single fully transparent entry
  ASSERT_EQ(p.palette_alpha.size(), 256u);
  EXPECT_EQ(p.palette_alpha[1], 0);
  EXPECT_EQ(p.palette_alpha[3], 255);
  ASSERT_EQ(p.palette.size(), 768u);
  EXPECT_EQ(p.palette[3 * 5 + 1], 5);  // past the PLTE: Pillow's grey ramp
  const Image rgb = convert_to_rgb(p);  // transparency ignored
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{200, 10, 20, 0, 255, 0, 1, 2, 3, 1, 2, 3}));
  const Image rgba = convert_to_rgba(p);
  EXPECT_EQ(rgba.pixels, (std::vector<uint8_t>{200, 10, 20, 255, 0, 255, 0, 0, 1, 2, 3, 255, 1, 2, 3, 255}));

  s.trns_alpha = {128};  // partial alpha: Pillow keeps bytes, no single index
  const Image q = decode(media_test::write_png(s));
  EXPECT_EQ(q.transparency_index, -1);
  EXPECT_EQ(q.palette_alpha[0], 128);
  EXPECT_EQ(q.palette_alpha[1], 255);
}

TEST(DecodePng, GreyAndRgbTransparentColour) {
  auto s = png_spec(3, 1, PNG_COLOR_TYPE_GRAY, 8, {50, 51, 50});
  s.has_trns_color = true;
  s.trns_color.gray = 50;
  const Image l = decode(media_test::write_png(s));
  EXPECT_TRUE(l.has_transparent_color);
  EXPECT_EQ(convert_to_rgba(l).pixels, (std::vector<uint8_t>{50, 50, 50, 0, 51, 51, 51, 255, 50, 50, 50, 0}));
  EXPECT_EQ(convert_to_rgb(l).pixels, (std::vector<uint8_t>{50, 50, 50, 51, 51, 51, 50, 50, 50}));

  auto r = png_spec(2, 1, PNG_COLOR_TYPE_RGB, 8, {1, 2, 3, 1, 2, 4});
  r.has_trns_color = true;
  r.trns_color.red = 1;
  r.trns_color.green = 2;
  r.trns_color.blue = 3;
  const Image rgb = decode(media_test::write_png(r));
  EXPECT_EQ(rgb.mode, PixelMode::RGB);
  EXPECT_EQ(convert_to_rgba(rgb).pixels, (std::vector<uint8_t>{1, 2, 3, 0, 1, 2, 4, 255}));
}

TEST(DecodePng, Interlaced) {
  const int w = 13, h = 7;
  std::vector<uint8_t> rows(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<uint8_t>(i * 7 + 3);
  auto s = png_spec(w, h, PNG_COLOR_TYPE_RGB, 8, rows);
  s.interlace = true;
  const Image im = decode(media_test::write_png(s));
  EXPECT_EQ(im.pixels, rows);
}

// ---------------------------------------------------------------- orientation

// A 3x2 image with pixels a..f (values 1..6):  a b c / d e f. Expected layouts from the EXIF
// orientation definitions (2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 CW,
// 7 transverse, 8 rotate 90 CCW).
struct Oriented {
  int w, h;
  std::vector<uint8_t> v;
};
const Oriented kOriented[9] = {
    {0, 0, {}},
    {3, 2, {1, 2, 3, 4, 5, 6}},
    {3, 2, {3, 2, 1, 6, 5, 4}},
    {3, 2, {6, 5, 4, 3, 2, 1}},
    {3, 2, {4, 5, 6, 1, 2, 3}},
    {2, 3, {1, 4, 2, 5, 3, 6}},
    {2, 3, {4, 1, 5, 2, 6, 3}},
    {2, 3, {6, 3, 5, 2, 4, 1}},
    {2, 3, {3, 6, 2, 5, 1, 4}},
};

void expect_oriented(const Image& decoded, int o) {
  SCOPED_TRACE("orientation " + std::to_string(o));
  EXPECT_EQ(decoded.orientation, o);
  const Image t = exif_transpose(decoded);
  EXPECT_EQ(t.orientation, 1);
  EXPECT_EQ(t.width, kOriented[o].w);
  EXPECT_EQ(t.height, kOriented[o].h);
  EXPECT_EQ(t.pixels, kOriented[o].v);
}

TEST(Orientation, PngExifChunkBothByteOrders) {
  for (int o = 1; o <= 8; ++o) {
    for (bool le : {true, false}) {
      auto s = png_spec(3, 2, PNG_COLOR_TYPE_GRAY, 8, {1, 2, 3, 4, 5, 6});
      s.exif = media_test::make_exif(o, le, /*with_prefix=*/false);
      expect_oriented(decode(media_test::write_png(s)), o);
    }
  }
}

TEST(Orientation, PngTextProfilesAndXmp) {
  // ImageMagick's "Raw profile type exif": "\nexif\n    <n>\n<hex>" (Pillow skips 3 lines).
  const Bytes exif = media_test::make_exif(6);
  std::string hex;
  for (uint8_t b : exif) {
    static const char* d = "0123456789abcdef";
    hex += d[b >> 4];
    hex += d[b & 15];
  }
  auto s = png_spec(3, 2, PNG_COLOR_TYPE_GRAY, 8, {1, 2, 3, 4, 5, 6});
  s.text = {{"Raw profile type exif", "\nexif\n      " + std::to_string(exif.size()) + "\n" + hex + "\n"}};
  expect_oriented(decode(media_test::write_png(s)), 6);

  auto x = png_spec(3, 2, PNG_COLOR_TYPE_GRAY, 8, {1, 2, 3, 4, 5, 6});
  x.itext = {{"XML:com.adobe.xmp", "<x:xmpmeta><rdf:Description tiff:Orientation=\"8\"/></x:xmpmeta>"}};
  expect_oriented(decode(media_test::write_png(x)), 8);
  x.itext = {{"XML:com.adobe.xmp", "<tiff:Orientation>3</tiff:Orientation>"}};
  expect_oriented(decode(media_test::write_png(x)), 3);
}

TEST(Orientation, JpegApp1) {
  std::vector<uint8_t> grey(16 * 8, 128);
  for (int o = 1; o <= 8; ++o) {
    const Bytes j = media_test::write_jpeg(grey.data(), 16, 8, 1, JCS_GRAYSCALE, 90, media_test::make_exif(o, o % 2));
    const Image im = decode(j);
    EXPECT_EQ(im.orientation, o);
    const Image t = exif_transpose(im);
    EXPECT_EQ(t.width, o >= 5 ? 8 : 16);
  }
}

TEST(Orientation, WebpExifChunk) {
  std::vector<uint8_t> rgb(6 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i / 3 + 1) * 10);
  const Image im = decode(media_test::write_webp(rgb.data(), 3, 2, false, true, media_test::make_exif(7)));
  EXPECT_EQ(im.orientation, 7);
}

TEST(Orientation, InvalidValuesAreIgnored) {
  for (int o : {0, 9, 300}) {
    auto s = png_spec(3, 2, PNG_COLOR_TYPE_GRAY, 8, {1, 2, 3, 4, 5, 6});
    s.exif = media_test::make_exif(o, true, false);
    const Image t = exif_transpose(decode(media_test::write_png(s)));
    EXPECT_EQ(t.pixels, kOriented[1].v);
  }
}

// ---------------------------------------------------------------- JPEG

TEST(DecodeJpeg, GreyRgbAndAdobeCmyk) {
  std::vector<uint8_t> grey(32 * 16, 77);
  const Image g = decode(media_test::write_jpeg(grey.data(), 32, 16, 1, JCS_GRAYSCALE));
  EXPECT_EQ(g.mode, PixelMode::L);
  EXPECT_EQ(g.format, ImageFormat::Jpeg);
  for (uint8_t v : g.pixels) EXPECT_NEAR(v, 77, 2);

  std::vector<uint8_t> rgb(32 * 16 * 3);
  for (size_t i = 0; i < rgb.size(); i += 3) {
    rgb[i] = 200;
    rgb[i + 1] = 40;
    rgb[i + 2] = 90;
  }
  const Image c = decode(media_test::write_jpeg(rgb.data(), 32, 16, 3, JCS_RGB, 95, {}, /*progressive=*/true));
  EXPECT_EQ(c.mode, PixelMode::RGB);
  for (size_t i = 0; i < c.pixels.size(); ++i) EXPECT_NEAR(c.pixels[i], rgb[i], 3);

  // Adobe CMYK JPEGs store inverted inks; Pillow reads "CMYK;I" and converts with cmyk2rgb.
  // Stored (255 - C, 255 - M, 255 - Y, 255 - K) for C=0, M=Y=255, K=0 is pure red.
  std::vector<uint8_t> cmyk(16 * 16 * 4);
  for (size_t i = 0; i < cmyk.size(); i += 4) {
    cmyk[i] = 255;
    cmyk[i + 1] = 0;
    cmyk[i + 2] = 0;
    cmyk[i + 3] = 255;
  }
  const Image k = decode(media_test::write_jpeg(cmyk.data(), 16, 16, 4, JCS_CMYK));
  EXPECT_EQ(k.mode, PixelMode::RGB);
  for (size_t i = 0; i < k.pixels.size(); i += 3) {
    EXPECT_NEAR(k.pixels[i], 255, 3);
    EXPECT_NEAR(k.pixels[i + 1], 0, 3);
    EXPECT_NEAR(k.pixels[i + 2], 0, 3);
  }
}

// ---------------------------------------------------------------- GIF

std::vector<GifColorType> palette4() { return {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}, {100, 110, 120}}; }

TEST(DecodeGif, PaletteTransparencyAndInterlace) {
  media_test::GifSpec s;
  s.screen_w = s.width = 5;
  s.screen_h = s.height = 10;
  s.global_palette = palette4();
  s.interlace = true;
  s.transparent = 2;
  for (int i = 0; i < 50; ++i) s.indices.push_back(static_cast<uint8_t>(i % 4));
  const Image im = decode(media_test::write_gif(s));
  EXPECT_EQ(im.mode, PixelMode::P);
  EXPECT_EQ(im.format, ImageFormat::Gif);
  EXPECT_EQ(im.pixels, s.indices);
  EXPECT_EQ(im.transparency_index, 2);
  EXPECT_EQ(im.palette_alpha[2], 0);
  EXPECT_EQ(im.palette[3], 40);
  EXPECT_EQ(im.palette[3 * 200], 200);  // grey ramp past the GIF palette
  // convert("RGB") ignores the transparent index (its palette colour shows).
  const Image rgb = convert_to_rgb(im);
  EXPECT_EQ(rgb.pixels[6], 70);
  EXPECT_EQ(convert_to_rgba(im).pixels[11], 0);
}

TEST(DecodeGif, FrameInsideLargerScreen) {
  media_test::GifSpec s;
  s.screen_w = 6;
  s.screen_h = 5;
  s.left = 2;
  s.top = 1;
  s.width = 3;
  s.height = 2;
  s.global_palette = palette4();
  s.indices = {1, 2, 1, 2, 1, 2};
  Image im = decode(media_test::write_gif(s));
  ASSERT_EQ(im.width, 6);
  ASSERT_EQ(im.height, 5);
  EXPECT_EQ(im.row(0)[0], 0);  // outside the frame: 0 without transparency
  EXPECT_EQ(im.row(1)[2], 1);
  EXPECT_EQ(im.row(2)[4], 2);
  s.transparent = 3;  // ... and the transparent index with it
  im = decode(media_test::write_gif(s));
  EXPECT_EQ(im.row(0)[0], 3);
  EXPECT_EQ(im.row(4)[5], 3);
  // A frame reaching past the screen grows the canvas (Pillow 9.4 _seek).
  s.left = 5;
  im = decode(media_test::write_gif(s));
  EXPECT_EQ(im.width, 8);
}

TEST(DecodeGif, IdentityGreyPaletteIsModeL) {
  media_test::GifSpec s;
  s.screen_w = s.width = 4;
  s.screen_h = s.height = 1;
  for (int i = 0; i < 4; ++i) s.global_palette.push_back({static_cast<GifByteType>(i), static_cast<GifByteType>(i),
                                                          static_cast<GifByteType>(i)});
  s.indices = {0, 1, 2, 3};
  const Image im = decode(media_test::write_gif(s));
  EXPECT_EQ(im.mode, PixelMode::L);
  EXPECT_EQ(im.pixels, s.indices);
  // A local palette replaces the global one.
  s.global_palette = palette4();
  s.local_palette = {{9, 9, 9}, {8, 8, 8}, {7, 7, 7}, {6, 6, 6}};
  const Image loc = decode(media_test::write_gif(s));
  EXPECT_EQ(loc.mode, PixelMode::P);
  EXPECT_EQ(convert_to_rgb(loc).pixels[3], 8);
}

// ---------------------------------------------------------------- TIFF

TEST(DecodeTiff, RawLayouts) {
  media_test::TiffSpec s;
  s.width = 5;
  s.height = 6;
  auto fill = [&](int spp) {
    s.spp = spp;
    s.data.resize(static_cast<size_t>(s.width) * s.height * spp);
    for (size_t i = 0; i < s.data.size(); ++i) s.data[i] = static_cast<uint8_t>(i * 13 + 5);
  };
  fill(3);
  s.compression = COMPRESSION_LZW;
  s.orientation = 6;
  Image im = decode(media_test::write_tiff(s));
  EXPECT_EQ(im.mode, PixelMode::RGB);
  EXPECT_EQ(im.format, ImageFormat::Tiff);
  EXPECT_EQ(im.pixels, s.data);
  EXPECT_EQ(im.orientation, 6);
  s.orientation = 0;
  s.compression = COMPRESSION_NONE;

  fill(4);
  s.extra_sample = EXTRASAMPLE_UNASSALPHA;
  im = decode(media_test::write_tiff(s));
  EXPECT_EQ(im.mode, PixelMode::RGBA);
  EXPECT_EQ(im.pixels, s.data);

  s.extra_sample = EXTRASAMPLE_UNSPECIFIED;  // Pillow's RGBX: read as RGB
  im = decode(media_test::write_tiff(s));
  EXPECT_EQ(im.mode, PixelMode::RGB);
  EXPECT_EQ(im.pixels[3], s.data[4]);

  s.extra_sample = EXTRASAMPLE_ASSOCALPHA;  // Pillow's RGBa: un-premultiplied on read
  s.data = {100, 50, 0, 200, 10, 20, 30, 0, 1, 2, 3, 255};
  s.width = 3;
  s.height = 1;
  im = decode(media_test::write_tiff(s));
  EXPECT_EQ(im.mode, PixelMode::RGBA);
  EXPECT_EQ(im.pixels, (std::vector<uint8_t>{127, 63, 0, 200, 0, 0, 0, 0, 1, 2, 3, 255}));
  s.width = 5;
  s.height = 6;

  fill(1);
  s.extra_sample = -1;
  s.photometric = PHOTOMETRIC_MINISBLACK;
  im = decode(media_test::write_tiff(s));
  EXPECT_EQ(im.mode, PixelMode::L);
  EXPECT_EQ(im.pixels, s.data);

  s.photometric = PHOTOMETRIC_MINISWHITE;
  im = decode(media_test::write_tiff(s));
  EXPECT_EQ(im.mode, PixelMode::L);
  for (size_t i = 0; i < s.data.size(); ++i) EXPECT_EQ(im.pixels[i], 255 - s.data[i]);

  s.photometric = PHOTOMETRIC_PALETTE;
  s.colormap.assign(768, 0);
  for (int i = 0; i < 256; ++i) {
    s.colormap[i] = static_cast<uint16_t>(i * 257);
    s.colormap[256 + i] = static_cast<uint16_t>((255 - i) * 257);
    s.colormap[512 + i] = 0x1234;
  }
  im = decode(media_test::write_tiff(s));
  EXPECT_EQ(im.mode, PixelMode::P);
  EXPECT_EQ(im.pixels, s.data);
  EXPECT_EQ(im.palette[3 * 10 + 1], 245);
  EXPECT_EQ(im.palette[3 * 10 + 2], 0x12);
}

TEST(DecodeTiff, SixteenBitGoesThroughTheRgbaReader) {
  media_test::TiffSpec s;
  s.width = 4;
  s.height = 3;
  s.bps = 16;
  s.spp = 3;
  std::vector<uint16_t> v(static_cast<size_t>(s.width) * s.height * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint16_t>(i * 4000);
  s.data.resize(v.size() * 2);
  std::memcpy(s.data.data(), v.data(), s.data.size());
  const Image im = decode(media_test::write_tiff(s));
  EXPECT_EQ(im.mode, PixelMode::RGB);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(im.pixels[i], v[i] / 257.0, 1.0);
}

// ---------------------------------------------------------------- WebP

TEST(DecodeWebp, LosslessModesAndLossy) {
  const int w = 7, h = 5;
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3), rgba(static_cast<size_t>(w) * h * 4);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 11);
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<uint8_t>(i % 4 == 3 ? 1 + i % 200 : i * 5);
  const Image a = decode(media_test::write_webp(rgb.data(), w, h, false, true));
  EXPECT_EQ(a.mode, PixelMode::RGB);
  EXPECT_EQ(a.format, ImageFormat::WebP);
  EXPECT_EQ(a.pixels, rgb);
  const Image b = decode(media_test::write_webp(rgba.data(), w, h, true, true));
  EXPECT_EQ(b.mode, PixelMode::RGBA);
  EXPECT_EQ(b.pixels, rgba);

  std::vector<uint8_t> flat(64 * 64 * 3, 120);
  const Image c = decode(media_test::write_webp(flat.data(), 64, 64, false, false));
  EXPECT_EQ(c.mode, PixelMode::RGB);
  for (uint8_t v : c.pixels) EXPECT_NEAR(v, 120, 3);
}

// ---------------------------------------------------------------- conversions

TEST(Convert, CompositingFormulas) {
  // Opaque pixels pass through both of Pillow's white-background formulas unchanged; fully
  // transparent ones become white.
  Image im = make_image(256, 2, PixelMode::RGBA);
  for (int x = 0; x < 256; ++x) {
    uint8_t* p0 = im.row(0) + 4 * x;
    p0[0] = p0[1] = p0[2] = static_cast<uint8_t>(x);
    p0[3] = 255;
    uint8_t* p1 = im.row(1) + 4 * x;
    p1[0] = p1[1] = p1[2] = static_cast<uint8_t>(x);
    p1[3] = 0;
  }
  for (const Image& out : {composite_over_white(im), paste_over_white(im)}) {
    for (int x = 0; x < 256; ++x) {
      EXPECT_EQ(out.row(0)[3 * x], x);
      EXPECT_EQ(out.row(1)[3 * x], 255);
    }
  }
  EXPECT_THROW(composite_over_white(make_image(1, 1, PixelMode::RGB)), Error);
}

TEST(Convert, ModesToRgbAndRgba) {
  Image la = make_image(2, 1, PixelMode::LA);
  la.pixels = {10, 0, 20, 255};
  EXPECT_EQ(convert_to_rgb(la).pixels, (std::vector<uint8_t>{10, 10, 10, 20, 20, 20}));
  EXPECT_EQ(convert_to_rgba(la).pixels, (std::vector<uint8_t>{10, 10, 10, 0, 20, 20, 20, 255}));
  Image rgba = make_image(1, 1, PixelMode::RGBA);
  rgba.pixels = {1, 2, 3, 0};
  EXPECT_EQ(convert_to_rgb(rgba).pixels, (std::vector<uint8_t>{1, 2, 3}));  // alpha dropped, colour kept
}

TEST(Detect, MagicBytes) {
  auto det = [](const std::string& s) {
    return detect_image_format({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  };
  EXPECT_EQ(det(std::string("\xFF\xD8\xFF\xE0", 4)), ImageFormat::Jpeg);
  EXPECT_EQ(det("\x89PNG\r\n\x1A\n...."), ImageFormat::Png);
  EXPECT_EQ(det(std::string("RIFF\1\0\0\0WEBPVP8 ", 16)), ImageFormat::WebP);
  EXPECT_EQ(det("GIF89a"), ImageFormat::Gif);
  EXPECT_EQ(det(std::string("II*\0", 4)), ImageFormat::Tiff);
  EXPECT_EQ(det(std::string("MM\0*", 4)), ImageFormat::Tiff);
  EXPECT_EQ(det("BM6\0\0\0"), ImageFormat::Unknown);
  EXPECT_EQ(det(""), ImageFormat::Unknown);
}

// ---------------------------------------------------------------- header-only size

std::optional<std::array<uint64_t, 2>> header(const Bytes& b) { return image_header_size(b); }

TEST(HeaderSize, SharedImagesAsPillowSizedThem) {
  for (const json& e : media_test::index_json()) {
    const std::string path = media_test::golden(e["image"].get<std::string>());
    SCOPED_TRACE(path);
    const std::string raw = media_test::read_bytes(path);
    const auto size = header(Bytes(raw.begin(), raw.end()));
    ASSERT_TRUE(size.has_value());
    EXPECT_EQ((*size)[0], e["width"].get<uint64_t>());
    EXPECT_EQ((*size)[1], e["height"].get<uint64_t>());
  }
}

TEST(HeaderSize, SyntheticFormatsHugeDeclaredSizesAndGarbage) {
  media_test::GifSpec g;  // a frame reaching past the logical screen: the canvas grows
  g.screen_w = 6;
  g.screen_h = 5;
  g.left = 5;
  g.top = 1;
  g.width = 3;
  g.height = 2;
  g.global_palette = palette4();
  g.indices = {1, 2, 1, 2, 1, 2};
  EXPECT_EQ(header(media_test::write_gif(g)), (std::array<uint64_t, 2>{8, 5}));
  media_test::TiffSpec t;
  t.width = 5;
  t.height = 6;
  t.spp = 3;
  t.data.assign(5 * 6 * 3, 7);
  EXPECT_EQ(header(media_test::write_tiff(t)), (std::array<uint64_t, 2>{5, 6}));
  // A PNG whose IHDR declares 60000 x 50000 (3 G pixels): the size, with nothing allocated.
  const std::string raw = media_test::read_bytes(media_test::shared("images/tiny_32x24.png"));
  Bytes png(raw.begin(), raw.end());
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<uint8_t>(60000u >> (24 - 8 * i));
    png[20 + i] = static_cast<uint8_t>(50000u >> (24 - 8 * i));
  }
  EXPECT_EQ(header(png), (std::array<uint64_t, 2>{60000, 50000}));
  EXPECT_FALSE(header(Bytes{}).has_value());
  EXPECT_FALSE(header(Bytes{'h', 'e', 'l', 'l', 'o'}).has_value());
  EXPECT_FALSE(header(Bytes(png.begin(), png.begin() + 10)).has_value());  // truncated before IHDR
}

}  // namespace
}  // namespace pocket
