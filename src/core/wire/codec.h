// The one binary codec of the project: LEB128 varints, zigzag for signed
// values, fixed-width little-endian integers, and length-prefixed byte
// strings whose length is checked against a caller's bound before anything
// is allocated. A Reader never asserts on its input: every malformed input
// yields a Status, because every input may come from a hostile peer.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"

namespace lashup::wire {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline constexpr size_t kVarintMaxBytes = 10;

inline uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t zigzag_decode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

class Writer {
 public:
  // Most messages are small: one allocation instead of a doubling series.
  Writer() { out_.reserve(32); }
  explicit Writer(Bytes&& reuse) : out_(std::move(reuse)) { out_.clear(); }

  void u8(uint8_t v) { out_.push_back(v); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<uint8_t>(v) | 0x80);
      v >>= 7;
    }
    out_.push_back(static_cast<uint8_t>(v));
  }
  void svarint(int64_t v) { varint(zigzag_encode(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void fixed32(uint32_t v) { fixed(v, 4); }
  void fixed64(uint64_t v) { fixed(v, 8); }
  void bytes(ByteView v) {
    varint(v.size());
    raw(v);
  }
  void string(std::string_view v) {
    varint(v.size());
    out_.insert(out_.end(), v.begin(), v.end());
  }
  void raw(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }

  size_t size() const { return out_.size(); }
  const Bytes& view() const { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  void fixed(uint64_t v, int width) {
    for (int i = 0; i < width; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  Bytes out_;
};

// Reads from a view it does not own. Each getter returns false (and records
// the first error) on malformed or truncated input; once failed, every later
// read fails too, so a decoder may check once at the end.
class Reader {
 public:
  explicit Reader(ByteView input) : input_(input) {}

  bool u8(uint8_t& out) {
    if (!need(1, "u8")) return false;
    out = input_[pos_++];
    return true;
  }
  bool varint(uint64_t& out) {
    // Fast path: one-byte values (most lengths, counts and types).
    if (ok() && pos_ < input_.size() && input_[pos_] < 0x80) [[likely]] {
      out = input_[pos_++];
      return true;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < kVarintMaxBytes; ++i) {
      if (!need(1, "varint")) return false;
      const uint8_t byte = input_[pos_++];
      if (i == kVarintMaxBytes - 1 && byte > 1) return fail("varint overflows 64 bits");
      value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) {
        out = value;
        return true;
      }
    }
    return fail("varint longer than 10 bytes");
  }
  // A varint that must not exceed `max`.
  bool varint_at_most(uint64_t& out, uint64_t max, const char* what) {
    if (!varint(out)) return false;
    if (out > max) return fail(std::string(what) + " out of range");
    return true;
  }
  bool svarint(int64_t& out) {
    uint64_t raw_value = 0;
    if (!varint(raw_value)) return false;
    out = zigzag_decode(raw_value);
    return true;
  }
  bool boolean(bool& out) {
    uint8_t b = 0;
    if (!u8(b)) return false;
    if (b > 1) return fail("boolean is neither 0 nor 1");
    out = b == 1;
    return true;
  }
  bool fixed32(uint32_t& out) {
    uint64_t v = 0;
    if (!fixed(v, 4)) return false;
    out = static_cast<uint32_t>(v);
    return true;
  }
  bool fixed64(uint64_t& out) { return fixed(out, 8); }
  // A length-prefixed byte string of at most max_len bytes, viewed in place.
  bool bytes_view(ByteView& out, size_t max_len) {
    uint64_t len = 0;
    if (!varint(len)) return false;
    if (len > max_len) return fail("byte string longer than its limit");
    if (!need(static_cast<size_t>(len), "byte string")) return false;
    out = input_.subspan(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return true;
  }
  bool bytes(Bytes& out, size_t max_len) {
    ByteView view;
    if (!bytes_view(view, max_len)) return false;
    out.assign(view.begin(), view.end());
    return true;
  }
  bool string(std::string& out, size_t max_len) {
    ByteView view;
    if (!bytes_view(view, max_len)) return false;
    out.assign(reinterpret_cast<const char*>(view.data()), view.size());
    return true;
  }
  // A count of items that follow, each at least min_item_bytes long: bounded
  // by `max` and by what the remaining input could possibly hold, so a
  // hostile count cannot make the decoder reserve memory it will never fill.
  bool count(uint64_t& out, uint64_t max, size_t min_item_bytes, const char* what) {
    if (!varint_at_most(out, max, what)) return false;
    if (min_item_bytes > 0 && out > remaining() / min_item_bytes) {
      return fail(std::string(what) + " exceeds the input");
    }
    return true;
  }

  bool fail(std::string message) {
    if (error_.is_ok()) error_ = Status::invalid(std::move(message));
    pos_ = input_.size();
    return false;
  }
  bool ok() const { return error_.is_ok(); }
  const Status& status() const { return error_; }
  size_t remaining() const { return input_.size() - pos_; }
  bool at_end() const { return pos_ == input_.size(); }
  // Skips what is left: fields a later protocol version appended.
  void skip_rest() {
    if (ok()) pos_ = input_.size();
  }
  // Succeeds only if nothing was malformed and every byte was consumed.
  Status finish() {
    if (ok() && !at_end()) fail("trailing bytes after message");
    return error_;
  }

 private:
  // The fast path (enough input) is inline; failures build their message
  // out of line.
  bool need(size_t n, const char* what) {
    if (ok() && input_.size() - pos_ >= n) [[likely]] return true;
    return truncated(what);
  }
  [[gnu::noinline]] bool truncated(const char* what) {
    if (!ok()) return false;
    return fail(std::string("truncated ") + what);
  }
  bool fixed(uint64_t& out, int width) {
    if (!need(static_cast<size_t>(width), "fixed-width integer")) return false;
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v |= static_cast<uint64_t>(input_[pos_ + static_cast<size_t>(i)]) << (8 * i);
    pos_ += static_cast<size_t>(width);
    out = v;
    return true;
  }

  ByteView input_;
  size_t pos_ = 0;
  Status error_;
};

}  // namespace lashup::wire
