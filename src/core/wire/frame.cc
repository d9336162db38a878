#include "core/wire/frame.h"

#include <string>

namespace lashup::wire {

Bytes encode_frame(ByteView message) {
  Bytes out;
  out.reserve(kFrameHeaderBytes + message.size());
  append_frame(out, message);
  return out;
}

void append_frame(Bytes& out, ByteView message) {
  const auto len = static_cast<uint32_t>(message.size());
  out.push_back(static_cast<uint8_t>(len >> 24));
  out.push_back(static_cast<uint8_t>(len >> 16));
  out.push_back(static_cast<uint8_t>(len >> 8));
  out.push_back(static_cast<uint8_t>(len));
  out.insert(out.end(), message.begin(), message.end());
}

Status FrameAssembler::feed(ByteView chunk) {
  if (!error_.is_ok()) return error_;
  partial_.insert(partial_.end(), chunk.begin(), chunk.end());
  size_t pos = 0;
  while (partial_.size() - pos >= kFrameHeaderBytes) {
    const uint32_t len = (static_cast<uint32_t>(partial_[pos]) << 24) | (static_cast<uint32_t>(partial_[pos + 1]) << 16) |
                         (static_cast<uint32_t>(partial_[pos + 2]) << 8) | static_cast<uint32_t>(partial_[pos + 3]);
    if (len == 0) {
      error_ = Status::invalid("empty frame");
      break;
    }
    if (len > max_frame_bytes_) {
      error_ = Status::too_large("frame of " + std::to_string(len) + " bytes exceeds the limit of " +
                                 std::to_string(max_frame_bytes_));
      break;
    }
    if (partial_.size() - pos - kFrameHeaderBytes < len) break;
    const auto begin = partial_.begin() + static_cast<std::ptrdiff_t>(pos + kFrameHeaderBytes);
    ready_.emplace_back(begin, begin + len);
    pos += kFrameHeaderBytes + len;
  }
  if (!error_.is_ok()) {
    partial_.clear();
    return error_;
  }
  partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(pos));
  return Status::ok();
}

std::optional<Bytes> FrameAssembler::next() {
  if (ready_.empty()) return std::nullopt;
  Bytes out = std::move(ready_.front());
  ready_.pop_front();
  return out;
}

}  // namespace lashup::wire
