// `pocket serve`: an OpenAI-compatible HTTP server (cpp-httplib) over one Engine shared by
// up to --parallel sequences (runtime/scheduler.h). This header is the whole interface the
// CLI needs; routes, streaming, media, metrics and the lifecycle live in their own files.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/engine.h"

namespace pocket::server {

struct ServerOptions {
  std::string host = "127.0.0.1";   // loopback unless asked otherwise
  int port = 8080;
  int n_parallel = 1;
  int64_t n_ctx = 4096;               // per sequence
  int max_queue = 64;                 // waiting requests before 429
  std::string api_key;                // empty: no authentication
  std::string media_dir;              // empty: file paths in requests are refused
  std::string mmproj_path;            // vision projector (images, video)
  int64_t image_cache_mb = 256;       // tile embeddings kept for images sent again (0: none)
  std::string model_id;               // reported by /v1/models
  int64_t max_body_bytes = int64_t{32} << 20;
  int64_t max_media_bytes = int64_t{20} << 20;   // one image or video after decoding base64 / download
  uint64_t max_image_pixels = 40'000'000;
  uint64_t max_concurrent_pixels = 0; // decoded image pixels over all requests at once; 0: 2 x max_image_pixels
  double max_video_seconds = 600;
  int max_video_frames = 64;
  int64_t max_tokens = 4096;          // largest max_tokens a request may ask for
  int64_t default_max_tokens = 256;
  double fetch_timeout_seconds = 10;  // http(s) media downloads
  bool allow_remote_media = false;    // http(s) media URLs at all (remote_media.h)
  std::vector<std::string> media_hosts;       // only these URL hosts ("*.example.com": subdomains)
  std::vector<std::string> media_allow_nets;  // address ranges allowed although not public
  double shutdown_grace_seconds = 10; // SIGTERM: in-flight work may finish for this long, then is cancelled
  int http_threads = 0;               // open connections served at once; 0: max(512, n_parallel + max_queue + 8)
  int max_client_connections = 64;    // open connections per client address (IPv6: per /64); 0: no cap
  double header_timeout_seconds = 10; // a request's headers, in total (not per read)
  double body_timeout_seconds = 60;   // a request's body, in total
  bool quiet = false;
  double debug_load_delay_seconds = 0;  // tests: keeps /health at 503 for this long
};

// Loads the engine with `load` in the background (GET /health answers 503 until it is
// ready), serves until SIGTERM or SIGINT, then stops accepting, lets in-flight requests
// finish for shutdown_grace_seconds, cancels the rest and returns 0. Returns 1 when the
// model cannot be loaded or the port cannot be bound.
int run_server(const ServerOptions& opt, std::function<std::unique_ptr<Engine>()> load);

}  // namespace pocket::server
