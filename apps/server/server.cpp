// Server lifecycle: bind, load the model in the background, serve, and shut down cleanly on
// SIGTERM/SIGINT (stop accepting; in-flight requests get a grace period, then are cancelled;
// exit status 0).
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>

#include <chrono>
#include <mutex>
#include <filesystem>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>  // mallopt, malloc_trim: glibc only; elsewhere freed image memory stays in the heap
#endif

#include "apps/server/connections.h"
#include "apps/server/state.h"
#include "core/ascii.h"
#include "core/timer.h"
#include "runtime/prompt.h"

namespace pocket::server {

namespace {

void log(const ServerOptions& o, const std::string& s) {
  if (!o.quiet) std::fprintf(stderr, "pocket serve: %s\n", s.c_str());
}

// cpp-httplib 0.11 listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into the
// shared library): a burst of clients connecting at once overflows it, and the kernel then
// drops completed handshakes, which clients see as failed reads. listen() on a listening
// socket only updates its backlog, so find ours (listening, bound to `port`) and raise it.
void raise_listen_backlog(int port) {
  for (int fd = 3; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int p = -1;
    if (addr.ss_family == AF_INET) p = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) p = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (p == port) ::listen(fd, SOMAXCONN);
  }
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace

int run_server(const ServerOptions& opt, std::function<std::unique_ptr<Engine>()> load) {
  // Signals go to one waiting thread (sigwait), so they must be blocked in every thread:
  // block before any thread starts. SIGPIPE: a client that vanishes is a failed write.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Large blocks (images, tiles, embeddings) always from mmap, returned when freed: glibc's
  // default threshold grows after the first large free, and later images then stay in the heap.
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif

  auto st = std::make_unique<ServerState>();
  st->opt = opt;
  st->limits.max_tokens = opt.max_tokens;
  st->limits.default_max_tokens = std::min(opt.default_max_tokens, opt.max_tokens);
  st->limits.max_string_bytes = static_cast<size_t>(opt.max_body_bytes);
  st->media.max_bytes = static_cast<size_t>(opt.max_media_bytes);
  st->media.max_pixels = opt.max_image_pixels;
  st->pixel_budget.set_capacity(opt.max_concurrent_pixels > 0 ? opt.max_concurrent_pixels : 2 * opt.max_image_pixels);
  st->media.max_video_seconds = opt.max_video_seconds;
  st->media.max_video_frames = opt.max_video_frames;
  st->media.media_dir = opt.media_dir;
  RemoteMediaPolicy& remote = st->media.remote;
  remote.enabled = opt.allow_remote_media;
  remote.max_bytes = st->media.max_bytes;
  remote.timeout_seconds = opt.fetch_timeout_seconds;
  for (const std::string& h : opt.media_hosts) remote.hosts.push_back(ascii_lower(h));
  for (const std::string& n : opt.media_allow_nets) {
    const std::optional<Cidr> c = parse_cidr(n);
    if (!c) {
      std::fprintf(stderr, "error: --media-allow-net %s is not an address or CIDR range\n", n.c_str());
      return 1;
    }
    remote.allowed_nets.push_back(*c);
  }

  if (!opt.media_dir.empty() && !std::filesystem::is_directory(opt.media_dir)) {
    std::fprintf(stderr, "error: --media-dir %s is not a directory\n", opt.media_dir.c_str());
    return 1;
  }
  if (opt.api_key.empty() && !is_loopback_host(opt.host))
    std::fprintf(stderr, "pocket serve: warning: listening on %s without --api-key: anyone who can reach this address "
                         "can use the model\n", opt.host.c_str());

  const int threads = opt.http_threads > 0 ? opt.http_threads : std::max(512, opt.n_parallel + opt.max_queue + 8);
  ConnectionLimits limits;
  limits.per_client = opt.max_client_connections;
  limits.header_seconds = opt.header_timeout_seconds;
  limits.body_seconds = opt.body_timeout_seconds;
  ServerState* state = st.get();
  HttpServer svr(limits, static_cast<size_t>(threads), [state](Dropped why) { state->metrics.count_dropped(why); });
  svr.set_payload_max_length(static_cast<size_t>(opt.max_body_bytes));
  register_routes(svr, *st);
  int port = opt.port;
  if (port == 0) {
    port = svr.bind_to_any_port(opt.host);
  } else if (!svr.bind_to_port(opt.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::fprintf(stderr, "error: cannot listen on %s:%d\n", opt.host.c_str(), opt.port);
    return 1;
  }
  raise_listen_backlog(port);
  // Printed even with --quiet: with --port 0 it is how a caller learns the port.
  std::fprintf(stderr, "pocket serve: listening on http://%s:%d\n", opt.host.c_str(), port);

  std::atomic<bool> listening_done{false}, load_failed{false}, stop_requested{false};
  std::thread loader([&] {
    try {
      if (opt.debug_load_delay_seconds > 0)
        std::this_thread::sleep_for(std::chrono::duration<double>(opt.debug_load_delay_seconds));
      st->engine = load();
      if (!opt.mmproj_path.empty()) {
        st->vision = VisionEncoder::load(opt.mmproj_path);
        check_projector_fits(*st->engine, *st->vision);  // not healthy and then 400 on every image
        st->vision->set_cache(opt.image_cache_mb > 0
                                  ? std::make_shared<EmbeddingCache>(static_cast<uint64_t>(opt.image_cache_mb) << 20)
                                  : nullptr);
        st->vision_pool = std::make_unique<ThreadPool>(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2));
      }
      st->tool_format = ToolCallFormat::detect(st->engine->chat_template());
      st->reasoning = ReasoningFormat::detect(st->engine->chat_template(), st->engine->tokenizer());
      SchedulerOptions so;
      so.n_parallel = opt.n_parallel;
      so.n_ctx = opt.n_ctx;
      so.max_queue = opt.max_queue;
      ServerState* s = st.get();
      so.on_first_token = [s](double v) { s->metrics.observe_ttft(v); };
      so.on_token = [s](double v) { s->metrics.observe_token(v); };
      st->sched = std::make_unique<Scheduler>(*st->engine, so);
      st->ready = true;
      log(opt, fmt::format("model loaded in {:.2f} s; {} sequence(s) of {} tokens", st->engine->load_seconds(),
                           opt.n_parallel, st->sched->n_ctx()));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      load_failed = true;
      stop_requested = true;
      while (!listening_done) {
        svr.stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  });

  // The signal thread: on SIGTERM/SIGINT stop accepting, wait for in-flight work up to the
  // grace period, then cancel what is left. listen() returns once every handler is done.
  std::thread signals([&] {
    int sig = 0;
    for (;;) {
      sigwait(&sigs, &sig);
      if (sig == SIGTERM || sig == SIGINT) break;
    }
    if (listening_done) return;
    log(opt, "shutting down");
    stop_requested = true;
    st->draining = true;
    const double deadline = now_seconds() + opt.shutdown_grace_seconds;
    while (!listening_done && now_seconds() < deadline) {
      if (!st->sched || (st->sched->active() == 0 && st->sched->queued() == 0)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (st->sched) st->sched->cancel_all();
    // stop() only acts once listen() runs; repeat until it has returned.
    while (!listening_done) {
      svr.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  // Housekeeping: once image requests are over and nothing runs, the freed heap pages go back
  // to the system (decoded images, tiles and embeddings would otherwise stay resident).
  std::thread housekeeping([&] {
    while (!listening_done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (st->trim_pending && st->ready && st->sched->active() == 0 && st->sched->queued() == 0) {
        st->trim_pending = false;
        if (st->vision) st->vision->release_scratch();  // the tower's activations, kept across tiles
#ifdef __GLIBC__
        malloc_trim(0);
#endif
      }
    }
  });

  if (!stop_requested) svr.listen_after_bind();
  listening_done = true;
  housekeeping.join();
  loader.join();
  // Wake the signal thread if it is still waiting (normal end without a signal).
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  if (st->sched) st->sched->stop();
  log(opt, "stopped");
  return load_failed ? 1 : 0;
}

}  // namespace pocket::server
