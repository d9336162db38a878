#include "runtime/transport/address.h"

#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace lashup::runtime {

Result<SocketAddress> resolve_address(std::string_view host_port, bool for_listening) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return Status::invalid("address '" + std::string(host_port) + "' has no port");
  std::string_view host = host_port.substr(0, colon);
  const std::string_view port_text = host_port.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::invalid("address '" + std::string(host_port) + "' has no valid port");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() && !for_listening) return Status::invalid("address '" + std::string(host_port) + "' has no host");

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (host.empty() ? AI_PASSIVE : 0);
  addrinfo* found = nullptr;
  const std::string host_string(host);
  const std::string port_string = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host_string.c_str(), port_string.c_str(), &hints, &found);
      rc != 0) {
    return Status::invalid("cannot resolve '" + std::string(host_port) + "': " + gai_strerror(rc));
  }
  SocketAddress out;
  std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
  out.length = found->ai_addrlen;
  freeaddrinfo(found);
  return out;
}

std::string format_address(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (getnameinfo(address, length, host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  if (address->sa_family == AF_INET6) return std::string("[") + host + "]:" + port;
  return std::string(host) + ":" + port;
}

}  // namespace lashup::runtime
