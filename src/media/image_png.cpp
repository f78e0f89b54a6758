// PNG decoding with libpng, producing Pillow 9.4's modes and values (PngImagePlugin._MODES):
// 1/2/4/8-bit grey -> L (scaled to 0..255), 16-bit grey -> Pillow's "I", which its
// convert("L"/"RGB") clips to 0..255, so we store the clipped value as L; grey+alpha 8 -> LA,
// 16 -> RGBA; RGB(A) 16-bit keep the high byte; palette -> P with the PLTE over Pillow's grey
// ramp, tRNS -> palette alphas; tRNS colours of grey/RGB images are kept raw, like Pillow.
// Orientation comes from eXIf, a "Raw profile type exif" text chunk or XMP, as in getexif().
#include <csetjmp>
#include <cstring>
#include <string>

#include <png.h>

#include "core/error.h"
#include "media/image.h"

namespace pocket::detail {
namespace {

struct PngReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
  char message[256];
};

void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "file is truncated");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

void png_on_error(png_structp png, png_const_charp msg) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  std::strncpy(r->message, msg ? msg : "error", sizeof r->message - 1);
  r->message[sizeof r->message - 1] = 0;
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ref: Pillow 9.4 Image.getexif: bytes.fromhex("".join(text.split("\n")[3:])) of an
// ImageMagick "Raw profile type exif" chunk. Returns 0 if it does not parse.
int raw_profile_orientation(std::string_view text) {
  size_t at = 0;
  for (int i = 0; i < 3; ++i) {
    at = text.find('\n', at);
    if (at == std::string_view::npos) return 0;
    ++at;
  }
  std::vector<uint8_t> bytes;
  int hi = -1;
  for (size_t i = at; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
      if (hi >= 0) return 0;  // fromhex needs both digits of a byte together
      continue;
    }
    const int v = hex_value(c);
    if (v < 0) return 0;
    if (hi < 0) {
      hi = v;
    } else {
      bytes.push_back(static_cast<uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  if (hi >= 0) return 0;
  return exif_orientation(bytes);
}

struct PngInfo {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  bool over_limit = false;
  bool image_done = false;
  // PLTE / tRNS
  int n_palette = 0;
  uint8_t palette[768];
  int n_trans = 0;
  uint8_t trans_alpha[256];
  bool has_trans_color = false;
  uint16_t trans_color[3];
  bool has_exif = false;
  bool has_raw_profile = false;
  int exif_orientation = 0;
  int text_orientation = 0;
  int xmp_orientation = 0;
};

void read_metadata(png_structp png, png_infop info, PngInfo& pi) {
  png_uint_32 n_exif = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(png, info, &n_exif, &exif) && exif && n_exif) {
    pi.has_exif = true;
    pi.exif_orientation = exif_orientation({exif, n_exif});
  }
  png_textp text = nullptr;
  int n_text = 0;
  if (png_get_text(png, info, &text, &n_text) > 0) {
    for (int i = 0; i < n_text; ++i) {
      const char* key = text[i].key;
      const char* value = text[i].text;
      if (!key || !value) continue;
      const size_t len = text[i].compression >= PNG_ITXT_COMPRESSION_NONE ? text[i].itxt_length : text[i].text_length;
      const std::string_view v(value, len);
      if (std::strcmp(key, "Raw profile type exif") == 0 && !pi.has_raw_profile) {
        pi.has_raw_profile = true;
        pi.text_orientation = raw_profile_orientation(v);
      } else if (std::strcmp(key, "XML:com.adobe.xmp") == 0 && !pi.xmp_orientation) {
        pi.xmp_orientation = xmp_orientation(v);
      }
    }
  }
}

// Decodes into `out` ([h, w, out_channels] bytes, or 16-bit big-endian grey for bit_depth 16
// grey). C-style: nothing with a destructor lives in this frame across setjmp.
void decode_png_raw(PngReader& reader, uint64_t max_pixels, std::vector<uint8_t>& out, std::vector<png_bytep>& rows,
                    PngInfo& pi, bool& ok) {
  ok = false;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, png_on_error, png_on_warning);
  if (!png) {
    std::strcpy(reader.message, "out of memory");
    return;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::strcpy(reader.message, "out of memory");
    return;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    // Pillow stops quietly when the chunks after the image data are damaged (load_end).
    ok = pi.image_done;
    return;
  }
  png_set_read_fn(png, &reader, png_read_mem);
  png_set_user_limits(png, 1u << 30, 1u << 30);
  png_set_chunk_malloc_max(png, 64u << 20);
  png_read_info(png, info);

  int interlace = 0;
  png_get_IHDR(png, info, &pi.width, &pi.height, &pi.bit_depth, &pi.color_type, &interlace, nullptr, nullptr);
  if (pi.width == 0 || pi.height == 0 || static_cast<uint64_t>(pi.width) * pi.height > max_pixels) {
    pi.over_limit = true;
    png_destroy_read_struct(&png, &info, nullptr);
    return;
  }
  png_colorp plte = nullptr;
  int n_plte = 0;
  if (png_get_PLTE(png, info, &plte, &n_plte) && plte) {
    pi.n_palette = n_plte > 256 ? 256 : n_plte;
    for (int i = 0; i < pi.n_palette; ++i) {
      pi.palette[3 * i] = plte[i].red;
      pi.palette[3 * i + 1] = plte[i].green;
      pi.palette[3 * i + 2] = plte[i].blue;
    }
  }
  png_bytep trans_alpha = nullptr;
  int n_trans = 0;
  png_color_16p trans_color = nullptr;
  if (png_get_tRNS(png, info, &trans_alpha, &n_trans, &trans_color)) {
    if (pi.color_type == PNG_COLOR_TYPE_PALETTE && trans_alpha) {
      pi.n_trans = n_trans > 256 ? 256 : n_trans;
      std::memcpy(pi.trans_alpha, trans_alpha, static_cast<size_t>(pi.n_trans));
    } else if (trans_color && pi.color_type == PNG_COLOR_TYPE_GRAY) {
      pi.has_trans_color = true;
      pi.trans_color[0] = pi.trans_color[1] = pi.trans_color[2] = trans_color->gray;
    } else if (trans_color && pi.color_type == PNG_COLOR_TYPE_RGB) {
      pi.has_trans_color = true;
      pi.trans_color[0] = trans_color->red;
      pi.trans_color[1] = trans_color->green;
      pi.trans_color[2] = trans_color->blue;
    }
  }

  const bool grey16 = pi.color_type == PNG_COLOR_TYPE_GRAY && pi.bit_depth == 16;
  if (pi.bit_depth == 16 && !grey16) png_set_strip_16(png);  // Pillow's ;16B rawmodes keep the high byte
  if (pi.bit_depth < 8) {
    if (pi.color_type == PNG_COLOR_TYPE_GRAY) {
      png_set_expand_gray_1_2_4_to_8(png);
    } else {
      png_set_packing(png);
    }
  }
  if (pi.color_type == PNG_COLOR_TYPE_GRAY_ALPHA && pi.bit_depth == 16) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const size_t stride = png_get_rowbytes(png, info);
  out.resize(stride * pi.height);
  rows.resize(pi.height);
  for (png_uint_32 y = 0; y < pi.height; ++y) rows[y] = out.data() + stride * y;
  png_read_image(png, rows.data());
  pi.image_done = true;
  read_metadata(png, info, pi);
  png_read_end(png, info);
  read_metadata(png, info, pi);  // eXIf / text after IDAT
  png_destroy_read_struct(&png, &info, nullptr);
  ok = true;
}

}  // namespace

