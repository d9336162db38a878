#include "json_line.h"

#include <cmath>
#include <cstdio>

#include "core/common/json_string.h"

namespace lashup::sim {

void JsonLine::quoted(std::string_view text) { append_json_string(body_, text); }

void JsonLine::key(std::string_view name) {
  if (!body_.empty()) body_ += ',';
  quoted(name);
  body_ += ':';
}

JsonLine& JsonLine::add(std::string_view name, std::string_view value) {
  key(name);
  quoted(value);
  return *this;
}

JsonLine& JsonLine::add(std::string_view name, bool value) {
  key(name);
  body_ += value ? "true" : "false";
  return *this;
}

JsonLine& JsonLine::add(std::string_view name, int64_t value) {
  key(name);
  body_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::add(std::string_view name, uint64_t value) {
  key(name);
  body_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::add(std::string_view name, double value) {
  key(name);
  if (!std::isfinite(value)) {
    body_ += "null";
    return *this;
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.3f", value);
  body_ += text;
  return *this;
}

}  // namespace lashup::sim
