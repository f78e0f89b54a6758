// HTTP connections of `pocket serve`: who may hold one and for how long. cpp-httplib parses
// requests and routes them; this layer owns each accepted socket around that: a cap on the
// connections one client address holds at once, a deadline for a request's headers and one for
// its body (total time, not per read: a client trickling a byte a second is dropped all the
// same), and the keep-alive loop. Workers are started as connections need them.
#pragma once

#include <httplib.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace pocket::server {

struct ConnectionLimits {
  int per_client = 64;          // open connections one address (an IPv6 /64) may hold; 0: no cap
  double header_seconds = 10;   // from a request's first awaited byte to the end of its headers
  double body_seconds = 60;     // from the end of the headers to the end of the body
  double read_seconds = 10;     // one read: a client that stops sending
  double write_seconds = 30;    // one write: a client that stops reading
  double keep_alive_seconds = 5;
  int keep_alive_requests = 1000;
};

// Why a connection was dropped before its request was answered (a bounded metric label).
enum class Dropped { kPerClientCap, kHeaderDeadline, kBodyDeadline };
const char* dropped_label(Dropped d);

// HTTP connection workers. httplib gives each open connection a worker for as long as it
// lasts, so a fixed pool sized for the model's parallelism is exhausted by a few dozen clients
// that send their headers slowly, and then /health stops answering. Workers are started as
// connections need them, up to `max`; beyond that connections wait in order.
class ConnectionWorkers final : public httplib::TaskQueue {
 public:
  explicit ConnectionWorkers(size_t max);
  ~ConnectionWorkers() override { shutdown(); }
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void work();

  const size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stop_ = false;
};

// httplib's Server with Pocket's connection handling. httplib calls process_and_close_socket
// for every accepted socket (a virtual hook); routing and request parsing stay httplib's
// (process_request, which it offers to subclasses).
class HttpServer final : public httplib::Server {
 public:
  HttpServer(ConnectionLimits limits, size_t workers, std::function<void(Dropped)> on_dropped);

 private:
  bool process_and_close_socket(socket_t sock) override;

  // The key one client's connections are counted under (16 bytes; IPv4 as IPv4-mapped).
  using ClientKey = std::array<uint8_t, 16>;
  bool admit(const ClientKey& k);
  void release(const ClientKey& k);

  const ConnectionLimits limits_;
  const std::function<void(Dropped)> on_dropped_;
  std::mutex mu_;
  std::map<ClientKey, int> open_;  // connections held per client; erased at zero
};

}  // namespace pocket::server
