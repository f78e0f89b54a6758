// Media loading for requests: data: URIs, http(s) downloads (remote_media.h) and --media-dir files.
#include "apps/server/media.h"

#include <filesystem>
#include <fstream>

#include "chat/openai_request.h"
#include "media/video.h"
#include "core/error.h"

namespace pocket::server {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void too_large(const std::string& what) {
  throw ApiError(413, what, "invalid_request_error", "media_too_large", "messages");
}

[[noreturn]] void bad_media(const std::string& what, const std::string& code = "invalid_media") {
  throw ApiError(400, what, "invalid_request_error", code, "messages");
}

}  // namespace

std::string resolve_media_path(const std::string& media_dir, const std::string& path) {
  if (media_dir.empty()) bad_media("file paths are not accepted (the server has no --media-dir)", "media_path_forbidden");
  std::error_code ec;
  const fs::path root = fs::canonical(media_dir, ec);
  if (ec) bad_media("the server's --media-dir is not readable", "media_path_forbidden");
  const fs::path p = fs::path(path).is_absolute() ? fs::path(path) : root / path;
  const fs::path real = fs::weakly_canonical(p, ec);
  if (ec) bad_media("media path cannot be resolved", "media_path_forbidden");
  // Containment after resolving symlinks and '..': the relative path must not climb out.
  const fs::path rel = real.lexically_relative(root);
  if (rel.empty() || rel.native().rfind("..", 0) == 0 || rel.is_absolute())
    bad_media("media path is outside --media-dir", "media_path_forbidden");
  return real.string();
}

std::string fetch_media_bytes(const std::string& url, const MediaLimits& limits) {
  if (url.rfind("data:", 0) == 0) return decode_data_uri(url, limits.max_bytes);
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return fetch_remote_media(url, limits.remote);
  std::string path = url;
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  if (path.find("://") != std::string::npos) bad_media("unsupported media URL scheme (data:, http(s):// or a file path)");
  const std::string real = resolve_media_path(limits.media_dir, path);
  std::error_code ec;
  if (!fs::is_regular_file(real, ec)) bad_media("media file not found");
  const auto size = fs::file_size(real, ec);
  if (ec) bad_media("media file not readable");
  if (size > limits.max_bytes) too_large(fmt::format("media file is larger than {} bytes", limits.max_bytes));
  std::ifstream f(real, std::ios::binary);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!f.read(bytes.data(), static_cast<std::streamsize>(size))) bad_media("media file not readable");
  return bytes;
}

Image decode_request_image(const VisionEncoder& enc, const std::string& bytes, const MediaLimits& limits) {
  DecodeLimits dl;
  dl.max_pixels = limits.max_pixels;
  dl.max_bytes = limits.max_bytes;
  const std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  // The header's size is checked against the pixel limit before any pixel is decoded.
  const ImageFormat format = detect_image_format(span);
  try {
    return enc.load_image(span, dl);  // as the family's reference processor loads it
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (format != ImageFormat::Unknown && msg.find("over the limit") != std::string::npos)
      too_large(fmt::format("image too large: {}", msg));
    bad_media(fmt::format("cannot decode image: {}", msg));
  }
}

SmolVlmVideo decode_request_video(const VisionEncoder& enc, const std::string& bytes, const MediaLimits& limits) {
  if (!enc.takes_video()) bad_media("this model does not take video", "unsupported_value");
  VideoOpenOptions vo;
  vo.limits.max_bytes = limits.max_bytes;
  vo.limits.max_pixels = std::min<uint64_t>(limits.max_pixels, vo.limits.max_pixels);
  vo.threads = 1;
  const std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  std::unique_ptr<VideoReader> reader;
  try {
    reader = VideoReader::open_memory(span, vo);
  } catch (const Error& e) {
    bad_media(fmt::format("cannot read video: {}", e.what()));
  }
  if (reader->info().duration > limits.max_video_seconds)
    too_large(fmt::format("video is {:.1f} s long; the limit is {} s", reader->info().duration, limits.max_video_seconds));
  SmolVlmVideoParams vp = enc.video_params();
  vp.sampling.max_frames = std::min<int64_t>(vp.sampling.max_frames, limits.max_video_frames);
  try {
    return smolvlm_prepare_video(*reader, vp);
  } catch (const Error& e) {
    bad_media(fmt::format("cannot decode video: {}", e.what()));
  }
}

}  // namespace pocket::server
