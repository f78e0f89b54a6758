// `pocket serve` probed as an attacker would (issue "A server you can expose"), over real HTTP
// on loopback: remote media off by default and internal addresses refused in every spelling,
// through a redirect and through a name; non-JSON bodies 415; a declared or chunked body over
// --max-body refused without reading it whole; /metrics labels bounded; misconfiguration
// refused at start; connections capped per client address and requests given total deadlines;
// concurrent images held to the pixel budget.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "server_process.h"

namespace pocket::test {
namespace {

namespace fs = std::filesystem;

json image_body(const std::string& url) {
  return json{{"messages", json::array({json{{"role", "user"},
                                             {"content", json::array({json{{"type", "image_url"}, {"image_url", json{{"url", url}}}},
                                                                      json{{"type", "text"}, {"text", "Describe it."}}})}}})},
              {"max_tokens", 2},
              {"temperature", 0}};
}

std::string vision_args() {
  return "-m " + model_path("tiny-smol-q8_0.gguf") + " --mmproj " + model_path("smolvlm2-small-tiny-mmproj.gguf") + " -c 4096";
}

// A field of /proc/PID/status in MiB: VmRSS (resident now) or VmHWM (peak resident).
double status_mib(pid_t pid, const std::string& field = "VmRSS") {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(field + ":", 0) == 0) return std::atof(line.c_str() + field.size() + 1) / 1024.0;
  return -1;
}

// A connection to the server from `from` (a loopback address) that has sent `data`.
int open_connection(int port, const char* from, const std::string& data) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, from, &src.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  if (!data.empty()) ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  return fd;
}

// A loopback HTTP server that counts every request it gets: the place that must not be reached.
struct Target {
  httplib::Server svr;
  std::atomic<int> hits{0};
  int port = 0;
  std::thread th;
  explicit Target(const std::string& addr, std::function<void(httplib::Server&)> routes = {}) {
    svr.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
      ++hits;
      return httplib::Server::HandlerResponse::Unhandled;
    });
    if (routes) routes(svr);
    svr.Get(".*", [](const httplib::Request&, httplib::Response& res) { res.set_content("secret", "text/plain"); });
    port = svr.bind_to_any_port(addr);
    th = std::thread([this] { svr.listen_after_bind(); });
  }
  ~Target() {
    svr.stop();
    th.join();
  }
};

// Writes `raw` on a new connection (from `from`, when given) and returns what comes back
// within `timeout_s`: until one whole response has arrived or the server closes.
std::string raw_exchange(int port, const std::string& raw, double timeout_s = 5, const char* from = nullptr) {
  const int fd = open_connection(port, from ? from : "127.0.0.1", raw);
  std::string out;
  if (fd >= 0) {
    timeval tv{static_cast<time_t>(timeout_s), static_cast<suseconds_t>((timeout_s - static_cast<int>(timeout_s)) * 1e6)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
      out.append(buf, static_cast<size_t>(n));
      // One whole response (headers and Content-Length bytes) is enough.
      const size_t end = out.find("\r\n\r\n");
      const size_t cl = out.find("Content-Length: ");
      if (end != std::string::npos && cl != std::string::npos && cl < end &&
          out.size() >= end + 4 + std::strtoull(out.c_str() + cl + 16, nullptr, 10))
        break;
    }
    ::close(fd);
  }
  return out;
}

int status_of(const std::string& response) {
  return response.size() > 12 && response.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(response.c_str() + 9) : 0;
}

TEST(ServerSecurity, RemoteMediaOffByDefault) {
  Target target("127.0.0.1");
  ServerProcess srv(vision_args());
  auto c = srv.client();
  const HttpResult r = post_json(c, "/v1/chat/completions", image_body("http://127.0.0.1:" + std::to_string(target.port) + "/a.png"));
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(error_code(r), "media_url_forbidden");
  EXPECT_EQ(target.hits, 0);
}

