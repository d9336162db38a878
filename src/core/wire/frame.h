// Framing of a byte stream (TCP, TLS): each frame is a 4-byte big-endian
// length followed by that many bytes of message. The assembler enforces the
// maximum frame size before buffering a frame, so a peer cannot make a node
// allocate more than the limit.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "core/common/status.h"
#include "core/wire/codec.h"

namespace lashup::wire {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr uint32_t kFrameMaxBytesDefault = 4u << 20;  // 4 MiB

Bytes encode_frame(ByteView message);
// Appends the frame of `message` to `out` (several frames, one write).
void append_frame(Bytes& out, ByteView message);

class FrameAssembler {
 public:
  explicit FrameAssembler(uint32_t max_frame_bytes = kFrameMaxBytesDefault) : max_frame_bytes_(max_frame_bytes) {}

  // Appends bytes read from the stream. Fails (and stays failed) when a
  // header announces a frame larger than the limit or an empty frame; the
  // connection must then be closed.
  Status feed(ByteView chunk);

  // The next complete message, if any.
  std::optional<Bytes> next();

  size_t buffered_bytes() const { return partial_.size(); }

 private:
  uint32_t max_frame_bytes_;
  Bytes partial_;
  std::deque<Bytes> ready_;
  Status error_;
};

}  // namespace lashup::wire
