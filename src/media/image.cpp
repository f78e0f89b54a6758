// Format detection, decode dispatch, EXIF orientation and Pillow's mode conversions.
// Per-format decoders live in image_jpeg.cpp, image_png.cpp and image_other.cpp.
#include "media/image.h"

#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace pocket {

const char* pixel_mode_name(PixelMode mode) {
  switch (mode) {
    case PixelMode::L: return "L";
    case PixelMode::LA: return "LA";
    case PixelMode::P: return "P";
    case PixelMode::RGB: return "RGB";
    case PixelMode::RGBA: return "RGBA";
  }
  return "?";
}

int pixel_mode_channels(PixelMode mode) {
  switch (mode) {
    case PixelMode::L: return 1;
    case PixelMode::LA: return 2;
    case PixelMode::P: return 1;
    case PixelMode::RGB: return 3;
    case PixelMode::RGBA: return 4;
  }
  return 0;
}

const char* image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::Jpeg: return "JPEG";
    case ImageFormat::Png: return "PNG";
    case ImageFormat::WebP: return "WEBP";
    case ImageFormat::Gif: return "GIF";
    case ImageFormat::Tiff: return "TIFF";
    case ImageFormat::Unknown: break;
  }
  return "unknown";
}

Image make_image(int width, int height, PixelMode mode) {
  POCKET_CHECK(width > 0 && height > 0, "image size {}x{} is empty", width, height);
  Image im;
  im.width = width;
  im.height = height;
  im.mode = mode;
  im.channels = pixel_mode_channels(mode);
  im.pixels.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * im.channels, 0);
  return im;
}

ImageFormat detect_image_format(std::span<const uint8_t> b) {
  auto starts = [&](const char* magic, size_t n, size_t at = 0) {
    return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
  };
  if (starts("\xFF\xD8\xFF", 3)) return ImageFormat::Jpeg;
  if (starts("\x89PNG\r\n\x1A\n", 8)) return ImageFormat::Png;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return ImageFormat::WebP;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageFormat::Gif;
  if (starts("II*\0", 4) || starts("MM\0*", 4) || starts("II+\0", 4) || starts("MM\0+", 4)) return ImageFormat::Tiff;
  return ImageFormat::Unknown;
}

Image decode_image_memory(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  POCKET_CHECK(!bytes.empty(), "image data is empty");
  POCKET_CHECK(bytes.size() <= limits.max_bytes, "image data is {} bytes, over the limit of {}", bytes.size(),
               limits.max_bytes);
  Image im;
  switch (detect_image_format(bytes)) {
    case ImageFormat::Jpeg: im = detail::decode_jpeg(bytes, limits); break;
    case ImageFormat::Png: im = detail::decode_png(bytes, limits); break;
    case ImageFormat::WebP: im = detail::decode_webp(bytes, limits); break;
    case ImageFormat::Gif: im = detail::decode_gif(bytes, limits); break;
    case ImageFormat::Tiff: im = detail::decode_tiff(bytes, limits); break;
    case ImageFormat::Unknown: fail("unrecognised image format (not JPEG, PNG, WebP, GIF or TIFF)");
  }
  if (im.orientation < 1 || im.orientation > 8) im.orientation = 1;
  return im;
}

static std::vector<uint8_t> read_file_bytes(const std::string& path, uint64_t max_bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  POCKET_CHECK(f != nullptr, "cannot open image file '{}'", path);
  POCKET_CHECK(std::fseek(f.get(), 0, SEEK_END) == 0, "cannot seek in '{}'", path);
  const long size = std::ftell(f.get());
  POCKET_CHECK(size >= 0, "cannot size '{}'", path);
  POCKET_CHECK(static_cast<uint64_t>(size) <= max_bytes, "image file '{}' is {} bytes, over the limit of {}", path,
               size, max_bytes);
  std::fseek(f.get(), 0, SEEK_SET);
  std::vector<uint8_t> data(static_cast<size_t>(size));
  POCKET_CHECK(data.empty() || std::fread(data.data(), 1, data.size(), f.get()) == data.size(),
               "cannot read image file '{}'", path);
  return data;
}

