// IP address ranges: parsing CIDR text and telling public internet addresses from the
// special-purpose ones (loopback, private, link-local, CGNAT, multicast, unspecified,
// documentation, reserved), after the IANA special-purpose registries
// (iana.org/assignments/iana-ipv4-special-registry, iana-ipv6-special-registry). IPv6 forms
// that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that address.
// Used by the server's remote-media policy (apps/server/remote_media.h).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pocket {

// An address range: IPv4 ranges are kept as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n).
struct Cidr {
  uint8_t addr[16] = {};
  int prefix = 0;  // bits of addr that must match (0..128)
};

// "10.0.0.0/8", "192.168.1.7" (a /32), "fd00::/8", "::1"; nullopt when malformed. Only the
// canonical dotted quad is taken for IPv4 (no 127.1 or 0x7f shorthand in operator ranges).
std::optional<Cidr> parse_cidr(const std::string& text);

// True for an address on the public internet; false for the special-purpose ranges and for
// families other than IPv4 / IPv6.
bool is_public_address(const sockaddr* sa);

// True when the address lies in one of the ranges.
bool address_in(const sockaddr* sa, const std::vector<Cidr>& ranges);

}  // namespace pocket
