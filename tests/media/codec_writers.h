// Test-only encoders (libpng, libjpeg, giflib, libtiff, libwebp) that build small files of
// every mode the decoder must handle, plus a minimal EXIF block. Pixel values put into a
// lossless file are the expected decode, independent of the code under test.
#pragma once

#include <cstdio>  // before jpeglib.h, which uses FILE

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>
#include <unistd.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace pocket::media_test {

using Bytes = std::vector<uint8_t>;

// TIFF-structured EXIF with IFD0 holding only the orientation tag (SHORT, count 1).
inline Bytes make_exif(int orientation, bool little_endian = true, bool with_prefix = true) {
  Bytes b;
  b.reserve(64);
  if (with_prefix)
    for (uint8_t c : {'E', 'x', 'i', 'f', '\0', '\0'}) b.push_back(c);
  auto u16 = [&](unsigned v) {
    if (little_endian) {
      b.push_back(v & 0xFF);
      b.push_back(v >> 8);
    } else {
      b.push_back(v >> 8);
      b.push_back(v & 0xFF);
    }
  };
  auto u32 = [&](unsigned v) {
    if (little_endian) {
      u16(v & 0xFFFF);
      u16(v >> 16);
    } else {
      u16(v >> 16);
      u16(v & 0xFFFF);
    }
  };
  static const uint8_t kLe[4] = {'I', 'I', 42, 0}, kBe[4] = {'M', 'M', 0, 42};
  for (uint8_t c : little_endian ? kLe : kBe) b.push_back(c);
  u32(8);
  u16(1);
  u16(0x0112);
  u16(3);
  u32(1);
  u16(static_cast<unsigned>(orientation));
  u16(0);
  u32(0);
  return b;
}

// ---------------------------------------------------------------- PNG

struct PngSpec {
  int width = 0, height = 0;
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlace = false;
  std::vector<uint8_t> rows;  // packed rows as PNG stores them (big-endian 16-bit samples)
  std::vector<png_color> palette;
  std::vector<uint8_t> trns_alpha;
  bool has_trns_color = false;
  png_color_16 trns_color{};
  Bytes exif;  // raw TIFF data for eXIf (no "Exif" prefix)
  std::vector<std::pair<std::string, std::string>> text;   // tEXt
  std::vector<std::pair<std::string, std::string>> itext;  // iTXt
};

inline void png_write_mem(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
inline void png_flush_mem(png_structp) {}

inline Bytes write_png(const PngSpec& s) {
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("png write failed");
  }
  png_set_write_fn(png, &out, png_write_mem, png_flush_mem);
  png_set_IHDR(png, info, s.width, s.height, s.bit_depth, s.color_type,
               s.interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!s.palette.empty()) png_set_PLTE(png, info, s.palette.data(), static_cast<int>(s.palette.size()));
  if (!s.trns_alpha.empty()) {
    png_set_tRNS(png, info, s.trns_alpha.data(), static_cast<int>(s.trns_alpha.size()), nullptr);
  } else if (s.has_trns_color) {
    png_color_16 c = s.trns_color;
    png_set_tRNS(png, info, nullptr, 0, &c);
  }
  if (!s.exif.empty()) png_set_eXIf_1(png, info, static_cast<png_uint_32>(s.exif.size()), const_cast<png_bytep>(s.exif.data()));
  std::vector<png_text> texts;
  for (const auto& [k, v] : s.text) {
    png_text t{};
    t.compression = PNG_TEXT_COMPRESSION_NONE;
    t.key = const_cast<char*>(k.c_str());
    t.text = const_cast<char*>(v.c_str());
    t.text_length = v.size();
    texts.push_back(t);
  }
  for (const auto& [k, v] : s.itext) {
    png_text t{};
    t.compression = PNG_ITXT_COMPRESSION_NONE;
    t.key = const_cast<char*>(k.c_str());
    t.text = const_cast<char*>(v.c_str());
    t.itxt_length = v.size();
    t.lang = const_cast<char*>("");
    t.lang_key = const_cast<char*>("");
    texts.push_back(t);
  }
  if (!texts.empty()) png_set_text(png, info, texts.data(), static_cast<int>(texts.size()));
  png_write_info(png, info);
  const size_t stride = s.rows.size() / s.height;
  std::vector<png_bytep> rows(s.height);
  for (int y = 0; y < s.height; ++y) rows[y] = const_cast<png_bytep>(s.rows.data() + stride * y);
  png_write_image(png, rows.data());
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

// ---------------------------------------------------------------- JPEG

inline Bytes write_jpeg(const uint8_t* pixels, int w, int h, int components, J_COLOR_SPACE space, int quality = 90,
                        const Bytes& app1 = {}, bool progressive = false) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = w;
  c.image_height = h;
  c.input_components = components;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  if (!app1.empty()) jpeg_write_marker(&c, JPEG_APP0 + 1, app1.data(), static_cast<unsigned>(app1.size()));
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels + static_cast<size_t>(c.next_scanline) * w * components);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  Bytes out(buf, buf + size);
  std::free(buf);
  return out;
}

// ---------------------------------------------------------------- GIF

struct GifSpec {
  int screen_w = 0, screen_h = 0;
  std::vector<GifColorType> global_palette;  // size must be a power of two (or empty)
  std::vector<GifColorType> local_palette;
  int left = 0, top = 0, width = 0, height = 0;
  bool interlace = false;
  int transparent = -1;
  std::vector<uint8_t> indices;  // [height, width] in display order
};