Image decode_image_file(const std::string& path, const DecodeLimits& limits) {
  const std::vector<uint8_t> data = read_file_bytes(path, limits.max_bytes);
  try {
    return decode_image_memory(data, limits);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
}

namespace detail {

namespace {
// Thrown by check_image_size in a header-only probe: every decoder checks the header's size
// before it allocates or decodes anything, so the probe stops exactly there. Not an Error, so
// no decoder's error handling turns it into a failure.
struct HeaderSize {
  uint64_t width, height;
};
}  // namespace

void check_image_size(uint64_t width, uint64_t height, const DecodeLimits& limits, const char* format) {
  if (limits.header_only) throw HeaderSize{width, height};
  POCKET_CHECK(width > 0 && height > 0, "{} image has an empty size {}x{}", format, width, height);
  POCKET_CHECK(width <= (1u << 30) && height <= (1u << 30) && width * height <= limits.max_pixels,
               "{} image is {}x{} = {} pixels, over the limit of {} pixels", format, width, height, width * height,
               limits.max_pixels);
}

int exif_orientation(std::span<const uint8_t> exif) {
  // ref: Pillow 9.4 Image.Exif.load -> TiffImagePlugin.ImageFileDirectory_v2 (IFD0 only).
  if (exif.size() >= 6 && std::memcmp(exif.data(), "Exif\0\0", 6) == 0) exif = exif.subspan(6);
  if (exif.size() < 8) return 0;
  bool le;
  if (std::memcmp(exif.data(), "II*\0", 4) == 0) {
    le = true;
  } else if (std::memcmp(exif.data(), "MM\0*", 4) == 0) {
    le = false;
  } else {
    return 0;
  }
  auto u16 = [&](size_t at) -> uint32_t {
    return le ? exif[at] | (exif[at + 1] << 8) : (exif[at] << 8) | exif[at + 1];
  };
  auto u32 = [&](size_t at) -> uint32_t {
    return le ? u16(at) | (u16(at + 2) << 16) : (u16(at) << 16) | u16(at + 2);
  };
  const uint64_t ifd = u32(4);
  if (ifd + 2 > exif.size()) return 0;
  const uint32_t count = u16(ifd);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t e = ifd + 2 + 12ull * i;
    if (e + 12 > exif.size()) return 0;
    if (u16(e) != 0x0112) continue;
    const uint32_t type = u16(e + 2);
    // A tuple (count != 1) maps to no transpose method in exif_transpose.
    if (u32(e + 4) != 1) return 0;
    switch (type) {
      case 1: case 6: return exif[e + 8];              // BYTE / SBYTE
      case 3: case 8: return static_cast<int>(u16(e + 8));  // SHORT / SSHORT
      case 4: case 9: return static_cast<int>(u32(e + 8));  // LONG / SLONG
      default: return 0;
    }
  }
  return 0;
}

int xmp_orientation(std::string_view xmp) {
  // ref: Pillow 9.4 Image.getexif: re.search(r'tiff:Orientation(="|>)([0-9])', xmp)
  const std::string_view key = "tiff:Orientation";
  for (size_t at = xmp.find(key); at != std::string_view::npos; at = xmp.find(key, at + 1)) {
    size_t p = at + key.size();
    if (p < xmp.size() && xmp[p] == '>') {
      ++p;
    } else if (p + 1 < xmp.size() && xmp[p] == '=' && xmp[p + 1] == '"') {
      p += 2;
    } else {
      continue;
    }
    if (p < xmp.size() && xmp[p] >= '0' && xmp[p] <= '9') return xmp[p] - '0';
  }
  return 0;
}

std::vector<uint8_t> ramp_palette(const uint8_t* rgb, int n_entries) {
  std::vector<uint8_t> pal(768);
  for (int i = 0; i < 256; ++i) pal[3 * i] = pal[3 * i + 1] = pal[3 * i + 2] = static_cast<uint8_t>(i);
  if (n_entries > 256) n_entries = 256;
  if (n_entries > 0) std::memcpy(pal.data(), rgb, static_cast<size_t>(n_entries) * 3);
  return pal;
}

}  // namespace detail

std::optional<std::array<uint64_t, 2>> image_header_size(std::span<const uint8_t> bytes) {
  DecodeLimits probe;
  probe.max_pixels = 0;  // JPEG and PNG stop reading at the header when over the limit
  probe.header_only = true;
  try {
    decode_image_memory(bytes, probe);
  } catch (const detail::HeaderSize& s) {
    return std::array<uint64_t, 2>{s.width, s.height};
  } catch (const Error&) {
  }
  return std::nullopt;
}

Image exif_transpose(const Image& in) {
  // ref: Pillow 9.4 ImageOps.exif_transpose and libImaging/Transpose.c.
  // Orientation -> out(x, y) = in(sx, sy) with W, H the input size.
  const int o = in.orientation;
  if (o < 2 || o > 8) {
    Image out = in;
    out.orientation = 1;
    return out;
  }
  const bool swap = o >= 5;
  Image out = in;
  out.orientation = 1;
  out.width = swap ? in.height : in.width;
  out.height = swap ? in.width : in.height;
  const int W = in.width, H = in.height, C = in.channels;
  for (int y = 0; y < out.height; ++y) {
    uint8_t* dst = out.row(y);
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;
      switch (o) {
        case 2: sx = W - 1 - x; sy = y; break;              // FLIP_LEFT_RIGHT
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;      // ROTATE_180
        case 4: sx = x; sy = H - 1 - y; break;              // FLIP_TOP_BOTTOM
        case 5: sx = y; sy = x; break;                      // TRANSPOSE
        case 6: sx = y; sy = H - 1 - x; break;              // ROTATE_270 (90° clockwise)
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;      // TRANSVERSE
        case 8: sx = W - 1 - y; sy = x; break;              // ROTATE_90 (90° counter-clockwise)
      }
      std::memcpy(dst + static_cast<size_t>(x) * C, in.row(sy) + static_cast<size_t>(sx) * C, C);
    }
  }
  return out;
}

