// Long-video benchmark for the SmolVLM2 video path: makes a 2-hour H.264 MP4 once with the
// ffmpeg CLI (tiny frames, low frame rate, so it takes seconds to encode), then times opening
// it (probe + packet scan), sampling its 64 frames, decoding them (keyframe seeks) and turning
// each into a 512×512 tile, and reports peak RSS: memory must follow the 64 sampled frames,
// not the 2 hours.
//   pocket-video-bench [--dir DIR] [--minutes 120] [--fps 2] [--size 160x90] [--gop 60] [--reps 3]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "media/video.h"
#include "media/video_smolvlm.h"

namespace {

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::filesystem::temp_directory_path().string(), size = "160x90";
  int minutes = 120, gop = 60, reps = 3;
  std::string fps = "2";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") dir = v;
    else if (k == "--minutes") minutes = std::atoi(v.c_str());
    else if (k == "--fps") fps = v;
    else if (k == "--size") size = v;
    else if (k == "--gop") gop = std::atoi(v.c_str());
    else if (k == "--reps") reps = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const std::string path = dir + "/pocket_video_bench_" + std::to_string(minutes) + "min_" + size + "_" + fps +
                           "fps_g" + std::to_string(gop) + ".mp4";
  if (!std::filesystem::exists(path)) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string tmp = path + ".part.mp4";
    const std::string cmd = "ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i testsrc2=size=" + size +
                            ":rate=" + fps + " -t " + std::to_string(minutes * 60) +
                            " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g " + std::to_string(gop) + " '" +
                            tmp + "'";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "could not make %s (is ffmpeg with libx264 installed?)\n", path.c_str());
      return 1;
    }
    std::filesystem::rename(tmp, path);
    std::printf("made %s in %.1f s (%.1f MiB)\n", path.c_str(), ms_since(t0) / 1000.0,
                static_cast<double>(std::filesystem::file_size(path)) / (1 << 20));
  }
  const double rss_start = peak_rss_mib();
  try {
    for (int rep = 0; rep < reps; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      auto reader = pocket::VideoReader::open_file(path);
      const double open_ms = ms_since(t0);
      const auto t1 = std::chrono::steady_clock::now();
      const pocket::SmolVlmVideo video = pocket::smolvlm_prepare_video(*reader);  // 2048 -> 512, 64 frames
      const double prepare_ms = ms_since(t1);
      const auto& info = reader->info();
      const auto& st = reader->stats();
      // The same frames decoded to RGB without tiling, on a fresh reader (decode cost alone).
      const auto t2 = std::chrono::steady_clock::now();
      auto plain = pocket::VideoReader::open_file(path);
      size_t kept = 0;
      plain->read_frames(video.plan.indices, [&](pocket::VideoFrame&& f) { kept += f.rgb.pixels.size() > 0; });
      const double decode_ms = ms_since(t2);
      std::printf(
          "rep %d: %lld frames (%.0f s at %d/%d fps, %dx%d), %zu sampled: open+scan %.1f ms, decode+tile %.1f ms, "
          "total %.1f ms (open+decode alone %.1f ms); packets decoded %lld (%.1f%% of the video), frames %lld, "
          "seeks %lld, inexact %d\n",
          rep, static_cast<long long>(info.num_frames), info.duration, info.fps_num, info.fps_den, info.width,
          info.height, video.tiles.size(), open_ms, prepare_ms, open_ms + prepare_ms, decode_ms,
          static_cast<long long>(st.packets_read), 100.0 * static_cast<double>(st.packets_read) / info.num_frames,
          static_cast<long long>(st.frames_decoded), static_cast<long long>(st.seeks), video.inexact_frames);
    }
  } catch (const pocket::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::printf("peak RSS %.1f MiB (%.1f MiB before the first open; 64 tiles of 512x512 RGB are 48 MiB)\n",
              peak_rss_mib(), rss_start);
  return 0;
}
