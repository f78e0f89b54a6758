// Load test for `pocket serve` (loopback only): starts the server on a free 127.0.0.1 port
// (or uses --port of one already running there), runs N concurrent streaming chat clients for
// a fixed time, and reports failed requests (must be 0), time-to-first-token percentiles,
// aggregate generated tokens/s, and the server's resident memory sampled once a second
// (flat after warm-up = no growth per request).
//
//   pocket-server-load -m ../shared/models/tiny-smol-q8_0.gguf [--clients 32] [--seconds 60]
//                      [--parallel 8] [--max-tokens 64] [--threads 2]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

struct Options {
  std::string pocket = "bin/pocket";
  std::string model;
  int port = 0;
  int clients = 32;
  double seconds = 60;
  int parallel = 8;
  int max_tokens = 64;
  int threads = 2;
};

struct Stats {
  std::mutex mu;
  std::vector<double> ttft;
  long requests = 0, failed = 0, tokens = 0;
  std::string first_error;
};

// One streamed chat request; returns false on any failure.
bool one_request(httplib::Client& c, int id, Stats& st, const Options& o) {
  const json body = {{"model", "bench"},
                     {"messages", json::array({json{{"role", "user"}, {"content", "Request " + std::to_string(id) + ": tell me a story."}}})},
                     {"max_tokens", o.max_tokens},
                     {"temperature", 0.7},
                     {"seed", id},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}}};
  const auto t0 = Clock::now();
  double ttft = -1;
  std::string buf;
  long tokens = -1;
  bool done = false;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    buf.append(d, n);
    for (size_t nl; (nl = buf.find("\n\n")) != std::string::npos; buf.erase(0, nl + 2)) {
      const std::string ev = buf.substr(0, nl);
      if (ev.rfind("data: ", 0) != 0) continue;
      const std::string data = ev.substr(6);
      if (data == "[DONE]") {
        done = true;
        continue;
      }
      const json j = json::parse(data, nullptr, false);
      if (j.is_discarded()) return false;
      if (j.contains("usage") && j["usage"].is_object()) tokens = j["usage"]["completion_tokens"].get<long>();
      if (ttft < 0 && j.contains("choices") && !j["choices"].empty() && j["choices"][0]["delta"].contains("content") &&
          !j["choices"][0]["delta"]["content"].get<std::string>().empty())
        ttft = since(t0);
    }
    return true;
  };
  auto res = c.send(req);
  const bool ok = res && res->status == 200 && done && tokens >= 0;
  std::lock_guard<std::mutex> lk(st.mu);
  ++st.requests;
  if (!ok) {
    ++st.failed;
    if (st.first_error.empty())
      st.first_error = res ? "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200) : httplib::to_string(res.error());
    if (getenv("POCKET_LOAD_VERBOSE"))
      std::fprintf(stderr, "request %d failed after %.3f s: %s (done=%d tokens=%ld)\n", id, since(t0),
                   res ? std::to_string(res->status).c_str() : httplib::to_string(res.error()).c_str(), done, tokens);
    return false;
  }
  st.tokens += tokens;
  if (ttft >= 0) st.ttft.push_back(ttft);
  return true;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "-m") o.model = next();
    else if (a == "--pocket") o.pocket = next();
    else if (a == "--port") o.port = std::stoi(next());
    else if (a == "--clients") o.clients = std::clamp(std::stoi(next()), 1, 1024);
    else if (a == "--seconds") o.seconds = std::clamp(std::stod(next()), 1.0, 3600.0);
    else if (a == "--parallel") o.parallel = std::stoi(next());
    else if (a == "--max-tokens") o.max_tokens = std::stoi(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else {
      std::fprintf(stderr, "usage: %s -m MODEL [--clients N] [--seconds S] [--parallel N] [--max-tokens N] [--threads N] [--pocket BIN] [--port P]\n", argv[0]);
      return 2;
    }
  }
  if (o.model.empty() && o.port == 0) {
    std::fprintf(stderr, "-m MODEL (or --port of a running server) is required\n");
    return 2;
  }
  if (o.pocket.find('/') == std::string::npos || o.pocket == "bin/pocket") {
    // Default: the pocket binary next to this one.
    std::string self(4096, '\0');
    const ssize_t n = readlink("/proc/self/exe", self.data(), self.size());
    if (n > 0) o.pocket = self.substr(0, self.rfind('/', n)) + "/pocket";
  }
  pid_t pid = -1;
  int port = o.port;
  const std::string log = "/tmp/pocket-server-load-" + std::to_string(getpid()) + ".log";
  if (port == 0) {
    pid = fork();
    if (pid == 0) {
      FILE* f = std::fopen(log.c_str(), "w");
      if (f) dup2(fileno(f), 2);
      const std::string par = std::to_string(o.parallel), thr = std::to_string(o.threads),
                        queue = std::to_string(o.clients + 8), ctx = std::to_string(std::max(512, o.max_tokens + 128));
      execl(o.pocket.c_str(), o.pocket.c_str(), "serve", "-m", o.model.c_str(), "--host", "127.0.0.1", "--port", "0", "--parallel",
            par.c_str(), "-t", thr.c_str(), "--max-queue", queue.c_str(), "-c", ctx.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 2000 && port == 0; ++i) {
      std::ifstream f(log);
      const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      const size_t at = s.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) port = std::atoi(s.c_str() + at + 30);
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (port == 0) {
      std::fprintf(stderr, "server did not start (see %s)\n", log.c_str());
      kill(pid, SIGKILL);
      return 1;
    }
  }
  {
    httplib::Client c("127.0.0.1", port);
    for (int i = 0; i < 1000; ++i) {
      auto r = c.Get("/health");
      if (r && r->status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::printf("server on 127.0.0.1:%d; %d streaming clients for %.0f s, max_tokens %d, --parallel %d\n", port, o.clients,
              o.seconds, o.max_tokens, o.parallel);
  Stats st;
  std::atomic<bool> stop{false};
  std::vector<long> rss;  // KiB, once a second
  const auto t0 = Clock::now();
  std::vector<std::thread> clients;
  for (int k = 0; k < o.clients; ++k) {
    clients.emplace_back([&, k] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(120, 0);
      for (int n = 0; !stop; ++n) one_request(c, k * 100000 + n, st, o);
    });
  }
  while (since(t0) < o.seconds) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (pid > 0) rss.push_back(rss_kib(pid));
  }
  stop = true;
  for (auto& t : clients) t.join();
  const double elapsed = since(t0);
  std::printf("requests: %ld, failed: %ld%s%s\n", st.requests, st.failed, st.failed ? "; first error: " : "", st.first_error.c_str());
  std::printf("generated tokens: %ld in %.1f s = %.1f tokens/s aggregate\n", st.tokens, elapsed, st.tokens / elapsed);
  std::printf("time to first token: p50 %.1f ms, p99 %.1f ms (n = %zu)\n", 1e3 * percentile(st.ttft, 0.5),
              1e3 * percentile(st.ttft, 0.99), st.ttft.size());
  if (!rss.empty()) {
    // Warm-up: the first 20% of the run (scratch buffers and caches reach their size).
    const size_t w = std::max<size_t>(1, rss.size() / 5);
    const long warm = *std::max_element(rss.begin(), rss.begin() + static_cast<long>(w));
    const long peak_after = *std::max_element(rss.begin() + static_cast<long>(w - 1), rss.end());
    std::printf("server RSS: %.1f MiB after warm-up, %.1f MiB at the end, %.1f MiB peak after warm-up (growth %+.1f%%)\n",
                warm / 1024.0, rss.back() / 1024.0, peak_after / 1024.0, 100.0 * (peak_after - warm) / std::max(1L, warm));
  }
  if (pid > 0) {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    std::printf("server exit status: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    std::remove(log.c_str());
  }
  return st.failed == 0 ? 0 : 1;
}