TEST(ServerSecurity, InternalAddressesRefusedInEverySpelling) {
  Target target("127.0.0.1");
  ServerProcess srv(vision_args() + " --allow-remote-media");
  auto c = srv.client();
  const std::string p = ":" + std::to_string(target.port);
  const std::vector<std::string> urls = {
      "http://127.0.0.1" + p + "/a.png",      "http://localhost" + p + "/a.png",  // a name resolving to it
      "http://2130706433" + p + "/a.png",     "http://0x7f.0.0.1" + p + "/a.png",
      "http://0177.0.0.1" + p + "/a.png",     "http://127.1" + p + "/a.png",
      "http://[::ffff:127.0.0.1]" + p + "/a", "http://[::ffff:7f00:1]" + p + "/a",
      "http://[::1]" + p + "/a.png",          "http://0.0.0.0" + p + "/a.png",
      "https://127.0.0.1" + p + "/a.png",     "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/a.png",                "http://100.64.0.1/a.png",
      "http://[fe80::1]/a.png",               "http://[fd00::1]/a.png",
      "http://224.0.0.1/a.png",               "http://127.0.0.1:" + std::to_string(srv.port()) + "/metrics",
  };
  std::string first_message;
  for (const std::string& url : urls) {
    SCOPED_TRACE(url);
    const auto t0 = std::chrono::steady_clock::now();
    const HttpResult r = post_json(c, "/v1/chat/completions", image_body(url));
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_EQ(error_code(r), "media_fetch_failed");
    // One text for every refusal: the answer does not tell a closed port from a refused address.
    const std::string msg = r.body.is_object() ? r.body["error"]["message"].get<std::string>() : "";
    if (first_message.empty()) first_message = msg;
    EXPECT_EQ(msg, first_message);
    // Refused before connecting: no connect timeout to an unroutable address.
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 3.0);
  }
  EXPECT_EQ(target.hits, 0);
}

TEST(ServerSecurity, RedirectToAnInternalAddressIsRefused) {
  // The operator allows one internal host (127.0.0.1); it redirects to another (127.0.0.2).
  Target hidden("127.0.0.2");
  const std::string png = read_text(shared_path("images/tiny_32x24.png"));
  const std::string secret = "http://127.0.0.2:" + std::to_string(hidden.port) + "/secret";
  Target allowed("127.0.0.1", [&](httplib::Server& s) {
    s.Get("/tiny.png", [&](const httplib::Request&, httplib::Response& res) { res.set_content(png, "image/png"); });
    s.Get("/to-secret", [&](const httplib::Request&, httplib::Response& res) { res.set_redirect(secret, 302); });
    s.Get("/to-tiny", [&](const httplib::Request&, httplib::Response& res) { res.set_redirect("/tiny.png", 302); });
  });
  ServerProcess srv(vision_args() + " --allow-remote-media --media-allow-net 127.0.0.1/32");
  auto c = srv.client();
  const std::string base = "http://127.0.0.1:" + std::to_string(allowed.port);
  EXPECT_EQ(post_json(c, "/v1/chat/completions", image_body(base + "/tiny.png")).status, 200);
  EXPECT_EQ(post_json(c, "/v1/chat/completions", image_body(base + "/to-tiny")).status, 200);
  const HttpResult r = post_json(c, "/v1/chat/completions", image_body(base + "/to-secret"));
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(error_code(r), "media_fetch_failed");
  EXPECT_EQ(r.raw.find("secret"), std::string::npos);  // nothing of the remote answer is echoed
  EXPECT_EQ(hidden.hits, 0);
  // A host list refuses other names even when their address is allowed.
  ServerProcess listed(vision_args() + " --allow-remote-media --media-allow-net 127.0.0.1 --media-hosts images.example.com");
  auto lc = listed.client();
  EXPECT_EQ(post_json(lc, "/v1/chat/completions", image_body(base + "/tiny.png")).status, 400);
}

