// `pocket serve`: the OpenAI-compatible HTTP server (apps/server) on one model.
#include <filesystem>

#include "apps/cli/common.h"
#include "apps/cli/commands.h"
#include "apps/server/server.h"
#include "core/error.h"
#include "runtime/model_ref.h"

namespace pocket::cli {

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve the model over an OpenAI-compatible HTTP API");
  struct Args {
    ModelArgs m;
    server::ServerOptions o;
  };
  auto a = std::make_shared<Args>();
  a->m.add(cmd);
  server::ServerOptions& o = a->o;
  cmd->add_option("--mmproj", o.mmproj_path, "Vision projector (mmproj GGUF): image_url and video_url parts");
  cmd->add_option("--image-cache-mb", o.image_cache_mb,
                  "MiB of image embeddings kept so that an image sent again (each chat turn re-sends earlier images) "
                  "is not encoded again; 0 turns the cache off")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("--host", o.host, "Address to listen on (default 127.0.0.1; 0.0.0.0 exposes the server)");
  cmd->add_option("--port", o.port, "Port (default 8080; 0 picks a free one)")->check(CLI::Range(0, 65535));
  cmd->add_option("--parallel", o.n_parallel, "Sequences generated together (continuous batching)")->check(CLI::Range(1, 256));
  cmd->add_option("-c,--ctx", o.n_ctx, "Context size of each sequence")->check(CLI::Range(16, 1 << 20));
  cmd->add_option("--api-key", o.api_key, "Require Authorization: Bearer KEY (all but /health)");
  cmd->add_option("--media-dir", o.media_dir, "Directory whose files requests may name as images/videos");
  cmd->add_option("--max-queue", o.max_queue, "Requests that may wait beyond --parallel before 429")->check(CLI::Range(0, 100000));
  cmd->add_option("--max-tokens", o.max_tokens, "Largest max_tokens a request may ask for")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--default-max-tokens", o.default_max_tokens, "max_tokens when a request gives none")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-body", o.max_body_bytes, "Largest request body in bytes")->check(CLI::Range(int64_t{1024}, int64_t{1} << 32));
  cmd->add_option("--max-media-bytes", o.max_media_bytes, "Largest image or video in bytes");
  cmd->add_option("--max-image-pixels", o.max_image_pixels, "Largest image in pixels (width x height)");
  cmd->add_option("--max-concurrent-pixels", o.max_concurrent_pixels,
                  "Decoded image pixels held by all requests at once; others wait (default: 2 x --max-image-pixels)");
  cmd->add_option("--max-video-seconds", o.max_video_seconds, "Longest video accepted");
  cmd->add_option("--max-video-frames", o.max_video_frames, "Most frames sampled from a video")->check(CLI::Range(1, 1024));
  cmd->add_option("--fetch-timeout", o.fetch_timeout_seconds, "Seconds allowed to download an http(s) media URL");
  cmd->add_flag("--allow-remote-media", o.allow_remote_media,
                "Fetch http(s) image/video URLs (off by default; internal addresses stay refused)");
  cmd->add_option("--media-hosts", o.media_hosts, "With --allow-remote-media: only these URL hosts (*.example.com for subdomains)")
      ->delimiter(',');
  cmd->add_option("--media-allow-net", o.media_allow_nets,
                  "With --allow-remote-media: also allow this address range (CIDR), e.g. an internal image store")
      ->delimiter(',');
  cmd->add_option("--shutdown-grace", o.shutdown_grace_seconds, "Seconds in-flight requests may finish after SIGTERM");
  cmd->add_option("--max-client-connections", o.max_client_connections,
                  "Open connections one client address may hold (IPv6: one /64); 0: no cap. Behind a reverse proxy "
                  "every client shares the proxy's address")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--header-timeout", o.header_timeout_seconds, "Seconds a request's headers may take in total")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--body-timeout", o.body_timeout_seconds, "Seconds a request's body may take in total")
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--http-threads", o.http_threads, "Connections served at once, one worker each (default: 512, or parallel + max-queue + 8 if larger)");
  cmd->add_option("--debug-load-delay", o.debug_load_delay_seconds, "Testing: wait this long before loading")
      ->group("");
  cmd->add_flag("-q,--quiet", o.quiet, "No log lines on stderr");
  cmd->callback([a] {
    const ResolvedModel rm = resolve_model(a->m.model);
    server::ServerOptions o = a->o;
    if (o.mmproj_path.empty()) o.mmproj_path = rm.mmproj_path;
    if (o.model_id.empty()) o.model_id = std::filesystem::path(rm.model_path).filename().string();
    ModelArgs m = a->m;
    m.model = rm.model_path;
    const int rc = server::run_server(o, [m] { return m.load(); });
    if (rc != 0) throw Error("the server stopped with an error");
  });
}

}  // namespace pocket::cli
