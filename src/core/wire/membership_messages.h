// Membership messages: member records flooded through the overlay, and the
// digest a node sends a new neighbour so it can push what the other lacks.
#pragma once

#include <cstdint>
#include <vector>

#include "core/common/ids.h"
#include "core/common/status.h"
#include "core/wire/codec.h"
#include "core/wire/message.h"
#include "core/wire/peer.h"

namespace lashup::wire {

inline constexpr size_t kMetadataMaxBytes = 65536;
inline constexpr size_t kLinkReportsMax = 256;
inline constexpr size_t kRecordsPerMessageMax = 65536;
inline constexpr size_t kDigestEntriesMax = 1u << 20;

// What one node says about itself. Only the named node creates versions of
// its record; (incarnation, version) orders them.
struct MemberRecord {
  NodeName name;
  std::string address;
  Incarnation incarnation = 0;
  uint64_t version = 0;
  std::vector<NodeName> active_view;
  // Nodes this node cannot reach directly although they answer others.
  std::vector<NodeName> link_reports;
  Bytes metadata;
  bool leaving = false;  // announced a graceful leave
  bool operator==(const MemberRecord&) const = default;
};

struct MemberRecords {
  uint32_t ttl = 0;  // hops the records may still be forwarded
  std::vector<MemberRecord> records;
  bool operator==(const MemberRecords&) const = default;
};

struct DigestEntry {
  NodeName name;
  Incarnation incarnation = 0;
  uint64_t version = 0;
  bool operator==(const DigestEntry&) const = default;
};

// full: every record the sender holds (sent to a new neighbour, which
// pushes back what the sender lacks). Otherwise an announcement of records
// the sender just learned, for the receiver to pull if it lacks them.
struct MemberDigest {
  bool full = true;
  bool reply_with_digest = false;  // full only: the receiver sends its full digest back
  std::vector<DigestEntry> entries;
  bool operator==(const MemberDigest&) const = default;
};

// A summary of every record the sender holds, for periodic anti-entropy
// with a neighbour: equal summaries cost one small message; a different one
// is answered with a full digest (and the answer asks for ours back).
struct MemberSummary {
  uint64_t count = 0;
  uint64_t hash = 0;
  bool operator==(const MemberSummary&) const = default;
};

// Asks for the current records of these members.
struct MemberPull {
  std::vector<NodeName> names;
  bool operator==(const MemberPull&) const = default;
};

void write_record(Writer& w, const MemberRecord& record);
bool read_record(Reader& r, MemberRecord& record);

Bytes encode(const MemberRecords& m);
Bytes encode(const MemberDigest& m);
Bytes encode(const MemberPull& m);
Bytes encode(const MemberSummary& m);
Result<MemberRecords> decode_member_records(Reader& body);
Result<MemberDigest> decode_member_digest(Reader& body);
Result<MemberPull> decode_member_pull(Reader& body);
Result<MemberSummary> decode_member_summary(Reader& body);

}  // namespace lashup::wire
