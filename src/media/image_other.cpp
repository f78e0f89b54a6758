// WebP, GIF and TIFF decoding, each following what Pillow 9.4 shows for the first frame:
// - WebP: libwebp's animation decoder (as Pillow's _webp.c uses it) into RGBA, kept as RGBA
//   when the file declares alpha, else RGB; orientation from the EXIF chunk.
// - GIF: giflib, first image on a canvas of max(screen, frame extent) filled with the
//   transparent index (else 0); mode P, or L when there is no palette or it is the identity
//   grey ramp (GifImagePlugin._is_palette_needed); the transparent index is kept.
// - TIFF: libtiff. Plain 8-bit strips (grey, grey+alpha, RGB, RGBA, palette) are read raw so
//   values and modes match Pillow; anything else goes through libtiff's RGBA reader.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include <gif_lib.h>
#include <tiffio.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include "core/error.h"
#include "media/image.h"

namespace pocket::detail {

// ---------------------------------------------------------------- WebP

Image decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  WebPBitstreamFeatures features;
  const VP8StatusCode st = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  POCKET_CHECK(st == VP8_STATUS_OK, "corrupt WebP: cannot read the header (status {})", static_cast<int>(st));
  check_image_size(static_cast<uint64_t>(features.width), static_cast<uint64_t>(features.height), limits, "WebP");

  WebPData data{bytes.data(), bytes.size()};
  WebPAnimDecoderOptions opts;
  POCKET_CHECK(WebPAnimDecoderOptionsInit(&opts), "WebP decoder version mismatch");
  opts.color_mode = MODE_RGBA;
  opts.use_threads = 0;
  std::unique_ptr<WebPAnimDecoder, void (*)(WebPAnimDecoder*)> dec(WebPAnimDecoderNew(&data, &opts),
                                                                   &WebPAnimDecoderDelete);
  POCKET_CHECK(dec != nullptr, "corrupt or truncated WebP");
  WebPAnimInfo info;
  POCKET_CHECK(WebPAnimDecoderGetInfo(dec.get(), &info), "corrupt WebP: no animation info");
  check_image_size(info.canvas_width, info.canvas_height, limits, "WebP");
  POCKET_CHECK(info.frame_count >= 1, "WebP has no frames");
  uint8_t* rgba = nullptr;
  int timestamp = 0;
  POCKET_CHECK(WebPAnimDecoderGetNext(dec.get(), &rgba, &timestamp) && rgba, "corrupt or truncated WebP frame");

  const int w = static_cast<int>(info.canvas_width), h = static_cast<int>(info.canvas_height);
  Image im = make_image(w, h, features.has_alpha ? PixelMode::RGBA : PixelMode::RGB);
  const size_t n = static_cast<size_t>(w) * h;
  if (features.has_alpha) {
    std::memcpy(im.pixels.data(), rgba, n * 4);
  } else {
    for (size_t i = 0; i < n; ++i) std::memcpy(&im.pixels[3 * i], rgba + 4 * i, 3);
  }
  im.format = ImageFormat::WebP;

  const WebPDemuxer* demux = WebPAnimDecoderGetDemuxer(dec.get());
  WebPChunkIterator chunk;
  if (demux && WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
    im.orientation = exif_orientation({chunk.chunk.bytes, chunk.chunk.size});
    WebPDemuxReleaseChunkIterator(&chunk);
  }
  return im;
}

// ---------------------------------------------------------------- GIF

namespace {

struct GifReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int gif_read_mem(GifFileType* gif, GifByteType* out, int n) {
  auto* r = static_cast<GifReader*>(gif->UserData);
  const size_t avail = r->size - r->pos;
  const size_t take = n < 0 ? 0 : static_cast<size_t>(n) < avail ? static_cast<size_t>(n) : avail;
  std::memcpy(out, r->data + r->pos, take);
  r->pos += take;
  return static_cast<int>(take);
}

struct GifCloser {
  void operator()(GifFileType* g) const {
    int err = 0;
    DGifCloseFile(g, &err);
  }
};

// ref: Pillow 9.4 GifImagePlugin._is_palette_needed
bool palette_needed(const ColorMapObject* cm) {
  for (int i = 0; i < cm->ColorCount; ++i) {
    const GifColorType& c = cm->Colors[i];
    if (!(i == c.Red && c.Red == c.Green && c.Green == c.Blue)) return true;
  }
  return false;
}

}  // namespace

