// Starts `pocket serve` as a child process on a free loopback port (--port 0; the port is
// read from its "listening on" line) and talks to it over raw HTTP with httplib's client.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace pocket::test {

using json = nlohmann::json;

inline std::string base64(const std::string& s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    const uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int j = 18; j >= 0; j -= 6) out += k[(v >> j) & 63];
  }
  if (i + 1 == s.size()) {
    const uint32_t v = uint8_t(s[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    const uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

inline std::string model_path(const char* name) { return shared_path(std::string("models/") + name); }

class ServerProcess {
 public:
  // `args` follow `pocket serve` (whitespace-separated, no quoting). wait_ready: until /health is 200.
  // expect_listen false: a start that fails before listening is not a test failure (the caller
  // checks terminate()'s status and the log).
  explicit ServerProcess(const std::string& args, bool wait_ready = true, bool expect_listen = true) {
    static int counter = 0;
    log_path_ = binary_path("server_log_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".txt");
    std::vector<std::string> argv_s = {binary_path("bin/pocket"), "serve", "--port", "0", "-t", "2"};
    std::istringstream ss(args);
    for (std::string a; ss >> a;) argv_s.push_back(a);
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::fopen(log_path_.c_str(), "w");
      if (f) {
        ::dup2(fileno(f), 1);
        ::dup2(fileno(f), 2);
      }
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline && alive()) {
      const std::string l = log();
      const size_t at = l.find("listening on http://");
      const size_t colon = at == std::string::npos ? at : l.find(':', at + 20);  // after the host
      const size_t eol = at == std::string::npos ? at : l.find('\n', at);
      if (colon != std::string::npos && eol != std::string::npos && colon < eol) port_ = std::atoi(l.c_str() + colon + 1);
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (port_ == 0 && expect_listen) ADD_FAILURE() << "server did not start: " << log();
    if (wait_ready && port_) {
      while (std::chrono::steady_clock::now() < deadline) {
        auto r = client().Get("/health");
        if (r && r->status == 200) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      ADD_FAILURE() << "server never became ready: " << log();
    }
  }
  ~ServerProcess() {
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::remove(log_path_.c_str());
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Client client(const std::string& key = "") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    if (!key.empty()) c.set_bearer_token_auth(key.c_str());
    return c;
  }
  std::string log() const {
    try {
      return read_text(log_path_);
    } catch (...) {
      return "";
    }
  }
  bool alive() {
    if (status_ >= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return false;
    }
    return true;
  }
  // Sends SIGTERM (unless already sent) and waits; returns the exit status (-1 on timeout).
  int terminate(double timeout_s = 20, bool send = true) {
    if (send && alive()) ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (alive() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = -1;
  std::string log_path_;
};

// POST a JSON body; returns status and parsed body (null when not JSON).
struct HttpResult {
  int status = 0;
  json body;
  std::string raw;
  httplib::Headers headers;
};

inline HttpResult post_json(httplib::Client& c, const std::string& path, const std::string& body) {
  HttpResult r;
  auto res = c.Post(path.c_str(), body, "application/json");
  if (!res) return r;
  r.status = res->status;
  r.raw = res->body;
  r.headers = res->headers;
  r.body = json::parse(res->body, nullptr, false);
  return r;
}

inline HttpResult post_json(httplib::Client& c, const std::string& path, const json& body) {
  return post_json(c, path, body.dump());
}

inline HttpResult post_json(httplib::Client& c, const std::string& path, const char* body) {
  return post_json(c, path, std::string(body));
}

// POST whose response body goes to `receiver` as it arrives; returning false hangs up.
inline void post_streaming(httplib::Client& c, const std::string& path, const std::string& body,
                           std::function<bool(const char*, size_t)> receiver) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body;
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [receiver](const char* d, size_t n, uint64_t, uint64_t) { return receiver(d, n); };
  c.send(req);
}

// Server-sent events of a streamed response: the `data:` payloads in order.
inline std::vector<std::string> sse_events(const std::string& raw) {
  std::vector<std::string> out;
  std::istringstream ss(raw);
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("data: ", 0) == 0) out.push_back(line.substr(6));
  }
  return out;
}

// Checks OpenAI's error object and returns its code.
inline std::string error_code(const HttpResult& r) {
  EXPECT_TRUE(r.body.is_object() && r.body.contains("error")) << r.raw;
  if (!r.body.is_object() || !r.body.contains("error")) return "";
  const json& e = r.body["error"];
  EXPECT_TRUE(e["message"].is_string()) << r.raw;
  EXPECT_TRUE(e["type"].is_string()) << r.raw;
  EXPECT_TRUE(e.contains("code")) << r.raw;
  return e["code"].is_string() ? e["code"].get<std::string>() : "";
}

inline json chat_body(const std::string& user, int max_tokens, bool stream = false) {
  return json{{"model", "m"},
              {"messages", json::array({json{{"role", "user"}, {"content", user}}})},
              {"max_tokens", max_tokens},
              {"temperature", 0},
              {"stream", stream}};
}

}  // namespace pocket::test
