// IP address ranges (see net_address.h).
#include "core/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace pocket {

namespace {

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

bool address_in(const sockaddr* sa, const std::vector<Cidr>& ranges) {
  uint8_t a[16];
  if (!to_v6(sa, a)) return false;
  for (const Cidr& c : ranges)
    if (in_range(a, c)) return true;
  return false;
}

}  // namespace pocket