Image convert_to_rgb(const Image& in) {
  if (in.mode == PixelMode::RGB) return in;
  Image out = make_image(in.width, in.height, PixelMode::RGB);
  out.orientation = in.orientation;
  out.format = in.format;
  const size_t n = static_cast<size_t>(in.width) * in.height;
  const uint8_t* s = in.pixels.data();
  uint8_t* d = out.pixels.data();
  for (size_t i = 0; i < n; ++i, d += 3) {
    switch (in.mode) {
      case PixelMode::L: d[0] = d[1] = d[2] = s[i]; break;
      case PixelMode::LA: d[0] = d[1] = d[2] = s[2 * i]; break;
      case PixelMode::P: std::memcpy(d, in.palette.data() + 3 * s[i], 3); break;
      case PixelMode::RGBA: std::memcpy(d, s + 4 * i, 3); break;
      case PixelMode::RGB: break;
    }
  }
  return out;
}

Image convert_to_rgba(const Image& in) {
  if (in.mode == PixelMode::RGBA) return in;
  Image out = make_image(in.width, in.height, PixelMode::RGBA);
  out.orientation = in.orientation;
  out.format = in.format;
  const size_t n = static_cast<size_t>(in.width) * in.height;
  const uint8_t* s = in.pixels.data();
  uint8_t* d = out.pixels.data();
  // ref: Pillow 9.4 Image.convert: a tRNS colour of L/RGB becomes alpha 0 (convert_transparent),
  // P uses its palette alphas (putpalettealpha / putpalettealphas).
  const bool trns = in.has_transparent_color;
  const auto& tc = in.transparent_color;
  for (size_t i = 0; i < n; ++i, d += 4) {
    switch (in.mode) {
      case PixelMode::L:
        d[0] = d[1] = d[2] = s[i];
        d[3] = trns && s[i] == tc[0] ? 0 : 255;
        break;
      case PixelMode::LA:
        d[0] = d[1] = d[2] = s[2 * i];
        d[3] = s[2 * i + 1];
        break;
      case PixelMode::P:
        std::memcpy(d, in.palette.data() + 3 * s[i], 3);
        d[3] = in.palette_alpha.empty() ? 255 : in.palette_alpha[s[i]];
        break;
      case PixelMode::RGB:
        std::memcpy(d, s + 3 * i, 3);
        d[3] = trns && s[3 * i] == tc[0] && s[3 * i + 1] == tc[1] && s[3 * i + 2] == tc[2] ? 0 : 255;
        break;
      case PixelMode::RGBA: break;
    }
  }
  return out;
}

Image load_image_rgb(const std::string& path, const DecodeLimits& limits) {
  return convert_to_rgb(exif_transpose(decode_image_file(path, limits)));
}

Image load_image_rgb(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  return convert_to_rgb(exif_transpose(decode_image_memory(bytes, limits)));
}

Image composite_over_white(const Image& in) {
  POCKET_CHECK(in.mode == PixelMode::RGBA, "composite_over_white needs RGBA, got {}", pixel_mode_name(in.mode));
  Image out = make_image(in.width, in.height, PixelMode::RGB);
  const size_t n = static_cast<size_t>(in.width) * in.height;
  const uint8_t* s = in.pixels.data();
  uint8_t* d = out.pixels.data();
  for (size_t i = 0; i < n; ++i, s += 4, d += 3) {
    const uint32_t a = s[3];
    if (a == 0) {
      d[0] = d[1] = d[2] = 255;
      continue;
    }
    // ref: Pillow 9.4 libImaging/AlphaComposite.c with an opaque white destination:
    // coef1 = a * 128, coef2 = (255 - a) * 128 (PRECISION_BITS = 7).
    for (int c = 0; c < 3; ++c) {
      const uint32_t t = s[c] * a * 128 + 255 * (255 - a) * 128 + 128 * 128;
      d[c] = static_cast<uint8_t>((((t >> 8) + t) >> 8) >> 7);
    }
  }
  return out;
}

Image paste_over_white(const Image& in) {
  POCKET_CHECK(in.mode == PixelMode::RGBA, "paste_over_white needs RGBA, got {}", pixel_mode_name(in.mode));
  Image out = make_image(in.width, in.height, PixelMode::RGB);
  const size_t n = static_cast<size_t>(in.width) * in.height;
  const uint8_t* s = in.pixels.data();
  uint8_t* d = out.pixels.data();
  for (size_t i = 0; i < n; ++i, s += 4, d += 3) {
    const uint32_t a = s[3];
    // ref: Pillow 9.4 libImaging/Paste.c paste_mask_RGBA, BLEND(mask, 255, c) = DIV255(255 (255 - a) + c a).
    for (int c = 0; c < 3; ++c) {
      const uint32_t t = 255 * (255 - a) + s[c] * a + 128;
      d[c] = static_cast<uint8_t>((t + (t >> 8)) >> 8);
    }
  }
  return out;
}

}  // namespace pocket
