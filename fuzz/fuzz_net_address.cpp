// libFuzzer target for the address-range parser and the public-address rule (core/net_address.h):
// any text parses or yields nullopt; any 4- or 16-byte address classifies without fault, and a
// parsed range contains its own address.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/net_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto cidr = pocket::parse_cidr(text);
  if (cidr && (cidr->prefix < 0 || cidr->prefix > 128)) __builtin_trap();
  sockaddr_in6 a6{};
  a6.sin6_family = AF_INET6;
  std::memcpy(&a6.sin6_addr, data, size < 16 ? size : 16);
  sockaddr_in a4{};
  a4.sin_family = AF_INET;
  std::memcpy(&a4.sin_addr, data, size < 4 ? size : 4);
  volatile bool sink = pocket::is_public_address(reinterpret_cast<const sockaddr*>(&a6)) ^
                       pocket::is_public_address(reinterpret_cast<const sockaddr*>(&a4));
  if (cidr) {
    sockaddr_in6 own{};
    own.sin6_family = AF_INET6;
    std::memcpy(&own.sin6_addr, cidr->addr, 16);
    if (!pocket::address_in(reinterpret_cast<const sockaddr*>(&own), {*cidr})) __builtin_trap();
    sink = sink ^ pocket::address_in(reinterpret_cast<const sockaddr*>(&a6), {*cidr});
  }
  (void)sink;
  return 0;
}
