// The server's remote-media policy (apps/server/remote_media.h): operator ranges on top of the
// public-address rule (core/net_address.h, tested in tests/core) and host lists.
#include <netdb.h>

#include <gtest/gtest.h>

#include "apps/server/remote_media.h"

namespace pocket::server {
namespace {

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
