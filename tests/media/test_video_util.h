// Helpers for the video tests: clips generated once into the build directory with Debian's
// `ffmpeg` CLI, reference frames extracted by the CLI, PSNR. Tests fail without ffmpeg (scripts/setup installs it).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "media/video.h"

namespace pocket::video_test {

namespace fs = std::filesystem;

inline bool have_ffmpeg() {
  static const bool ok = std::system("ffmpeg -hide_banner -version >/dev/null 2>&1") == 0 &&
                         std::system("ffprobe -hide_banner -version >/dev/null 2>&1") == 0;
  return ok;
}

inline bool have_encoder(const std::string& name) {
  static std::map<std::string, bool> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const std::string cmd = "ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' " + name + " '";
  return cache[name] = std::system(cmd.c_str()) == 0;
}

#define REQUIRE_FFMPEG() \
  if (!::pocket::video_test::have_ffmpeg()) FAIL() << "ffmpeg/ffprobe are missing: run scripts/setup"

inline std::string video_dir() {
  const std::string dir = std::string(POCKET_BINARY_DIR) + "/test_video";
  fs::create_directories(dir);
  return dir;
}

inline void run(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("command failed: " + cmd);
}

inline std::string capture(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  if (::pclose(p) != 0) throw std::runtime_error("command failed: " + cmd);
  return out;
}

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  fs::rename(tmp, path);
}

// Makes build/test_video/<name> once with `ffmpeg <args> <output>` (atomic: tests may run in
// parallel processes).
inline std::string make_video(const std::string& name, const std::string& args) {
  const std::string path = video_dir() + "/" + name;
  if (fs::exists(path)) return path;
  const std::string tmp = video_dir() + "/tmp" + std::to_string(::getpid()) + "_" + name;
  run("ffmpeg -hide_banner -loglevel error -nostdin -y " + args + " '" + tmp + "'");
  fs::rename(tmp, path);
  return path;
}

inline std::string h264_args() {
  return have_encoder("libx264") ? "-c:v libx264 -preset veryfast -pix_fmt yuv420p" : "-c:v mpeg4 -q:v 2";
}

// The CLI's frames number `indices` (presentation order, autorotated) as packed RGB24, with
// the swscale flags of VideoColorConversion::Accurate, or the CLI's defaults (Fast).
inline std::vector<uint8_t> cli_frames(const std::string& path, const std::vector<int64_t>& indices,
                                VideoColorConversion color = VideoColorConversion::Accurate) {
  std::string expr;
  for (const int64_t k : indices) {
    if (!expr.empty()) expr += '+';
    expr += "eq(n\\,";
    expr += std::to_string(k);
    expr += ')';
  }
  const std::string out = video_dir() + "/ref" + std::to_string(::getpid()) + ".rgb";
  run("ffmpeg -hide_banner -loglevel error -nostdin -y -i '" + path + "' -vf \"select='" + expr +
      "'\" -fps_mode passthrough " +
      (color == VideoColorConversion::Accurate ? "-sws_flags bicubic+accurate_rnd+full_chroma_int " : "") +
      "-pix_fmt rgb24 -f rawvideo '" +
      out + "'");
  auto bytes = read_file(out);
  fs::remove(out);
  return bytes;
}

inline double psnr(const uint8_t* a, const uint8_t* b, size_t n) {
  double se = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    se += d * d;
  }
  if (se == 0) return 1e9;
  return 10 * std::log10(255.0 * 255.0 / (se / static_cast<double>(n)));
}

}  // namespace pocket::video_test
