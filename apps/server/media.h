// Media in requests: image_url / video_url parts arrive as data: URIs (base64), http(s) URLs
// (fetched only as remote_media.h allows, under size and time limits) or file paths, which are honoured only
// inside --media-dir (resolved with symlinks; anything outside is refused). Decoding turns
// bytes into the images and video tiles the vision encoder takes, under pixel and duration
// limits. Every failure is an ApiError (400, or 413 for a limit).
#pragma once

#include <cstdint>
#include <string>

#include "apps/server/remote_media.h"
#include "media/image.h"
#include "media/video_smolvlm.h"
#include "vision/vision_encoder.h"

namespace pocket::server {

struct MediaLimits {
  size_t max_bytes = size_t{20} << 20;
  uint64_t max_pixels = 40'000'000;
  double max_video_seconds = 600;
  int max_video_frames = 64;
  std::string media_dir;  // empty: file paths refused
  RemoteMediaPolicy remote;  // http(s) URLs (off by default)
};

// The bytes a URL names.
std::string fetch_media_bytes(const std::string& url, const MediaLimits& limits);

// `path` (relative to media_dir, or absolute) as a canonical path inside media_dir; throws
// ApiError 400 when media_dir is empty or the path leaves it.
std::string resolve_media_path(const std::string& media_dir, const std::string& path);

// Decodes an image as the encoder's reference processor loads it.
Image decode_request_image(const VisionEncoder& enc, const std::string& bytes, const MediaLimits& limits);
// Samples and tiles a SmolVLM2 video.
SmolVlmVideo decode_request_video(const VisionEncoder& enc, const std::string& bytes, const MediaLimits& limits);

}  // namespace pocket::server
