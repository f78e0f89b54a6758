// Which remote media URLs the server may fetch, and the fetch itself (libcurl).
//
// Off unless the operator starts the server with --allow-remote-media: a request must not make
// the server a proxy into the network it sits in (SSRF). When on, the address of every
// connection libcurl opens (each redirect hop too, after DNS resolution, so a name that
// resolves or rebinds to an internal address is caught at connect time) must be public:
// loopback, private, link-local, CGNAT, multicast, unspecified, documentation and reserved
// ranges are refused in IPv4, IPv6 and the IPv6 forms that embed an IPv4 address (mapped,
// compatible, NAT64, 6to4). Numeric host spellings (2130706433, 0x7f.1, 127.1) reach the check
// as the address they resolve to. The operator may allow address ranges explicitly
// (--media-allow-net, e.g. an internal image store) and restrict the host names
// (--media-hosts). Every refusal and every failure gives the same error text.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/net_address.h"

namespace pocket::server {

struct RemoteMediaPolicy {
  bool enabled = false;               // --allow-remote-media
  std::vector<std::string> hosts;     // --media-hosts: empty = any host; "*.example.com" = its subdomains
  std::vector<Cidr> allowed_nets;     // --media-allow-net: ranges allowed even when not public
  size_t max_bytes = size_t{20} << 20;
  double timeout_seconds = 10;
  int max_redirects = 3;
};

// True when the policy lets the server connect to this address.
bool address_allowed(const sockaddr* sa, const RemoteMediaPolicy& policy);
// True when the policy allows this URL host (lower-case, no brackets).
bool host_allowed(const std::string& host, const RemoteMediaPolicy& policy);

// The body at `url` (http or https). Throws ApiError: 400 "media URL could not be fetched"
// (code media_fetch_failed) for every refusal and failure alike, 413 when the body is larger
// than max_bytes, 400 media_url_forbidden when remote media are off.
std::string fetch_remote_media(const std::string& url, const RemoteMediaPolicy& policy);

}  // namespace pocket::server
