// Writes the seed corpus of fuzz/fuzz_image.cpp into the directory given as argv[1]: tiny
// valid files of every format and layout, plus truncated and header-corrupted variants.
// Not part of the build; regenerate with
//   g++ -std=c++20 -Itests/media tests/media/make_fuzz_corpus.cpp -o /tmp/mkc \
//     $(pkg-config --cflags --libs libpng libjpeg libwebp libwebpmux libtiff-4) -lgif
//   /tmp/mkc tests/corpus/fuzz_image
#include <cstdio>
#include <string>

#include "codec_writers.h"

using namespace pocket::media_test;

static void put(const std::string& dir, const std::string& name, const Bytes& b) {
  FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
  if (!f) return;
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
}

static Bytes cut(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + std::min(n, b.size())); }

static Bytes poke(Bytes b, size_t at, uint8_t v) {
  if (at < b.size()) b[at] = v;
  return b;
}

int main(int argc, char** argv) {
  if (argc < 2) return 1;
  const std::string dir = argv[1];
  const int w = 9, h = 7;
  std::vector<uint8_t> rgb(w * h * 3), rgba(w * h * 4);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 29);
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<uint8_t>(i * 13 + 1);

  const Bytes jpeg = write_jpeg(rgb.data(), w, h, 3, JCS_RGB, 75, make_exif(6));
  const Bytes jpeg_prog = write_jpeg(rgb.data(), w, h, 3, JCS_RGB, 75, {}, true);
  const Bytes jpeg_grey = write_jpeg(rgb.data(), w * 3, h, 1, JCS_GRAYSCALE, 50);
  std::vector<uint8_t> cmyk(4 * 4 * 4, 90);
  const Bytes jpeg_cmyk = write_jpeg(cmyk.data(), 4, 4, 4, JCS_CMYK, 50);
  put(dir, "seed_rgb_exif.jpg", jpeg);
  put(dir, "seed_progressive.jpg", jpeg_prog);
  put(dir, "seed_grey.jpg", jpeg_grey);
  put(dir, "seed_cmyk.jpg", jpeg_cmyk);
  put(dir, "bad_truncated_half.jpg", cut(jpeg, jpeg.size() / 2));
  put(dir, "bad_truncated_header.jpg", cut(jpeg, 40));
  put(dir, "bad_progressive_cut.jpg", cut(jpeg_prog, jpeg_prog.size() - 30));

  PngSpec p;
  p.width = w;
  p.height = h;
  p.rows = rgb;
  const Bytes png_rgb = write_png(p);
  p.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  p.rows = rgba;
  p.interlace = true;
  p.exif = make_exif(3, false, false);
  const Bytes png_rgba = write_png(p);
  PngSpec pal;
  pal.width = 8;
  pal.height = 3;
  pal.color_type = PNG_COLOR_TYPE_PALETTE;
  pal.bit_depth = 2;
  pal.palette = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  pal.trns_alpha = {255, 0};
  pal.rows = {0x1B, 0xE4, 0x1B, 0xE4, 0x00, 0xFF};
  const Bytes png_pal = write_png(pal);
  PngSpec g16;
  g16.width = 3;
  g16.height = 2;
  g16.color_type = PNG_COLOR_TYPE_GRAY;
  g16.bit_depth = 16;
  g16.rows = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  put(dir, "seed_rgb.png", png_rgb);
  put(dir, "seed_rgba_interlaced_exif.png", png_rgba);
  put(dir, "seed_palette_trns.png", png_pal);
  put(dir, "seed_grey16.png", write_png(g16));
  put(dir, "bad_truncated_idat.png", cut(png_rgb, png_rgb.size() - 20));
  put(dir, "bad_ihdr_crc.png", poke(png_rgb, 20, 0x7F));
  put(dir, "bad_ihdr_huge.png", poke(poke(png_rgb, 16, 0x7F), 20, 0x7F));
  put(dir, "bad_colour_type.png", poke(png_pal, 25, 5));

  put(dir, "seed_lossy.webp", write_webp(rgb.data(), w, h, false, false));
  put(dir, "seed_lossless_alpha_exif.webp", write_webp(rgba.data(), w, h, true, true, make_exif(8)));
  const Bytes webp = write_webp(rgb.data(), w, h, false, true);
  put(dir, "bad_truncated.webp", cut(webp, webp.size() - 5));
  put(dir, "bad_riff_size.webp", poke(webp, 4, 0xFF));

  GifSpec g;
  g.screen_w = 10;
  g.screen_h = 8;
  g.left = 1;
  g.top = 2;
  g.width = 6;
  g.height = 5;
  g.interlace = true;
  g.transparent = 1;
  g.global_palette = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}};
  for (int i = 0; i < 30; ++i) g.indices.push_back(static_cast<uint8_t>(i % 4));
  const Bytes gif = write_gif(g);
  put(dir, "seed_interlaced_offset.gif", gif);
  put(dir, "bad_truncated.gif", cut(gif, gif.size() - 8));
  put(dir, "bad_frame_outside.gif", poke(gif, 27, 0xFF));

  TiffSpec t;
  t.width = w;
  t.height = h;
  t.data = rgb;
  t.compression = COMPRESSION_LZW;
  t.orientation = 5;
  const Bytes tiff = write_tiff(t);
  put(dir, "seed_lzw_oriented.tif", tiff);
  TiffSpec tp;
  tp.width = 4;
  tp.height = 2;
  tp.spp = 1;
  tp.photometric = PHOTOMETRIC_PALETTE;
  tp.data = {0, 1, 2, 3, 4, 5, 6, 7};
  tp.colormap.assign(768, 0x8080);
  put(dir, "seed_palette.tif", write_tiff(tp));
  put(dir, "bad_truncated.tif", cut(tiff, tiff.size() / 2));
  put(dir, "bad_ifd_offset.tif", poke(tiff, 4, 0xF0));
  return 0;
}
