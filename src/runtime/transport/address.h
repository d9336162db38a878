// host:port addresses of the transport. A host is an IPv4 literal, an IPv6
// literal in brackets ("[::1]:7000"), a host name (resolved with a blocking
// getaddrinfo), or empty for every local address when listening (":7000").
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "core/common/status.h"

namespace lashup::runtime {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

Result<SocketAddress> resolve_address(std::string_view host_port, bool for_listening);

// "1.2.3.4:7000" or "[::1]:7000".
std::string format_address(const sockaddr* address, socklen_t length);

}  // namespace lashup::runtime