inline int gif_write_mem(GifFileType* gif, const GifByteType* data, int n) {
  auto* out = static_cast<Bytes*>(gif->UserData);
  out->insert(out->end(), data, data + n);
  return n;
}

inline Bytes write_gif(const GifSpec& s) {
  Bytes out;
  int err = 0;
  GifFileType* gif = EGifOpen(&out, gif_write_mem, &err);
  if (!gif) throw std::runtime_error("EGifOpen failed");
  EGifSetGifVersion(gif, true);
  auto make_map = [](const std::vector<GifColorType>& p) -> ColorMapObject* {
    if (p.empty()) return nullptr;
    return GifMakeMapObject(static_cast<int>(p.size()), p.data());
  };
  ColorMapObject* global = make_map(s.global_palette);
  ColorMapObject* local = make_map(s.local_palette);
  if (EGifPutScreenDesc(gif, s.screen_w, s.screen_h, 8, 0, global) == GIF_ERROR) throw std::runtime_error("screen");
  if (s.transparent >= 0) {
    GifByteType gce[4] = {1, 0, 0, static_cast<GifByteType>(s.transparent)};
    EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, gce);
  }
  if (EGifPutImageDesc(gif, s.left, s.top, s.width, s.height, s.interlace, local) == GIF_ERROR)
    throw std::runtime_error("image desc");
  std::vector<int> order;
  if (s.interlace) {
    const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    for (int p = 0; p < 4; ++p)
      for (int y = start[p]; y < s.height; y += step[p]) order.push_back(y);
  } else {
    for (int y = 0; y < s.height; ++y) order.push_back(y);
  }
  for (int y : order) {
    EGifPutLine(gif, const_cast<GifPixelType*>(s.indices.data() + static_cast<size_t>(y) * s.width), s.width);
  }
  EGifCloseFile(gif, &err);
  GifFreeMapObject(global);
  GifFreeMapObject(local);
  return out;
}

// ---------------------------------------------------------------- TIFF

struct TiffSpec {
  int width = 0, height = 0;
  int spp = 3, bps = 8;
  int photometric = PHOTOMETRIC_RGB;
  int extra_sample = -1;  // EXTRASAMPLE_* for the last sample, -1 for none
  int compression = COMPRESSION_NONE;
  int orientation = 0;    // 0: tag absent
  std::vector<uint8_t> data;  // contiguous rows
  std::vector<uint16_t> colormap;  // 3 * 256 for palette images
};

inline Bytes write_tiff(const TiffSpec& s) {
  char path[] = "/tmp/pocket_media_test_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp");
  close(fd);
  TIFF* t = TIFFOpen(path, "w");
  if (!t) throw std::runtime_error("TIFFOpen");
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, s.width);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, s.height);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, s.spp);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, s.bps);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, s.photometric);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(t, TIFFTAG_COMPRESSION, s.compression);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 4);
  if (s.orientation) TIFFSetField(t, TIFFTAG_ORIENTATION, s.orientation);
  if (s.extra_sample >= 0) {
    uint16_t ex = static_cast<uint16_t>(s.extra_sample);
    TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &ex);
  }
  if (!s.colormap.empty()) {
    TIFFSetField(t, TIFFTAG_COLORMAP, s.colormap.data(), s.colormap.data() + 256, s.colormap.data() + 512);
  }
  const size_t stride = s.data.size() / s.height;
  for (int y = 0; y < s.height; ++y) {
    TIFFWriteScanline(t, const_cast<uint8_t*>(s.data.data() + stride * y), y, 0);
  }
  TIFFClose(t);
  FILE* f = std::fopen(path, "rb");
  Bytes out;
  int ch;
  while ((ch = std::fgetc(f)) != EOF) out.push_back(static_cast<uint8_t>(ch));
  std::fclose(f);
  std::remove(path);
  return out;
}

// ---------------------------------------------------------------- WebP

inline Bytes write_webp(const uint8_t* pixels, int w, int h, bool alpha, bool lossless, const Bytes& exif = {}) {
  uint8_t* buf = nullptr;
  size_t size = 0;
  if (lossless) {
    size = alpha ? WebPEncodeLosslessRGBA(pixels, w, h, w * 4, &buf) : WebPEncodeLosslessRGB(pixels, w, h, w * 3, &buf);
  } else {
    size = alpha ? WebPEncodeRGBA(pixels, w, h, w * 4, 80, &buf) : WebPEncodeRGB(pixels, w, h, w * 3, 80, &buf);
  }
  if (!size) throw std::runtime_error("webp encode failed");
  Bytes out(buf, buf + size);
  WebPFree(buf);
  if (exif.empty()) return out;
  WebPData image{out.data(), out.size()};
  WebPMux* mux = WebPMuxCreate(&image, 1);
  WebPData chunk{exif.data(), exif.size()};
  WebPMuxSetChunk(mux, "EXIF", &chunk, 1);
  WebPData assembled;
  WebPMuxAssemble(mux, &assembled);
  Bytes with(assembled.bytes, assembled.bytes + assembled.size);
  WebPDataClear(&assembled);
  WebPMuxDelete(mux);
  return with;
}

}  // namespace pocket::media_test
