#include "runtime/http/ops_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/common/json_string.h"
#include "core/crdt/map.h"
#include "core/crdt/stores.h"
#include "runtime/node_runtime.h"
#include "runtime/snapshot.h"

namespace lashup::runtime::http {

namespace {

// Input limits: a request beyond them is answered 4xx, never served.
constexpr size_t kMaxUriBytes = 8192;
constexpr size_t kMaxHeadersBytes = 16384;
constexpr size_t kMaxBodyBytes = 1 << 20;  // a multicast payload of up to 1 MiB
constexpr size_t kMaxStreams = 32;
constexpr size_t kMaxPendingHealthChecks = 64;
// A stream whose client reads slower than this much output is ended.
constexpr size_t kMaxStreamBacklogBytes = 4 << 20;
constexpr int kHealthTimeoutSeconds = 10;
// Streams get an empty line this often, so a client that went away is
// noticed by the failed write.
constexpr int kHeartbeatSeconds = 5;
constexpr int kIdleTimeoutSeconds = 60;

constexpr std::string_view kUnixPrefix = "unix:";

const char* reachability_name(Reachability state) {
  switch (state) {
    case Reachability::reachable: return "reachable";
    case Reachability::unreachable: return "unreachable";
    case Reachability::left: return "left";
  }
  return "unknown";
}

// --- JSON ---


std::string quoted(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

void put_names(std::string& out, const std::vector<std::string>& names) {
  out += '[';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, names[i]);
  }
  out += ']';
}

// A KV value in the rendering of lashup_kv_value_json: one member per field
// name, holding one member per type.
void put_map(std::string& out, const crdt::MapValue& map) {
  out += '{';
  for (size_t i = 0; i < map.fields.size(); ++i) {
    const crdt::FieldValue& field = map.fields[i];
    const bool first_of_name = i == 0 || map.fields[i - 1].key.name != field.key.name;
    if (first_of_name) {
      if (i > 0) out += ',';
      append_json_string(out, field.key.name);
      out += ":{";
    } else {
      out += ',';
    }
    out += '"';
    out += crdt::field_type_name(field.key.type);
    out += "\":";
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, int64_t>) {
            out += std::to_string(v);
          } else if constexpr (std::is_same_v<V, crdt::Timestamped>) {
            append_json_string(out, v.value);
          } else if constexpr (std::is_same_v<V, bool>) {
            out += v ? "true" : "false";
          } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
            put_names(out, v);
          } else {
            put_map(out, v);
          }
        },
        field.value);
    if (i + 1 == map.fields.size() || map.fields[i + 1].key.name != field.key.name) out += '}';
  }
  out += '}';
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int http_code(StatusCode code) {
  switch (code) {
    case StatusCode::invalid:
    case StatusCode::type_mismatch: return 400;
    case StatusCode::permission: return 403;
    case StatusCode::not_found: return 404;
    case StatusCode::conflict: return 409;
    case StatusCode::too_large: return 413;
    case StatusCode::again:
    case StatusCode::closed:
    case StatusCode::state: return 503;
    default: return 500;
  }
}

const char* reason(int code) {
  switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
  }
}

// Splits "a/b/c" into names; empty when a name is empty.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> names;
  size_t start = 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    names.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (names.back().empty()) return {};
    if (slash == std::string::npos) return names;
    start = slash + 1;
  }
}

// `op` on the field named by the path's last name, nested in the maps the
// others name.
crdt::FieldOp nest(std::vector<std::string> names, crdt::FieldOp op) {
  for (size_t i = names.size() - 1; i-- > 0;) op = crdt::FieldOp::update(names[i], {std::move(op)});
  return op;
}

