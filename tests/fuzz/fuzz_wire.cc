// Fuzzes the frame assembler and the message decoders of the wire layer:
// whatever the bytes, decoding returns a value or a Status, never crashes,
// and what decodes re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/wire/frame.h"
#include "core/wire/message.h"
#include "core/wire/ping_messages.h"

using namespace lashup::wire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void decode_message(ByteView message) {
  Reader reader(message);
  auto type = read_message_type(reader);
  if (!type) return;
  switch (*type) {
    case MessageType::ping:
      if (auto ping = decode_ping(reader)) {
        // Varints have more than one encoding only through padding, which the
        // decoder accepts; the canonical re-encoding must decode the same.
        Bytes again = encode(*ping);
        Reader r2(again);
        check(read_message_type(r2).is_ok());
        auto ping2 = decode_ping(r2);
        check(ping2.is_ok() && *ping2 == *ping);
      }
      break;
    case MessageType::pong:
      if (auto pong = decode_pong(reader)) {
        Bytes again = encode(*pong);
        Reader r2(again);
        check(read_message_type(r2).is_ok());
        auto pong2 = decode_pong(r2);
        check(pong2.is_ok() && *pong2 == *pong);
      }
      break;
    case MessageType::handshake:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView input(data, size);
  // 1. The input as a message body.
  decode_message(input);
  // 2. The input as a byte stream, fed in two pieces, with a small frame limit.
  FrameAssembler assembler(4096);
  const size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  if (assembler.feed(input.first(cut))) (void)assembler.feed(input.subspan(cut));
  while (auto frame = assembler.next()) {
    check(!frame->empty() && frame->size() <= 4096);
    decode_message(*frame);
  }
  return 0;
}
