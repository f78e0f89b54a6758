// libcurl side of the model store: Hub API listing and resumable, verified file downloads.
#include "runtime/hub_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "core/ascii.h"
#include "core/error.h"
#include "core/sha256.h"

namespace pocket {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Configuration and formatting

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return false;
  const std::string s = ascii_lower(v);
  return s == "1" || s == "true" || s == "yes" || s == "on";
}

HubConfig HubConfig::from_env() {
  HubConfig c;
  if (const char* e = std::getenv("HF_ENDPOINT"); e && *e) c.endpoint = e;
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (const char* t = std::getenv("HF_TOKEN"); t && *t) {
    c.token = t;
  } else if (const char* t2 = std::getenv("HUGGING_FACE_HUB_TOKEN"); t2 && *t2) {
    c.token = t2;
  }
  c.offline = env_flag("POCKET_OFFLINE") || env_flag("HF_HUB_OFFLINE");
  return c;
}

std::string format_byte_size(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n) / 1024.0;
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  // Two decimals for GiB and up: model sizes differ in the second digit (4.67 GiB vs 4.7).
  return u >= 2 ? fmt::format("{:.2f} {}", v, kUnits[u]) : fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string format_eta(double seconds) {
  if (!(seconds >= 0) || seconds > 99 * 3600.0) return "--:--";
  const long s = std::lround(seconds);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string format_progress(std::string_view label, uint64_t done, uint64_t total, double bytes_per_s, int width) {
  const std::string rate = bytes_per_s > 0 ? format_byte_size(static_cast<uint64_t>(bytes_per_s)) + "/s" : "--/s";
  std::string rest;
  if (total > 0) {
    const uint64_t d = std::min(done, total);
    constexpr int kBar = 20;
    const int pct = static_cast<int>(100.0 * static_cast<double>(d) / static_cast<double>(total));
    const int fill = static_cast<int>(kBar * static_cast<double>(d) / static_cast<double>(total));
    const double eta = bytes_per_s > 0 ? static_cast<double>(total - d) / bytes_per_s : -1.0;
    rest = fmt::format("{:>3}% [{}{}] {} / {}  {}  ETA {}", pct, std::string(fill, '#'), std::string(kBar - fill, ' '),
                       format_byte_size(d), format_byte_size(total), rate, format_eta(eta));
  } else {
    rest = fmt::format("{}  {}", format_byte_size(done), rate);
  }
  std::string name(label);
  const int room = width - static_cast<int>(rest.size()) - 2;
  if (room >= 8 && static_cast<int>(name.size()) > room) name = name.substr(0, room - 3) + "...";
  return name + "  " + rest;
}

// ---------------------------------------------------------------------------------------------
// libcurl plumbing

namespace {

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::string url_escape_path(std::string_view path) {
  std::string out;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

// Headers of the last response (redirects reset them), lower-cased names.
struct ResponseHeaders {
  std::vector<std::pair<std::string, std::string>> items;
  std::string get(std::string_view name) const {
    for (const auto& [k, v] : items)
      if (k == name) return v;
    return "";
  }
};

size_t on_header(char* p, size_t sz, size_t n, void* ud) {
  auto* h = static_cast<ResponseHeaders*>(ud);
  const size_t len = sz * n;
  std::string line(p, len);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    h->items.clear();
  } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
    const std::string k = ascii_lower(std::string_view(line).substr(0, colon));
    size_t v = colon + 1;
    while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
    h->items.emplace_back(std::move(k), line.substr(v));
  }
  return len;
}

size_t on_body_to_string(char* p, size_t sz, size_t n, void* ud) {
  auto* s = static_cast<std::string*>(ud);
  const size_t len = sz * n;
  if (s->size() + len > (256u << 20)) return 0;  // a listing is never this large: refuse
  s->append(p, len);
  return len;
}

std::unique_ptr<CURL, CurlDeleter> make_handle(const HubConfig& cfg, const std::string& url, curl_slist** headers) {
  curl_init_once();
  std::unique_ptr<CURL, CurlDeleter> h(curl_easy_init());
  POCKET_CHECK(h, "cannot initialise libcurl");
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 1L);  // /resolve/ redirects to the CDN
  curl_easy_setopt(h.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h.get(), CURLOPT_USERAGENT, "pocket/0.1");
  curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  // Give up on a stalled connection (under 1 byte/s for 60 s) so the retry can resume it.
  curl_easy_setopt(h.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  if (!cfg.token.empty()) {
    // A custom header is not forwarded when a redirect changes host (curl >= 7.58), so the token
    // reaches the Hub only, not the storage CDN.
    *headers = curl_slist_append(*headers, ("Authorization: Bearer " + cfg.token).c_str());
  }
  if (*headers) curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, *headers);
  return h;
}

