// The operations endpoints of a node (docs/ADMIN.md): Prometheus metrics on
// metrics.listen and the JSON admin API on admin.listen, served by libevent's
// evhttp on the node's own loop. Every handler runs on the loop thread: it
// reads the published snapshot, reads the KV store without a lock (the loop
// is the core's only writer) and runs writes at once through the runtime's
// loop-thread paths; nothing here waits for the loop. Answers that depend on
// the cluster (health checks, kv watch, mc subscribe) come from the events
// the loop emits, which the runtime hands to on_event before queueing them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/common/event.h"
#include "core/common/status.h"
#include "core/config/config.h"

struct event_base;
struct event;
struct evhttp;
struct evhttp_request;
struct evhttp_connection;

namespace lashup::runtime {
class NodeRuntime;
}

namespace lashup::runtime::http {

// Health-check request ids and KV subscription ids of the server's own
// requests start here, far above the ids the C API hands out (from 1).
inline constexpr uint64_t kOwnIdBase = uint64_t{1} << 62;

// Checks admin.listen (unix:/path or a loopback host:port, which needs
// admin.token_file) and metrics.listen.
Status check_config(const config::Config& config);

struct OpsCounters {
  uint64_t requests = 0;
  uint64_t refused = 0;  // answered 4xx or 5xx
  uint64_t streams = 0;  // open streams (gauge)
};

class OpsServer {
 public:
  // Binds what the configuration asks for; null when neither endpoint is
  // configured. Called before the loop thread starts.
  static Result<std::unique_ptr<OpsServer>> create(NodeRuntime& runtime, event_base* base,
                                                   const config::Config& config);
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  // Loop thread: every event the loop emits, before it is queued. True when
  // it answers one of the server's own requests (the application never
  // asked for it and does not get it).
  bool on_event(const Event& event);
  // Loop thread: the node is stopping; streams are ended.
  void shut_down();
  const OpsCounters& counters() const { return counters_; }
  // "admin unix:/run/n1.sock, metrics 127.0.0.1:9100", for the start log line.
  std::string describe() const;

  struct Stream;
  struct Pending;

 private:
  OpsServer(NodeRuntime& runtime, event_base* base);
  static void on_admin_request(evhttp_request* request, void* self);
  static void on_metrics_request(evhttp_request* request, void* self);
  static void on_connection_closed(evhttp_connection* connection, void* self);
  static void on_tick(int, short, void* self);
  void handle(evhttp_request* request, bool admin);
  void tick();
  void reply(evhttp_request* request, int code, const std::string& body, const char* type = "application/json");
  void reply_error(evhttp_request* request, int code, const std::string& message);
  void reply_status(evhttp_request* request, const Status& status);
  bool authorized(evhttp_request* request);
  // Endpoints.
  void serve_metrics(evhttp_request* request);
  void serve_status(evhttp_request* request);
  void serve_members(evhttp_request* request);
  void serve_tree(evhttp_request* request, const std::string& root);
  void serve_links(evhttp_request* request);
  void serve_kv_get(evhttp_request* request, const std::string& key);
  void serve_kv_put(evhttp_request* request, const std::string& key, const std::string& op, const std::string& path,
                    const std::string& value);
  void serve_kv_delete(evhttp_request* request, const std::string& key);
  void serve_kv_keys(evhttp_request* request, const std::string& prefix, bool glob);
  void serve_kv_watch(evhttp_request* request, const std::string& prefix, bool glob);
  void serve_mc_publish(evhttp_request* request, const std::string& topic);
  void serve_mc_subscribe(evhttp_request* request, const std::string& topic);
  void serve_health(evhttp_request* request, const std::string& name);
  Stream* open_stream(evhttp_request* request);
  void close_stream(evhttp_connection* connection, bool unsubscribe);
  void send_line(Stream& stream, const std::string& line);

  NodeRuntime& runtime_;
  event_base* base_;
  evhttp* admin_ = nullptr;
  evhttp* metrics_ = nullptr;
  event* tick_ = nullptr;
  std::string admin_where_;
  std::string metrics_where_;
  std::string unix_path_;  // removed when the server goes
  std::string token_;      // empty: no token required (unix socket)
  uint64_t next_id_ = kOwnIdBase;
  bool closing_ = false;
  unsigned ticks_ = 0;
  OpsCounters counters_;
  std::map<evhttp_connection*, std::unique_ptr<Stream>> streams_;
  std::map<uint64_t, std::unique_ptr<Pending>> health_;  // by request id
};

}  // namespace lashup::runtime::http
