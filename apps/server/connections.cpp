// HTTP connections: per-client caps, request deadlines and the keep-alive loop (connections.h).
#include "apps/server/connections.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "chat/openai_request.h"

namespace pocket::server {

namespace {

using Clock = std::chrono::steady_clock;

// Waits that could be long are cut into slices so that a stopping server (httplib closes its
// listening socket) ends idle and slow connections at once.
constexpr int kSliceMs = 100;

std::string numeric_host(const sockaddr_storage& a, socklen_t len, int& port) {
  char host[NI_MAXHOST] = "";
  char serv[NI_MAXSERV] = "";
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof host, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return port = 0, std::string();
  port = std::atoi(serv);
  return host;
}

// One HTTP connection as httplib reads and writes it. Reads are buffered (httplib reads request
// lines a byte at a time) and end at the earlier of the per-read timeout and the request's
// deadline; once a deadline has passed the connection is finished: nothing more is read or
// written (no 400 for a request that never arrived).
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(socket_t sock, const ConnectionLimits& limits, const std::atomic<socket_t>& listener)
      : sock_(sock), limits_(limits), listener_(listener) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (getpeername(sock, reinterpret_cast<sockaddr*>(&a), &len) == 0) remote_ip_ = numeric_host(a, len, remote_port_);
    len = sizeof a;
    if (getsockname(sock, reinterpret_cast<sockaddr*>(&a), &len) == 0) local_ip_ = numeric_host(a, len, local_port_);
  }

  void set_deadline(double seconds, Dropped why) {
    deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    why_ = why;
  }
  void clear_deadline() { deadline_ = Clock::time_point::max(); }
  bool expired() const { return expired_; }
  Dropped why() const { return why_; }

  // Waits up to `seconds` (and never past the deadline) for something to read.
  bool wait_readable(double seconds) const {
    if (pos_ < len_) return true;
    return wait(POLLIN, seconds, true);
  }

  bool is_readable() const override { return wait_readable(limits_.read_seconds); }
  bool is_writable() const override { return !expired_ && wait(POLLOUT, limits_.write_seconds, false); }

