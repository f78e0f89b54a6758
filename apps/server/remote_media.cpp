// Remote media policy and download (see remote_media.h).
#include "apps/server/remote_media.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "chat/openai_request.h"
#include "core/ascii.h"

namespace pocket::server {

namespace {

constexpr const char* kFetchFailed = "media URL could not be fetched";

[[noreturn]] void fetch_failed() {
  throw ApiError(400, kFetchFailed, "invalid_request_error", "media_fetch_failed", "messages");
}

}  // namespace

bool address_allowed(const sockaddr* sa, const RemoteMediaPolicy& policy) {
  return address_in(sa, policy.allowed_nets) || is_public_address(sa);
}

bool host_allowed(const std::string& host, const RemoteMediaPolicy& policy) {
  if (policy.hosts.empty()) return true;
  for (const std::string& h : policy.hosts) {
    if (h.rfind("*.", 0) == 0) {
      const std::string suffix = h.substr(1);  // ".example.com"
      if (host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
    } else if (host == h) {
      return true;
    }
  }
  return false;
}

namespace {

struct Transfer {
  const RemoteMediaPolicy* policy = nullptr;
  std::string body;
  bool over = false;
};

size_t on_data(char* p, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->body.size() + len > t->policy->max_bytes) {
    t->over = true;
    return 0;  // aborts the transfer
  }
  t->body.append(p, len);
  return len;
}

// Every socket libcurl opens passes here with the address it will connect to: the check sits
// after DNS resolution and on every hop, so neither a name nor a redirect gets around it.
curl_socket_t open_checked(void* user, curlsocktype purpose, curl_sockaddr* addr) {
  const auto* t = static_cast<const Transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN || !address_allowed(&addr->addr, *t->policy)) return CURL_SOCKET_BAD;
  return ::socket(addr->family, addr->socktype, addr->protocol);
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
  void operator()(char* s) const { curl_free(s); }
};

// The lower-case host of an http(s) URL, or empty when the URL is not one.
std::string url_host(const std::string& url) {
  std::unique_ptr<CURLU, CurlFree> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
  char* raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &raw, 0) != CURLUE_OK) return {};
  std::unique_ptr<char, CurlFree> scheme(raw);
  if (std::strcmp(scheme.get(), "http") != 0 && std::strcmp(scheme.get(), "https") != 0) return {};
  if (curl_url_get(u.get(), CURLUPART_HOST, &raw, 0) != CURLUE_OK) return {};
  std::string host = ascii_lower(raw);
  curl_free(raw);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

std::string fetch_remote_media(const std::string& url, const RemoteMediaPolicy& policy) {
  if (!policy.enabled)
    throw ApiError(400, "remote media URLs are disabled on this server (pocket serve --allow-remote-media)",
                   "invalid_request_error", "media_url_forbidden", "messages");
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::string current = url;
  Transfer t;
  t.policy = &policy;
  // Redirects are followed here, not by libcurl, so each hop's host meets the host list.
  for (int hop = 0; hop <= policy.max_redirects; ++hop) {
    const std::string host = url_host(current);
    if (host.empty() || !host_allowed(host, policy)) fetch_failed();
    std::unique_ptr<CURL, CurlFree> c(curl_easy_init());
    if (!c) fetch_failed();
    t.body.clear();
    CURL* h = c.get();
    curl_easy_setopt(h, CURLOPT_URL, current.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");  // no proxy from the environment: connect where checked
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(policy.timeout_seconds * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(5.0, policy.timeout_seconds) * 1000));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(policy.max_bytes));
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "pocket-server");
    const CURLcode rc = curl_easy_perform(h);
    if (t.over || rc == CURLE_FILESIZE_EXCEEDED)
      throw ApiError(413, fmt::format("media at the URL is larger than {} bytes", policy.max_bytes),
                     "invalid_request_error", "media_too_large", "messages");
    if (rc != CURLE_OK) fetch_failed();
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    char* next = nullptr;
    if (status >= 300 && status < 400 && curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &next) == CURLE_OK && next) {
      current = next;
      continue;
    }
    if (status != 200 || t.body.empty()) fetch_failed();
    return std::move(t.body);
  }
  fetch_failed();  // too many redirects
}

}  // namespace pocket::server
