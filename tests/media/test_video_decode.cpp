// VideoReader against the ffmpeg CLI: clips generated at test time with Debian's `ffmpeg`
// (lavfi testsrc2 / smptebars / mandelbrot; H.264 or MPEG-4, VP9, MJPEG; 25, 30, 29.97 and
// 24 fps, a variable-frame-rate clip, audio tracks, rotated clips, 0.5 s to 10 minutes) into
// the build directory. Frame counts and rates must equal what ffprobe counts; frames at the
// sampled indices must match the CLI's `select=eq(n\,K)` extraction (same swscale flags) with
// PSNR >= 40 dB; broken inputs must fail with pocket::Error. Skipped when ffmpeg is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "media/frame_sampling.h"
#include "media/video.h"
#include "test_video_util.h"

namespace pocket {
namespace {

using namespace video_test;

struct Probe {
  int64_t frames = 0;  // frames ffprobe decodes
  std::string avg_frame_rate;
  int width = 0, height = 0;
};

Probe ffprobe(const std::string& path) {
  const std::string out = capture("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                                  "stream=nb_read_frames,avg_frame_rate,width,height -of default=nw=1 '" +
                                  path + "'");
  Probe p;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "nb_read_frames") p.frames = std::stoll(v);
    if (k == "avg_frame_rate") p.avg_frame_rate = v;
    if (k == "width") p.width = std::stoi(v);
    if (k == "height") p.height = std::stoi(v);
  }
  return p;
}

// Every sampled frame of `path` (transformers' default sampling) matches the CLI's.
void expect_frames_match_cli(VideoReader& reader, const std::string& path, size_t max_frames = 64,
                             VideoColorConversion color = VideoColorConversion::Accurate) {
  const VideoInfo& info = reader.info();
  std::vector<int64_t> indices = sample_video_frames(info.timing()).indices;
  if (indices.size() > max_frames) indices.resize(max_frames);
  const auto frames = reader.read_frames(indices);
  ASSERT_EQ(frames.size(), indices.size());
  const auto ref = cli_frames(path, indices, color);
  const size_t frame_bytes = static_cast<size_t>(info.width) * info.height * 3;
  ASSERT_EQ(ref.size(), frame_bytes * indices.size()) << "CLI extraction size";
  for (size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(indices[i]));
    EXPECT_EQ(frames[i].index, indices[i]);
    EXPECT_TRUE(frames[i].exact);
    ASSERT_EQ(frames[i].rgb.width, info.width);
    ASSERT_EQ(frames[i].rgb.height, info.height);
    const double db = psnr(frames[i].rgb.pixels.data(), ref.data() + i * frame_bytes, frame_bytes);
    EXPECT_GE(db, 40.0);
  }
}

struct Clip {
  const char* name;
  std::string args;
  int64_t frames;       // expected frame count (also checked against ffprobe)
  int fps_num, fps_den;
  int width, height;    // after rotation
  bool audio;
  FrameCountSource source;
};

std::vector<Clip> clips() {
  const std::string h264 = h264_args();
  const std::string sine = " -f lavfi -i sine=frequency=440:sample_rate=48000 ";
  return {
      {"h264_320x240_25.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -t 4 -g 25 " + h264, 100, 25, 1, 320, 240,
       false, FrameCountSource::ContainerHeader},
      {"h264_aac_160x120_30.mp4", "-f lavfi -i smptebars=size=160x120:rate=30" + sine + "-t 3 " + h264 + " -c:a aac",
       90, 30, 1, 160, 120, true, FrameCountSource::ContainerHeader},
      {"mpeg4_ntsc_128x96.mp4", "-f lavfi -i mandelbrot=size=128x96:rate=30000/1001 -t 2.5 -c:v mpeg4 -q:v 2", 75,
       30000, 1001, 128, 96, false, FrameCountSource::ContainerHeader},
      {"vp9_opus_176x144_25.webm",
       "-f lavfi -i testsrc2=size=176x144:rate=25" + sine +
           "-t 2 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -g 12 -c:a libopus",
       50, 25, 1, 176, 144, true, FrameCountSource::PacketScan},
      {"mjpeg_160x120_25.avi", "-f lavfi -i testsrc2=size=160x120:rate=25 -t 1 -c:v mjpeg -q:v 2", 25, 25, 1, 160,
       120, false, FrameCountSource::ContainerHeader},
      {"h264_bt709_160x120_24.mp4",
       "-f lavfi -i testsrc2=size=160x120:rate=24 -t 2 -vf scale=out_color_matrix=bt709 -colorspace bt709 "
       "-color_primaries bt709 -color_trc bt709 " + h264,
       48, 24, 1, 160, 120, false, FrameCountSource::ContainerHeader},
      {"h264_vfr_160x120.mp4",
       "-f lavfi -i testsrc2=size=160x120:rate=30 -t 3 -vf \"select='lt(mod(n\\,10)\\,6)'\" -fps_mode vfr " + h264,
       54, 0, 0, 160, 120, false, FrameCountSource::ContainerHeader},
      {"h264_0.5s_96x72_30.mp4", "-f lavfi -i testsrc2=size=96x72:rate=30 -t 0.5 " + h264, 15, 30, 1, 96, 72, false,
       FrameCountSource::ContainerHeader},
      {"h264_160x120_25.mkv", "-f lavfi -i testsrc2=size=160x120:rate=25 -t 4 -g 12 " + h264, 100, 25, 1, 160, 120,
       false, FrameCountSource::PacketScan},
      {"h264_aac_160x120_25.ts", "-f lavfi -i testsrc2=size=160x120:rate=25" + sine + "-t 4 -g 12 " + h264 + " -c:a aac",
       100, 25, 1, 160, 120, true, FrameCountSource::PacketScan},
      // AVI with B-frames has no pts on most packets: frames are found by counting decoder output.
      {"mpeg4_bframes_160x120_25.avi", "-f lavfi -i testsrc2=size=160x120:rate=25 -t 2 -c:v mpeg4 -bf 2 -g 12 -q:v 2",
       50, 25, 1, 160, 120, false, FrameCountSource::ContainerHeader},
      {"h264_10min_64x48_1.mp4", "-f lavfi -i testsrc2=size=64x48:rate=1 -t 600 -g 10 " + h264, 600, 1, 1, 64, 48,
       false, FrameCountSource::ContainerHeader},
  };
}

