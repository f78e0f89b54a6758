// Address classification (core/net_address.h) against the IANA special-purpose address
// registries (iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry):
// every spelling getaddrinfo accepts is judged by the address it names, and IPv6 forms that
// embed an IPv4 address by that address.
#include <netdb.h>

#include <gtest/gtest.h>

#include "core/net_address.h"

namespace pocket {
namespace {

// The first address getaddrinfo gives for a numeric spelling (as libcurl resolves it).
bool public_spelling(const std::string& host) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  EXPECT_EQ(getaddrinfo(host.c_str(), nullptr, &hints, &res), 0) << host;
  if (!res) return false;
  const bool pub = is_public_address(res->ai_addr);
  freeaddrinfo(res);
  return pub;
}

TEST(NetAddress, PublicAndSpecialPurposeAddresses) {
  for (const char* h : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8",
                        "64:ff9b::808:808", "2002:808:808::1", "100.63.255.255", "100.128.0.0", "172.32.0.1",
                        "192.169.0.1", "223.255.255.255"})
    EXPECT_TRUE(public_spelling(h)) << h;
  for (const char* h : {"127.0.0.1", "127.255.255.254", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "0.0.0.0",
                        "0", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.255",
                        "169.254.169.254", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.9",
                        "224.0.0.1", "239.1.2.3", "240.0.0.1", "255.255.255.255", "::", "::1", "::ffff:127.0.0.1",
                        "::ffff:7f00:1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1", "64:ff9b:1::1",
                        "2002:7f00:1::1", "2002:a9fe:a9fe::", "2001::1", "2001:db8::1", "fc00::1", "fd12:3456::1",
                        "fe80::1", "febf::1", "fec0::1", "ff02::1", "100::1"})
    EXPECT_FALSE(public_spelling(h)) << h;
}

TEST(NetAddress, CidrParsing) {
  for (const char* good : {"10.0.0.0/8", "192.168.1.7", "0.0.0.0/0", "fd00::/8", "::1", "::/0", "::ffff:10.0.0.0/104"})
    EXPECT_TRUE(parse_cidr(good)) << good;
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "127.1", "0x7f000001", "10.0.0.0/", "10.0.0.0/8x",
                          "host.example.com", "10.0.0.0/-1", "10.0.0.0/0008", "1.2.3.4/8/8"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
}

}  // namespace
}  // namespace pocket