Image decode_gif(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  GifReader reader{bytes.data(), bytes.size(), 0};
  int err = 0;
  std::unique_ptr<GifFileType, GifCloser> gif(DGifOpen(&reader, gif_read_mem, &err));
  POCKET_CHECK(gif != nullptr, "corrupt GIF: {}", GifErrorString(err) ? GifErrorString(err) : "cannot open");
  auto gif_fail = [&](const char* what) {
    const char* m = GifErrorString(gif->Error);
    fail("corrupt GIF: {} ({})", what, m ? m : "truncated");
  };

  int transparency = -1;
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif.get(), &type) == GIF_ERROR) gif_fail("bad record");
    if (type == TERMINATE_RECORD_TYPE) fail("GIF has no image");
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif.get(), &code, &ext) == GIF_ERROR) gif_fail("bad extension");
      // ref: Pillow 9.4 GifImagePlugin._seek: graphic control extension, flags & 1 -> block[3]
      if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4) transparency = (ext[1] & 1) ? ext[4] : -1;
      while (ext) {
        if (DGifGetExtensionNext(gif.get(), &ext) == GIF_ERROR) gif_fail("bad extension block");
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif.get()) == GIF_ERROR) gif_fail("bad image descriptor");
    const GifImageDesc& d = gif->Image;
    POCKET_CHECK(d.Left >= 0 && d.Top >= 0 && d.Width > 0 && d.Height > 0, "corrupt GIF: empty frame {}x{}", d.Width,
                 d.Height);
    const int canvas_w = std::max(gif->SWidth, d.Left + d.Width);
    const int canvas_h = std::max(gif->SHeight, d.Top + d.Height);
    check_image_size(static_cast<uint64_t>(canvas_w), static_cast<uint64_t>(canvas_h), limits, "GIF");

    // Pillow: a palette that is the identity grey ramp is dropped; a local one that is dropped
    // this way also hides the global one (palette = False), giving mode L.
    const ColorMapObject* cm = nullptr;
    if (d.ColorMap) {
      cm = palette_needed(d.ColorMap) ? d.ColorMap : nullptr;
    } else if (gif->SColorMap && palette_needed(gif->SColorMap)) {
      cm = gif->SColorMap;
    }
    Image im = make_image(canvas_w, canvas_h, cm ? PixelMode::P : PixelMode::L);
    if (transparency >= 0) std::memset(im.pixels.data(), transparency, im.pixels.size());

    std::vector<GifPixelType> line(static_cast<size_t>(d.Width));
    auto read_row = [&](int y) {
      if (DGifGetLine(gif.get(), line.data(), d.Width) == GIF_ERROR) gif_fail("bad image data");
      std::memcpy(im.row(d.Top + y) + d.Left, line.data(), line.size());
    };
    if (d.Interlace) {
      static const int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
      for (int pass = 0; pass < 4; ++pass)
        for (int y = kStart[pass]; y < d.Height; y += kStep[pass]) read_row(y);
    } else {
      for (int y = 0; y < d.Height; ++y) read_row(y);
    }

    if (cm) {
      std::vector<uint8_t> rgb(static_cast<size_t>(cm->ColorCount) * 3);
      for (int i = 0; i < cm->ColorCount; ++i) {
        rgb[3 * i] = cm->Colors[i].Red;
        rgb[3 * i + 1] = cm->Colors[i].Green;
        rgb[3 * i + 2] = cm->Colors[i].Blue;
      }
      im.palette = ramp_palette(rgb.data(), cm->ColorCount);
      if (transparency >= 0) {
        im.transparency_index = transparency;
        im.palette_alpha.assign(256, 255);
        im.palette_alpha[static_cast<size_t>(transparency)] = 0;
      }
    } else if (transparency >= 0) {
      im.has_transparent_color = true;
      im.transparent_color = {static_cast<uint16_t>(transparency), static_cast<uint16_t>(transparency),
                              static_cast<uint16_t>(transparency)};
    }
    im.format = ImageFormat::Gif;
    return im;
  }
}

// ---------------------------------------------------------------- TIFF