TEST(ServerSecurity, BodiesAreJsonAndBounded) {
  Target target("127.0.0.1");
  ServerProcess srv(vision_args() + " --allow-remote-media --media-allow-net 127.0.0.1/32 --max-body 65536");
  auto c = srv.client();
  // A page's form or text/plain post (no CORS preflight) is refused before anything is fetched,
  // small or large (not a misleading 413).
  const std::string body = image_body("http://127.0.0.1:" + std::to_string(target.port) + "/a.png").dump();
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
    for (size_t pad : {size_t{0}, size_t{20000}}) {
      auto r = c.Post("/v1/chat/completions", body + std::string(pad, ' '), type);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 415) << type << " " << r->body;
    }
  }
  EXPECT_EQ(target.hits, 0);
  EXPECT_EQ(post_json(c, "/v1/chat/completions", chat_body("hi", 2)).status, 200);

  // A declared length over the limit: 413 at once, before any byte of the body.
  const auto t0 = std::chrono::steady_clock::now();
  const std::string declared = raw_exchange(srv.port(),
                                            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                            "Content-Length: 4000000000\r\n\r\n",
                                            5);
  EXPECT_EQ(status_of(declared), 413) << declared;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);

  // A chunked body: counted as it arrives, 413 at the limit; the server's memory stays small.
  std::string chunked = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
  const std::string piece(8192, 'a');
  char head[16];
  std::snprintf(head, sizeof head, "%zx\r\n", piece.size());
  for (int i = 0; i < 64; ++i) chunked += head + piece + "\r\n";  // 512 KiB, 8x the limit
  chunked += "0\r\n\r\n";
  const std::string over = raw_exchange(srv.port(), chunked, 5);
  EXPECT_EQ(status_of(over), 413) << over.substr(0, 200);
  EXPECT_NE(over.find("body_too_large"), std::string::npos);
  // A chunked flood: the client would send 1 GiB; the server stops reading at the limit and
  // closes, and its own peak memory shows it never held the body.
  const double idle_hwm = status_mib(srv.pid(), "VmHWM");
  const int flood = open_connection(srv.port(), "127.0.0.1",
                                    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n");
  timeval send_tv{5, 0};
  ::setsockopt(flood, SOL_SOCKET, SO_SNDTIMEO, &send_tv, sizeof send_tv);
  std::string block;
  for (int i = 0; i < 8; ++i) block += head + piece + "\r\n";  // 64 KiB of chunks
  size_t sent = 0;
  while (sent < (size_t{1} << 30)) {
    const ssize_t n = ::send(flood, block.data(), block.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  ::close(flood);
  std::printf("chunked flood: the server closed after %.1f MiB were sent; its peak RSS %.1f -> %.1f MiB\n",
              sent / 1048576.0, idle_hwm, status_mib(srv.pid(), "VmHWM"));
  EXPECT_LT(sent, size_t{64} << 20) << "the server kept reading past --max-body";
  EXPECT_LT(status_mib(srv.pid(), "VmHWM"), idle_hwm + 16);
  // A chunked body within the limit still works.
  const std::string ok_body = chat_body("hi", 2).dump();
  char ok_head[16];
  std::snprintf(ok_head, sizeof ok_head, "%zx\r\n", ok_body.size());
  const std::string ok = raw_exchange(srv.port(),
                                      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                      "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                          std::string(ok_head) + ok_body + "\r\n0\r\n\r\n",
                                      20);
  EXPECT_EQ(status_of(ok), 200) << ok.substr(0, 300);
}

TEST(ServerSecurity, MetricsLabelsAreBounded) {
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 512");
  auto c = srv.client();
  for (int i = 0; i < 300; ++i) c.Get(("/random/" + std::to_string(i)).c_str());
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  std::istringstream ss(m->body);
  int series = 0;
  for (std::string line; std::getline(ss, line);)
    if (line.rfind("pocket_requests_total{", 0) == 0) {
      ++series;
      EXPECT_EQ(line.find("/random"), std::string::npos) << line;
    }
  EXPECT_EQ(series, 1);  // other, 404
  EXPECT_NE(m->body.find("pocket_requests_total{endpoint=\"other\",status=\"404\"} 300"), std::string::npos) << m->body;
}

TEST(ServerSecurity, MisconfigurationIsRefusedAtStart) {
  // A projector of another model: refused at start, as `pocket run` refuses it.
  ServerProcess wrong("-m " + model_path("tiny-smol-q8_0.gguf") + " --mmproj " + model_path("tiny-pixtral-mmproj.gguf"), false);
  EXPECT_EQ(wrong.terminate(30, false), 1) << wrong.log();
  EXPECT_NE(wrong.log().find("projector"), std::string::npos) << wrong.log();
  // A --media-dir that does not exist.
  ServerProcess no_dir("-m " + model_path("tiny-smol-q8_0.gguf") + " --media-dir /nonexistent/pocket-media", false, false);
  EXPECT_EQ(no_dir.terminate(30, false), 1) << no_dir.log();
  EXPECT_NE(no_dir.log().find("--media-dir"), std::string::npos) << no_dir.log();
  // Listening beyond loopback without a key: a warning.
  ServerProcess open_srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 512 --host 0.0.0.0");
  EXPECT_NE(open_srv.log().find("without --api-key"), std::string::npos) << open_srv.log();
  ServerProcess local("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 512");
  EXPECT_EQ(local.log().find("warning"), std::string::npos) << local.log();
}

// Seconds until the server closes `fd` while `trickle` is sent on it one byte every 200 ms
// (at most `limit` seconds).
double seconds_until_closed(int fd, const std::string& trickle, double limit) {
  const auto t0 = std::chrono::steady_clock::now();
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (size_t i = 0;; ++i) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (t > limit) return t;
    char c;
    const ssize_t n = ::recv(fd, &c, 1, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return t;
    if (n > 0) continue;  // an answer (none is expected): read on until the close
    const char b = trickle[i % trickle.size()];
    if (::send(fd, &b, 1, MSG_NOSIGNAL) < 0) return t;
  }
}

TEST(ServerSecurity, HealthAnswersUnderASlowHeaderFlood) {
  // 600 connections from one address that send half a request line and then nothing: more
  // than the server's 512 connection workers. The address may hold 64 (--max-client-connections);
  // the rest are answered 429 at once, and other clients are served as usual.
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 512");
  std::vector<int> fds;
  for (int i = 0; i < 600; ++i) {
    const int fd = open_connection(srv.port(), "127.0.0.2", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: appl");
    if (fd >= 0) fds.push_back(fd);
  }
  EXPECT_EQ(fds.size(), 600u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto c = srv.client();
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto h = c.Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  }
  EXPECT_EQ(post_json(c, "/v1/chat/completions", chat_body("hi", 2)).status, 200);
  for (int fd : fds) ::close(fd);
}

TEST(ServerSecurity, ConnectionsPerClientAreCapped) {
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 512 --max-client-connections 8");
  std::vector<int> held;
  for (int i = 0; i < 8; ++i) held.push_back(open_connection(srv.port(), "127.0.0.2", "GET /health HTTP/1.1\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The ninth from that address is refused at once, without reading from it.
  const auto t0 = std::chrono::steady_clock::now();
  const std::string refused = raw_exchange(srv.port(), "", 5, "127.0.0.2");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  EXPECT_EQ(status_of(refused), 429) << refused;
  EXPECT_NE(refused.find("too_many_connections"), std::string::npos) << refused;
  // Another address is served.
  const std::string health = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(status_of(raw_exchange(srv.port(), health, 5, "127.0.0.3")), 200);
  // Closed connections are given back: the address is served again.
  for (int fd : held) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(status_of(raw_exchange(srv.port(), health, 5, "127.0.0.2")), 200);
  auto c = srv.client();
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("pocket_connections_dropped_total{reason=\"per_client_cap\"} 1"), std::string::npos) << m->body;
}

TEST(ServerSecurity, HeadersAndBodiesHaveDeadlines) {
  // A byte every 200 ms never trips the 10 s per-read timeout; the total deadlines end it.
  ServerProcess srv("-m " + model_path("tiny-smol-q8_0.gguf") + " -c 512 --header-timeout 1 --body-timeout 2");
  const int slow_headers = open_connection(srv.port(), "127.0.0.1", "POST /v1/chat/completions HTTP/1.1\r\n");
  const double header_s = seconds_until_closed(slow_headers, "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 8);
  ::close(slow_headers);
  EXPECT_GT(header_s, 0.8);
  EXPECT_LT(header_s, 2.5);
  const int slow_body = open_connection(srv.port(), "127.0.0.1",
                                        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                        "Content-Length: 100000\r\n\r\n{\"messages\": ");
  const double body_s = seconds_until_closed(slow_body, " ", 8);
  ::close(slow_body);
  EXPECT_GT(body_s, 1.8);
  EXPECT_LT(body_s, 3.5);
  // Keep-alive idling between requests is not a request's time: a client that sends its next
  // request after the header deadline has passed (but within the keep-alive time) is served.
  auto c = srv.client();
  c.set_keep_alive(true);
  ASSERT_EQ(post_json(c, "/v1/chat/completions", chat_body("hi", 2)).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(post_json(c, "/v1/chat/completions", chat_body("hi", 2)).status, 200);
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("pocket_connections_dropped_total{reason=\"header_deadline\"} 1"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("pocket_connections_dropped_total{reason=\"body_deadline\"} 1"), std::string::npos) << m->body;
}

std::string png_data_uri(const std::string& bytes) { return "data:image/png;base64," + base64(bytes); }

// A PNG made by ffmpeg from a lavfi source ("testsrc=size=WxH", "color=c=gray:s=WxH").
std::string make_png(const std::string& source, const std::string& name) {
  const std::string png = binary_path(name + "_" + std::to_string(::getpid()) + ".png");
  const std::string cmd = "ffmpeg -v error -y -f lavfi -i " + source + " -frames:v 1 " + png;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "ffmpeg is needed to make the test image";
  std::string bytes = read_text(png);
  std::remove(png.c_str());
  return bytes;
}

TEST(ServerSecurity, ContextCheckedBeforeAnyPixelIsDecoded) {
  // 16 copies of a 6300 x 6300 PNG (39.7 M pixels each, under the default pixel limit): far over
  // the context from their headers alone, refused without decoding 635 M pixels.
  const std::string uri = png_data_uri(make_png("color=c=gray:s=6300x6300", "server_6300"));
  json body = image_body(uri);
  json& content = body["messages"][0]["content"];
  for (int i = 1; i < 16; ++i) content.insert(content.begin(), content[0]);
  ServerProcess srv(vision_args());
  auto c = srv.client();
  const auto t0 = std::chrono::steady_clock::now();
  const HttpResult r = post_json(c, "/v1/chat/completions", body);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 400) << r.raw.substr(0, 300);
  EXPECT_EQ(error_code(r), "context_length_exceeded");
  EXPECT_LT(seconds, 1.0);
  // A long text with one small image: refused from the text's tokens, before decoding.
  json text_body = image_body(png_data_uri(read_text(shared_path("images/tiny_32x24.png"))));
  std::string long_text;
  for (int i = 0; i < 6000; ++i) long_text += "word ";
  text_body["messages"][0]["content"][1]["text"] = long_text;
  const HttpResult t = post_json(c, "/v1/chat/completions", text_body);
  EXPECT_EQ(t.status, 400) << t.raw.substr(0, 300);
  EXPECT_EQ(error_code(t), "context_length_exceeded");
  EXPECT_EQ(post_json(c, "/v1/chat/completions", image_body(uri)).status, 200);  // one fits
}

TEST(ServerSecurity, ImagesShareThePixelBudgetAndMemoryReturns) {
  // A pixel budget of one 1920x1080 image: six concurrent image requests decode and encode one
  // at a time, so the server's peak is about one request's, not six; once they are over the
  // memory goes back.
  const std::string bytes = make_png("testsrc=size=1920x1080", "server_1080p");
  ServerProcess srv(vision_args() + " --parallel 2 --max-concurrent-pixels 2073600");
  auto c = srv.client();
  ASSERT_EQ(post_json(c, "/v1/chat/completions", chat_body("hi", 2)).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double idle = status_mib(srv.pid());
  const std::string body = image_body(png_data_uri(bytes)).dump();
  // Requests wait silently for the pixel budget; with the scalar kernels (build-ref) under a
  // parallel test run that can pass the default 30 s. This test is about memory, not latency.
  c.set_read_timeout(180, 0);
  ASSERT_EQ(post_json(c, "/v1/chat/completions", body).status, 200);
  const double one_peak = status_mib(srv.pid(), "VmHWM") - idle;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i)
    clients.emplace_back([&] {
      auto cc = srv.client();
      cc.set_read_timeout(180, 0);
      if (post_json(cc, "/v1/chat/completions", body).status == 200) ++ok;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 6);
  const double six_peak = status_mib(srv.pid(), "VmHWM") - idle;
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // the server trims when idle
  const double after = status_mib(srv.pid());
  std::printf("server RSS: idle %.1f MiB; peak above idle: one 1920x1080 request %.1f MiB, six at once %.1f MiB; "
              "after %.1f MiB\n", idle, one_peak, six_peak, after);
  EXPECT_LT(six_peak, 1.3 * one_peak + 8) << "one request " << one_peak << " MiB, six " << six_peak << " MiB";
  EXPECT_LT(after, idle + 12) << "idle " << idle << " MiB, after image traffic " << after << " MiB";
}

}  // namespace
}  // namespace pocket::test