bool parse_i64(const std::string& text, int64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

// The query parameters of a request (decoded; '+' is a space).
class Query {
 public:
  explicit Query(const evhttp_uri* uri) {
    TAILQ_INIT(&headers_);
    const char* query = uri == nullptr ? nullptr : evhttp_uri_get_query(uri);
    ok_ = query == nullptr || evhttp_parse_query_str(query, &headers_) == 0;
  }
  ~Query() { evhttp_clear_headers(&headers_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  bool ok() const { return ok_; }
  bool has(const char* key) const { return evhttp_find_header(&headers_, key) != nullptr; }
  std::string get(const char* key, const char* fallback = "") const {
    const char* v = evhttp_find_header(&headers_, key);
    return v == nullptr ? fallback : v;
  }

 private:
  evkeyvalq headers_;
  bool ok_ = true;
};

std::string body_of(evhttp_request* request) {
  evbuffer* in = evhttp_request_get_input_buffer(request);
  const size_t len = evbuffer_get_length(in);
  std::string body(len, '\0');
  if (len > 0) evbuffer_copyout(in, body.data(), len);
  return body;
}

Result<int> listen_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status::invalid("admin.listen: the socket path must be 1 to " + std::to_string(sizeof addr.sun_path - 1) +
                           " bytes");
  }
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    // A socket left by an earlier run is replaced; anything else is not ours.
    if (!S_ISSOCK(st.st_mode)) return Status::io("admin.listen: " + path + " exists and is not a socket");
    // A socket someone still accepts on is in use, not stale.
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un existing{};
    existing.sun_family = AF_UNIX;
    std::memcpy(existing.sun_path, path.data(), path.size());
    const bool in_use = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&existing), sizeof existing) == 0;
    if (probe >= 0) ::close(probe);
    if (in_use) return Status::io("admin.listen: " + path + " is in use by another process");
    ::unlink(path.c_str());
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::io(std::string("admin.listen: socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  // Bound, restricted to the owner, and only then listening: no connection
  // can be accepted while the file still has the default mode.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), 0600) != 0 ||
      ::listen(fd, 64) != 0) {
    const int error = errno;
    ::close(fd);
    return Status::io("admin.listen: " + path + ": " + std::strerror(error));
  }
  return fd;
}

evhttp* new_http(event_base* base) {
  evhttp* http = evhttp_new(base);
  if (http == nullptr) return nullptr;
  evhttp_set_max_headers_size(http, kMaxHeadersBytes);
  evhttp_set_max_body_size(http, kMaxBodyBytes);
  evhttp_set_timeout(http, kIdleTimeoutSeconds);
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
  return http;
}

Status bind_tcp(evhttp* http, const std::string& key, const std::string& address) {
  auto parsed = config::parse_address(address);
  if (!parsed) return Status::invalid(key + ": " + parsed.status().message());
  if (evhttp_bind_socket_with_handle(http, parsed->host.c_str(), parsed->port) == nullptr) {
    return Status::io(key + ": cannot listen on " + address + ": " + std::strerror(errno));
  }
  return Status::ok();
}

// The Prometheus name of a stat: lashup_ and the name with '.' as '_'.
std::string metric_name(std::string_view stat) {
  std::string out = "lashup_";
  for (char c : stat) out += (c == '.' || c == '-') ? '_' : c;
  return out;
}

bool is_gauge(std::string_view stat) {
  static constexpr std::string_view kGauges[] = {
      "members", "members.reachable", "members.unreachable", "members.left", "overlay.active", "overlay.passive",
      "transport.connections", "multicast.history_bytes", "multicast.missing", "kv.keys", "commands.queued",
      "events.queued", "admin.streams"};
  for (auto g : kGauges) {
    if (g == stat) return true;
  }
  return false;
}

std::string format_seconds(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

}  // namespace

struct OpsServer::Stream {
  evhttp_request* request = nullptr;
  evhttp_connection* connection = nullptr;
  uint64_t subscription = 0;  // kv watch
  std::string topic;          // mc subscribe
  uint64_t dropped = 0;       // lines not sent: the client was too slow
};

struct OpsServer::Pending {
  evhttp_request* request = nullptr;
  evhttp_connection* connection = nullptr;
  std::string name;
  std::chrono::steady_clock::time_point deadline;
};

Status check_config(const config::Config& config) {
  const std::string admin = *config.get("admin.listen");
  if (!admin.empty() && !admin.starts_with(kUnixPrefix)) {
    auto parsed = config::parse_address(admin);
    if (!parsed) return Status::invalid("admin.listen: " + parsed.status().message());
    if (!is_loopback(parsed->host)) {
      return Status::invalid("admin.listen: " + admin +
                             " is not a loopback address (use unix:/path or 127.0.0.1:port with admin.token_file)");
    }
    if (config.get("admin.token_file")->empty()) {
      return Status::invalid("admin.token_file: required when admin.listen is a TCP address");
    }
  } else if (admin == kUnixPrefix) {
    return Status::invalid("admin.listen: unix: needs a path");
  }
  const std::string metrics = *config.get("metrics.listen");
  if (!metrics.empty()) {
    if (auto parsed = config::parse_address(metrics); !parsed) {
      return Status::invalid("metrics.listen: " + parsed.status().message());
    }
  }
  return Status::ok();
}

