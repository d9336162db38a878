#include "core/wire/multicast_messages.h"

namespace lashup::wire {

namespace {

constexpr uint8_t kFlagRepair = 1;
constexpr uint8_t kFlagSummary = 1;

void write_ranges(Writer& w, const std::vector<McRange>& ranges) {
  w.varint(ranges.size());
  for (const auto& r : ranges) {
    w.string(r.origin);
    w.varint(r.incarnation);
    w.varint(r.first);
    w.varint(r.last - r.first);
  }
}

bool read_origin(Reader& r, NodeName& origin) {
  if (!r.string(origin, kNodeNameMaxBytes)) return false;
  if (Status s = validate_node_name(origin); !s) return r.fail(s.message());
  return true;
}

bool read_ranges(Reader& r, std::vector<McRange>& ranges) {
  uint64_t n = 0;
  // origin (>= 2 bytes), incarnation, first, span: at least 5 bytes each.
  if (!r.count(n, kMcRangesMax, 5, "multicast ranges")) return false;
  ranges.resize(static_cast<size_t>(n));
  for (auto& range : ranges) {
    uint64_t span = 0;
    if (!read_origin(r, range.origin) || !r.varint(range.incarnation) || !r.varint(range.first) ||
        !r.varint_at_most(span, kMcRangeSpanMax - 1, "multicast range span")) {
      return false;
    }
    if (range.first == 0) return r.fail("multicast sequence 0");
    if (range.first > UINT64_MAX - span) return r.fail("multicast range overflows");
    range.last = range.first + span;
  }
  return true;
}

}  // namespace

Status validate_topic(std::string_view topic) {
  if (topic.empty()) return Status::invalid("empty multicast topic");
  if (topic.size() > kTopicMaxBytes) return Status::invalid("multicast topic longer than 255 bytes");
  return Status::ok();
}

Bytes encode(const McData& m) {
  Writer w = begin_message(MessageType::mc_data);
  w.string(m.origin);
  w.varint(m.incarnation);
  w.varint(m.sequence);
  w.string(m.topic);
  w.varint(m.hops_left);
  w.u8(m.repair ? kFlagRepair : 0);
  w.bytes(m.payload);
  return w.take();
}

Bytes encode(const McAnnounce& m) {
  Writer w = begin_message(MessageType::mc_announce);
  w.u8(m.summary ? kFlagSummary : 0);
  write_ranges(w, m.ranges);
  return w.take();
}

Bytes encode(const McPull& m) {
  Writer w = begin_message(MessageType::mc_pull);
  write_ranges(w, m.ranges);
  return w.take();
}

Result<McData> decode_mc_data(Reader& body) {
  McData m;
  uint64_t hops = 0;
  uint8_t flags = 0;
  if (read_origin(body, m.origin) && body.varint(m.incarnation) && body.varint(m.sequence) &&
      body.string(m.topic, kTopicMaxBytes) && body.varint_at_most(hops, 255, "multicast hops") && body.u8(flags)) {
    if (m.sequence == 0) {
      body.fail("multicast sequence 0");
    } else if (Status s = validate_topic(m.topic); !s) {
      body.fail(s.message());
    } else if ((flags & ~kFlagRepair) != 0) {
      body.fail("unknown multicast flags");
    } else {
      m.hops_left = static_cast<uint32_t>(hops);
      m.repair = (flags & kFlagRepair) != 0;
      body.bytes(m.payload, kMcPayloadMaxBytes);
    }
  }
  if (Status s = body.finish(); !s) return s;
  return m;
}

Result<McAnnounce> decode_mc_announce(Reader& body) {
  McAnnounce m;
  uint8_t flags = 0;
  if (body.u8(flags)) {
    if ((flags & ~kFlagSummary) != 0) {
      body.fail("unknown multicast announce flags");
    } else {
      m.summary = (flags & kFlagSummary) != 0;
      read_ranges(body, m.ranges);
    }
  }
  if (Status s = body.finish(); !s) return s;
  return m;
}

Result<McPull> decode_mc_pull(Reader& body) {
  McPull m;
  read_ranges(body, m.ranges);
  if (Status s = body.finish(); !s) return s;
  return m;
}

}  // namespace lashup::wire