class VideoClips : public ::testing::TestWithParam<size_t> {};

TEST_P(VideoClips, MetadataAndFramesMatchTheCli) {
  REQUIRE_FFMPEG();
  const Clip clip = clips()[GetParam()];
  SCOPED_TRACE(clip.name);
  if (std::string(clip.name).find("vp9") != std::string::npos && !have_encoder("libvpx-vp9"))
    GTEST_SKIP() << "no libvpx-vp9 encoder";
  const std::string path = make_video(clip.name, clip.args);
  const Probe probe = ffprobe(path);
  auto reader = VideoReader::open_file(path);
  const VideoInfo& info = reader->info();
  EXPECT_EQ(info.num_frames, clip.frames);
  EXPECT_EQ(info.num_frames, probe.frames);
  EXPECT_EQ(info.frame_count_source, clip.source);
  if (clip.fps_num > 0) {
    EXPECT_EQ(info.fps_num, clip.fps_num);
    EXPECT_EQ(info.fps_den, clip.fps_den);
  }
  EXPECT_EQ(std::to_string(info.fps_num) + "/" + std::to_string(info.fps_den), probe.avg_frame_rate);
  EXPECT_DOUBLE_EQ(info.duration, static_cast<double>(info.num_frames) / info.fps);
  EXPECT_EQ(info.width, clip.width);
  EXPECT_EQ(info.height, clip.height);
  EXPECT_EQ(info.has_audio, clip.audio);
  EXPECT_EQ(info.variable_frame_rate, clip.fps_num == 0);
  EXPECT_EQ(info.timestamp_index, std::string(clip.name).find("bframes") == std::string::npos);
  expect_frames_match_cli(*reader, path);
  // The CLI's default conversion (transformers' PyAV/torchcodec loaders run the same one).
  VideoOpenOptions fast;
  fast.color = VideoColorConversion::Fast;
  auto fast_reader = VideoReader::open_file(path, fast);
  expect_frames_match_cli(*fast_reader, path, 4, VideoColorConversion::Fast);
}

