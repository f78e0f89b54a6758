// VideoReader (video.h): input through our own AVIOContext, demuxer/decoder whitelists,
// stream selection, the metadata transformers' decoders report, and the one-pass packet scan
// that yields frame timestamps and keyframes. Decoding lives in video_decode.cpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "media/video_internal.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

namespace pocket {
namespace video_detail {

namespace {

// Demuxers a video file may be probed as (names as in AVInputFormat::name lists). Anything
// else (playlists, concat, image sequences, raw devices) is refused before it can open files.
constexpr const char* kFormatWhitelist = "mov,matroska,webm,avi,mpegts,flv,ogg,mpeg,asf";
}  // namespace

// Decoders FFmpeg may open, for the video stream and while probing the others.
const char* const kCodecWhitelist =
    "h264,hevc,vp8,vp9,av1,libdav1d,libaom-av1,mpeg4,msmpeg4v1,msmpeg4v2,msmpeg4,h263,h263p,mpeg1video,"
    "mpeg2video,mjpeg,theora,wmv1,wmv2,wmv3,vc1,prores,dnxhd,rawvideo,libvpx,libvpx-vp9,"
    "aac,aac_fixed,mp3,mp3float,mp2,mp2float,ac3,ac3_fixed,eac3,opus,libopus,vorbis,libvorbis,flac,alac,"
    "pcm_s16le,pcm_s16be,pcm_s24le,pcm_s32le,pcm_f32le,pcm_u8,wmav2";

namespace {

constexpr int kAvioBufferSize = 1 << 16;

int read_source(void* opaque, uint8_t* buf, int n) {
  auto* s = static_cast<ByteSource*>(opaque);
  if (n <= 0) return 0;
  if (s->pos >= s->size) return AVERROR_EOF;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(n), s->size - s->pos));
  if (s->fd >= 0) {
    ssize_t got;
    do {
      got = ::pread(s->fd, buf, want, static_cast<off_t>(s->pos));
    } while (got < 0 && errno == EINTR);
    if (got < 0) return AVERROR(EIO);
    if (got == 0) return AVERROR_EOF;
    s->pos += static_cast<uint64_t>(got);
    return static_cast<int>(got);
  }
  std::memcpy(buf, s->data + s->pos, want);
  s->pos += want;
  return static_cast<int>(want);
}

int64_t seek_source(void* opaque, int64_t offset, int whence) {
  auto* s = static_cast<ByteSource*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return static_cast<int64_t>(s->size);
  int64_t base = 0;
  if (whence == SEEK_CUR)
    base = static_cast<int64_t>(s->pos);
  else if (whence == SEEK_END)
    base = static_cast<int64_t>(s->size);
  else if (whence != SEEK_SET)
    return AVERROR(EINVAL);
  if ((offset > 0 && base > INT64_MAX - offset)) return AVERROR(EINVAL);
  const int64_t target = base + offset;
  if (target < 0 || static_cast<uint64_t>(target) > s->size) return AVERROR(EINVAL);
  s->pos = static_cast<uint64_t>(target);
  return target;
}

}  // namespace

std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

ByteSource::~ByteSource() {
  if (fd >= 0) ::close(fd);
}

Demuxer::~Demuxer() {
  if (fmt) avformat_close_input(&fmt);
  if (avio) {
    av_freep(&avio->buffer);
    avio_context_free(&avio);
  }
}

}  // namespace video_detail

using namespace video_detail;