namespace {

struct TiffMem {
  const uint8_t* data;
  uint64_t size;
  uint64_t pos;
  char message[256];
};

tmsize_t tiff_read(thandle_t h, void* buf, tmsize_t n) {
  auto* m = static_cast<TiffMem*>(h);
  if (n <= 0 || m->pos >= m->size) return 0;
  const uint64_t take = std::min<uint64_t>(static_cast<uint64_t>(n), m->size - m->pos);
  std::memcpy(buf, m->data + m->pos, take);
  m->pos += take;
  return static_cast<tmsize_t>(take);
}
tmsize_t tiff_write(thandle_t, void*, tmsize_t) { return 0; }
toff_t tiff_seek(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<TiffMem*>(h);
  uint64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
  m->pos = base + off;  // reads past the end return 0 bytes
  return m->pos;
}
int tiff_close(thandle_t) { return 0; }
toff_t tiff_size(thandle_t h) { return static_cast<TiffMem*>(h)->size; }
int tiff_map(thandle_t, void**, toff_t*) { return 0; }
void tiff_unmap(thandle_t, void*, toff_t) {}

int tiff_on_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* m = static_cast<TiffMem*>(user);
  if (m->message[0] == 0) std::vsnprintf(m->message, sizeof m->message, fmt, ap);
  return 1;
}
int tiff_on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};

}  // namespace

