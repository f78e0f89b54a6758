// VideoReader decoding (video.h): keyframe seeks, decoding forward to the exact frame (by pts,
// or by counting output frames when the stream has no usable timestamps), RGB conversion with
// swscale and the ffmpeg CLI's display-matrix autorotation.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "core/error.h"
#include "media/video_internal.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

namespace pocket {

using namespace video_detail;

VideoOrientation video_orientation_from_matrix(const int32_t m[9]) {
  // ref: FFmpeg fftools/cmdutils.c get_rotation and fftools/ffmpeg_filter.c
  // configure_input_video_filter (the autorotate branch), FFmpeg 5.1.
  double theta = -std::round(av_display_rotation_get(m));
  theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
  VideoOrientation o;
  if (std::fabs(theta - 90) < 1.0) {
    o.transpose_dir = m[3] > 0 ? 0 : 1;  // cclock_flip : clock
  } else if (std::fabs(theta - 180) < 1.0) {
    o.hflip = m[0] < 0;
    o.vflip = m[4] < 0;
  } else if (std::fabs(theta - 270) < 1.0) {
    o.transpose_dir = m[3] < 0 ? 3 : 2;  // clock_flip : cclock
  } else if (std::fabs(theta) > 1.0) {
    // The CLI inserts a free `rotate` filter (with black corners) for odd angles; frames are
    // left as stored here.
  } else {
    o.vflip = m[4] < 0;
  }
  switch (o.transpose_dir) {
    case 0: o.rotation = 270; o.flipped = true; break;
    case 1: o.rotation = 90; break;
    case 2: o.rotation = 270; break;
    case 3: o.rotation = 90; o.flipped = true; break;
    default:
      if (o.hflip && o.vflip) {
        o.rotation = 180;
      } else if (o.vflip) {
        o.rotation = 180;
        o.flipped = true;
      } else {
        o.flipped = o.hflip;
      }
  }
  return o;
}

Image apply_video_orientation(const Image& src, const VideoOrientation& o) {
  const int c = src.channels, w = src.width, h = src.height;
  if (o.transpose_dir >= 0) {
    // vf_transpose: bit 0 flips the source vertically, bit 1 the output, around a transpose.
    Image dst = make_image(h, w, src.mode);
    const bool flip_src = (o.transpose_dir & 1) != 0, flip_dst = (o.transpose_dir & 2) != 0;
    for (int y = 0; y < dst.height; ++y) {
      const int dy = flip_dst ? dst.height - 1 - y : y;
      uint8_t* out = dst.row(dy);
      for (int x = 0; x < dst.width; ++x) {
        const int sy = flip_src ? h - 1 - x : x;
        std::memcpy(out + static_cast<size_t>(x) * c, src.row(sy) + static_cast<size_t>(y) * c, c);
      }
    }
    return dst;
  }
  if (!o.hflip && !o.vflip) return src;
  Image dst = make_image(w, h, src.mode);
  for (int y = 0; y < h; ++y) {
    const uint8_t* in = src.row(o.vflip ? h - 1 - y : y);
    uint8_t* out = dst.row(y);
    if (!o.hflip) {
      std::memcpy(out, in, src.row_bytes());
    } else {
      for (int x = 0; x < w; ++x) std::memcpy(out + static_cast<size_t>(x) * c, in + static_cast<size_t>(w - 1 - x) * c, c);
    }
  }
  return dst;
}

void VideoReader::Impl::open_decoder() {
  const AVStream* vs = demux->fmt->streams[stream_index];
  const AVCodec* codec = avcodec_find_decoder(codec_id);
  if (!codec) fail("video: unsupported codec '{}'", avcodec_get_name(codec_id));
  dec.reset(avcodec_alloc_context3(codec));
  if (!dec) fail("video: out of memory");
  int ret = avcodec_parameters_to_context(dec.get(), vs->codecpar);
  if (ret < 0) fail("video: bad codec parameters ({})", av_error_text(ret));
  dec->pkt_timebase = time_base;
  // The header's size was checked; this also bounds frames whose bitstream claims more.
  dec->max_pixels = static_cast<int64_t>(std::min<uint64_t>(options.limits.max_pixels, INT64_MAX));
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  dec->thread_count = options.threads > 0 ? options.threads : std::min(hw, 8);
  dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "codec_whitelist", kCodecWhitelist, 0);
  ret = avcodec_open2(dec.get(), codec, &opts);
  av_dict_free(&opts);
  if (ret < 0) fail("video: cannot open the {} decoder ({})", codec->name, av_error_text(ret));
  pkt.reset(av_packet_alloc());
  if (!pkt) fail("video: out of memory");
}

