// One JSON object on one line: how the simulator and the benchmarks report
// figures (units last in field names: wall_ms, rtt_mean_ms). Fields keep
// the order they were added in, so lines read the same from run to run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lashup::sim {

class JsonLine {
 public:
  JsonLine& add(std::string_view key, std::string_view value);
  JsonLine& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonLine& add(std::string_view key, bool value);
  JsonLine& add(std::string_view key, int64_t value);
  JsonLine& add(std::string_view key, uint64_t value);
  JsonLine& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  JsonLine& add(std::string_view key, uint32_t value) { return add(key, static_cast<uint64_t>(value)); }
  // Finite values with up to 3 decimals; NaN and infinities become null.
  JsonLine& add(std::string_view key, double value);

  // The object, without a trailing newline.
  std::string str() const { return "{" + body_ + "}"; }
  bool empty() const { return body_.empty(); }

 private:
  void key(std::string_view name);
  void quoted(std::string_view text);
  std::string body_;
};

}  // namespace lashup::sim
