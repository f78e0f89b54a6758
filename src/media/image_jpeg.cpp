// JPEG decoding with libjpeg-turbo, configured exactly as Pillow 9.4's JpegDecode.c leaves it:
// library defaults (ISLOW DCT, fancy upsampling), colour space guessed by the library, output
// L / RGB / CMYK. Pillow reads CMYK as Adobe-inverted ("CMYK;I") and converts it to RGB with
// cmyk2rgb; we do the same at decode time. Errors longjmp out of libjpeg (never exit()).
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>

#include "core/error.h"
#include "media/image.h"

namespace pocket::detail {
namespace {

struct JpegErrorMgr {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorMgr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_emit_message(j_common_ptr cinfo, int level) {
  // Pillow ignores libjpeg's corrupt-data warnings but refuses a file that ends early
  // ("image file is truncated"); libjpeg reports that as the JWRN_JPEG_EOF warning.
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error_exit(cinfo);
}

void on_progress(j_common_ptr cinfo) {
  // A progressive file can hold thousands of tiny scans that each re-walk the whole image;
  // cap them like libjpeg-turbo's TurboJPEG API does (its limit is 500).
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > 1000) {
    cinfo->err->msg_code = JERR_UNKNOWN_MARKER;
    std::snprintf(reinterpret_cast<JpegErrorMgr*>(cinfo->err)->message, JMSG_LENGTH_MAX,
                  "too many progressive scans (%d)", dinfo->input_scan_number);
    std::longjmp(reinterpret_cast<JpegErrorMgr*>(cinfo->err)->jump, 2);
  }
}

struct JpegResult {
  bool ok = false;
  bool over_limit = false;
  unsigned width = 0, height = 0;
  int components = 0;
  int orientation = 0;
};

// Plain-C style on purpose: nothing with a destructor lives in this frame across setjmp, and
// `out` belongs to the caller, so a longjmp from libjpeg skips nothing that needs cleanup.
void decode_jpeg_raw(const uint8_t* data, size_t size, uint64_t max_pixels, std::vector<uint8_t>& out,
                     JpegResult& res, char* message) {
  jpeg_decompress_struct cinfo;
  JpegErrorMgr err;
  jpeg_progress_mgr progress;
  std::memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error_exit;
  err.pub.emit_message = on_emit_message;
  err.message[0] = 0;
  progress.progress_monitor = on_progress;

  if (setjmp(err.jump)) {
    std::snprintf(message, JMSG_LENGTH_MAX, "%s", err.message);
    jpeg_destroy_decompress(&cinfo);
    res.ok = false;
    return;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);

  res.width = cinfo.image_width;
  res.height = cinfo.image_height;
  res.components = cinfo.num_components;
  if (cinfo.image_width == 0 || cinfo.image_height == 0 ||
      static_cast<uint64_t>(cinfo.image_width) * cinfo.image_height > max_pixels) {
    res.over_limit = true;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  // ref: Pillow 9.4 JpegImagePlugin.APP: the first APP1 starting with "Exif\0" is info["exif"].
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 5 && std::memcmp(m->data, "Exif\0", 5) == 0) {
      res.orientation = exif_orientation({m->data, m->data_length});
      break;
    }
  }
  switch (cinfo.num_components) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case 3: cinfo.out_color_space = JCS_RGB; break;
    case 4: cinfo.out_color_space = JCS_CMYK; break;
    default:
      std::snprintf(err.message, JMSG_LENGTH_MAX, "cannot handle %d-layer images", cinfo.num_components);
      std::longjmp(err.jump, 3);
  }
  jpeg_start_decompress(&cinfo);
  const size_t stride = static_cast<size_t>(cinfo.output_width) * cinfo.output_components;
  out.resize(stride * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.data() + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  res.ok = true;
}

}  // namespace

Image decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  std::vector<uint8_t> raw;
  JpegResult res;
  char message[JMSG_LENGTH_MAX] = {0};
  decode_jpeg_raw(bytes.data(), bytes.size(), limits.max_pixels, raw, res, message);
  if (res.over_limit) check_image_size(res.width, res.height, limits, "JPEG");
  POCKET_CHECK(res.ok, "corrupt JPEG: {}", message);

  const int w = static_cast<int>(res.width), h = static_cast<int>(res.height);
  Image im;
  if (res.components == 1) {
    im = make_image(w, h, PixelMode::L);
    im.pixels = std::move(raw);
  } else if (res.components == 3) {
    im = make_image(w, h, PixelMode::RGB);
    im.pixels = std::move(raw);
  } else {
    // ref: Pillow 9.4 Unpack.c "CMYK;I" (inverted) then Convert.c cmyk2rgb.
    im = make_image(w, h, PixelMode::RGB);
    const size_t n = static_cast<size_t>(w) * h;
    for (size_t i = 0; i < n; ++i) {
      const int nk = 255 - (255 - raw[4 * i + 3]);
      for (int c = 0; c < 3; ++c) {
        const int v = 255 - raw[4 * i + c];
        const int t = v * nk + 128;
        const int m = ((t >> 8) + t) >> 8;
        const int o = nk - m;
        im.pixels[3 * i + c] = static_cast<uint8_t>(o < 0 ? 0 : o > 255 ? 255 : o);
      }
    }
  }
  im.format = ImageFormat::Jpeg;
  im.orientation = res.orientation;
  return im;
}

}  // namespace pocket::detail