// A clear message for an HTTP failure of `what` (a repository or a file of it).
[[noreturn]] void fail_http(long status, const ResponseHeaders& hdr, const std::string& body, const HubConfig& cfg,
                            const std::string& repo, const std::string& what) {
  const std::string code = hdr.get("x-error-code");
  std::string detail = hdr.get("x-error-message");
  if (detail.empty() && !body.empty() && body.size() < 300 && body.find('<') == std::string::npos) detail = body;
  const std::string suffix = detail.empty() ? "" : " (" + detail + ")";
  if (status == 401 || status == 403) {
    if (code == "GatedRepo")
      fail("{}: '{}' is gated: accept its terms on the Hub, then set HF_TOKEN to a token of that account (HTTP {}){}",
           what, repo, status, suffix);
    if (cfg.token.empty())
      fail("{}: access to '{}' was refused (HTTP {}): the repository is private, gated or does not exist; set HF_TOKEN "
           "to a Hugging Face access token{}",
           what, repo, status, suffix);
    fail("{}: access to '{}' was refused (HTTP {}): the token in HF_TOKEN was rejected or has no access to it{}", what,
         repo, status, suffix);
  }
  if (status == 404)
    fail("{}: not found on {} (HTTP 404): check the repository name '{}'{}", what, cfg.endpoint, repo, suffix);
  fail("{}: {} answered HTTP {}{}", what, cfg.endpoint, status, suffix);
}

bool retryable_status(long status) { return status == 408 || status == 429 || status >= 500; }

// State of one download attempt, shared with the curl callbacks.
struct Transfer {
  CURL* h = nullptr;
  FILE* out = nullptr;
  Sha256* hash = nullptr;
  uint64_t* hashed = nullptr;  // bytes fed to *hash == bytes in the .part file
  uint64_t resume_from = 0;
  long status = 0;
  bool decided = false;
  bool write_ok = false;
  bool write_error = false;
  std::string error_body;
  const ResponseHeaders* headers = nullptr;
  // progress
  bool show = false;
  std::string label;
  uint64_t total = 0;
  uint64_t session_bytes = 0;
  std::chrono::steady_clock::time_point start, last_draw;
};

void draw(Transfer& t, bool final) {
  if (!t.show) return;
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - t.last_draw < std::chrono::milliseconds(100)) return;
  t.last_draw = now;
  const double secs = std::chrono::duration<double>(now - t.start).count();
  const double rate = secs > 0.2 ? static_cast<double>(t.session_bytes) / secs : 0.0;
  std::fprintf(stderr, "\r%s\033[K%s", format_progress(t.label, *t.hashed, t.total, rate).c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

size_t on_body_to_file(char* p, size_t sz, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  const size_t len = sz * n;
  if (!t->decided) {
    t->decided = true;
    curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status == 206 && t->resume_from > 0) {
      // Content-Range must start where the .part ends, or appending would corrupt it.
      const std::string cr = t->headers->get("content-range");
      t->write_ok = cr.rfind(fmt::format("bytes {}-", t->resume_from), 0) == 0;
      if (!t->write_ok) t->error_body = "unexpected Content-Range '" + cr + "'";
    } else if (t->status == 200) {
      // The server ignored the Range (or there was none): start the file over.
      if (t->resume_from > 0) {
        if (ftruncate(fileno(t->out), 0) != 0) return 0;
        std::rewind(t->out);
        t->hash->reset();
        *t->hashed = 0;
        t->resume_from = 0;
      }
      t->write_ok = true;
    }
  }
  if (!t->write_ok) {
    if (t->error_body.size() < 4096) t->error_body.append(p, std::min<size_t>(len, 4096));
    return len;
  }
  if (std::fwrite(p, 1, len, t->out) != len) {
    t->write_error = true;
    return 0;
  }
  t->hash->update(p, len);
  *t->hashed += len;
  t->session_bytes += len;
  draw(*t, false);
  return len;
}

