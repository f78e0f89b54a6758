// Internal state of VideoReader (video.h), shared by video.cpp (input, probing, packet scan)
// and video_decode.cpp (seeking, decoding, RGB conversion). Not part of the public API.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "media/video.h"

namespace pocket {
namespace video_detail {

// Formats the FFmpeg error code `err` as text.
std::string av_error_text(int err);

// Decoders FFmpeg may open (AVCodecContext / AVFormatContext "codec_whitelist").
extern const char* const kCodecWhitelist;

// Bytes behind our AVIOContext: a file read with pread, or a caller's memory buffer.
struct ByteSource {
  int fd = -1;  // owned when >= 0
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  uint64_t pos = 0;
  ~ByteSource();
};

// One opened demuxer over a ByteSource (several can be opened over the same source in turn).
struct Demuxer {
  AVFormatContext* fmt = nullptr;
  AVIOContext* avio = nullptr;
  ~Demuxer();
};

struct KeyFrame {
  int64_t pos = 0;  // decode-order position among the stream's video packets
  int64_t pts = AV_NOPTS_VALUE;
  int64_t dts = AV_NOPTS_VALUE;
  int64_t byte_pos = -1;  // the packet's offset in the file, -1 if unknown
};

struct AvFrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct AvPacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct AvCodecDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using FramePtr = std::unique_ptr<AVFrame, AvFrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, AvPacketDeleter>;

}  // namespace video_detail

struct VideoReader::Impl {
  VideoOpenOptions options;
  VideoInfo info;
  VideoReadStats stats;

  video_detail::ByteSource source;
  std::unique_ptr<video_detail::Demuxer> demux;
  int stream_index = -1;
  AVCodecID codec_id = AV_CODEC_ID_NONE;
  AVRational time_base{0, 1};
  int64_t start_pts = 0;  // the stream's first presentation time, for VideoFrame::time
  bool has_stream_matrix = false;
  int32_t stream_matrix[9] = {};

  // From the packet scan. pts_sorted[k] is frame k's pts when info.timestamp_index.
  std::vector<int64_t> pts_sorted;
  std::vector<video_detail::KeyFrame> keys;  // sorted by pts (= decode order for sane streams)

  // Decoding state.
  std::unique_ptr<AVCodecContext, video_detail::AvCodecDeleter> dec;
  std::unique_ptr<SwsContext, video_detail::SwsDeleter> sws;
  video_detail::PacketPtr pkt;
  video_detail::PacketPtr pending;    // a packet read while locating a seek, sent next
  video_detail::FramePtr held;        // decoded, not yet matched to a wanted frame
  video_detail::FramePtr last;        // the most recent frame passed over (for inexact fallbacks)
  bool demux_at_start = false;        // positioned before the first packet (fresh open)
  int64_t next_pos = -1;              // decode position of the next packet read; -1 unknown
  int64_t frames_out = 0;             // frames output since the start (sequential mode)
  bool counting_from_start = false;   // frames_out is meaningful
  bool demux_eof = false, flushed = false, decoder_done = false;

  // video.cpp
  void open_demuxer(bool probe_streams);
  void probe();
  void scan_packets();
  // video_decode.cpp
  void open_decoder();
  void reset_decoder();
  bool seek_to_key(size_t key);
  bool locate_after_seek(int64_t max_pos);
  void restart_from_beginning();
  bool next_frame();  // fills `held`; false at the end of the stream
  int64_t frame_pts(const AVFrame* f) const;
  VideoFrame convert(const AVFrame* f, int64_t index, bool exact);
  void read_by_pts(std::span<const int64_t> indices, const std::function<void(VideoFrame&&)>& on_frame);
  void read_by_count(std::span<const int64_t> indices, const std::function<void(VideoFrame&&)>& on_frame);
};

}  // namespace pocket