OpsServer::OpsServer(NodeRuntime& runtime, event_base* base) : runtime_(runtime), base_(base) {}

Result<std::unique_ptr<OpsServer>> OpsServer::create(NodeRuntime& runtime, event_base* base,
                                                     const config::Config& config) {
  const std::string admin = *config.get("admin.listen");
  const std::string metrics = *config.get("metrics.listen");
  if (admin.empty() && metrics.empty()) return std::unique_ptr<OpsServer>();
  if (Status s = check_config(config); !s) return s;
  std::unique_ptr<OpsServer> server(new OpsServer(runtime, base));
  if (!metrics.empty()) {
    server->metrics_ = new_http(base);
    if (server->metrics_ == nullptr) return Status::io("metrics.listen: evhttp_new failed");
    if (Status s = bind_tcp(server->metrics_, "metrics.listen", metrics); !s) return s;
    evhttp_set_gencb(server->metrics_, &OpsServer::on_metrics_request, server.get());
    server->metrics_where_ = metrics;
  }
  if (!admin.empty()) {
    server->admin_ = new_http(base);
    if (server->admin_ == nullptr) return Status::io("admin.listen: evhttp_new failed");
    if (admin.starts_with(kUnixPrefix)) {
      const std::string path = admin.substr(kUnixPrefix.size());
      auto fd = listen_unix(path);
      if (!fd) return fd.status();
      if (evhttp_accept_socket_with_handle(server->admin_, *fd) == nullptr) {
        ::close(*fd);
        return Status::io("admin.listen: cannot accept on " + path);
      }
      server->unix_path_ = path;
    } else {
      const std::string token_file = *config.get("admin.token_file");
      std::ifstream in(token_file);
      std::string token;
      if (!in || !std::getline(in, token)) return Status::io("admin.token_file: cannot read " + token_file);
      while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
      if (token.size() < 16) return Status::invalid("admin.token_file: the token must be at least 16 characters");
      server->token_ = token;
      if (Status s = bind_tcp(server->admin_, "admin.listen", admin); !s) return s;
    }
    evhttp_set_gencb(server->admin_, &OpsServer::on_admin_request, server.get());
    server->admin_where_ = admin;
  }
  server->tick_ = event_new(base, -1, EV_PERSIST, &OpsServer::on_tick, server.get());
  const timeval every{1, 0};
  if (server->tick_ == nullptr || event_add(server->tick_, &every) != 0) return Status::io("cannot add the ops timer");
  return server;
}

OpsServer::~OpsServer() {
  closing_ = true;
  if (tick_ != nullptr) event_free(tick_);
  // Frees every connection (their close callbacks run and find closing_).
  if (admin_ != nullptr) evhttp_free(admin_);
  if (metrics_ != nullptr) evhttp_free(metrics_);
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

std::string OpsServer::describe() const {
  std::string out;
  if (admin_ != nullptr) out += "admin=" + admin_where_;
  if (metrics_ != nullptr) out += std::string(out.empty() ? "" : " ") + "metrics=" + metrics_where_;
  return out;
}

void OpsServer::shut_down() {
  if (closing_) return;
  closing_ = true;
  for (auto& [connection, stream] : streams_) {
    evhttp_connection_set_closecb(connection, nullptr, nullptr);
    evhttp_send_reply_end(stream->request);
  }
  streams_.clear();
  for (auto& [id, pending] : health_) {
    evhttp_connection_set_closecb(pending->connection, nullptr, nullptr);
    reply_error(pending->request, 503, "the node is stopping");
  }
  health_.clear();
  counters_.streams = 0;
}

void OpsServer::on_tick(int, short, void* self) { static_cast<OpsServer*>(self)->tick(); }

void OpsServer::tick() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = health_.begin(); it != health_.end();) {
    if (now < it->second->deadline) {
      ++it;
      continue;
    }
    Pending& p = *it->second;
    evhttp_connection_set_closecb(p.connection, nullptr, nullptr);
    reply_error(p.request, 504, "no answer from " + p.name + " within " + std::to_string(kHealthTimeoutSeconds) + " s");
    it = health_.erase(it);
  }
  if (++ticks_ % kHeartbeatSeconds != 0) return;
  std::vector<evhttp_connection*> connections;
  for (auto& [connection, stream] : streams_) connections.push_back(connection);
  for (auto* connection : connections) {
    auto it = streams_.find(connection);
    if (it != streams_.end()) send_line(*it->second, "");
  }
}