int on_xferinfo(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  draw(*static_cast<Transfer*>(ud), false);
  return 0;
}

uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

HubClient::HubClient(HubConfig cfg, bool show_progress) : cfg_(std::move(cfg)), show_progress_(show_progress) {}

std::string HubClient::file_url(const std::string& repo, const std::string& path, const std::string& revision) const {
  return fmt::format("{}/{}/resolve/{}/{}", cfg_.endpoint, repo, url_escape_path(revision), url_escape_path(path));
}

std::vector<HubFile> HubClient::list_files(const std::string& repo, const std::string& revision) const {
  POCKET_CHECK(is_valid_repo_id(repo), "'{}' is not a Hub repository id (owner/name)", repo);
  POCKET_CHECK(!cfg_.offline, "cannot list '{}': offline mode is on", repo);
  const std::string what = "listing " + repo;
  std::string url = fmt::format("{}/api/models/{}/tree/{}?recursive=true", cfg_.endpoint, repo, url_escape_path(revision));
  std::vector<HubFile> all;
  for (int page = 0; !url.empty(); ++page) {
    POCKET_CHECK(page < 1000, "{}: too many pages", what);
    curl_slist* raw_headers = curl_slist_append(nullptr, "Accept: application/json");
    auto h = make_handle(cfg_, url, &raw_headers);
    std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
    std::string body;
    ResponseHeaders hdr;
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &on_body_to_string);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h.get(), CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h.get(), CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 120L);
    const CURLcode rc = curl_easy_perform(h.get());
    POCKET_CHECK(rc == CURLE_OK, "{}: cannot reach {}: {}", what, cfg_.endpoint, curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) fail_http(status, hdr, body, cfg_, repo, what);
    std::vector<HubFile> files;
    try {
      files = parse_hub_listing(body);
    } catch (const Error& e) {
      fail("{}: {}", what, e.what());
    }
    for (auto& f : files) all.push_back(std::move(f));
    url = parse_link_next(hdr.get("link"));
  }
  return all;
}