void VideoReader::Impl::reset_decoder() {
  avcodec_flush_buffers(dec.get());
  held.reset();
  last.reset();
  pending.reset();
  flushed = false;
  decoder_done = false;
  demux_eof = false;
}

namespace {

// Reads the next packet of `stream` into `p`; false at the end of the input.
bool read_video_packet(AVFormatContext* fmt, int stream, AVPacket* p, int64_t pos_for_errors) {
  for (;;) {
    const int ret = av_read_frame(fmt, p);
    if (ret == AVERROR_EOF) return false;
    if (ret < 0) fail("video: read error near frame {} ({})", pos_for_errors, av_error_text(ret));
    if (p->stream_index == stream && p->size > 0) {
      if (p->flags & AV_PKT_FLAG_CORRUPT) fail("video: corrupt or truncated video packet near frame {}", pos_for_errors);
      return true;
    }
    av_packet_unref(p);
  }
}

}  // namespace

bool VideoReader::Impl::locate_after_seek(int64_t max_pos) {
  // The first keyframe read after a seek must be one the scan saw, at or before the wanted
  // one; packets before it (a byte seek lands mid-group) are skipped, not decoded. Read
  // errors here only mean the seek landed badly.
  constexpr int kMaxSkipped = 4096;
  PacketPtr p(av_packet_alloc());
  if (!p) fail("video: out of memory");
  for (int skipped = 0; skipped < kMaxSkipped; ++skipped) {
    if (av_read_frame(demux->fmt, p.get()) < 0) return false;
    if (p->stream_index != stream_index || p->size <= 0 || (p->flags & AV_PKT_FLAG_CORRUPT) ||
        !(p->flags & AV_PKT_FLAG_KEY) || p->pts == AV_NOPTS_VALUE) {
      av_packet_unref(p.get());
      continue;
    }
    const auto it = std::lower_bound(keys.begin(), keys.end(), p->pts,
                                     [](const KeyFrame& a, int64_t pts) { return a.pts < pts; });
    if (it == keys.end() || it->pts != p->pts || it->pos > max_pos) return false;
    next_pos = it->pos;
    pending = std::move(p);
    return true;
  }
  return false;
}

bool VideoReader::Impl::seek_to_key(size_t key) {
  // By pts first: Matroska's cues are pts, and MP4's dts-based index still finds the keyframe
  // itself (its dts <= its pts < the next keyframe's dts), whereas a dts target lands a whole
  // group of pictures early when B-frames shift dts below pts. Containers whose timestamp seek
  // is a bisection over the file (MPEG-TS) land near, not on, the keyframe: then seek to the
  // keyframe's byte offset recorded by the scan.
  const KeyFrame& k = keys[key];
  const bool byte_seek = !(demux->fmt->iformat->flags & AVFMT_NO_BYTE_SEEK) && k.byte_pos >= 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt == 1 && !byte_seek) break;
    ++stats.seeks;
    reset_decoder();
    next_pos = -1;
    counting_from_start = false;
    demux_at_start = false;
    const int ret = attempt == 0 ? av_seek_frame(demux->fmt, stream_index, k.pts, AVSEEK_FLAG_BACKWARD)
                                 : av_seek_frame(demux->fmt, stream_index, k.byte_pos, AVSEEK_FLAG_BYTE);
    if (ret >= 0 && locate_after_seek(k.pos)) return true;
  }
  return false;
}

void VideoReader::Impl::restart_from_beginning() {
  ++stats.restarts;
  open_demuxer(true);
  AVFormatContext* fmt = demux->fmt;
  if (stream_index >= static_cast<int>(fmt->nb_streams) ||
      fmt->streams[stream_index]->codecpar->codec_id != codec_id)
    fail("video: the streams changed when reopening the input");
  for (unsigned i = 0; i < fmt->nb_streams; ++i)
    fmt->streams[i]->discard = static_cast<int>(i) == stream_index ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  reset_decoder();
  next_pos = 0;
  frames_out = 0;
  counting_from_start = true;
}