void VideoReader::Impl::open_demuxer(bool probe_streams) {
  demux.reset();
  source.pos = 0;
  auto d = std::make_unique<Demuxer>();
  auto* buffer = static_cast<uint8_t*>(av_malloc(kAvioBufferSize));
  if (!buffer) fail("video: out of memory");
  d->avio = avio_alloc_context(buffer, kAvioBufferSize, 0, &source, read_source, nullptr, seek_source);
  if (!d->avio) {
    av_free(buffer);
    fail("video: out of memory");
  }
  AVFormatContext* fmt = avformat_alloc_context();
  if (!fmt) fail("video: out of memory");
  fmt->pb = d->avio;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "format_whitelist", kFormatWhitelist, 0);
  av_dict_set(&opts, "codec_whitelist", kCodecWhitelist, 0);
  const int ret = avformat_open_input(&fmt, nullptr, nullptr, &opts);
  av_dict_free(&opts);
  // (FFmpeg frees fmt on failure; a format off the whitelist is reported as EINVAL)
  if (ret == AVERROR(EINVAL)) fail("video: unrecognised or unsupported container format");
  if (ret < 0) fail("video: not a readable video file ({})", av_error_text(ret));
  d->fmt = fmt;
  demux = std::move(d);
  if (probe_streams) {
    const int r = avformat_find_stream_info(demux->fmt, nullptr);
    if (r < 0) fail("video: cannot read stream information ({})", av_error_text(r));
  }
  demux_at_start = true;
  demux_eof = false;
  pending.reset();
}

void VideoReader::Impl::probe() {
  open_demuxer(true);
  AVFormatContext* fmt = demux->fmt;
  info.container = fmt->iformat && fmt->iformat->name ? fmt->iformat->name : "";

  // The first real video stream (cover art is an attached picture, not a video).
  const AVStream* vs = nullptr;
  int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (best >= 0 && (fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC)) best = -1;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVStream* st = fmt->streams[i];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) info.has_audio = true;
    if (best < 0 && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
      best = static_cast<int>(i);
  }
  if (best < 0 && info.has_audio) fail("video: no video stream (audio only)");
  if (best < 0) fail("video: no video stream");
  stream_index = best;
  vs = fmt->streams[best];
  const AVCodecParameters* par = vs->codecpar;
  codec_id = par->codec_id;
  time_base = vs->time_base;
  if (time_base.num <= 0 || time_base.den <= 0) fail("video: invalid stream time base");
  const AVCodec* codec = avcodec_find_decoder(codec_id);
  if (!codec) fail("video: unsupported codec '{}'", avcodec_get_name(codec_id));
  info.codec = codec->name;

  if (par->width <= 0 || par->height <= 0) fail("video: unknown frame size");
  if (static_cast<uint64_t>(par->width) * static_cast<uint64_t>(par->height) > options.limits.max_pixels)
    fail("video: {}x{} frames exceed the {} pixel limit", par->width, par->height, options.limits.max_pixels);
  info.coded_width = par->width;
  info.coded_height = par->height;

  // PyAV's stream.average_rate is avg_frame_rate; a stream without one falls back to the
  // real base frame rate (r_frame_rate).
  AVRational rate = vs->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = vs->r_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) fail("video: unknown frame rate");
  info.fps_num = rate.num;
  info.fps_den = rate.den;
  info.fps = av_q2d(rate);

  if (vs->duration != AV_NOPTS_VALUE && vs->duration > 0)
    info.container_duration = static_cast<double>(vs->duration) * av_q2d(time_base);
  else if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
    info.container_duration = static_cast<double>(fmt->duration) / AV_TIME_BASE;
  if (info.container_duration > options.limits.max_duration)
    fail("video: {:.0f} s is longer than the {:.0f} s limit", info.container_duration, options.limits.max_duration);
  info.header_frames = vs->nb_frames > 0 ? vs->nb_frames : 0;
  start_pts = vs->start_time != AV_NOPTS_VALUE ? vs->start_time : 0;

#if LIBAVCODEC_VERSION_MAJOR > 60 || (LIBAVCODEC_VERSION_MAJOR == 60 && LIBAVCODEC_VERSION_MINOR >= 31)
  const AVPacketSideData* sd =
      av_packet_side_data_get(par->coded_side_data, par->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  const uint8_t* matrix = sd && sd->size >= 36 ? sd->data : nullptr;
#else
  size_t matrix_size = 0;
  const uint8_t* matrix = av_stream_get_side_data(vs, AV_PKT_DATA_DISPLAYMATRIX, &matrix_size);
  if (matrix_size < 36) matrix = nullptr;
#endif
  if (matrix) {
    has_stream_matrix = true;
    std::memcpy(stream_matrix, matrix, sizeof(stream_matrix));
  }
  VideoOrientation orient;
  if (options.apply_rotation && has_stream_matrix) orient = video_orientation_from_matrix(stream_matrix);
  info.rotation = orient.rotation;
  info.flipped = orient.flipped;
  const bool swap = orient.transpose_dir >= 0;
  info.width = swap ? info.coded_height : info.coded_width;
  info.height = swap ? info.coded_width : info.coded_height;
}