void HubClient::download(const std::string& repo, const HubFile& file, const std::string& dest,
                         const std::string& revision) const {
  POCKET_CHECK(!cfg_.offline, "cannot download '{}': offline mode is on", file.path);
  const std::string part = dest + ".part";
  const std::string url = file_url(repo, file.path, revision);
  const std::string what = "downloading " + repo + "/" + file.path;
  std::error_code ec;
  fs::create_directories(fs::path(dest).parent_path(), ec);

  Sha256 hash;
  uint64_t hashed = 0;
  bool hashed_valid = false;  // hash covers the .part file as it is on disk
  double delay = retry_delay_s;
  std::string last_error;
  bool complete = false;
  for (int attempt = 1; attempt <= max_attempts && !complete; ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
      delay *= 2;
    }
    uint64_t have = file_size_or_zero(part);
    if (file.size > 0 && have > file.size) {
      fs::remove(part, ec);
      have = 0;
      hashed_valid = false;
    }
    if (!hashed_valid || hashed != have) {
      // Bring the hash up to the bytes already on disk (a .part from an earlier run).
      hash.reset();
      hashed = 0;
      if (have > 0) {
        std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(part.c_str(), "rb"), &std::fclose);
        POCKET_CHECK(in, "{}: cannot read '{}'", what, part);
        std::vector<char> buf(1 << 20);
        size_t n;
        while (hashed < have && (n = std::fread(buf.data(), 1, std::min<uint64_t>(buf.size(), have - hashed), in.get())) > 0) {
          hash.update(buf.data(), n);
          hashed += n;
        }
        POCKET_CHECK(hashed == have, "{}: cannot read '{}'", what, part);
      }
      hashed_valid = true;
    }
    if (file.size > 0 && have == file.size) {
      complete = true;
      break;
    }

    std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(part.c_str(), "ab"), &std::fclose);
    POCKET_CHECK(out, "{}: cannot write '{}'", what, part);
    curl_slist* raw_headers = nullptr;
    auto h = make_handle(cfg_, url, &raw_headers);
    std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
    ResponseHeaders hdr;
    Transfer t;
    t.h = h.get();
    t.out = out.get();
    t.hash = &hash;
    t.hashed = &hashed;
    t.resume_from = have;
    t.headers = &hdr;
    t.show = show_progress_;
    t.label = fs::path(file.path).filename().string();
    t.total = file.size;
    t.start = t.last_draw = std::chrono::steady_clock::now();
    const std::string range = fmt::format("{}-", have);
    if (have > 0) curl_easy_setopt(h.get(), CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &on_body_to_file);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h.get(), CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h.get(), CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(h.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h.get(), CURLOPT_XFERINFOFUNCTION, &on_xferinfo);
    curl_easy_setopt(h.get(), CURLOPT_XFERINFODATA, &t);
    const CURLcode rc = curl_easy_perform(h.get());
    const bool flushed = std::fflush(out.get()) == 0;
    out.reset();
    if (t.show && t.session_bytes > 0) draw(t, true);
    long status = t.status;
    if (!t.decided) curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    POCKET_CHECK(!t.write_error && flushed, "{}: cannot write '{}' (disk full?)", what, part);

    if (status == 416) {
      // Range not satisfiable: the .part does not match the remote file; start over.
      fs::remove(part, ec);
      hashed_valid = false;
      last_error = "HTTP 416";
      continue;
    }
    if (status != 0 && status != 200 && status != 206) {
      if (retryable_status(status)) {
        last_error = fmt::format("HTTP {}", status);
        continue;
      }
      fail_http(status, hdr, t.error_body, cfg_, repo, what);
    }
    if (status == 206 && !t.write_ok) {
      fs::remove(part, ec);
      hashed_valid = false;
      last_error = t.error_body;
      continue;
    }
    if (rc != CURLE_OK) {
      last_error = curl_easy_strerror(rc);  // dropped or stalled: the next attempt resumes
      continue;
    }
    const uint64_t got = file_size_or_zero(part);
    if (file.size > 0 && got < file.size) {
      last_error = fmt::format("connection closed after {} of {} bytes", got, file.size);
      continue;
    }
    POCKET_CHECK(file.size == 0 || got == file.size, "{}: got {} bytes, the listing says {}", what, got, file.size);
    complete = true;
  }
  POCKET_CHECK(complete, "{}: failed after {} attempts ({}); the partial file '{}' is kept and the next pull resumes it",
               what, max_attempts, last_error, part);

  if (!file.sha256.empty()) {
    const std::string got = hash.finish_hex();
    if (got != file.sha256) {
      fs::remove(part, ec);
      fail("{}: sha256 mismatch (expected {}, got {}); the corrupt download was deleted, pull again", what, file.sha256,
           got);
    }
  }
  fs::rename(part, dest, ec);
  POCKET_CHECK(!ec, "{}: cannot move '{}' into place: {}", what, part, ec.message());
}

}  // namespace pocket
