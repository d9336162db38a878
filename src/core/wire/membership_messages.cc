#include "core/wire/membership_messages.h"

namespace lashup::wire {

void write_record(Writer& w, const MemberRecord& record) {
  w.string(record.name);
  w.string(record.address);
  w.varint(record.incarnation);
  w.varint(record.version);
  write_names(w, record.active_view);
  write_names(w, record.link_reports);
  w.bytes(record.metadata);
  w.boolean(record.leaving);
}

bool read_record(Reader& r, MemberRecord& record) {
  if (!r.string(record.name, kNodeNameMaxBytes)) return false;
  if (Status s = validate_node_name(record.name); !s) return r.fail(s.message());
  return r.string(record.address, kAddressMaxBytes) && r.varint(record.incarnation) && r.varint(record.version) &&
         read_names(r, record.active_view, 1024) && read_names(r, record.link_reports, kLinkReportsMax) &&
         r.bytes(record.metadata, kMetadataMaxBytes) && r.boolean(record.leaving);
}

Bytes encode(const MemberRecords& m) {
  Writer w = begin_message(MessageType::member_records);
  w.varint(m.ttl);
  w.varint(m.records.size());
  for (const auto& record : m.records) write_record(w, record);
  return w.take();
}

Bytes encode(const MemberDigest& m) {
  Writer w = begin_message(MessageType::member_digest);
  w.boolean(m.full);
  w.boolean(m.reply_with_digest);
  w.varint(m.entries.size());
  for (const auto& entry : m.entries) {
    w.string(entry.name);
    w.varint(entry.incarnation);
    w.varint(entry.version);
  }
  return w.take();
}

Result<MemberRecords> decode_member_records(Reader& body) {
  MemberRecords m;
  uint64_t ttl = 0;
  uint64_t n = 0;
  body.varint_at_most(ttl, 255, "ttl");
  m.ttl = static_cast<uint32_t>(ttl);
  // A record is at least 10 bytes: name (2), address (1), 2 varints, 2 lists, metadata, flag.
  if (body.count(n, kRecordsPerMessageMax, 10, "record count")) {
    m.records.resize(static_cast<size_t>(n));
    for (auto& record : m.records) {
      if (!read_record(body, record)) break;
    }
  }
  if (Status s = body.finish(); !s) return s;
  return m;
}

Result<MemberDigest> decode_member_digest(Reader& body) {
  MemberDigest m;
  uint64_t n = 0;
  body.boolean(m.full);
  body.boolean(m.reply_with_digest);
  if (body.count(n, kDigestEntriesMax, 4, "digest size")) {
    m.entries.resize(static_cast<size_t>(n));
    for (auto& entry : m.entries) {
      if (!body.string(entry.name, kNodeNameMaxBytes) || !body.varint(entry.incarnation) ||
          !body.varint(entry.version)) {
        break;
      }
      if (Status s = validate_node_name(entry.name); !s) {
        body.fail(s.message());
        break;
      }
    }
  }
  if (Status s = body.finish(); !s) return s;
  return m;
}

Bytes encode(const MemberPull& m) {
  Writer w = begin_message(MessageType::member_pull);
  write_names(w, m.names);
  return w.take();
}

Bytes encode(const MemberSummary& m) {
  Writer w = begin_message(MessageType::member_summary);
  w.varint(m.count);
  w.fixed64(m.hash);
  return w.take();
}

Result<MemberSummary> decode_member_summary(Reader& body) {
  MemberSummary m;
  body.varint(m.count);
  body.fixed64(m.hash);
  if (Status s = body.finish(); !s) return s;
  return m;
}

Result<MemberPull> decode_member_pull(Reader& body) {
  MemberPull m;
  read_names(body, m.names, kDigestEntriesMax);
  if (Status s = body.finish(); !s) return s;
  return m;
}

}  // namespace lashup::wire