void VideoReader::Impl::scan_packets() {
  // One demuxing pass over the video packets. With a frame count in the header (MP4), other
  // streams are skipped without being read and truncation shows as missing frames. Without
  // one (Matroska/WebM), every stream is followed so that data ending well before the
  // container's stated duration can be recognised as a truncated file.
  AVFormatContext* fmt = demux->fmt;
  const bool watch_all = info.header_frames == 0;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const bool keep = static_cast<int>(i) == stream_index ||
                      (watch_all && (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO ||
                                     fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO));
    fmt->streams[i]->discard = keep ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
  PacketPtr p(av_packet_alloc());
  if (!p) fail("video: out of memory");
  int64_t n_packets = 0, n_discard = 0;
  bool all_pts = true;
  std::vector<KeyFrame> key_list;
  double data_end = -1;  // seconds: the latest packet end seen in any followed stream
  int ret;
  while ((ret = av_read_frame(fmt, p.get())) >= 0) {
    if (p->stream_index >= 0 && static_cast<unsigned>(p->stream_index) < fmt->nb_streams) {
      const int64_t t = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
      const AVStream* st = fmt->streams[p->stream_index];
      if (t != AV_NOPTS_VALUE) {
        const int64_t first = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
        const double end = static_cast<double>(t - first + std::max<int64_t>(p->duration, 0)) * av_q2d(st->time_base);
        data_end = std::max(data_end, end);
      }
    }
    if (p->stream_index != stream_index || p->size <= 0) {
      av_packet_unref(p.get());
      continue;
    }
    if (p->flags & AV_PKT_FLAG_CORRUPT) fail("video: corrupt or truncated video packet {}", n_packets);
    if (++n_packets > options.limits.max_frames)
      fail("video: more than {} frames (limit)", options.limits.max_frames);
    const bool discard = (p->flags & AV_PKT_FLAG_DISCARD) != 0;
    if (discard) {
      ++n_discard;
    } else {
      if (p->pts == AV_NOPTS_VALUE) all_pts = false;
      pts_sorted.push_back(p->pts);
    }
    if (p->flags & AV_PKT_FLAG_KEY) key_list.push_back({n_packets - 1, p->pts, p->dts, p->pos});
    av_packet_unref(p.get());
  }
  if (ret != AVERROR_EOF) fail("video: read error after {} frames ({})", n_packets, av_error_text(ret));
  demux_at_start = false;
  demux_eof = true;
  info.packet_frames = n_packets - n_discard;
  if (info.packet_frames <= 0) fail("video: the video stream has no frames");
  if (info.header_frames > n_packets)
    fail("video: truncated: the container lists {} frames but only {} are present", info.header_frames, n_packets);
  // The container's duration comes from its header (or its last timestamps), not from a
  // bitrate guess: data ending half a second (plus two frames) short of it is a cut file.
  if (watch_all && fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0 && data_end >= 0 &&
      fmt->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE) {
    const double stated = static_cast<double>(fmt->duration) / AV_TIME_BASE;
    if (data_end + 0.5 + 2.0 / info.fps < stated)
      fail("video: truncated: the data ends at {:.3f} s of {:.3f} s", data_end, stated);
  }

  // Frames are located by pts when every frame has a distinct one; keyframes need a pts too.
  std::sort(pts_sorted.begin(), pts_sorted.end());
  bool distinct = all_pts && std::adjacent_find(pts_sorted.begin(), pts_sorted.end()) == pts_sorted.end();
  for (const KeyFrame& k : key_list)
    if (k.pts == AV_NOPTS_VALUE) distinct = false;
  info.timestamp_index = distinct && !key_list.empty();
  if (info.timestamp_index) {
    keys = std::move(key_list);
    std::stable_sort(keys.begin(), keys.end(), [](const KeyFrame& a, const KeyFrame& b) { return a.pts < b.pts; });
    start_pts = pts_sorted.front();
    int64_t min_step = INT64_MAX, max_step = 0;
    for (size_t i = 1; i < pts_sorted.size(); ++i) {
      const int64_t step = pts_sorted[i] - pts_sorted[i - 1];
      min_step = std::min(min_step, step);
      max_step = std::max(max_step, step);
    }
    // A tick of jitter is timestamp rounding (e.g. 30000/1001 fps in a 1/1000 time base).
    info.variable_frame_rate = pts_sorted.size() > 1 && max_step - min_step > 1;
  } else {
    pts_sorted.clear();
    pts_sorted.shrink_to_fit();
  }

  // total_num_frames: PyAV reads the container's count (stream.frames); without one (WebM,
  // Matroska) or when the container marks frames to be dropped (edit lists), the frames the
  // decoder will output are the displayable packets we counted — exact, unlike an estimate
  // from duration × average frame rate.
  if (info.header_frames > 0 && n_discard == 0) {
    info.num_frames = info.header_frames;
    info.frame_count_source = FrameCountSource::ContainerHeader;
  } else {
    info.num_frames = info.packet_frames;
    info.frame_count_source = FrameCountSource::PacketScan;
  }
  info.duration = static_cast<double>(info.num_frames) / info.fps;
  if (!(info.duration <= options.limits.max_duration))
    fail("video: {:.0f} s is longer than the {:.0f} s limit", info.duration, options.limits.max_duration);
}

