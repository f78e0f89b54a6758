// Decoded still images and the Pillow-compatible colour conversions around them.
//
// The reference preprocessors (transformers' SmolVLM processor, mistral-common's ImageEncoder)
// receive images from Pillow 9.4, so decoding keeps Pillow's view of a file: the same pixel
// values (libjpeg-turbo with its defaults, libpng, libwebp's animation decoder, giflib, libtiff)
// and the same PIL mode (L, LA, P with its palette and transparency, RGB, RGBA). Conversions
// reproduce Pillow's integer formulas exactly. Every decoder checks the pixel count from the
// header before allocating and turns any failure into pocket::Error.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pocket {

// PIL modes we keep. 1-bit and 16-bit greyscale decode to L (as Pillow's convert("L"/"RGB")
// would see them); CMYK JPEGs are converted to RGB while decoding.
enum class PixelMode { L, LA, P, RGB, RGBA };

const char* pixel_mode_name(PixelMode mode);
int pixel_mode_channels(PixelMode mode);

enum class ImageFormat { Unknown, Jpeg, Png, WebP, Gif, Tiff };

const char* image_format_name(ImageFormat format);

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // == pixel_mode_channels(mode)
  PixelMode mode = PixelMode::RGB;
  std::vector<uint8_t> pixels;  // [height, width, channels], row-major, interleaved

  // Mode P only: 256 RGB entries. Entries past the file's own palette hold Pillow's default
  // grey ramp (i, i, i), which is what out-of-range indices show in Pillow 9.4.
  std::vector<uint8_t> palette;
  // Mode P with transparency (PNG tRNS, GIF transparent index): 256 alphas, 255 = opaque.
  std::vector<uint8_t> palette_alpha;
  // Mode P: the single fully transparent index Pillow reports as info["transparency"], or -1.
  int transparency_index = -1;
  // Mode L / RGB with a PNG tRNS colour (raw 16-bit sample values, as Pillow keeps them).
  bool has_transparent_color = false;
  std::array<uint16_t, 3> transparent_color{0, 0, 0};

  // EXIF orientation (1..8) found in the file, not applied yet; see exif_transpose().
  int orientation = 1;
  ImageFormat format = ImageFormat::Unknown;

  size_t row_bytes() const { return static_cast<size_t>(width) * channels; }
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * row_bytes(); }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * row_bytes(); }
};

// Allocates an image of the given mode (pixels zeroed). Throws on non-positive sizes.
Image make_image(int width, int height, PixelMode mode);

struct DecodeLimits {
  // Checked against the header's width × height before any pixel memory is allocated.
  uint64_t max_pixels = 100'000'000;
  // Largest accepted file / buffer.
  uint64_t max_bytes = uint64_t{1} << 30;
  // image_header_size(): stop at the header's size (internal).
  bool header_only = false;
};

// The width and height an image's header declares, read without decoding or allocating
// pixels (what decoding would check against max_pixels); nullopt when no header can be read.
std::optional<std::array<uint64_t, 2>> image_header_size(std::span<const uint8_t> bytes);

ImageFormat detect_image_format(std::span<const uint8_t> bytes);

// Decodes the first frame of a JPEG, PNG, WebP, GIF or TIFF file (format from magic bytes),
// keeping Pillow's mode. Throws pocket::Error on unknown, corrupt, truncated or oversized input.
Image decode_image_memory(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});
Image decode_image_file(const std::string& path, const DecodeLimits& limits = {});

// PIL.ImageOps.exif_transpose: applies `orientation` (2..8) and resets it to 1.
Image exif_transpose(const Image& image);

// PIL convert("RGB"): alpha dropped (the stored colour shows), grey replicated, palette looked
// up (its transparency ignored).
Image convert_to_rgb(const Image& image);
// PIL convert("RGBA"): transparency of P (palette alphas) and L (tRNS grey) becomes alpha.
Image convert_to_rgba(const Image& image);

// transformers.image_utils.load_image for a path or URL: exif_transpose, then convert("RGB").
Image load_image_rgb(const std::string& path, const DecodeLimits& limits = {});
Image load_image_rgb(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});

// Pillow's integer helpers, shared by the preprocessors.
// Image.alpha_composite(white, rgba).convert("RGB") (AlphaComposite.c): RGBA -> RGB.
Image composite_over_white(const Image& rgba);
// Image.new("RGBA", size, "WHITE").paste(im, mask=im).convert("RGB") (Paste.c): RGBA -> RGB.
Image paste_over_white(const Image& rgba);

// Internal: decode entry points per format (image_*.cpp). `bytes` is the whole file.
namespace detail {
Image decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Image decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Image decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Image decode_gif(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Image decode_tiff(std::span<const uint8_t> bytes, const DecodeLimits& limits);
// Throws unless width, height > 0 and width * height <= limits.max_pixels.
void check_image_size(uint64_t width, uint64_t height, const DecodeLimits& limits, const char* format);
// Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block (with or without the
// "Exif\0\0" prefix); 0 when absent or unreadable.
int exif_orientation(std::span<const uint8_t> exif);
// Pillow's XMP fallback: the digit after `tiff:Orientation="` or `tiff:Orientation>`; 0 if none.
int xmp_orientation(std::string_view xmp);
// Pillow's 256-entry default palette: a grey ramp, with `rgb` (n entries) copied over its start.
std::vector<uint8_t> ramp_palette(const uint8_t* rgb, int n_entries);
}  // namespace detail

}  // namespace pocket