Image decode_tiff(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  TiffMem mem{bytes.data(), bytes.size(), 0, {0}};
  std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> opts(TIFFOpenOptionsAlloc(), &TIFFOpenOptionsFree);
  POCKET_CHECK(opts != nullptr, "out of memory");
  TIFFOpenOptionsSetErrorHandlerExtR(opts.get(), tiff_on_error, &mem);
  TIFFOpenOptionsSetWarningHandlerExtR(opts.get(), tiff_on_warning, &mem);
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts.get(), static_cast<tmsize_t>(std::min<uint64_t>(
                                                      limits.max_pixels * 8 + (64u << 20), uint64_t{1} << 40)));
  std::unique_ptr<TIFF, TiffCloser> tif(TIFFClientOpenExt("memory", "rm", &mem, tiff_read, tiff_write, tiff_seek,
                                                          tiff_close, tiff_size, tiff_map, tiff_unmap, opts.get()));
  POCKET_CHECK(tif != nullptr, "corrupt TIFF: {}", mem.message[0] ? mem.message : "cannot open");
  uint32_t w = 0, h = 0;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &h);
  check_image_size(w, h, limits, "TIFF");
  uint16_t spp = 1, bps = 1, photometric = 0, planar = PLANARCONFIG_CONTIG, orientation = 1;
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_PLANARCONFIG, &planar);
  const bool has_photometric = TIFFGetField(tif.get(), TIFFTAG_PHOTOMETRIC, &photometric) == 1;
  TIFFGetField(tif.get(), TIFFTAG_ORIENTATION, &orientation);
  uint16_t n_extra = 0;
  uint16_t* extra = nullptr;
  TIFFGetField(tif.get(), TIFFTAG_EXTRASAMPLES, &n_extra, &extra);
  // ref: Pillow 9.4 TiffImagePlugin.OPEN_INFO: 4 samples with no ExtraSamples or unassociated
  // alpha -> RGBA, unspecified -> RGBX (read as RGB), associated -> "RGBa" (un-premultiplied).
  const int extra0 = n_extra == 1 && extra ? extra[0] : n_extra == 0 ? -1 : -2;
  const bool unassoc_alpha = extra0 == EXTRASAMPLE_UNASSALPHA;

  // Raw path for the layouts Pillow unpacks byte for byte.
  PixelMode mode = PixelMode::RGB;
  bool raw = has_photometric && bps == 8 && planar == PLANARCONFIG_CONTIG && !TIFFIsTiled(tif.get());
  bool invert = false;
  bool drop_fourth = false, unpremultiply = false;
  if (raw) {
    if ((photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE) && spp == 1) {
      mode = PixelMode::L;
      invert = photometric == PHOTOMETRIC_MINISWHITE;
    } else if (photometric == PHOTOMETRIC_MINISBLACK && spp == 2 && unassoc_alpha) {
      mode = PixelMode::LA;
    } else if (photometric == PHOTOMETRIC_RGB && spp == 3) {
      mode = PixelMode::RGB;
    } else if (photometric == PHOTOMETRIC_RGB && spp == 4 && extra0 != -2) {
      mode = PixelMode::RGBA;
      drop_fourth = extra0 == EXTRASAMPLE_UNSPECIFIED;
      unpremultiply = extra0 == EXTRASAMPLE_ASSOCALPHA;
    } else if (photometric == PHOTOMETRIC_PALETTE && spp == 1) {
      mode = PixelMode::P;
    } else {
      raw = false;
    }
  }
  Image im;
  if (raw) {
    im = make_image(static_cast<int>(w), static_cast<int>(h), mode);
    POCKET_CHECK(static_cast<uint64_t>(TIFFScanlineSize64(tif.get())) == im.row_bytes(),
                 "corrupt TIFF: scanline size mismatch");
    for (uint32_t y = 0; y < h; ++y) {
      POCKET_CHECK(TIFFReadScanline(tif.get(), im.row(static_cast<int>(y)), y, 0) == 1, "corrupt TIFF: {}",
                   mem.message[0] ? mem.message : "cannot read scanline");
    }
    if (invert)
      for (auto& v : im.pixels) v = static_cast<uint8_t>(255 - v);
    if (unpremultiply) {
      // ref: Pillow 9.4 Unpack.c unpackRGBa: a = 0 -> all zero, else CLIP8(c * 255 / a).
      for (size_t i = 0; i < im.pixels.size(); i += 4) {
        uint8_t* px = &im.pixels[i];
        const int a = px[3];
        if (a == 0) {
          px[0] = px[1] = px[2] = 0;
        } else if (a != 255) {
          for (int c = 0; c < 3; ++c) px[c] = static_cast<uint8_t>(std::min(px[c] * 255 / a, 255));
        }
      }
    }
    if (drop_fourth) {
      Image rgb = make_image(im.width, im.height, PixelMode::RGB);
      for (size_t i = 0, n = static_cast<size_t>(im.width) * im.height; i < n; ++i)
        std::memcpy(&rgb.pixels[3 * i], &im.pixels[4 * i], 3);
      im = std::move(rgb);
    }
    if (mode == PixelMode::P) {
      uint16_t *r = nullptr, *g = nullptr, *b = nullptr;
      POCKET_CHECK(TIFFGetField(tif.get(), TIFFTAG_COLORMAP, &r, &g, &b) == 1 && r && g && b,
                   "corrupt TIFF: palette image without a colour map");
      uint8_t rgb[768];
      // ref: Pillow 9.4 TiffImagePlugin: palette entries are the colour map's high bytes.
      for (int i = 0; i < 256; ++i) {
        rgb[3 * i] = static_cast<uint8_t>(r[i] >> 8);
        rgb[3 * i + 1] = static_cast<uint8_t>(g[i] >> 8);
        rgb[3 * i + 2] = static_cast<uint8_t>(b[i] >> 8);
      }
      im.palette = ramp_palette(rgb, 256);
    }
  } else {
    char emsg[1024] = {0};
    POCKET_CHECK(TIFFRGBAImageOK(tif.get(), emsg), "unsupported TIFF: {}", emsg);
    TIFFRGBAImage img;
    POCKET_CHECK(TIFFRGBAImageBegin(&img, tif.get(), 1, emsg), "unsupported TIFF: {}", emsg);
    // Ask for the file's own orientation so libtiff does not flip; exif_transpose applies it.
    img.req_orientation = orientation;
    std::vector<uint32_t> raster(static_cast<size_t>(w) * h);
    const int ok = TIFFRGBAImageGet(&img, raster.data(), w, h);
    const bool has_alpha = img.alpha != 0;
    const bool associated = img.alpha == EXTRASAMPLE_ASSOCALPHA;
    TIFFRGBAImageEnd(&img);
    POCKET_CHECK(ok == 1, "corrupt TIFF: {}", mem.message[0] ? mem.message : "cannot decode");
    im = make_image(static_cast<int>(w), static_cast<int>(h), has_alpha ? PixelMode::RGBA : PixelMode::RGB);
    for (size_t i = 0; i < raster.size(); ++i) {
      const uint32_t p = raster[i];
      uint8_t px[4] = {static_cast<uint8_t>(TIFFGetR(p)), static_cast<uint8_t>(TIFFGetG(p)),
                       static_cast<uint8_t>(TIFFGetB(p)), static_cast<uint8_t>(TIFFGetA(p))};
      // libtiff premultiplies unassociated alpha in this path; undo it (approximately).
      if (has_alpha && !associated && px[3] != 0 && px[3] != 255) {
        for (int c = 0; c < 3; ++c) {
          const unsigned v = (255u * px[c] + px[3] / 2) / px[3];
          px[c] = static_cast<uint8_t>(v > 255 ? 255 : v);
        }
      }
      std::memcpy(&im.pixels[i * im.channels], px, static_cast<size_t>(im.channels));
    }
  }
  im.format = ImageFormat::Tiff;
  im.orientation = orientation;
  return im;
}

}  // namespace pocket::detail