Image decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  // IHDR must be the first chunk; refuse oversized images before libpng reads any further
  // (png_read_info only returns at the first IDAT).
  if (bytes.size() >= 24 && std::memcmp(bytes.data() + 12, "IHDR", 4) == 0) {
    auto be32 = [&](size_t at) {
      return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) | (uint32_t{bytes[at + 2]} << 8) |
             bytes[at + 3];
    };
    check_image_size(be32(16), be32(20), limits, "PNG");
  }
  PngReader reader{bytes.data(), bytes.size(), 0, {0}};
  std::vector<uint8_t> raw;
  std::vector<png_bytep> rows;
  PngInfo pi;
  bool ok = false;
  decode_png_raw(reader, limits.max_pixels, raw, rows, pi, ok);
  if (pi.over_limit) check_image_size(pi.width, pi.height, limits, "PNG");
  POCKET_CHECK(ok, "corrupt PNG: {}", reader.message);

  const int w = static_cast<int>(pi.width), h = static_cast<int>(pi.height);
  Image im;
  switch (pi.color_type) {
    case PNG_COLOR_TYPE_GRAY:
      im = make_image(w, h, PixelMode::L);
      if (pi.bit_depth == 16) {
        // ref: Pillow 9.4: mode "I" ("I;16B"); Convert.c i2l / i2rgb clip to 0..255.
        for (size_t i = 0; i < im.pixels.size(); ++i) {
          const unsigned v = (raw[2 * i] << 8) | raw[2 * i + 1];
          im.pixels[i] = static_cast<uint8_t>(v > 255 ? 255 : v);
        }
      } else {
        im.pixels = std::move(raw);
      }
      break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      im = make_image(w, h, pi.bit_depth == 16 ? PixelMode::RGBA : PixelMode::LA);
      im.pixels = std::move(raw);
      break;
    case PNG_COLOR_TYPE_PALETTE:
      im = make_image(w, h, PixelMode::P);
      im.pixels = std::move(raw);
      im.palette = ramp_palette(pi.palette, pi.n_palette);
      if (pi.n_trans > 0) {
        im.palette_alpha.assign(256, 255);
        std::memcpy(im.palette_alpha.data(), pi.trans_alpha, static_cast<size_t>(pi.n_trans));
        // ref: Pillow 9.4 PngImagePlugin.chunk_tRNS: _simple_palette = ^\xff*\x00\xff*$
        int zero = -1, n_zero = 0, n_other = 0;
        for (int i = 0; i < pi.n_trans; ++i) {
          if (pi.trans_alpha[i] == 0) {
            zero = i;
            ++n_zero;
          } else if (pi.trans_alpha[i] != 255) {
            ++n_other;
          }
        }
        if (n_zero == 1 && n_other == 0) im.transparency_index = zero;
      }
      break;
    case PNG_COLOR_TYPE_RGB:
      im = make_image(w, h, PixelMode::RGB);
      im.pixels = std::move(raw);
      break;
    case PNG_COLOR_TYPE_RGB_ALPHA:
      im = make_image(w, h, PixelMode::RGBA);
      im.pixels = std::move(raw);
      break;
    default:
      fail("corrupt PNG: colour type {}", pi.color_type);
  }
  POCKET_CHECK(im.pixels.size() == static_cast<size_t>(w) * h * im.channels, "PNG decode produced {} bytes",
               im.pixels.size());
  if (pi.has_trans_color && (im.mode == PixelMode::L || im.mode == PixelMode::RGB)) {
    im.has_transparent_color = true;
    im.transparent_color = {pi.trans_color[0], pi.trans_color[1], pi.trans_color[2]};
  }
  im.format = ImageFormat::Png;
  // ref: Pillow 9.4 Image.getexif: eXIf, else the raw profile; XMP only if neither has the tag.
  im.orientation = pi.has_exif ? pi.exif_orientation : pi.has_raw_profile ? pi.text_orientation : 0;
  if (im.orientation == 0) im.orientation = pi.xmp_orientation;
  return im;
}

}  // namespace pocket::detail