  ssize_t read(char* ptr, size_t size) override {
    if (expired_) return -1;
    if (pos_ == len_) {
      if (!wait_readable(limits_.read_seconds)) return -1;
      if (size >= sizeof buf_) return recv_some(ptr, size);  // large body reads skip the buffer
      const ssize_t n = recv_some(buf_, sizeof buf_);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }
  socket_t socket() const override { return sock_; }

 private:
  ssize_t recv_some(char* ptr, size_t size) {
    ssize_t n;
    do n = ::recv(sock_, ptr, size, 0);
    while (n < 0 && errno == EINTR);
    return n;
  }

  // poll() in slices until `seconds` pass, the deadline passes (reads only) or the server stops.
  bool wait(short events, double seconds, bool reading) const {
    const Clock::time_point until =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (;;) {
      if (listener_ == INVALID_SOCKET) return false;
      const Clock::time_point now = Clock::now();
      if (reading && now >= deadline_) {
        expired_ = true;
        return false;
      }
      if (now >= until) return false;
      Clock::time_point end = reading ? std::min(until, deadline_) : until;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count() + 1;
      pollfd p{sock_, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, kSliceMs)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }

  const socket_t sock_;
  const ConnectionLimits& limits_;
  const std::atomic<socket_t>& listener_;
  std::string remote_ip_, local_ip_;
  int remote_port_ = 0, local_port_ = 0;
  Clock::time_point deadline_ = Clock::time_point::max();
  Dropped why_ = Dropped::kHeaderDeadline;
  mutable bool expired_ = false;
  char buf_[4096];
  size_t pos_ = 0, len_ = 0;
};

// A refused connection gets a short answer without reading anything from it.
void refuse_busy(socket_t sock) {
  const std::string body =
      ApiError(429, "too many open connections from this address", "rate_limit_error", "too_many_connections").body();
  const std::string msg = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                          "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)::send(sock, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

const char* dropped_label(Dropped d) {
  switch (d) {
    case Dropped::kPerClientCap: return "per_client_cap";
    case Dropped::kHeaderDeadline: return "header_deadline";
    case Dropped::kBodyDeadline: return "body_deadline";
  }
  return "other";
}

ConnectionWorkers::ConnectionWorkers(size_t max) : max_(max) {
  // A few ready from the start: a burst of clients is not paced by thread creation.
  std::lock_guard<std::mutex> lk(mu_);
  while (threads_.size() < std::min<size_t>(max_, 16)) threads_.emplace_back([this] { work(); });
}

void ConnectionWorkers::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(mu_);
  jobs_.push_back(std::move(fn));
  // Every waiting connection needs an idle worker of its own (an idle one that has not woken
  // yet is already promised to an earlier connection).
  if (jobs_.size() > idle_ && threads_.size() < max_) threads_.emplace_back([this] { work(); });
  cv_.notify_one();
}

void ConnectionWorkers::shutdown() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

void ConnectionWorkers::work() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lk, [this] { return stop_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping, nothing left
    std::function<void()> fn = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    fn();
    lk.lock();
  }
}

HttpServer::HttpServer(ConnectionLimits limits, size_t workers, std::function<void(Dropped)> on_dropped)
    : limits_(limits), on_dropped_(std::move(on_dropped)) {
  new_task_queue = [workers] { return new ConnectionWorkers(workers); };
  // httplib applies these to the sockets it configures itself; the stream below enforces them.
  set_read_timeout(static_cast<time_t>(limits.read_seconds), 0);
  set_write_timeout(static_cast<time_t>(limits.write_seconds), 0);
  set_keep_alive_timeout(static_cast<time_t>(limits.keep_alive_seconds));
  set_keep_alive_max_count(static_cast<size_t>(limits.keep_alive_requests));
}

bool HttpServer::admit(const ClientKey& k) {
  std::lock_guard<std::mutex> lk(mu_);
  int& n = open_[k];
  if (limits_.per_client > 0 && n >= limits_.per_client) {
    if (n == 0) open_.erase(k);
    return false;
  }
  ++n;
  return true;
}

void HttpServer::release(const ClientKey& k) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = open_.find(k);
  if (it != open_.end() && --it->second <= 0) open_.erase(it);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  // The client: an IPv4 address (also when it arrives IPv4-mapped on an IPv6 socket), or the /64
  // of an IPv6 address (one host is normally given a whole /64).
  ClientKey key{};
  sockaddr_storage a{};
  socklen_t alen = sizeof a;
  if (getpeername(sock, reinterpret_cast<sockaddr*>(&a), &alen) == 0) {
    if (a.ss_family == AF_INET) {
      key[10] = key[11] = 0xff;
      std::memcpy(&key[12], &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, 4);
    } else if (a.ss_family == AF_INET6) {
      const uint8_t* b = reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr.s6_addr;
      const bool mapped = std::all_of(b, b + 10, [](uint8_t x) { return x == 0; }) && b[10] == 0xff && b[11] == 0xff;
      std::memcpy(key.data(), b, mapped ? 16 : 8);
    }
  }
  bool ok = false;
  if (!admit(key)) {
    refuse_busy(sock);
    if (on_dropped_) on_dropped_(Dropped::kPerClientCap);
  } else {
    ConnectionStream strm(sock, limits_, svr_sock_);
    // The first request's headers are due from the moment the connection is accepted; later
    // ones from their first byte (keep-alive idling has its own limit).
    strm.set_deadline(limits_.header_seconds, Dropped::kHeaderDeadline);
    for (int left = limits_.keep_alive_requests; left > 0; --left) {
      if (left != limits_.keep_alive_requests) {
        strm.clear_deadline();  // idling between requests is not a request's time
        if (!strm.wait_readable(limits_.keep_alive_seconds)) break;
        strm.set_deadline(limits_.header_seconds, Dropped::kHeaderDeadline);
      }
      bool closed = false;
      ok = process_request(strm, left == 1, closed, [&](httplib::Request&) {
        strm.set_deadline(limits_.body_seconds, Dropped::kBodyDeadline);  // headers are in
      });
      if (strm.expired()) {
        if (on_dropped_) on_dropped_(strm.why());
        ok = false;
      }
      if (!ok || closed) break;
    }
    release(key);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace pocket::server
