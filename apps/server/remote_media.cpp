// Remote media policy and download (see remote_media.h).
#include "apps/server/remote_media.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "chat/openai_request.h"

namespace pocket::server {

namespace {

constexpr const char* kFetchFailed = "media URL could not be fetched";

[[noreturn]] void fetch_failed() {
  throw ApiError(400, kFetchFailed, "invalid_request_error", "media_fetch_failed", "messages");
}

bool in_range(const uint8_t* a, const Cidr& c) {
  const int full = c.prefix / 8, rest = c.prefix % 8;
  if (std::memcmp(a, c.addr, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (c.addr[full] & mask);
}

// addr as 16 bytes (IPv4 mapped into ::ffff:0:0/96); false for other families.
bool to_v6(const sockaddr* sa, uint8_t out[16]) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xFF;
    std::memcpy(out + 12, &in->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    std::memcpy(out, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    return true;
  }
  return false;
}

bool public_v4(const uint8_t* v) {
  const uint32_t a = (uint32_t{v[0]} << 24) | (uint32_t{v[1]} << 16) | (uint32_t{v[2]} << 8) | v[3];
  struct Range {
    uint32_t base;
    int bits;
  };
  // IANA special-purpose IPv4 registry (RFC 6890 and successors): not reachable on the internet.
  static constexpr Range kBlocked[] = {
      {0x00000000, 8},   // 0.0.0.0/8 "this network" (0.0.0.0 reaches the local host)
      {0x0A000000, 8},   // 10/8 private
      {0x64400000, 10},  // 100.64/10 CGNAT
      {0x7F000000, 8},   // 127/8 loopback
      {0xA9FE0000, 16},  // 169.254/16 link-local (cloud metadata)
      {0xAC100000, 12},  // 172.16/12 private
      {0xC0000000, 24},  // 192.0.0/24 protocol assignments
      {0xC0000200, 24},  // 192.0.2/24 documentation
      {0xC0586300, 24},  // 192.88.99/24 6to4 relay anycast
      {0xC0A80000, 16},  // 192.168/16 private
      {0xC6120000, 15},  // 198.18/15 benchmarking
      {0xC6336400, 24},  // 198.51.100/24 documentation
      {0xCB007100, 24},  // 203.0.113/24 documentation
      {0xE0000000, 4},   // 224/4 multicast
      {0xF0000000, 4},   // 240/4 reserved, and the broadcast address
  };
  for (const Range& r : kBlocked)
    if ((a >> (32 - r.bits)) == (r.base >> (32 - r.bits))) return false;
  return true;
}

// A 16-byte prefix for the IPv6 tables below.
constexpr Cidr v6(std::initializer_list<uint8_t> bytes, int prefix) {
  Cidr c;
  int i = 0;
  for (uint8_t b : bytes) c.addr[i++] = b;
  c.prefix = prefix;
  return c;
}

}  // namespace

std::optional<Cidr> parse_cidr(const std::string& text) {
  const size_t slash = text.find('/');
  const std::string host = text.substr(0, slash);
  Cidr c;
  int max_bits = 128;
  in_addr a4{};
  in6_addr a6{};
  // inet_pton takes only the canonical dotted quad: no shorthand spellings in operator ranges.
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    c.addr[10] = c.addr[11] = 0xFF;
    std::memcpy(c.addr + 12, &a4, 4);
    max_bits = 32;
  } else if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    std::memcpy(c.addr, &a6, 16);
  } else {
    return std::nullopt;
  }
  int bits = max_bits;
  if (slash != std::string::npos) {
    const std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      return std::nullopt;
    bits = std::stoi(p);
    if (bits > max_bits) return std::nullopt;
  }
  c.prefix = max_bits == 32 ? 96 + bits : bits;
  return c;
}

bool is_public_address(const sockaddr* sa) {
  uint8_t a[16];
  if (!to_v6(sa, a)) return false;
  // IPv6 forms that carry an IPv4 address: judged by that address.
  static constexpr Cidr kMapped = v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, 96);
  static constexpr Cidr kCompat = v6({}, 96);                    // ::a.b.c.d (deprecated; also :: and ::1)
  static constexpr Cidr kNat64 = v6({0, 0x64, 0xFF, 0x9B}, 96);  // 64:ff9b::/96
  static constexpr Cidr k6to4 = v6({0x20, 0x02}, 16);            // 2002:V4ADDR::/48
  if (in_range(a, kMapped) || in_range(a, kCompat) || in_range(a, kNat64)) return public_v4(a + 12);
  if (in_range(a, k6to4)) return public_v4(a + 2);
  static constexpr Cidr kBlocked[] = {
      v6({0, 0x64, 0xFF, 0x9B, 0, 1}, 48),  // local-use NAT64
      v6({0x01, 0x00}, 64),                 // 100::/64 discard
      v6({0x20, 0x01, 0x00, 0x00}, 32),     // Teredo (embeds an obfuscated IPv4)
      v6({0x20, 0x01, 0x0D, 0xB8}, 32),     // documentation
      v6({0xFC}, 7),                        // unique local
      v6({0xFE, 0x80}, 10),                 // link-local
      v6({0xFE, 0xC0}, 10),                 // site-local (deprecated)
      v6({0xFF}, 8),                        // multicast
  };
  for (const Cidr& c : kBlocked)
    if (in_range(a, c)) return false;
  return true;
}

bool address_allowed(const sockaddr* sa, const RemoteMediaPolicy& policy) {
  uint8_t a[16];
  if (!to_v6(sa, a)) return false;
  for (const Cidr& c : policy.allowed_nets)
    if (in_range(a, c)) return true;
  return is_public_address(sa);
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
  std::string host(raw);
  curl_free(raw);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
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
