// A loopback imitation of the Hugging Face Hub for the model store tests: the tree API
// (GET /api/models/{owner}/{name}/tree/main, LFS entries with sha256 and size, optional Link
// pagination) and the file endpoint (GET /{owner}/{name}/resolve/main/{path}, with Range).
// Knobs imitate the failures a real download meets: a gated repository that wants a token, a
// connection dropped mid-body, a file whose published sha256 is wrong. Every request is logged.
#pragma once

#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/sha256.h"

namespace pocket::test {

class FakeHub {
 public:
  struct Request {
    std::string path, range, auth;
  };
  struct Repo {
    std::map<std::string, std::string> files;  // path -> content
    bool gated = false;                        // 401 unless "Authorization: Bearer <token>"
  };

  FakeHub() {
    svr_.Get(R"(/api/models/([^/]+)/([^/]+)/tree/main)", [this](const httplib::Request& req, httplib::Response& res) {
      on_tree(req, res);
    });
    svr_.Get(R"(/([^/]+)/([^/]+)/resolve/main/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      on_file(req, res);
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() { stop(); }
  void stop() {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void add_file(const std::string& repo, const std::string& path, std::string content) {
    std::lock_guard<std::mutex> lock(mu_);
    repos_[repo].files[path] = std::move(content);
  }
  void set_gated(const std::string& repo, const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    repos_[repo].gated = true;
    token_ = token;
  }
  // The next GET of this file sends `bytes` of the body, then drops the connection.
  void cut_next(const std::string& path, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    cut_[path] = bytes;
  }
  // The listing publishes a wrong sha256 for this file.
  void corrupt_sha(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    bad_sha_.insert(path);
  }
  void set_page_size(size_t n) { page_size_ = n; }

  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  void clear_log() {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
  }

 private:
  static bool lfs_file(const std::string& path) {
    return path.ends_with(".gguf") || path.ends_with(".safetensors");
  }

  // Returns the repo or answers 401/404 itself.
  const Repo* lookup(const httplib::Request& req, httplib::Response& res) {
    log_.push_back({req.path, req.get_header_value("Range"), req.get_header_value("Authorization")});
    const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
    auto it = repos_.find(repo);
    if (it == repos_.end()) {
      res.status = 404;
      res.set_content(R"({"error":"Repository not found"})", "application/json");
      return nullptr;
    }
    if (it->second.gated && req.get_header_value("Authorization") != "Bearer " + token_) {
      res.status = 401;
      res.set_content(R"({"error":"Access to this repository is restricted"})", "application/json");
      return nullptr;
    }
    return &it->second;
  }

  void on_tree(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    const Repo* r = lookup(req, res);
    if (!r) return;
    nlohmann::json all = nlohmann::json::array();
    for (const auto& [path, content] : r->files) {
      nlohmann::json e = {{"type", "file"}, {"oid", std::string(40, '0')}, {"path", path}};
      if (lfs_file(path)) {
        std::string sha = sha256_hex(content);
        if (bad_sha_.count(path)) sha[0] = sha[0] == '0' ? '1' : '0';
        e["size"] = 134;  // the pointer file's size, as the Hub reports it
        e["lfs"] = {{"oid", sha}, {"size", content.size()}, {"pointerSize", 134}};
      } else {
        e["size"] = content.size();
      }
      all.push_back(e);
    }
    // Pagination by an opaque cursor, as the Hub's Link: <...&cursor=...>; rel="next".
    size_t start = req.has_param("cursor") ? std::stoul(req.get_param_value("cursor")) : 0;
    nlohmann::json page = nlohmann::json::array();
    const size_t end = page_size_ ? std::min(all.size(), start + page_size_) : all.size();
    for (size_t i = start; i < end; ++i) page.push_back(all[i]);
    if (end < all.size())
      res.set_header("Link", "<" + endpoint() + req.path + "?recursive=true&cursor=" + std::to_string(end) +
                                 ">; rel=\"next\"");
    res.set_content(page.dump(), "application/json");
  }

  void on_file(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    const Repo* r = lookup(req, res);
    if (!r) return;
    auto f = r->files.find(req.matches[3].str());
    if (f == r->files.end()) {
      res.status = 404;
      res.set_content("Entry not found", "text/plain");
      return;
    }
    const std::string content = f->second;
    if (auto c = cut_.find(f->first); c != cut_.end()) {
      const size_t cut = c->second;
      cut_.erase(c);
      res.set_content_provider(content.size(), "application/octet-stream",
                               [content, cut](size_t offset, size_t, httplib::DataSink& sink) {
                                 if (offset < cut) sink.write(content.data() + offset, cut - offset);
                                 return false;  // drop the connection mid-body
                               });
      return;
    }
    res.set_header("Accept-Ranges", "bytes");
    res.set_content(content, "application/octet-stream");  // cpp-httplib answers Range requests itself (206)
  }

  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, Repo> repos_;
  std::string token_;
  std::map<std::string, size_t> cut_;
  std::set<std::string> bad_sha_;
  size_t page_size_ = 0;
  std::vector<Request> log_;
};

}  // namespace pocket::test
