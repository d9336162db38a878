#include "core/config/config.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "core/common/ids.h"

namespace lashup::config {
namespace {

using K = ValueKind;

// Defaults: DESIGN.md §2 and the original's defaults (reference §1.1), fixed
// where the reference lists a bug or a pace set by timers instead of the
// network. Each deviation from the original is stated in the doc text.
constexpr KeyInfo kKeys[] = {
    // Identity and addresses.
    {"node_name", K::node_name, "", 0, 0, "", "",
     "Unique name of this node in the cluster: 1-255 bytes of [A-Za-z0-9._:@-]. Required to start a node; "
     "the node's TLS certificate must name it."},
    {"cluster_id", K::string, "lashup", 0, 0, "", "",
     "Name of the cluster: 1-64 bytes of [A-Za-z0-9._-]. Peers with another cluster id are refused at the "
     "handshake."},
    {"listen_address", K::address, "0.0.0.0:7450", 0, 0, "", "",
     "host:port the node accepts peer connections on. Port 0 picks a free port."},
    {"advertise_address", K::address, "", 0, 0, "", "",
     "host:port other nodes use to reach this node. Empty: the listen address (which must then not be a "
     "wildcard address)."},
    {"contact_nodes", K::address_list, "", 0, 0, "", "",
     "Comma-separated [name@]host:port of nodes to join through; at least one must be up. They are probed "
     "again whenever they are unreachable, so a partition from them heals."},
    {"data_dir", K::path, "", 0, 0, "", "",
     "Directory of the node's Berkeley DB environment (incarnation, overlay views, known members, the "
     "key-value store). Required to start a node."},
    {"durability", K::choice, "group", 0, 0, "sync|group|none", "",
     "When a write is durable: sync (fsync per commit), group (commits batched and synced within "
     "durability.group_commit_ms), none (the OS decides; a crash may lose recent writes)."},
    {"durability.group_commit_ms", K::integer, "5", 1, 1000, "", "ms",
     "Longest delay between a commit and its fsync in group mode."},

    // Security.
    {"tls", K::boolean, "on", 0, 0, "", "",
     "Mutual TLS 1.3 between peers. off sends plaintext and is meant for local experiments only: the node "
     "logs a warning at start."},
    {"tls.cert_file", K::path, "", 0, 0, "", "", "PEM certificate of this node, naming node_name. Required when tls is on."},
    {"tls.key_file", K::path, "", 0, 0, "", "", "PEM private key of tls.cert_file. Required when tls is on."},
    {"tls.ca_file", K::path, "", 0, 0, "", "", "PEM certificate(s) of the cluster CA that signs every node. Required when tls is on."},

    // Peer protocol.
    {"protocol.version", K::integer, "2", 1, 2, "", "",
     "Highest peer protocol version the node speaks; connections speak the highest version both ends "
     "speak. Set it to 1 on every upgraded node while nodes of a build that speaks only version 1 remain "
     "(docs/OPERATIONS.md, Upgrades)."},

    // Overlay (HyParView).
    {"overlay.active_view_size", K::integer, "7", 2, 64, "", "",
     "Neighbours each node keeps connections to and probes (HyParView active view)."},
    {"overlay.passive_view_size", K::integer, "42", 1, 1024, "", "",
     "Known nodes kept as replacements for failed neighbours (HyParView passive view)."},
    {"overlay.active_random_walk_length", K::integer, "6", 1, 32, "", "",
     "TTL of a FORWARD_JOIN random walk (ARWL)."},
    {"overlay.passive_random_walk_length", K::integer, "3", 0, 32, "", "",
     "Walk step at which the joiner is added to a passive view (PRWL); must not exceed the ARWL."},
    {"overlay.shuffle_interval_ms", K::integer, "30000", 100, 3600000, "", "ms",
     "Mean period of passive-view SHUFFLE exchanges (randomized by +/-50%) once the passive view is half "
     "full; below that, every 2.5 s at most. Most shuffles open a TLS connection for the reply. The original "
     "shuffled every 60 s."},
    {"overlay.shuffle_active_sample", K::integer, "3", 0, 64, "", "",
     "Nodes from the active view sent in a SHUFFLE sample (k_a)."},
    {"overlay.shuffle_passive_sample", K::integer, "4", 0, 256, "", "",
     "Nodes from the passive view sent in a SHUFFLE sample (k_p)."},
    {"overlay.join_retry_ms", K::integer, "500", 10, 600000, "", "ms",
     "Delay before joining again through another contact node when a join got no answer (randomized)."},
    {"overlay.neighbor_retry_ms", K::integer, "250", 10, 600000, "", "ms",
     "Delay between attempts to fill an active view that is not full (randomized)."},
    {"overlay.joins_per_second_max", K::integer, "50", 1, 100000, "", "joins/s",
     "JOIN requests a node accepts per second; more are denied with a hint. The original accepted 1/s "
     "while not full and 25/s when full."},
    {"overlay.departition_probe_ms", K::integer, "2000", 100, 3600000, "", "ms",
     "Base period of probing unreachable members and unreachable contact nodes to heal partitions. The "
     "period shrinks as more members are unreachable (the original's formula was inverted)."},

    // Failure detector.
    {"detector.probe_interval_ms", K::integer, "100", 10, 60000, "", "ms",
     "Period between probes of each active neighbour over connections that speak protocol version 1."},
    {"detector.heartbeat_interval_ms", K::integer, "250", 10, 60000, "", "ms",
     "Period between heartbeats to each active neighbour over connections that speak protocol version 2 "
     "(they replace the probes there)."},
    {"detector.heartbeat_timeout_min_ms", K::integer, "100", 1, 60000, "", "ms",
     "Floor of the adaptive time a neighbour's heartbeat may be late (after its round) before the neighbour "
     "is suspected; its echo of ours gets one round more. Like the probe timeout, it adapts to the measured "
     "round trips above the floor."},
    {"detector.probe_timeout_min_ms", K::integer, "150", 1, 60000, "", "ms",
     "Floor of the adaptive probe timeout."},
    {"detector.probe_timeout_max_ms", K::integer, "2000", 1, 600000, "", "ms",
     "Ceiling of the adaptive probe timeout, and the timeout before any round trip was measured."},
    {"detector.rtt_history", K::integer, "16", 1, 1024, "", "samples",
     "Round-trip samples kept per neighbour to adapt the probe timeout (the original kept only the last)."},
    {"detector.indirect_probes", K::integer, "3", 0, 16, "", "nodes",
     "Other nodes asked to probe a neighbour that missed a probe before it is evicted (k)."},
    {"detector.indirect_probe_timeout_ms", K::integer, "400", 1, 600000, "", "ms",
     "Time to wait for any indirect probe to succeed."},

    // Membership.
    {"membership.refresh_interval_ms", K::integer, "300000", 1000, 86400000, "", "ms",
     "Period at which a node floods its record even when unchanged (as the original). Changes are flooded "
     "at once; the refresh only renews `last heard`, and costs N records per node per period."},
    {"membership.expire_after_ms", K::integer, "3600000", 10000, 604800000, "", "ms",
     "Unreachable members not heard from for this long are forgotten."},
    {"membership.metadata_bytes_max", K::integer, "1024", 0, 65536, "", "bytes",
     "Largest user metadata a node may attach to its membership record."},
    {"membership.event_coalesce_ms", K::integer, "20", 0, 10000, "", "ms",
     "Membership and reachability changes within this window are reported as one event."},
    {"membership.isolation_grace_ms", K::integer, "1000", 0, 600000, "", "ms",
     "A node that loses every member at once (it was stopped and its neighbours dropped it, or its own "
     "network failed) reports them unreachable only if it is still cut off after this long."},

    // Multicast.
    {"multicast.payload_bytes_max", K::integer, "1048576", 1, 1048576, "", "bytes",
     "Largest multicast payload; a larger publish fails with LASHUP_ERR_TOO_LARGE. At most "
     "transport.frame_bytes_max - 4096."},
    {"multicast.hops", K::integer, "32", 1, 255, "", "hops",
     "Hops a multicast message may travel down its tree (its TTL)."},
    {"multicast.repair_interval_ms", K::integer, "20", 1, 60000, "", "ms",
     "Messages received are announced to the neighbours they were not sent to, batched over this period "
     "(lazy repair)."},
    {"multicast.repair_delay_ms", K::integer, "30", 0, 60000, "", "ms",
     "Time given to a message's tree copy after learning of it before pulling it from a neighbour."},
    {"multicast.pull_timeout_ms", K::integer, "200", 1, 60000, "", "ms",
     "A pull not answered within this (doubling up to 16 times) is sent to another neighbour."},
    {"multicast.history_ms", K::integer, "30000", 1000, 3600000, "", "ms",
     "Messages are kept this long to answer pulls; a message missed for longer is lost (counted)."},
    {"multicast.history_bytes_max", K::integer, "33554432", 65536, 17179869184, "", "bytes",
     "Bound of the kept messages; the oldest are dropped first."},
    {"multicast.origins_max", K::integer, "65536", 16, 16777216, "", "origins",
     "Origins whose delivery state is kept (each: a watermark and the sequences received above it)."},

    // Replicated key-value store.
    {"kv.value_bytes_max", K::integer, "16777216", 1024, 1073741824, "", "bytes",
     "Largest encoded value of one key; an update that would exceed it fails."},
    {"kv.value_bytes_warn", K::integer, "1048576", 1024, 1073741824, "", "bytes",
     "Encoded value size above which a write logs a warning."},
    {"kv.anti_entropy_interval_ms", K::integer, "2000", 100, 3600000, "", "ms",
     "Period of anti-entropy with each active neighbour (the original: 60-120 s)."},
    {"kv.subscription_coalesce_ms", K::integer, "10", 0, 60000, "", "ms",
     "Changes of one key within this window are reported to a subscription as one event."},
    {"kv.delta_batch_ms", K::integer, "2", 0, 1000, "", "ms",
     "Local writes made within this window after a delta was published are joined per key and "
     "published together at its end (0: every write publishes its own delta)."},
    {"kv.tombstone_grace_ms", K::integer, "60000", 0, 604800000, "", "ms",
     "How long a deleted key keeps its tombstone before this node reports it for collection; longer "
     "than any message may stay in flight (multicast.history_ms)."},
    {"kv.tombstone_report_ms", K::integer, "10000", 100, 3600000, "", "ms",
     "Period of the tombstone reports; a tombstone every member reports identically is collected."},

    // Transport and runtime.
    {"transport.frame_bytes_max", K::integer, "4194304", 65536, 268435456, "", "bytes",
     "Largest frame accepted from a peer; a larger one closes the connection."},
    {"transport.send_queue_bytes_max", K::integer, "8388608", 65536, 1073741824, "", "bytes",
     "Bytes queued to one peer before back-pressure applies."},
    {"transport.handshake_timeout_ms", K::integer, "5000", 100, 600000, "", "ms",
     "Time a new connection has to complete TLS and the lashup handshake."},
    {"transport.idle_timeout_ms", K::integer, "30000", 1000, 3600000, "", "ms",
     "A connection with no traffic for this long is closed."},
    {"transport.reconnect_min_ms", K::integer, "100", 1, 600000, "", "ms",
     "First delay of the jittered exponential reconnect backoff."},
    {"transport.reconnect_max_ms", K::integer, "1000", 1, 3600000, "", "ms",
     "Largest reconnect delay (the protocols pace their own retries; this only spaces attempts to a peer "
     "that keeps failing)."},
    {"events.queue_max", K::integer, "65536", 16, 16777216, "", "events",
     "Events held for lashup_node_poll; when full, the oldest are dropped and counted."},

    // Observability.
    {"log.level", K::choice, "info", 0, 0, "error|warn|info|debug", "", "Least severe log level reported."},
    {"metrics.listen", K::address, "", 0, 0, "", "",
     "host:port of the Prometheus text endpoint (GET /metrics, docs/ADMIN.md). Empty: no endpoint."},
    {"admin.listen", K::path, "", 0, 0, "", "",
     "The JSON admin API (docs/ADMIN.md, examples/lashupctl): unix:/path/to/socket (mode 0600: file "
     "permissions authenticate), or a loopback 127.0.0.1:port whose requests carry the bearer token of "
     "admin.token_file. Empty: no admin API."},
    {"admin.token_file", K::path, "", 0, 0, "", "",
     "File whose first line is the bearer token (at least 16 characters) of a TCP admin.listen."},
};

bool is_cluster_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Status key_error(std::string_view key, const std::string& message) {
  return Status::invalid(std::string(key) + ": " + message);
}

std::string quoted(std::string_view value) { return "\"" + std::string(value) + "\""; }

}  // namespace

std::span<const KeyInfo> all_keys() { return kKeys; }

const KeyInfo* find_key(std::string_view name) {
  for (const auto& key : kKeys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

Result<HostPort> parse_address(std::string_view text) {
  text = trim(text);
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return Status::invalid("unterminated '[' in address " + quoted(text));
    out.host = std::string(text.substr(1, close - 1));
    if (out.host.empty() || out.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return Status::invalid("bad IPv6 literal in address " + quoted(text));
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::invalid("address " + quoted(text) + " has no :port");
    }
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Status::invalid("address " + quoted(text) + " has no :port");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (out.host.empty()) return Status::invalid("address " + quoted(text) + " has no host");
    if (out.host.size() > 253) return Status::invalid("host name longer than 253 bytes");
    if (!std::all_of(out.host.begin(), out.host.end(), is_host_char)) {
      return Status::invalid("bad host in address " + quoted(text) + " (IPv6 literals go in [brackets])");
    }
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::invalid("bad port in address " + quoted(text));
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

Result<std::vector<ContactNode>> parse_address_list(std::string_view text) {
  std::vector<ContactNode> out;
  text = trim(text);
  if (text.empty()) return out;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view entry = trim(text.substr(start, comma - start));
    if (entry.empty()) return Status::invalid("empty entry in address list");
    ContactNode node;
    if (const auto at = entry.find('@'); at != std::string_view::npos) {
      node.name = std::string(entry.substr(0, at));
      if (Status s = validate_node_name(node.name); !s) return Status::invalid(quoted(entry) + ": " + s.message());
      entry.remove_prefix(at + 1);
    }
    auto address = parse_address(entry);
    if (!address) return address.status();
    if (address->port == 0) return Status::invalid("contact address " + quoted(entry) + " has port 0");
    node.host = std::move(address->host);
    node.port = address->port;
    out.push_back(std::move(node));
    if (out.size() > 1024) return Status::invalid("more than 1024 entries");
    start = comma + 1;
  }
  return out;
}

Status validate_value(const KeyInfo& info, std::string_view value, std::string& normalized) {
  if (value.find('\0') != std::string_view::npos) return key_error(info.name, "value contains a NUL byte");
  switch (info.kind) {
    case K::string:
      // The only free-text key is cluster_id.
      if (value.empty() || value.size() > 64 || !std::all_of(value.begin(), value.end(), is_cluster_id_char)) {
        return key_error(info.name, "must be 1-64 bytes of [A-Za-z0-9._-], not " + quoted(value));
      }
      break;
    case K::node_name:
      if (!value.empty()) {
        if (Status s = validate_node_name(value); !s) return key_error(info.name, s.message());
      }
      break;
    case K::integer: {
      int64_t number = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (value.empty() || ec == std::errc::invalid_argument || end != value.data() + value.size()) {
        return key_error(info.name, "expects an integer, not " + quoted(value));
      }
      if (ec == std::errc::result_out_of_range || number < info.min || number > info.max) {
        return key_error(info.name, quoted(value) + " is out of range [" + std::to_string(info.min) + ", " +
                                        std::to_string(info.max) + "]");
      }
      normalized = std::to_string(number);
      return Status::ok();
    }
    case K::boolean:
      if (value == "on" || value == "true" || value == "yes" || value == "1") {
        normalized = "on";
        return Status::ok();
      }
      if (value == "off" || value == "false" || value == "no" || value == "0") {
        normalized = "off";
        return Status::ok();
      }
      return key_error(info.name, "expects on or off, not " + quoted(value));
    case K::choice: {
      std::string_view choices = info.choices;
      while (!choices.empty()) {
        const auto bar = choices.find('|');
        if (choices.substr(0, bar) == value) {
          normalized = std::string(value);
          return Status::ok();
        }
        if (bar == std::string_view::npos) break;
        choices.remove_prefix(bar + 1);
      }
      std::string expected(info.choices);
      std::replace(expected.begin(), expected.end(), '|', ',');
      return key_error(info.name, "expects one of " + expected + ", not " + quoted(value));
    }
    case K::address:
      if (!value.empty()) {
        auto parsed = parse_address(value);
        if (!parsed) return key_error(info.name, parsed.status().message());
      }
      break;
    case K::address_list: {
      auto parsed = parse_address_list(value);
      if (!parsed) return key_error(info.name, parsed.status().message());
      break;
    }
    case K::path:
      if (value.size() > 4096) return key_error(info.name, "path longer than 4096 bytes");
      break;
  }
  normalized = std::string(trim(value));
  return Status::ok();
}

Status Config::set(std::string_view key, std::string_view value) {
  const KeyInfo* info = find_key(key);
  if (info == nullptr) return key_error(key, "unknown configuration key");
  std::string normalized;
  if (Status s = validate_value(*info, value, normalized); !s) return s;
  // Cross-key rules that a single value can break.
  if (key == "overlay.passive_random_walk_length" || key == "overlay.active_random_walk_length") {
    const auto other = key == "overlay.passive_random_walk_length" ? "overlay.active_random_walk_length"
                                                                   : "overlay.passive_random_walk_length";
    auto other_value = get_int(other);
    const int64_t mine = std::stoll(normalized);
    const int64_t prwl = key == "overlay.passive_random_walk_length" ? mine : *other_value;
    const int64_t arwl = key == "overlay.passive_random_walk_length" ? *other_value : mine;
    if (prwl > arwl) {
      return key_error(key, "overlay.passive_random_walk_length (" + std::to_string(prwl) +
                                ") must not exceed overlay.active_random_walk_length (" + std::to_string(arwl) + ")");
    }
  }
  // Each floor must not exceed the ceiling the timeouts are clamped to.
  for (std::string_view floor_key : {"detector.probe_timeout_min_ms", "detector.heartbeat_timeout_min_ms"}) {
    constexpr std::string_view kCeiling = "detector.probe_timeout_max_ms";
    if (key != floor_key && key != kCeiling) continue;
    const int64_t mine = std::stoll(normalized);
    const int64_t low = key == floor_key ? mine : *get_int(floor_key);
    const int64_t high = key == kCeiling ? mine : *get_int(kCeiling);
    if (low > high) {
      return key_error(key, std::string(floor_key) + " (" + std::to_string(low) + ") must not exceed " +
                                std::string(kCeiling) + " (" + std::to_string(high) + ")");
    }
  }
  values_[std::string(key)] = std::move(normalized);
  return Status::ok();
}

Result<std::string> Config::get(std::string_view key) const {
  const KeyInfo* info = find_key(key);
  if (info == nullptr) return key_error(key, "unknown configuration key");
  if (auto it = values_.find(key); it != values_.end()) return it->second;
  return std::string(info->default_value);
}

Result<int64_t> Config::get_int(std::string_view key) const {
  const KeyInfo* info = find_key(key);
  if (info == nullptr) return key_error(key, "unknown configuration key");
  if (info->kind != K::integer) return key_error(key, "is not an integer key");
  auto text = get(key);
  int64_t number = 0;
  std::from_chars(text->data(), text->data() + text->size(), number);
  return number;
}

Result<bool> Config::get_bool(std::string_view key) const {
  const KeyInfo* info = find_key(key);
  if (info == nullptr) return key_error(key, "unknown configuration key");
  if (info->kind != K::boolean) return key_error(key, "is not an on/off key");
  return *get(key) == "on";
}

Status Config::load_text(std::string_view text, std::string_view origin) {
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    ++line_number;
    auto newline = text.find('\n', start);
    if (newline == std::string_view::npos) newline = text.size();
    std::string_view line = text.substr(start, newline - start);
    start = newline + 1;
    auto where = [&] { return std::string(origin) + ":" + std::to_string(line_number) + ": "; };

    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) return Status::invalid(where() + "expected key = value");
    const std::string_view key = trim(line.substr(0, equals));
    std::string_view value = trim(line.substr(equals + 1));
    if (!value.empty() && value.front() == '"') {
      const auto close = value.find('"', 1);
      if (close == std::string_view::npos) return Status::invalid(where() + "unterminated quoted value");
      const std::string_view rest = trim(value.substr(close + 1));
      if (!rest.empty() && rest.front() != '#') return Status::invalid(where() + "text after the quoted value");
      value = value.substr(1, close - 1);
    } else if (const auto hash = value.find('#'); hash != std::string_view::npos) {
      value = trim(value.substr(0, hash));
    }
    if (key.empty()) return Status::invalid(where() + "missing key before '='");
    if (Status s = set(key, value); !s) return Status::invalid(where() + s.message());
  }
  return Status::ok();
}

std::string render_markdown() {
  std::ostringstream out;
  out << "# Configuration\n\n"
         "<!-- Generated by `lashup-config-doc` from src/core/config/config.cc; do not edit by hand.\n"
         "     tests/unit/config checks that this file matches the table. -->\n\n"
         "A node is configured by string keys and values, the same through `lashup_config_set()`, a\n"
         "config file loaded with `lashup_config_load_file()` (`key = value` lines, `#` comments,\n"
         "`\"...\"` to quote a value), and every binding. An unknown key, a malformed value or a number\n"
         "out of range is refused with `LASHUP_ERR_INVALID` and a message that names the key.\n\n"
         "Booleans accept on/off, true/false, yes/no, 1/0. Addresses are `host:port` with an IPv4\n"
         "literal, a DNS name or an `[IPv6]` literal.\n\n"
         "| key | default | allowed | description |\n|---|---|---|---|\n";
  for (const auto& key : kKeys) {
    std::string allowed;
    switch (key.kind) {
      case K::string: allowed = "1-64 of `[A-Za-z0-9._-]`"; break;
      case K::node_name: allowed = "node name"; break;
      case K::integer:
        allowed = std::to_string(key.min) + " to " + std::to_string(key.max);
        if (!key.unit.empty()) allowed += " " + std::string(key.unit);
        break;
      case K::boolean: allowed = "on, off"; break;
      case K::choice: {
        allowed = std::string(key.choices);
        std::replace(allowed.begin(), allowed.end(), '|', ',');
        break;
      }
      case K::address: allowed = "host:port"; break;
      case K::address_list: allowed = "list of [name@]host:port"; break;
      case K::path: allowed = "path"; break;
    }
    const std::string default_text = key.default_value.empty() ? "(unset)" : "`" + std::string(key.default_value) + "`";
    out << "| `" << key.name << "` | " << default_text << " | " << allowed << " | " << key.doc << " |\n";
  }
  return out.str();
}

}  // namespace lashup::config