void OpsServer::on_admin_request(evhttp_request* request, void* self) {
  static_cast<OpsServer*>(self)->handle(request, true);
}

void OpsServer::on_metrics_request(evhttp_request* request, void* self) {
  static_cast<OpsServer*>(self)->handle(request, false);
}

void OpsServer::reply(evhttp_request* request, int code, const std::string& body, const char* type) {
  if (code >= 400) ++counters_.refused;
  evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", type);
  evbuffer* out = evbuffer_new();
  if (out == nullptr) {
    evhttp_send_error(request, 500, nullptr);
    return;
  }
  evbuffer_add(out, body.data(), body.size());
  evhttp_send_reply(request, code, reason(code), out);
  evbuffer_free(out);
}

void OpsServer::reply_error(evhttp_request* request, int code, const std::string& message) {
  reply(request, code, "{\"error\":" + quoted(message) + "}\n");
}

void OpsServer::reply_status(evhttp_request* request, const Status& status) {
  reply_error(request, http_code(status.code()), status.message());
}

bool OpsServer::authorized(evhttp_request* request) {
  if (token_.empty()) return true;  // the unix socket: its file mode is the check
  const char* header = evhttp_find_header(evhttp_request_get_input_headers(request), "Authorization");
  if (header == nullptr) return false;
  const std::string expected = "Bearer " + token_;
  const size_t len = std::strlen(header);
  // Compared in constant time for tokens of the expected length.
  if (len != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < len; ++i) diff |= static_cast<unsigned char>(header[i] ^ expected[i]);
  return diff == 0;
}

void OpsServer::handle(evhttp_request* request, bool admin) {
  ++counters_.requests;
  const char* raw_uri = evhttp_request_get_uri(request);
  if (raw_uri == nullptr || std::strlen(raw_uri) > kMaxUriBytes) return reply_error(request, 414, "URI too long");
  if (closing_) return reply_error(request, 503, "the node is stopping");
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* raw_path = uri == nullptr ? nullptr : evhttp_uri_get_path(uri);
  const std::string path = raw_path == nullptr ? "" : raw_path;
  const Query query(uri);
  if (!query.ok()) return reply_error(request, 400, "malformed query string");
  const evhttp_cmd_type method = evhttp_request_get_command(request);
  const bool get = method == EVHTTP_REQ_GET;
  if (path == "/metrics") {
    if (!get) return reply_error(request, 405, "GET only");
    if (admin && !authorized(request)) return reply_error(request, 401, "missing or wrong bearer token");
    return serve_metrics(request);
  }
  if (!admin) return reply_error(request, 404, "only /metrics is served here");
  if (!authorized(request)) return reply_error(request, 401, "missing or wrong bearer token");
  if (!runtime_.snapshot()) return reply_error(request, 503, "the node has not started");

  const auto need = [&](const char* key) { return query.has(key) && !query.get(key).empty(); };
  if (path == "/v1/status" && get) return serve_status(request);
  if (path == "/v1/members" && get) return serve_members(request);
  if (path == "/v1/tree" && get) return serve_tree(request, query.get("root"));
  if (path == "/v1/links" && get) return serve_links(request);
  if (path == "/v1/kv") {
    if (!need("key")) return reply_error(request, 400, "the key parameter is required");
    if (get) return serve_kv_get(request, query.get("key"));
    if (method == EVHTTP_REQ_DELETE) return serve_kv_delete(request, query.get("key"));
    if (method == EVHTTP_REQ_POST || method == EVHTTP_REQ_PUT) {
      if (!need("op") || !need("path")) return reply_error(request, 400, "op and path parameters are required");
      std::string value = query.has("value") ? query.get("value") : body_of(request);
      return serve_kv_put(request, query.get("key"), query.get("op"), query.get("path"), value);
    }
    return reply_error(request, 405, "GET, POST, PUT or DELETE");
  }
  if (path == "/v1/kv/keys" && get) return serve_kv_keys(request, query.get("prefix"), query.get("glob") == "1");
  if (path == "/v1/kv/watch" && get) return serve_kv_watch(request, query.get("prefix"), query.get("glob") == "1");
  if (path == "/v1/mc/publish") {
    if (method != EVHTTP_REQ_POST && method != EVHTTP_REQ_PUT) return reply_error(request, 405, "POST only");
    if (!need("topic")) return reply_error(request, 400, "the topic parameter is required");
    return serve_mc_publish(request, query.get("topic"));
  }
  if (path == "/v1/mc/subscribe" && get) {
    if (!need("topic")) return reply_error(request, 400, "the topic parameter is required");
    return serve_mc_subscribe(request, query.get("topic"));
  }
  if (path == "/v1/health" && get) {
    if (!need("name")) return reply_error(request, 400, "the name parameter is required");
    return serve_health(request, query.get("name"));
  }
  reply_error(request, 404, "no such endpoint: " + path);
}

