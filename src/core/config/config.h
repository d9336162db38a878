// The configuration vocabulary of a node: one table of keys, each with its
// kind, default, range and documentation. The C API, the config file loader,
// the bindings and docs/CONFIG.md (generated from this table) all share it,
// so there is one place where a key is defined.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"

namespace lashup::config {

enum class ValueKind {
  string,        // free text, validated by a per-key rule
  node_name,     // see validate_node_name
  integer,       // decimal, within [min, max]
  boolean,       // on/off (also true/false, yes/no, 1/0); stored as on/off
  choice,        // one of `choices`, separated by '|'
  address,       // host:port, host an IPv4 literal, [IPv6] literal or DNS name
  address_list,  // comma-separated [name@]host:port entries
  path,          // a file-system path
};

struct KeyInfo {
  std::string_view name;
  ValueKind kind;
  std::string_view default_value;  // as text; empty means unset
  int64_t min = 0;                 // integers only
  int64_t max = 0;
  std::string_view choices;  // choice only
  std::string_view unit;     // for documentation: "ms", "bytes", ...
  std::string_view doc;
};

std::span<const KeyInfo> all_keys();
const KeyInfo* find_key(std::string_view name);

struct ContactNode {
  std::string name;  // may be empty: learned from the handshake
  std::string host;
  uint16_t port = 0;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

Result<HostPort> parse_address(std::string_view text);
Result<std::vector<ContactNode>> parse_address_list(std::string_view text);

class Config {
 public:
  Config() = default;

  // Sets `key` to `value` after validating it. The message of a failure
  // starts with the key's name.
  Status set(std::string_view key, std::string_view value);

  // The current value as text (the default when never set; empty if unset).
  Result<std::string> get(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;

  // Loads `key = value` lines; '#' starts a comment; blank lines are skipped.
  // Values may be quoted with "..." to keep leading or trailing spaces or a
  // '#'. Stops at the first bad line and reports "origin:line: message".
  // Keys set before the bad line stay set.
  Status load_text(std::string_view text, std::string_view origin);

  // Keys explicitly set, in name order.
  const std::map<std::string, std::string, std::less<>>& explicit_values() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Checks validity of value for info; on success stores the normalized text
// in `normalized`.
Status validate_value(const KeyInfo& info, std::string_view value, std::string& normalized);

// docs/CONFIG.md, generated from the table.
std::string render_markdown();

}  // namespace lashup::config