INSTANTIATE_TEST_SUITE_P(Generated, VideoClips, ::testing::Range<size_t>(0, clips().size()),
                         [](const ::testing::TestParamInfo<size_t>& p) {
                           std::string n = clips()[p.param].name;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// Display-matrix rotation (a stream copy with the `rotate` tag writes it): frames come out
// turned like the CLI's autorotation.
TEST(VideoDecode, RotatedClipsAreTurnedLikeTheCli) {
  REQUIRE_FFMPEG();
  const std::string base = make_video("rot_base_160x96.mp4", "-f lavfi -i testsrc2=size=160x96:rate=25 -t 1 " + h264_args());
  for (const int angle : {90, 180, 270}) {
    SCOPED_TRACE(angle);
    const std::string path = make_video("rot" + std::to_string(angle) + ".mp4",
                                        "-i '" + base + "' -c copy -metadata:s:v:0 rotate=" + std::to_string(angle));
    auto reader = VideoReader::open_file(path);
    const VideoInfo& info = reader->info();
    EXPECT_EQ(info.coded_width, 160);
    EXPECT_EQ(info.coded_height, 96);
    EXPECT_EQ(info.width, angle == 180 ? 160 : 96);
    EXPECT_EQ(info.height, angle == 180 ? 96 : 160);
    // FFmpeg 5.1 stores the `rotate` tag as a counter-clockwise display matrix angle, so the
    // CLI (and we) turn the frames clockwise by 360 − angle.
    EXPECT_EQ(info.rotation, (360 - angle) % 360);
    expect_frames_match_cli(*reader, path, 5);
    VideoOpenOptions raw;
    raw.apply_rotation = false;
    auto unrotated = VideoReader::open_file(path, raw);
    EXPECT_EQ(unrotated->info().width, 160);
    EXPECT_EQ(unrotated->read_frames(std::vector<int64_t>{3})[0].rgb.width, 160);
  }
}

TEST(VideoDecode, MemoryInputGivesTheSameFrames) {
  REQUIRE_FFMPEG();
  const Clip clip = clips()[0];
  const std::string path = make_video(clip.name, clip.args);
  const auto bytes = read_file(path);
  auto from_file = VideoReader::open_file(path);
  auto from_memory = VideoReader::open_memory(bytes);
  EXPECT_EQ(from_memory->info().num_frames, from_file->info().num_frames);
  const std::vector<int64_t> idx{0, 7, 49, 99};
  const auto a = from_file->read_frames(idx);
  const auto b = from_memory->read_frames(idx);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].rgb.pixels, b[i].rgb.pixels);
}

// Decoding stops at the last wanted frame, and far-apart frames are reached by keyframe seeks
// rather than by decoding everything in between (10 minutes, a keyframe every 10 frames).
TEST(VideoDecode, DecodesOnlyWhatItNeeds) {
  REQUIRE_FFMPEG();
  const Clip clip = clips().back();  // the 10-minute clip
  const std::string path = make_video(clip.name, clip.args);
  {
    auto reader = VideoReader::open_file(path);
    reader->read_frames(std::vector<int64_t>{5});
    EXPECT_LE(reader->stats().packets_read, 30);
  }
  {
    auto reader = VideoReader::open_file(path);
    const auto frames = reader->read_frames(std::vector<int64_t>{5, 300, 595});
    EXPECT_GE(reader->stats().seeks, 3);
    EXPECT_LE(reader->stats().packets_read, 90);
    const auto ref = cli_frames(path, {5, 300, 595});
    const size_t n = 64 * 48 * 3;
    for (size_t i = 0; i < 3; ++i) EXPECT_GE(psnr(frames[i].rgb.pixels.data(), ref.data() + i * n, n), 40.0);
    // Going back is allowed too (a new seek).
    const auto again = reader->read_frames(std::vector<int64_t>{5});
    EXPECT_EQ(again[0].rgb.pixels, frames[0].rgb.pixels);
  }
}

// Without timestamps (AVI + B-frames) frames are counted from the start; asking for an
// earlier frame afterwards starts over.
TEST(VideoDecode, CountingModeRestartsForEarlierFrames) {
  REQUIRE_FFMPEG();
  const Clip clip = clips()[10];
  ASSERT_NE(std::string(clip.name).find("bframes"), std::string::npos);
  const std::string path = make_video(clip.name, clip.args);
  auto reader = VideoReader::open_file(path);
  ASSERT_FALSE(reader->info().timestamp_index);
  const auto late = reader->read_frames(std::vector<int64_t>{40, 49});
  const auto early = reader->read_frames(std::vector<int64_t>{3});
  EXPECT_EQ(reader->stats().restarts, 2);
  const auto ref = cli_frames(path, {3, 40, 49});
  const size_t n = 160 * 120 * 3;
  EXPECT_GE(psnr(early[0].rgb.pixels.data(), ref.data(), n), 40.0);
  EXPECT_GE(psnr(late[0].rgb.pixels.data(), ref.data() + n, n), 40.0);
  EXPECT_GE(psnr(late[1].rgb.pixels.data(), ref.data() + 2 * n, n), 40.0);
}

void expect_error(const std::string& path, const VideoOpenOptions& options = {}) {
  try {
    auto reader = VideoReader::open_file(path, options);
    const auto plan = sample_video_frames(reader->info().timing());
    reader->read_frames(plan.indices);
    ADD_FAILURE() << path << " was accepted";
  } catch (const Error& e) {
    SUCCEED() << e.what();
  }
}

