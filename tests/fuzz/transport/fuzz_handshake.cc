// Fuzzes what a peer controls before it is trusted: the byte stream of a new
// connection goes through the frame assembler (with a small limit), and the
// first frame through the handshake decoder and check. Whatever the bytes,
// nothing crashes, and a handshake that decodes re-encodes to bytes that
// decode to the same handshake.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/wire/frame.h"
#include "runtime/transport/handshake.h"

using namespace lashup;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void decode_first_frame(wire::ByteView frame) {
  Result<runtime::Handshake> decoded = runtime::decode_handshake(frame);
  if (!decoded) return;
  (void)runtime::check_handshake(*decoded, "lashup", runtime::VersionRange{1, 2});
  const wire::Bytes again = runtime::encode(*decoded);
  Result<runtime::Handshake> decoded_again = runtime::decode_handshake(again);
  check(decoded_again.is_ok() && *decoded_again == *decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const wire::ByteView input(data, size);
  // The input as one message body.
  decode_first_frame(input);
  // The input as a stream, fed in two uneven pieces.
  wire::FrameAssembler frames(1024);
  const size_t split = size / 3;
  if (frames.feed(input.first(split)) && frames.feed(input.subspan(split))) {
    while (std::optional<wire::Bytes> frame = frames.next()) decode_first_frame(*frame);
  }
  return 0;
}
