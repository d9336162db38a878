// JSON string literals of arbitrary bytes, as the C API (lashup_kv_value_json)
// and the admin API write them: valid UTF-8 is kept, quotes, backslashes and
// control characters are escaped, and a byte that is not part of valid UTF-8
// is written as the code point of its value (\u00XX).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace lashup {

// The length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
inline size_t utf8_sequence(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return len;
}

// Appends `bytes` to `out` as a JSON string literal, quotes included.
inline void append_json_string(std::string& out, std::string_view bytes) {
  const auto escape = [&](unsigned char c) {
    char text[8];
    std::snprintf(text, sizeof text, "\\u%04x", static_cast<unsigned>(c));
    out += text;
  };
  out += '"';
  while (!bytes.empty()) {
    const auto c = static_cast<unsigned char>(bytes[0]);
    const size_t n = utf8_sequence(bytes);
    if (n == 0) {
      escape(c);  // not UTF-8: the byte's value as a code point
      bytes.remove_prefix(1);
      continue;
    }
    if (n == 1) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            escape(c);
          } else {
            out += static_cast<char>(c);
          }
      }
    } else {
      out.append(bytes.substr(0, n));
    }
    bytes.remove_prefix(n);
  }
  out += '"';
}

}  // namespace lashup
