// Media loading for requests: data: URIs, http(s) downloads (libcurl) and --media-dir files.
#include "apps/server/media.h"

#include <curl/curl.h>

#include <filesystem>
#include <fstream>
#include <mutex>

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

struct Download {
  std::string bytes;
  size_t limit = 0;
  bool over = false;
};

size_t on_data(char* p, size_t size, size_t n, void* user) {
  auto* d = static_cast<Download*>(user);
  const size_t len = size * n;
  if (d->bytes.size() + len > d->limit) {
    d->over = true;
    return 0;  // aborts the transfer
  }
  d->bytes.append(p, len);
  return len;
}

std::string download(const std::string& url, const MediaLimits& limits) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* c = curl_easy_init();
  if (!c) bad_media("cannot start a download");
  Download d;
  d.limit = limits.max_bytes;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.fetch_timeout_seconds * 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(5.0, limits.fetch_timeout_seconds) * 1000));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_bytes));
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "pocket-server");
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  if (d.over || rc == CURLE_FILESIZE_EXCEEDED) too_large(fmt::format("media at {} is larger than {} bytes", url, limits.max_bytes));
  if (rc != CURLE_OK) bad_media(fmt::format("cannot download {}: {}", url, curl_easy_strerror(rc)), "media_fetch_failed");
  if (d.bytes.empty()) bad_media(fmt::format("{} is empty", url));
  return std::move(d.bytes);
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
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return download(url, limits);
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