void OpsServer::serve_metrics(evhttp_request* request) {
  auto snapshot = runtime_.snapshot();
  if (!snapshot) return reply_error(request, 503, "the node has not started");
  const std::string label = "{node=" + quoted(snapshot->self) + "}";
  std::string out;
  out.reserve(16384);
  // Members by state, as one labelled gauge.
  out += "# HELP lashup_members_by_state Members this node knows, by state (itself counted reachable).\n";
  out += "# TYPE lashup_members_by_state gauge\n";
  uint64_t by_state[3] = {0, 0, 0};
  for (const auto& m : snapshot->members) ++by_state[static_cast<int>(m.state)];
  for (int s = 0; s < 3; ++s) {
    out += "lashup_members_by_state{node=" + quoted(snapshot->self) + ",state=\"" +
           reachability_name(static_cast<Reachability>(s)) + "\"} " + std::to_string(by_state[s]) + "\n";
  }
  const auto& names = kStatNames;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string_view stat = names[i];
    // Histograms: "<base>.count", "<base>.sum", then "<base>.le_<bound>".
    if (stat.ends_with(".count")) {
      const std::string_view base = stat.substr(0, stat.size() - 6);
      const bool us = base.ends_with("_us");
      const double scale = us ? 1e-6 : 1e-3;  // _us or _ms: exported in seconds
      const std::string name = metric_name(base.substr(0, base.size() - 3)) + "_seconds";
      out += "# HELP " + name + " " + std::string(base) + " (stat " + std::string(base) + ".*), in seconds.\n";
      out += "# TYPE " + name + " histogram\n";
      const uint64_t count = snapshot->stats[i];
      const uint64_t sum = snapshot->stats[i + 1];
      size_t j = i + 2;
      for (; j < names.size() && std::string_view(names[j]).starts_with(std::string(base) + ".le_"); ++j) {
        const std::string bound(std::string_view(names[j]).substr(base.size() + 4));
        out += name + "_bucket{node=" + quoted(snapshot->self) + ",le=\"" +
               format_seconds(std::stod(bound) * scale) + "\"} " + std::to_string(snapshot->stats[j]) + "\n";
      }
      out += name + "_bucket{node=" + quoted(snapshot->self) + ",le=\"+Inf\"} " + std::to_string(count) + "\n";
      out += name + "_sum" + label + " " + format_seconds(static_cast<double>(sum) * scale) + "\n";
      out += name + "_count" + label + " " + std::to_string(count) + "\n";
      i = j - 1;
      continue;
    }
    const bool gauge = is_gauge(stat);
    const std::string name = metric_name(stat) + (gauge ? "" : "_total");
    out += "# HELP " + name + " lashup_node_stat \"" + std::string(stat) + "\".\n";
    out += "# TYPE " + name + (gauge ? " gauge\n" : " counter\n");
    out += name + label + " " + std::to_string(snapshot->stats[i]) + "\n";
  }
  reply(request, 200, out, "text/plain; version=0.0.4; charset=utf-8");
}

void OpsServer::serve_status(evhttp_request* request) {
  auto snapshot = runtime_.snapshot();
  uint64_t by_state[3] = {0, 0, 0};
  for (const auto& m : snapshot->members) {
    if (m.name != snapshot->self) ++by_state[static_cast<int>(m.state)];
  }
  std::string out = "{\"node\":" + quoted(snapshot->self) + ",\"address\":" + quoted(runtime_.advertised_address()) +
                    ",\"incarnation\":" + std::to_string(runtime_.incarnation()) +
                    ",\"members\":" + std::to_string(snapshot->members.size()) +
                    ",\"reachable\":" + std::to_string(by_state[0]) +
                    ",\"unreachable\":" + std::to_string(by_state[1]) + ",\"left\":" + std::to_string(by_state[2]) +
                    ",\"stats\":{";
  for (size_t i = 0; i < kStatNames.size(); ++i) {
    if (i > 0) out += ',';
    out += quoted(kStatNames[i]) + ":" + std::to_string(snapshot->stats[i]);
  }
  out += "}}\n";
  reply(request, 200, out);
}