VideoReader::VideoReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoReader::~VideoReader() = default;

namespace {

std::unique_ptr<VideoReader::Impl> make_impl(const VideoOpenOptions& options) {
  av_log_set_level(options.verbose ? AV_LOG_WARNING : AV_LOG_QUIET);
  auto impl = std::make_unique<VideoReader::Impl>();
  impl->options = options;
  return impl;
}

void finish_open(VideoReader::Impl& impl) {
  if (impl.source.size == 0) fail("video: empty input");
  if (impl.source.size > impl.options.limits.max_bytes)
    fail("video: {} bytes exceed the {} byte limit", impl.source.size, impl.options.limits.max_bytes);
  impl.probe();
  impl.scan_packets();
  impl.open_decoder();
}

}  // namespace

std::unique_ptr<VideoReader> VideoReader::open_file(const std::string& path, const VideoOpenOptions& options) {
  auto impl = make_impl(options);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("video: cannot open '{}': {}", path, std::strerror(errno));
  impl->source.fd = fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) fail("video: '{}' is not a regular file", path);
  impl->source.size = static_cast<uint64_t>(st.st_size);
  try {
    finish_open(*impl);
  } catch (const Error& e) {
    fail("{} ('{}')", e.what(), path);
  }
  return std::unique_ptr<VideoReader>(new VideoReader(std::move(impl)));
}

std::unique_ptr<VideoReader> VideoReader::open_memory(std::span<const uint8_t> bytes, const VideoOpenOptions& options) {
  auto impl = make_impl(options);
  impl->source.data = bytes.data();
  impl->source.size = bytes.size();
  finish_open(*impl);
  return std::unique_ptr<VideoReader>(new VideoReader(std::move(impl)));
}

const VideoInfo& VideoReader::info() const { return impl_->info; }
const VideoReadStats& VideoReader::stats() const { return impl_->stats; }

void VideoReader::read_frames(std::span<const int64_t> indices, const std::function<void(VideoFrame&&)>& on_frame) {
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= impl_->info.num_frames)
      fail("video: frame {} is out of range (the video has {})", indices[i], impl_->info.num_frames);
    if (i > 0 && indices[i] <= indices[i - 1]) fail("video: frame indices must be strictly increasing");
  }
  if (indices.empty()) return;
  if (impl_->info.timestamp_index)
    impl_->read_by_pts(indices, on_frame);
  else
    impl_->read_by_count(indices, on_frame);
}

std::vector<VideoFrame> VideoReader::read_frames(std::span<const int64_t> indices) {
  std::vector<VideoFrame> out;
  out.reserve(indices.size());
  read_frames(indices, [&](VideoFrame&& f) { out.push_back(std::move(f)); });
  return out;
}

}  // namespace pocket