TEST(VideoDecode, BrokenInputsFailCleanly) {
  REQUIRE_FFMPEG();
  const std::string dir = video_dir();
  // Zero-length, not a video, text.
  write_file(dir + "/empty.mp4", {});
  expect_error(dir + "/empty.mp4");
  std::vector<uint8_t> noise(4096);
  uint32_t s = 12345;
  for (auto& b : noise) b = static_cast<uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  write_file(dir + "/noise.mp4", noise);
  expect_error(dir + "/noise.mp4");
  expect_error(dir + "/does_not_exist.mp4");
  // Audio only.
  expect_error(make_video("audio_only.m4a", "-f lavfi -i sine=frequency=440:sample_rate=48000 -t 1 -c:a aac"));
  // Truncated: moov at the end (cut before it), and moov first (samples missing).
  const Clip clip = clips()[0];
  const auto full = read_file(make_video(clip.name, clip.args));
  write_file(dir + "/cut_moov_end.mp4", std::vector<uint8_t>(full.begin(), full.begin() + full.size() / 2));
  expect_error(dir + "/cut_moov_end.mp4");
  const auto fast = read_file(make_video("faststart.mp4", "-i '" + make_video(clip.name, clip.args) +
                                                              "' -c copy -movflags +faststart"));
  write_file(dir + "/cut_faststart.mp4", std::vector<uint8_t>(fast.begin(), fast.begin() + fast.size() * 6 / 10));
  expect_error(dir + "/cut_faststart.mp4");
  // Truncated WebM (no frame count in the header): the data stops well before the duration.
  if (have_encoder("libvpx-vp9")) {
    const Clip vp9 = clips()[3];
    const auto webm = read_file(make_video(vp9.name, vp9.args));
    write_file(dir + "/cut.webm", std::vector<uint8_t>(webm.begin(), webm.begin() + webm.size() * 6 / 10));
    expect_error(dir + "/cut.webm");
  }
  // Corrupt sample table: the faststart header with its box sizes scrambled.
  auto bad = fast;
  for (size_t i = 40; i < 600 && i < bad.size(); i += 7) bad[i] ^= 0x5a;
  write_file(dir + "/bad_header.mp4", bad);
  expect_error(dir + "/bad_header.mp4");
}

// Corrupt frame data: the file must either fail with pocket::Error or decode, never crash
// (containers without checksums cannot always tell damaged data from real data).
TEST(VideoDecode, CorruptFrameDataNeverCrashes) {
  REQUIRE_FFMPEG();
  for (const size_t c : {size_t{0}, size_t{3}, size_t{8}, size_t{9}, size_t{10}}) {
    const Clip clip = clips()[c];
    SCOPED_TRACE(clip.name);
    if (c == 3 && !have_encoder("libvpx-vp9")) continue;
    auto bytes = read_file(make_video(clip.name, clip.args));
    for (size_t i = bytes.size() / 4; i < bytes.size() * 3 / 4; i += 97) bytes[i] ^= 0xff;
    try {
      auto reader = VideoReader::open_memory(bytes);
      const auto frames = reader->read_frames(sample_video_frames(reader->info().timing()).indices);
      EXPECT_FALSE(frames.empty());
    } catch (const Error&) {
    }
  }
}

TEST(VideoDecode, LimitsAreEnforced) {
  REQUIRE_FFMPEG();
  const Clip clip = clips()[0];
  const std::string path = make_video(clip.name, clip.args);
  VideoOpenOptions o;
  o.limits.max_pixels = 320 * 240 - 1;
  EXPECT_THROW(VideoReader::open_file(path, o), Error);
  o = {};
  o.limits.max_duration = 3.5;
  EXPECT_THROW(VideoReader::open_file(path, o), Error);
  o = {};
  o.limits.max_frames = 99;
  EXPECT_THROW(VideoReader::open_file(path, o), Error);
  o = {};
  o.limits.max_bytes = 1000;
  EXPECT_THROW(VideoReader::open_file(path, o), Error);
  auto reader = VideoReader::open_file(path);
  EXPECT_THROW(reader->read_frames(std::vector<int64_t>{100}), Error);
  EXPECT_THROW(reader->read_frames(std::vector<int64_t>{5, 5}), Error);
  EXPECT_THROW(reader->read_frames(std::vector<int64_t>{-1}), Error);
}

TEST(VideoDecode, OrientationFromDisplayMatrix) {
  // A 2×1 image [A B] through each transpose direction (vf_transpose semantics).
  Image im = make_image(2, 1, PixelMode::RGB);
  im.pixels = {1, 1, 1, 2, 2, 2};
  VideoOrientation o;
  o.transpose_dir = 1;  // clock: A on top
  Image r = apply_video_orientation(im, o);
  ASSERT_EQ(r.width, 1);
  ASSERT_EQ(r.height, 2);
  EXPECT_EQ(r.pixels[0], 1);
  o.transpose_dir = 2;  // cclock: B on top
  EXPECT_EQ(apply_video_orientation(im, o).pixels[0], 2);
  o = {};
  o.hflip = true;
  EXPECT_EQ(apply_video_orientation(im, o).pixels[0], 2);
}

}  // namespace
}  // namespace pocket