void OpsServer::serve_members(evhttp_request* request) {
  auto snapshot = runtime_.snapshot();
  std::string out = "{\"node\":" + quoted(snapshot->self) + ",\"members\":[";
  for (size_t i = 0; i < snapshot->members.size(); ++i) {
    const MemberView& m = snapshot->members[i];
    if (i > 0) out += ',';
    out += "{\"name\":" + quoted(m.name) + ",\"address\":" + quoted(m.address) + ",\"state\":\"" +
           reachability_name(m.state) + "\",\"incarnation\":" + std::to_string(m.incarnation) +
           ",\"last_heard_ms\":" + std::to_string(m.last_heard_ms) + ",\"distance\":" +
           (m.distance == kUnreachableDistance ? std::string("null") : std::to_string(m.distance)) +
           ",\"self\":" + (m.name == snapshot->self ? "true" : "false") +
           ",\"metadata\":" + quoted(std::string_view(reinterpret_cast<const char*>(m.metadata.data()), m.metadata.size())) +
           "}";
  }
  out += "]}\n";
  reply(request, 200, out);
}

void OpsServer::serve_tree(evhttp_request* request, const std::string& root_param) {
  auto snapshot = runtime_.snapshot();
  const std::string root = root_param.empty() ? snapshot->self : root_param;
  auto entries = snapshot->route_tree(root);
  if (entries.empty()) return reply_error(request, 404, "not a member (or left): " + root);
  std::string out = "{\"root\":" + quoted(root) + ",\"nodes\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"node\":" + quoted(entries[i].node) + ",\"parent\":" +
           (entries[i].parent.empty() ? std::string("null") : quoted(entries[i].parent)) +
           ",\"distance\":" + std::to_string(entries[i].distance) + "}";
  }
  out += "]}\n";
  reply(request, 200, out);
}

void OpsServer::serve_links(evhttp_request* request) {
  auto snapshot = runtime_.snapshot();
  std::string out = "{\"node\":" + quoted(snapshot->self) + ",\"neighbors\":";
  const long self = snapshot->index_of(snapshot->self);
  put_names(out, self >= 0 ? snapshot->members[static_cast<size_t>(self)].neighbors : std::vector<std::string>{});
  out += ",\"members\":[";
  for (size_t i = 0; i < snapshot->members.size(); ++i) {
    const MemberView& m = snapshot->members[i];
    if (i > 0) out += ',';
    out += "{\"name\":" + quoted(m.name) + ",\"state\":\"" + reachability_name(m.state) + "\",\"neighbors\":";
    put_names(out, m.neighbors);
    out += ",\"link_reports\":";
    put_names(out, m.link_reports);
    out += '}';
  }
  out += "]}\n";
  reply(request, 200, out);
}

void OpsServer::serve_kv_get(evhttp_request* request, const std::string& key) {
  auto read = runtime_.kv_get(key);
  if (!read) return reply_status(request, read.status());
  std::string out = "{\"key\":" + quoted(key) + ",\"value\":";
  put_map(out, read->value);
  out += "}\n";
  reply(request, 200, out);
}

void OpsServer::serve_kv_put(evhttp_request* request, const std::string& key, const std::string& op,
                             const std::string& path, const std::string& value) {
  std::vector<std::string> names = split_path(path);
  if (names.empty()) return reply_error(request, 400, "path: empty field name in \"" + path + "\"");
  crdt::FieldOp field_op;
  if (op == "add") {
    int64_t amount = 0;
    if (!parse_i64(value, amount)) return reply_error(request, 400, "add: the value must be an integer");
    field_op = crdt::FieldOp::increment(names.back(), amount);
  } else if (op == "set") {
    const auto wall_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count());
    field_op = crdt::FieldOp::assign(names.back(), value, wall_us);
  } else {
    return reply_error(request, 400, "op must be add (counter) or set (register)");
  }
  auto written = runtime_.kv_update(key, {nest(std::move(names), std::move(field_op))}, std::nullopt);
  if (!written) return reply_status(request, written.status());
  std::string out = "{\"key\":" + quoted(key) + ",\"value\":";
  put_map(out, written->value);
  out += "}\n";
  reply(request, 200, out);
}

void OpsServer::serve_kv_delete(evhttp_request* request, const std::string& key) {
  if (Status s = runtime_.kv_remove(key); !s) return reply_status(request, s);
  reply(request, 200, "{\"key\":" + quoted(key) + ",\"deleted\":true}\n");
}