bool VideoReader::Impl::next_frame() {
  for (;;) {
    FramePtr f(av_frame_alloc());
    if (!f) fail("video: out of memory");
    int ret = avcodec_receive_frame(dec.get(), f.get());
    if (ret == 0) {
      ++stats.frames_decoded;
      held = std::move(f);
      return true;
    }
    if (ret == AVERROR_EOF) {
      decoder_done = true;
      return false;
    }
    if (ret != AVERROR(EAGAIN)) fail("video: decoding failed near frame {} ({})", next_pos, av_error_text(ret));
    if (flushed) return false;
    AVPacket* p = pending ? pending.get() : pkt.get();
    if (!pending && (demux_eof || !read_video_packet(demux->fmt, stream_index, p, next_pos))) {
      demux_eof = true;
      ret = avcodec_send_packet(dec.get(), nullptr);
      flushed = true;
      continue;
    }
    ret = avcodec_send_packet(dec.get(), p);
    av_packet_unref(p);
    pending.reset();
    ++stats.packets_read;
    if (next_pos >= 0) ++next_pos;
    if (ret < 0 && ret != AVERROR(EAGAIN))
      fail("video: corrupt video data near frame {} ({})", next_pos, av_error_text(ret));
  }
}

int64_t VideoReader::Impl::frame_pts(const AVFrame* f) const {
  return f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
}

VideoFrame VideoReader::Impl::convert(const AVFrame* f, int64_t index, bool exact) {
  if (f->width <= 0 || f->height <= 0) fail("video: frame {} has no size", index);
  if (static_cast<uint64_t>(f->width) * static_cast<uint64_t>(f->height) > options.limits.max_pixels)
    fail("video: frame {} is {}x{}, over the {} pixel limit", index, f->width, f->height, options.limits.max_pixels);
  if (f->flags & AV_FRAME_FLAG_CORRUPT) fail("video: frame {} is corrupt", index);
  auto format = static_cast<AVPixelFormat>(f->format);
  bool full_range = f->color_range == AVCOL_RANGE_JPEG;
  // The deprecated yuvj formats are yuv with full range; say so explicitly (swscale would
  // otherwise warn, and the range must survive sws_setColorspaceDetails below).
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: format = AV_PIX_FMT_YUV420P; full_range = true; break;
    case AV_PIX_FMT_YUVJ422P: format = AV_PIX_FMT_YUV422P; full_range = true; break;
    case AV_PIX_FMT_YUVJ444P: format = AV_PIX_FMT_YUV444P; full_range = true; break;
    case AV_PIX_FMT_YUVJ440P: format = AV_PIX_FMT_YUV440P; full_range = true; break;
    case AV_PIX_FMT_YUVJ411P: format = AV_PIX_FMT_YUV411P; full_range = true; break;
    default: break;
  }
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  if (!desc || (desc->flags & AV_PIX_FMT_FLAG_HWACCEL)) fail("video: frame {} has an unusable pixel format", index);
  // Accurate: chroma upsampled with the bicubic filter instead of replicated, exact rounding,
  // no table-driven shortcut. Fast: the CLI's default flags (for a same-size conversion the
  // filter choice is moot: swscale takes its unscaled YUV->RGB path).
  const int flags = options.color == VideoColorConversion::Accurate
                        ? SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT
                        : SWS_BICUBIC;
  sws.reset(sws_getCachedContext(sws.release(), f->width, f->height, format, f->width, f->height,
                                 AV_PIX_FMT_RGB24, flags, nullptr, nullptr, nullptr));
  if (!sws) fail("video: cannot convert {} frames to RGB", desc->name);
  if (!(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
    // As the CLI's scale filter does with in_color_matrix=auto and the frame's range: the
    // stream's matrix (BT.601 when unspecified) and limited/full range.
    int *inv_table = nullptr, *table = nullptr;
    int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
    sws_getColorspaceDetails(sws.get(), &inv_table, &src_range, &table, &dst_range, &brightness, &contrast,
                             &saturation);
    sws_setColorspaceDetails(sws.get(), sws_getCoefficients(f->colorspace), full_range ? 1 : 0, table, dst_range,
                             brightness, contrast, saturation);
  }
  Image rgb = make_image(f->width, f->height, PixelMode::RGB);
  uint8_t* dst[4] = {rgb.pixels.data(), nullptr, nullptr, nullptr};
  int dst_stride[4] = {static_cast<int>(rgb.row_bytes()), 0, 0, 0};
  const int rows = sws_scale(sws.get(), f->data, f->linesize, 0, f->height, dst, dst_stride);
  if (rows != f->height) fail("video: colour conversion of frame {} failed", index);
  ++stats.frames_converted;

  VideoFrame out;
  out.index = index;
  out.exact = exact;
  const int64_t pts = frame_pts(f);
  out.time = pts != AV_NOPTS_VALUE ? static_cast<double>(pts - start_pts) * av_q2d(time_base)
                                   : static_cast<double>(index) / info.fps;
  if (options.apply_rotation) {
    const AVFrameSideData* sd = av_frame_get_side_data(f, AV_FRAME_DATA_DISPLAYMATRIX);
    int32_t matrix[9];
    bool have = false;
    if (sd && sd->size >= sizeof(matrix)) {
      std::memcpy(matrix, sd->data, sizeof(matrix));
      have = true;
    } else if (has_stream_matrix) {
      std::memcpy(matrix, stream_matrix, sizeof(matrix));
      have = true;
    }
    if (have) {
      out.rgb = apply_video_orientation(rgb, video_orientation_from_matrix(matrix));
      return out;
    }
  }
  out.rgb = std::move(rgb);
  return out;
}

