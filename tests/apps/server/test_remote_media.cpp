// The remote-media address policy (apps/server/remote_media.h) against the IANA special-purpose
// address registries (iana.org/assignments/iana-ipv4-special-registry and
// iana-ipv6-special-registry): every spelling getaddrinfo accepts is judged by the address it
// names, and IPv6 forms that embed an IPv4 address by that address.
#include <netdb.h>

#include <gtest/gtest.h>

#include "apps/server/remote_media.h"

namespace pocket::server {
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

TEST(RemoteMediaPolicy, PublicAndInternalAddresses) {
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

TEST(RemoteMediaPolicy, OperatorRangesAndHosts) {
  RemoteMediaPolicy p;
  const auto net = parse_cidr("10.1.0.0/16");
  ASSERT_TRUE(net);
  p.allowed_nets.push_back(*net);
  const auto one = parse_cidr("fd00::5");
  ASSERT_TRUE(one);
  p.allowed_nets.push_back(*one);
  auto allowed = [&](const char* host) {
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    EXPECT_EQ(getaddrinfo(host, nullptr, &hints, &res), 0);
    const bool ok = res && address_allowed(res->ai_addr, p);
    if (res) freeaddrinfo(res);
    return ok;
  };
  EXPECT_TRUE(allowed("10.1.200.3"));
  EXPECT_TRUE(allowed("::ffff:10.1.0.1"));
  EXPECT_FALSE(allowed("10.2.0.1"));
  EXPECT_TRUE(allowed("fd00::5"));
  EXPECT_FALSE(allowed("fd00::6"));
  EXPECT_TRUE(allowed("8.8.8.8"));
  EXPECT_FALSE(allowed("127.0.0.1"));
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "127.1", "0x7f000001", "10.0.0.0/", "10.0.0.0/8x",
                          "host.example.com", "10.0.0.0/-1"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;

  p.hosts = {"images.example.com", "*.cdn.example.net"};
  EXPECT_TRUE(host_allowed("images.example.com", p));
  EXPECT_TRUE(host_allowed("a.cdn.example.net", p));
  EXPECT_FALSE(host_allowed("cdn.example.net", p));
  EXPECT_FALSE(host_allowed("evilcdn.example.net", p));
  EXPECT_FALSE(host_allowed("images.example.com.evil.org", p));
  p.hosts.clear();
  EXPECT_TRUE(host_allowed("anything.org", p));
}

}  // namespace
}  // namespace pocket::server