void OpsServer::serve_kv_keys(evhttp_request* request, const std::string& prefix, bool glob) {
  auto keys = runtime_.kv_keys(prefix, glob);
  if (!keys) return reply_status(request, keys.status());
  std::string out = "{\"keys\":";
  put_names(out, *keys);
  out += "}\n";
  reply(request, 200, out);
}

OpsServer::Stream* OpsServer::open_stream(evhttp_request* request) {
  if (streams_.size() >= kMaxStreams) {
    reply_error(request, 503, "too many streams (at most " + std::to_string(kMaxStreams) + ")");
    return nullptr;
  }
  evhttp_connection* connection = evhttp_request_get_connection(request);
  if (connection == nullptr || streams_.count(connection) != 0) {
    reply_error(request, 400, "one stream per connection");
    return nullptr;
  }
  auto stream = std::make_unique<Stream>();
  stream->request = request;
  stream->connection = connection;
  evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", "application/x-ndjson");
  evhttp_send_reply_start(request, 200, "OK");
  evhttp_connection_set_closecb(connection, &OpsServer::on_connection_closed, this);
  Stream* raw = stream.get();
  streams_.emplace(connection, std::move(stream));
  counters_.streams = streams_.size();
  return raw;
}

void OpsServer::send_line(Stream& stream, const std::string& line) {
  bufferevent* bev = evhttp_connection_get_bufferevent(stream.connection);
  if (bev != nullptr && evbuffer_get_length(bufferevent_get_output(bev)) > kMaxStreamBacklogBytes) {
    ++stream.dropped;  // the client does not keep up: lines are dropped, and counted in the next one sent
    return;
  }
  evbuffer* out = evbuffer_new();
  if (out == nullptr) return;
  if (stream.dropped > 0) {
    const std::string note = "{\"event\":\"dropped\",\"count\":" + std::to_string(stream.dropped) + "}\n";
    evbuffer_add(out, note.data(), note.size());
    stream.dropped = 0;
  }
  evbuffer_add(out, line.data(), line.size());
  evbuffer_add(out, "\n", 1);
  evhttp_send_reply_chunk(stream.request, out);
  evbuffer_free(out);
}

// A request we had not finished when its client went away (EOF, timeout)
// is detached from the connection by evhttp and left to us to free; one
// still attached is freed with the connection.
static void release_request(evhttp_request* request) {
  if (evhttp_request_get_connection(request) == nullptr) evhttp_request_free(request);
}

void OpsServer::on_connection_closed(evhttp_connection* connection, void* self) {
  auto* server = static_cast<OpsServer*>(self);
  if (server->closing_) return;
  if (auto it = server->streams_.find(connection); it != server->streams_.end()) {
    evhttp_request* request = it->second->request;
    server->close_stream(connection, true);
    release_request(request);
  }
  for (auto it = server->health_.begin(); it != server->health_.end();) {
    if (it->second->connection != connection) {
      ++it;
      continue;
    }
    release_request(it->second->request);
    it = server->health_.erase(it);
  }
}

void OpsServer::close_stream(evhttp_connection* connection, bool unsubscribe) {
  auto it = streams_.find(connection);
  if (it == streams_.end()) return;
  std::unique_ptr<Stream> stream = std::move(it->second);
  streams_.erase(it);
  counters_.streams = streams_.size();
  if (!unsubscribe) return;
  if (stream->subscription != 0) (void)runtime_.kv_unsubscribe(stream->subscription);
  if (!stream->topic.empty()) runtime_.release_topic(stream->topic);
}

void OpsServer::serve_kv_watch(evhttp_request* request, const std::string& prefix, bool glob) {
  Stream* stream = open_stream(request);
  if (stream == nullptr) return;
  stream->subscription = next_id_++;
  // The dump arrives through on_event, synchronously, before this returns.
  if (Status s = runtime_.kv_subscribe(stream->subscription, prefix, glob); !s) {
    send_line(*stream, "{\"event\":\"error\",\"error\":" + quoted(s.message()) + "}");
    stream->subscription = 0;
    evhttp_connection* connection = stream->connection;
    evhttp_connection_set_closecb(connection, nullptr, nullptr);
    close_stream(connection, false);
    evhttp_send_reply_end(request);
    ++counters_.refused;
  }
}

void OpsServer::serve_mc_publish(evhttp_request* request, const std::string& topic) {
  const std::string body = body_of(request);
  auto payload = wire::ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (Status s = runtime_.publish(topic, payload); !s) return reply_status(request, s);
  reply(request, 200, "{\"topic\":" + quoted(topic) + ",\"bytes\":" + std::to_string(body.size()) + "}\n");
}