void VideoReader::Impl::read_by_pts(std::span<const int64_t> indices,
                                    const std::function<void(VideoFrame&&)>& on_frame) {
  for (const int64_t k : indices) {
    const int64_t target = pts_sorted[static_cast<size_t>(k)];
    // The keyframe that starts the target's group of pictures: the last one at or before it.
    auto it = std::upper_bound(keys.begin(), keys.end(), target,
                               [](int64_t pts, const KeyFrame& a) { return pts < a.pts; });
    const size_t key = it == keys.begin() ? 0 : static_cast<size_t>(it - keys.begin()) - 1;
    // Seek when the target was passed already (a frame at or after it went by), when the
    // decoder's position is unknown, or when the keyframe lies ahead of it (decoding forward
    // would only reach it through whole groups of pictures we do not need).
    const bool passed = last && frame_pts(last.get()) >= target;
    const bool held_is_next = !passed && held && frame_pts(held.get()) >= target;
    if (passed || (!held_is_next && (next_pos < 0 || keys[key].pos > next_pos))) {
      bool ok = seek_to_key(key);
      if (!ok && key > 0) ok = seek_to_key(key - 1);
      if (!ok) restart_from_beginning();
    }
    for (;;) {
      if (!held && !next_frame()) {
        if (!last) fail("video: frame {} could not be decoded", k);
        on_frame(convert(last.get(), k, false));
        break;
      }
      const int64_t pts = frame_pts(held.get());
      if (pts == AV_NOPTS_VALUE || pts < target) {
        last = std::move(held);
        continue;
      }
      if (pts == target) {
        on_frame(convert(held.get(), k, true));
        last = std::move(held);
      } else {
        // The decoder never output frame k (dropped or undecodable): the next one stands in,
        // and stays held for the following target.
        on_frame(convert(held.get(), k, false));
      }
      break;
    }
  }
}

void VideoReader::Impl::read_by_count(std::span<const int64_t> indices,
                                      const std::function<void(VideoFrame&&)>& on_frame) {
  // Like PyAV's enumerate(container.decode(video=0)): the n-th frame out of the decoder.
  if (!counting_from_start || frames_out > indices.front()) restart_from_beginning();
  for (const int64_t k : indices) {
    for (;;) {
      if (!held && !next_frame()) {
        if (!last) fail("video: frame {} could not be decoded", k);
        on_frame(convert(last.get(), k, false));
        break;
      }
      const int64_t n = frames_out++;
      if (n == k) {
        on_frame(convert(held.get(), k, true));
        last = std::move(held);
        break;
      }
      last = std::move(held);
    }
  }
}

}  // namespace pocket
