// Fuzzes the frame assembler and every message decoder of the wire layer:
// whatever the bytes, decoding returns a value or a Status, never crashes,
// and what decodes re-encodes to bytes that decode to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/kv/kv_messages.h"
#include "core/wire/detector_messages.h"
#include "core/wire/frame.h"
#include "core/wire/membership_messages.h"
#include "core/wire/message.h"
#include "core/wire/multicast_messages.h"
#include "core/wire/overlay_messages.h"
#include "core/wire/ping_messages.h"

using namespace lashup::wire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// Decodes the body, and if it decodes, checks the canonical re-encoding.
template <typename Decoder>
void round_trip(Reader& body, Decoder decoder) {
  auto decoded = decoder(body);
  if (!decoded) return;
  const Bytes again = encode(*decoded);
  Reader r2(again);
  check(read_message_type(r2).is_ok());
  auto decoded_again = decoder(r2);
  check(decoded_again.is_ok() && *decoded_again == *decoded);
}

void decode_message(ByteView message) {
  Reader reader(message);
  auto type = read_message_type(reader);
  if (!type) return;
  switch (*type) {
    case MessageType::handshake: break;  // decoded by the transport (runtime), fuzzed there
    case MessageType::ping: round_trip(reader, decode_ping); break;
    case MessageType::pong: round_trip(reader, decode_pong); break;
    case MessageType::join: round_trip(reader, decode_join); break;
    case MessageType::join_reply: round_trip(reader, decode_join_reply); break;
    case MessageType::forward_join: round_trip(reader, decode_forward_join); break;
    case MessageType::neighbor: round_trip(reader, decode_neighbor); break;
    case MessageType::neighbor_reply: round_trip(reader, decode_neighbor_reply); break;
    case MessageType::disconnect: round_trip(reader, decode_disconnect); break;
    case MessageType::shuffle: round_trip(reader, decode_shuffle); break;
    case MessageType::shuffle_reply: round_trip(reader, decode_shuffle_reply); break;
    case MessageType::member_records: round_trip(reader, decode_member_records); break;
    case MessageType::member_digest: round_trip(reader, decode_member_digest); break;
    case MessageType::member_pull: round_trip(reader, decode_member_pull); break;
    case MessageType::member_summary: round_trip(reader, decode_member_summary); break;
    case MessageType::probe_request: round_trip(reader, decode_probe_request); break;
    case MessageType::probe_ack: round_trip(reader, decode_probe_ack); break;
    case MessageType::heartbeat: round_trip(reader, decode_heartbeat); break;
    case MessageType::mc_data: round_trip(reader, decode_mc_data); break;
    case MessageType::mc_announce: round_trip(reader, decode_mc_announce); break;
    case MessageType::mc_pull: round_trip(reader, decode_mc_pull); break;
    case MessageType::kv_summary: round_trip(reader, lashup::kv::decode_kv_summary); break;
    case MessageType::kv_groups: round_trip(reader, lashup::kv::decode_kv_groups); break;
    case MessageType::kv_buckets: round_trip(reader, lashup::kv::decode_kv_buckets); break;
    case MessageType::kv_keys: round_trip(reader, lashup::kv::decode_kv_keys); break;
    case MessageType::kv_states: round_trip(reader, [](Reader& r) { return lashup::kv::decode_kv_states(r); }); break;
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