void OpsServer::serve_mc_subscribe(evhttp_request* request, const std::string& topic) {
  if (Status s = runtime_.check_topic_for_ops(topic); !s) return reply_status(request, s);
  Stream* stream = open_stream(request);
  if (stream == nullptr) return;
  if (Status s = runtime_.hold_topic(topic); !s) {
    send_line(*stream, "{\"event\":\"error\",\"error\":" + quoted(s.message()) + "}");
    evhttp_connection* connection = stream->connection;
    evhttp_connection_set_closecb(connection, nullptr, nullptr);
    close_stream(connection, false);
    evhttp_send_reply_end(request);
    ++counters_.refused;
    return;
  }
  stream->topic = topic;
  send_line(*stream, "{\"event\":\"subscribed\",\"topic\":" + quoted(topic) + "}");
}

void OpsServer::serve_health(evhttp_request* request, const std::string& name) {
  if (health_.size() >= kMaxPendingHealthChecks) return reply_error(request, 503, "too many health checks pending");
  evhttp_connection* connection = evhttp_request_get_connection(request);
  const uint64_t id = next_id_++;
  Status s = runtime_.post([name, id](Time now, NodeCore& core) { return core.health_check(now, name, id); });
  if (!s) return reply_status(request, s);
  auto pending = std::make_unique<Pending>();
  pending->request = request;
  pending->connection = connection;
  pending->name = name;
  pending->deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kHealthTimeoutSeconds);
  evhttp_connection_set_closecb(connection, &OpsServer::on_connection_closed, this);
  health_.emplace(id, std::move(pending));
}

bool OpsServer::on_event(const Event& event) {
  if (const auto* health = std::get_if<HealthCheckResult>(&event)) {
    if (health->request_id < kOwnIdBase) return false;
    auto it = health_.find(health->request_id);
    if (it == health_.end()) return true;  // its client went away
    Pending& p = *it->second;
    evhttp_connection_set_closecb(p.connection, nullptr, nullptr);
    reply(p.request, 200,
          "{\"name\":" + quoted(health->name) + ",\"alive\":" + (health->alive ? "true" : "false") +
              ",\"rtt_us\":" + std::to_string(health->alive ? health->round_trip.count() : 0) + "}\n");
    health_.erase(it);
    return true;
  }
  if (const auto* changed = std::get_if<KvChanged>(&event)) {
    if (changed->subscription < kOwnIdBase) return false;
    for (auto& [connection, stream] : streams_) {
      if (stream->subscription != changed->subscription) continue;
      std::string line = "{\"event\":\"kv_changed\",\"key\":" + quoted(changed->key) +
                         ",\"initial\":" + (changed->initial ? "true" : "false");
      if (changed->deleted) {
        line += ",\"deleted\":true}";
      } else {
        auto map = crdt::Map::decode(changed->state);
        if (!map) break;
        line += ",\"value\":";
        put_map(line, map->value());
        line += '}';
      }
      send_line(*stream, line);
      break;
    }
    return true;
  }
  if (const auto* done = std::get_if<KvDumpDone>(&event)) {
    if (done->subscription < kOwnIdBase) return false;
    for (auto& [connection, stream] : streams_) {
      if (stream->subscription == done->subscription) {
        send_line(*stream, "{\"event\":\"kv_dump_done\",\"keys\":" + std::to_string(done->keys) + "}");
        break;
      }
    }
    return true;
  }
  if (const auto* message = std::get_if<McDelivered>(&event)) {
    if (streams_.empty()) return false;
    std::string line;
    for (auto& [connection, stream] : streams_) {
      if (stream->topic != message->topic) continue;
      if (line.empty()) {
        line = "{\"event\":\"mc_message\",\"origin\":" + quoted(message->origin) +
               ",\"incarnation\":" + std::to_string(message->incarnation) +
               ",\"sequence\":" + std::to_string(message->sequence) + ",\"topic\":" + quoted(message->topic) +
               ",\"bytes\":" + std::to_string(message->payload.size()) + ",\"payload\":" +
               quoted(std::string_view(reinterpret_cast<const char*>(message->payload.data()),
                                       message->payload.size())) +
               "}";
      }
      send_line(*stream, line);
    }
    return false;  // the runtime decides whether the application subscribes too
  }
  return false;
}

}  // namespace lashup::runtime::http
