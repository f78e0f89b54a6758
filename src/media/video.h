// In-process video decoding with FFmpeg (libavformat/libavcodec/libswscale) for the SmolVLM2
// video path: probe the metadata transformers' decoders report (frame count, average frame
// rate, duration = frames / fps), then decode only the sampled frames to 8-bit RGB, the way
// the ffmpeg CLI extracts them (`-vf select=eq(n\,K)`: K counts frames in presentation order,
// display-matrix rotation applied, the stream's colour matrix and range honoured).
//
// Design:
// - Input goes through our own AVIOContext (a file or a memory buffer), so no FFmpeg protocol
//   (http, concat, pipes, playlists) can be reached from a file's contents; demuxers and
//   decoders are restricted to common video containers and codecs.
// - Opening scans the video packets once (demuxing only, no decoding): this gives the exact
//   frame count when the container has none (WebM/Matroska), each frame's presentation
//   timestamp (so frame K of a variable-frame-rate video is found by its pts) and the keyframes.
//   Cost: 8 bytes per frame plus 24 per keyframe; pixel memory is bounded by the frames the
//   caller keeps, never by the video's length.
// - Reading seeks to the keyframe before each wanted frame when that skips decoding, then
//   decodes forward to the exact frame; without usable timestamps it decodes from the start and
//   counts frames, like PyAV's `enumerate(container.decode(video=0))` in transformers.
// - Every failure (unreadable, truncated, corrupt, no video stream, over a limit) throws
//   pocket::Error. FFmpeg's own log output is off unless `verbose`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "media/frame_sampling.h"
#include "media/image.h"

namespace pocket {

struct VideoLimits {
  uint64_t max_bytes = uint64_t{64} << 30;       // file or buffer size
  uint64_t max_pixels = uint64_t{8192} * 8192;   // width × height of one decoded frame
  double max_duration = 24 * 3600.0;             // seconds, from the container and frames / fps
  int64_t max_frames = 10'000'000;               // video packets in the stream
};

// How decoded YUV becomes RGB24 (swscale, same size). Both honour the stream's colour matrix
// (BT.601 when unspecified) and range, as the ffmpeg CLI's scale filter does.
enum class VideoColorConversion {
  // SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT: chroma interpolated to full
  // resolution, exact rounding. Equals `ffmpeg -sws_flags bicubic+accurate_rnd+full_chroma_int`.
  Accurate,
  // swscale's default table-driven converter (chroma samples replicated): what a plain
  // `ffmpeg -i in -pix_fmt rgb24` extracts, and what PyAV's to_ndarray("rgb24") and torchcodec
  // run inside transformers' video loaders.
  Fast,
};

struct VideoOpenOptions {
  VideoLimits limits;
  VideoColorConversion color = VideoColorConversion::Accurate;
  int threads = 0;             // decoder threads; 0 = FFmpeg's choice, capped at 8
  bool apply_rotation = true;  // rotate/flip frames by the display matrix, as the ffmpeg CLI does
  bool verbose = false;        // let FFmpeg log warnings and errors to stderr
};

// Where VideoInfo::num_frames comes from.
enum class FrameCountSource {
  ContainerHeader,  // the container's frame count (MP4 sample count), as PyAV's stream.frames
  PacketScan,       // no header count (WebM/Matroska, AVI without one): video packets counted
};

struct VideoInfo {
  std::string container;  // demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;      // decoder name, e.g. "h264"
  int coded_width = 0, coded_height = 0;  // frame size as decoded
  int width = 0, height = 0;              // after rotation (what read_frames returns)
  int rotation = 0;                       // clockwise degrees applied: 0, 90, 180 or 270
  bool flipped = false;                   // the display matrix also mirrors the picture

  // Metadata as transformers' decoders fill VideoMetadata.
  int64_t num_frames = 0;  // total_num_frames
  double fps = 0;          // average frame rate (PyAV's stream.average_rate)
  int fps_num = 0, fps_den = 1;
  double duration = 0;     // num_frames / fps

  FrameCountSource frame_count_source = FrameCountSource::ContainerHeader;
  int64_t header_frames = 0;      // the container's frame count, 0 if absent
  int64_t packet_frames = 0;      // displayable video packets found by the scan
  double container_duration = -1;  // seconds as the container states it, -1 if unknown
  bool has_audio = false;
  bool variable_frame_rate = false;  // presentation timestamps are not evenly spaced
  bool timestamp_index = false;      // frames are located by pts (else by decoding from the start)

  VideoTiming timing() const { return {num_frames, fps, duration}; }
};

struct VideoFrame {
  int64_t index = 0;       // presentation-order frame number
  double time = 0;         // its pts in seconds from the stream's start time
  // false when the frame at `index` could not be told apart (missing timestamps, a frame the
  // decoder dropped, or an index past the frames actually decoded): the nearest decoded frame
  // at or after it (else the last one) was used instead.
  bool exact = true;
  Image rgb;  // RGB, rotated
};

// Decoder statistics, for tests and benchmarks.
struct VideoReadStats {
  int64_t packets_read = 0;   // video packets sent to the decoder
  int64_t frames_decoded = 0;
  int64_t frames_converted = 0;
  int64_t seeks = 0;
  int64_t restarts = 0;  // fallbacks to decoding from the start
};

class VideoReader {
 public:
  // Opens and probes (reads the whole container once, demuxing only).
  static std::unique_ptr<VideoReader> open_file(const std::string& path, const VideoOpenOptions& options = {});
  // `bytes` must outlive the reader.
  static std::unique_ptr<VideoReader> open_memory(std::span<const uint8_t> bytes,
                                                  const VideoOpenOptions& options = {});
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const;

  // Decodes the frames at `indices` (strictly increasing, each in [0, num_frames)) and hands
  // each to `on_frame` in order; only one decoded RGB frame is alive at a time.
  void read_frames(std::span<const int64_t> indices, const std::function<void(VideoFrame&&)>& on_frame);
  std::vector<VideoFrame> read_frames(std::span<const int64_t> indices);

  const VideoReadStats& stats() const;

  struct Impl;

 private:
  explicit VideoReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The ffmpeg CLI's autorotation for a display matrix (fftools ffmpeg_filter.c): the transpose /
// flips it inserts, applied to an RGB image. `matrix` is the 3×3 int32 display matrix.
struct VideoOrientation {
  int rotation = 0;  // clockwise degrees: 0, 90, 180, 270
  bool flipped = false;
  // vf_transpose's direction (0 cclock_flip, 1 clock, 2 cclock, 3 clock_flip), or -1 for none
  int transpose_dir = -1;
  bool hflip = false, vflip = false;  // used only without a transpose
};
VideoOrientation video_orientation_from_matrix(const int32_t matrix[9]);
Image apply_video_orientation(const Image& rgb, const VideoOrientation& orientation);

}  // namespace pocket
