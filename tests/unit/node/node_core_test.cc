// NodeCore: what one node does at start and restart, as a transcript.
#include "core/node/node_core.h"

#include <gtest/gtest.h>

#include <set>

#include "core/kv/kv_messages.h"
#include "core/wire/multicast_messages.h"
#include "core/wire/overlay_messages.h"
#include "tests/unit/support/actions_util.h"

namespace lashup {
namespace {

using test::actions_of;
using test::decode;
using test::sends_of;
using wire::MessageType;

NodeConfig config_for(const std::string& name, std::vector<wire::PeerRef> contacts) {
  NodeConfig c = NodeConfig::from(config::Config{});
  c.self = {name, name + ":7450"};
  c.contacts = std::move(contacts);
  return c;
}

TEST(NodeCore, start_persists_the_incarnation) {
  NodeCore core(config_for("a", {}), 42, {}, 1);
  Actions out = core.on_start(Time(0));
  auto persisted = actions_of<PersistAction>(out);
  ASSERT_FALSE(persisted.empty());
  EXPECT_EQ(persisted[0].key, kPersistIncarnation);
  wire::Reader r(persisted[0].value);
  uint64_t incarnation = 0;
  ASSERT_TRUE(r.varint(incarnation));
  EXPECT_EQ(incarnation, 42u);
}

TEST(NodeCore, a_restart_asks_the_remembered_passive_view_and_known_members_for_neighbours) {
  // What a previous run persisted.
  NodeCore::PersistedState persisted;
  persisted[kPersistPassiveView] = Overlay::encode_passive({{"p1", "p1:7450"}, {"p2", "p2:7450"}});
  wire::Writer known;
  known.u8(1);
  wire::write_peers(known, {{"k1", "k1:7450"}});
  persisted[kPersistKnownMembers] = known.take();

  NodeCore core(config_for("a", {{"c1", "c1:7450"}}), 43, persisted, 1);
  Actions out = core.on_start(Time(0));
  std::set<NodeName> connecting;
  for (const auto& c : actions_of<ConnectAction>(out)) connecting.insert(c.peer);
  EXPECT_EQ(connecting, (std::set<NodeName>{"c1", "p1", "p2", "k1"}));
  // Once a remembered peer's connection is up, it is asked with high priority.
  Actions up = core.on_connection(Time(1ms), "p1", true);
  auto requests = sends_of(up, MessageType::neighbor);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(decode(requests[0].message, wire::decode_neighbor)->high_priority);
}

TEST(NodeCore, views_are_persisted_when_they_change) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  // A neighbour arrives: it joins through us.
  core.on_connection(Time(1ms), "b", true);
  core.on_message(Time(2ms), "b", wire::encode(wire::Join{{"b", "b:7450"}}));
  Actions tick = core.on_tick(Time(1500ms));
  std::set<std::string> keys;
  for (const auto& p : actions_of<PersistAction>(tick)) keys.insert(p.key);
  EXPECT_TRUE(keys.count(kPersistPassiveView) || keys.count(kPersistKnownMembers));
  // Nothing changed since: nothing is written again.
  Actions again = core.on_tick(Time(2600ms));
  EXPECT_TRUE(actions_of<PersistAction>(again).empty());
}

TEST(NodeCore, a_malformed_message_closes_that_connection_and_is_counted) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  core.on_connection(Time(1ms), "b", true);
  const Bytes garbage{0x0c, 0xff, 0xff, 0xff};
  Actions out = core.on_message(Time(2ms), "b", garbage);
  auto closes = actions_of<DisconnectAction>(out);
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].peer, "b");
  EXPECT_EQ(core.stats().malformed_messages, 1u);
}

TEST(NodeCore, a_health_check_of_an_unknown_member_fails_at_once) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  Actions out = core.health_check(Time(1ms), "nobody", 9);
  auto results = test::events<HealthCheckResult>(out);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].alive);
  EXPECT_EQ(results[0].request_id, 9u);
}

TEST(NodeCore, a_malformed_multicast_message_closes_that_connection_and_is_counted) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  core.on_connection(Time(1ms), "b", true);
  wire::McData m{"o", 1, 0 /* sequence 0 is invalid */, "t", 3, false, {}};
  Actions out = core.on_message(Time(2ms), "b", wire::encode(m));
  ASSERT_EQ(actions_of<DisconnectAction>(out).size(), 1u);
  EXPECT_EQ(core.stats().malformed_messages, 1u);
  EXPECT_EQ(core.multicast().stats().received, 0u);
}

TEST(NodeCore, multicast_on_an_unsubscribed_topic_is_counted_not_delivered) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  core.on_connection(Time(1ms), "b", true);
  ASSERT_TRUE(core.mc_subscribe("mine"));
  Actions out = core.on_message(Time(2ms), "b", wire::encode(wire::McData{"o", 1, 1, "other", 3, false, {7}}));
  EXPECT_TRUE(test::events<McDelivered>(out).empty());
  EXPECT_EQ(core.multicast().stats().no_subscriber, 1u);
  Actions mine = core.on_message(Time(3ms), "b", wire::encode(wire::McData{"o", 1, 2, "mine", 3, false, {8}}));
  auto delivered = test::events<McDelivered>(mine);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].origin, "o");
  EXPECT_EQ(delivered[0].payload, (Bytes{8}));
  EXPECT_TRUE(actions_of<DisconnectAction>(mine).empty());
}

TEST(NodeCore, reserved_multicast_topics_cannot_be_published) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  Result<uint64_t> seq = Status::internal("unset");
  core.mc_publish(Time(1ms), "lashup/kv", Bytes{1}, seq);
  EXPECT_EQ(seq.status().code(), StatusCode::invalid);
  core.mc_publish(Time(1ms), "app", Bytes{1}, seq);
  ASSERT_TRUE(seq.is_ok());
  EXPECT_EQ(*seq, 1u);
}

TEST(NodeCore, kv_writes_are_persisted_before_their_delta_leaves_and_restored_at_restart) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  Result<kv::KvStore::Written> written = Status::internal("unset");
  std::vector<crdt::FieldOp> ops{crdt::FieldOp::increment("n", 3)};
  Actions out = core.kv_update(Time(1ms), "vips/1", ops, nullptr, written);
  ASSERT_TRUE(written.is_ok());
  auto persisted = actions_of<PersistAction>(out);
  ASSERT_EQ(persisted.size(), 1u);
  EXPECT_EQ(persisted[0].key, "kv/vips/1");
  // The persist comes before any send of the delta.
  ASSERT_FALSE(out.items.empty());
  EXPECT_TRUE(std::holds_alternative<PersistAction>(out.items.front()));

  NodeCore::PersistedState disk{{persisted[0].key, persisted[0].value}};
  NodeCore restarted(config_for("a", {}), 2, disk, 1);
  ASSERT_TRUE(restarted.restore_status().is_ok());
  const crdt::Map* value = restarted.kv().get("vips/1");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(value->encode(), core.kv().get("vips/1")->encode());

  // A later write by the new incarnation uses new dots: both counts stay.
  Actions more = restarted.kv_update(Time(2ms), "vips/1", ops, nullptr, written);
  ASSERT_TRUE(written.is_ok());
  const crdt::MapValue v = restarted.kv().get("vips/1")->value();
  EXPECT_EQ(std::get<int64_t>(v.find("n", crdt::FieldType::counter)->value), 6);
}

// A KV delta as another node's multicast would bring it.
Bytes kv_delta_message(const std::string& origin, uint64_t sequence, const std::string& key, const crdt::Map& delta) {
  return wire::encode(wire::McData{origin, 1, sequence, kv::kDeltaTopic, 3, false, kv::encode(kv::KeyDelta{key, delta})});
}

// kv_SUITE kv_subscribe: an initial dump, then one event per real change,
// coalesced per key; nothing for a no-op merge or an uncovered key.
TEST(NodeCore, kv_subscriptions_dump_then_report_each_real_change_once_per_window) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  core.on_connection(Time(1ms), "b", true);
  Result<kv::KvStore::Written> w = Status::internal("unset");
  std::vector<crdt::FieldOp> red{crdt::FieldOp::assign("color", "red", 1)};
  core.kv_update(Time(2ms), "flag/1", red, nullptr, w);
  ASSERT_TRUE(w.is_ok());

  Status subscribed;
  Actions dump = core.kv_subscribe(Time(3ms), 7, "flag/", false, subscribed);
  ASSERT_TRUE(subscribed.is_ok());
  auto initial = test::events<KvChanged>(dump);
  ASSERT_EQ(initial.size(), 1u);
  EXPECT_TRUE(initial[0].initial);
  EXPECT_EQ(initial[0].key, "flag/1");
  ASSERT_EQ(test::events<KvDumpDone>(dump).size(), 1u);
  EXPECT_EQ(test::events<KvDumpDone>(dump)[0].keys, 1u);

  // Two changes from b within the window: one event, with the last state.
  kv::KvStore b({}, ReplicaId{"b", 1});
  ASSERT_TRUE(b.apply("flag/1", *core.kv().get_state("flag/1")));
  std::vector<crdt::FieldOp> blue{crdt::FieldOp::assign("color", "blue", 2)};
  std::vector<crdt::FieldOp> green{crdt::FieldOp::assign("color", "green", 3)};
  auto d1 = b.update("flag/1", blue);
  auto d2 = b.update("flag/1", green);
  ASSERT_TRUE(d1.is_ok() && d2.is_ok());
  Actions a1 = core.on_message(Time(4ms), "b", kv_delta_message("b", 1, "flag/1", d1->delta));
  Actions a2 = core.on_message(Time(5ms), "b", kv_delta_message("b", 2, "flag/1", d2->delta));
  EXPECT_TRUE(test::events<KvChanged>(a1).empty());
  ASSERT_TRUE(a2.wake_at.has_value());
  Actions flushed = core.on_tick(*a2.wake_at);
  auto changes = test::events<KvChanged>(flushed);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].initial);
  auto state = crdt::Map::decode(changes[0].state);
  ASSERT_TRUE(state.is_ok());
  const crdt::MapValue value = state->value();
  EXPECT_EQ(std::get<crdt::Timestamped>(value.find("color", crdt::FieldType::lww_register)->value).value, "green");

  // The same delta again (a no-op merge), and a key the pattern does not
  // cover: no event.
  core.on_message(Time(20ms), "b", kv_delta_message("b", 3, "flag/1", d2->delta));
  auto other = b.update("other/1", blue);
  ASSERT_TRUE(other.is_ok());
  core.on_message(Time(21ms), "b", kv_delta_message("b", 4, "other/1", other->delta));
  EXPECT_TRUE(test::events<KvChanged>(core.on_tick(Time(100ms))).empty());

  // Unsubscribed: nothing more.
  EXPECT_TRUE(core.kv_unsubscribe(7));
  EXPECT_FALSE(core.kv_unsubscribe(7));
  std::vector<crdt::FieldOp> white{crdt::FieldOp::assign("color", "white", 10)};
  core.kv_update(Time(200ms), "flag/1", white, nullptr, w);
  ASSERT_TRUE(w.is_ok());
  ASSERT_FALSE(w->delta.is_bottom());
  EXPECT_TRUE(test::events<KvChanged>(core.on_tick(Time(300ms))).empty());
}

// Writes within kv.delta_batch_ms of a published delta are joined per key
// and leave together at the window's end; the receiver applies the batch.
TEST(NodeCore, kv_writes_of_a_burst_leave_as_one_batch_of_joined_deltas) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  Result<kv::KvStore::Written> w = Status::internal("unset");
  std::vector<crdt::FieldOp> add{crdt::FieldOp::increment("n", 1)};
  const uint64_t published_before = core.multicast().stats().published;
  // The first write after a quiet window is published at once.
  Actions first = core.kv_update(Time(10ms), "k/1", add, nullptr, w);
  ASSERT_TRUE(w.is_ok());
  EXPECT_EQ(core.multicast().stats().published, published_before + 1);
  // The next ones wait for the window's end: 100 writes on 3 keys.
  std::optional<Time> wake;
  for (int i = 0; i < 100; ++i) {
    Actions more = core.kv_update(Time(10ms + std::chrono::microseconds(i)), "k/" + std::to_string(i % 3), add,
                                  nullptr, w);
    ASSERT_TRUE(w.is_ok());
    // Each is persisted at once all the same.
    EXPECT_EQ(actions_of<PersistAction>(more).size(), 1u);
    if (more.wake_at) wake = *more.wake_at;
  }
  EXPECT_EQ(core.multicast().stats().published, published_before + 1);
  ASSERT_TRUE(wake.has_value());
  EXPECT_LE(*wake, Time(12ms));
  core.on_tick(*wake);
  EXPECT_EQ(core.multicast().stats().published, published_before + 2);

  // The batch as a receiver gets it: three keys whose joined deltas carry
  // every write.
  std::vector<kv::KeyDelta> deltas;
  for (const char* key : {"k/0", "k/1", "k/2"}) deltas.push_back({key, *core.kv().get_state(key)});
  const Bytes batch = kv::encode_batch(deltas);
  auto decoded = kv::decode_key_deltas(batch);
  ASSERT_TRUE(decoded.is_ok());
  ASSERT_EQ(decoded->size(), 3u);
  NodeCore receiver(config_for("b", {}), 1, {}, 2);
  receiver.on_start(Time(0));
  receiver.on_message(Time(20ms), "a",
                      wire::encode(wire::McData{"a", 1, 1, kv::kDeltaTopic, 3, false, batch}));
  int64_t total = 0;
  for (const char* key : {"k/0", "k/1", "k/2"}) {
    const crdt::Map* map = receiver.kv().get(key);
    ASSERT_NE(map, nullptr) << key;
    total += std::get<int64_t>(map->value().find("n", crdt::FieldType::counter)->value);
  }
  EXPECT_EQ(total, 101);

  // Malformed batches are refused whole: empty, trailing bytes, a bad key.
  EXPECT_FALSE(kv::decode_key_deltas(kv::encode_batch({})).is_ok());
  Bytes trailing = batch;
  trailing.push_back(0);
  EXPECT_FALSE(kv::decode_key_deltas(trailing).is_ok());
  EXPECT_FALSE(kv::decode_key_deltas(kv::encode_batch(std::vector<kv::KeyDelta>{{"", deltas[0].delta}})).is_ok());
  EXPECT_FALSE(kv::decode_key_deltas(Bytes{9, 1}).is_ok());
}

TEST(NodeCore, kv_deltas_are_published_one_by_one_without_a_batch_window) {
  NodeConfig config = config_for("a", {});
  config.kv_delta_batch = Duration(0);
  NodeCore core(config, 1, {}, 1);
  core.on_start(Time(0));
  Result<kv::KvStore::Written> w = Status::internal("unset");
  std::vector<crdt::FieldOp> add{crdt::FieldOp::increment("n", 1)};
  const uint64_t before = core.multicast().stats().published;
  for (int i = 0; i < 10; ++i) core.kv_update(Time(10ms), "k", add, nullptr, w);
  EXPECT_EQ(core.multicast().stats().published, before + 10);
}

// A change of a large value writes its delta, not the value; once the
// deltas add up to the value's size the value is written whole again and
// its deltas removed. What is on disk restores the same state.
TEST(NodeCore, a_large_value_is_persisted_as_deltas_until_they_add_up_to_the_value) {
  NodeCore core(config_for("a", {}), 1, {}, 1);
  core.on_start(Time(0));
  std::map<std::string, Bytes> disk;
  auto write_to_disk = [&](const Actions& out) {
    size_t bytes = 0;
    for (const auto& p : actions_of<PersistAction>(out)) {
      bytes += p.value.size();
      if (p.value.empty()) {
        disk.erase(p.key);
      } else {
        disk[p.key] = p.value;
      }
    }
    return bytes;
  };
  Result<kv::KvStore::Written> w = Status::internal("unset");
  std::vector<std::string> elements;
  for (int i = 0; i < 400; ++i) elements.push_back("backend-" + std::to_string(i) + ":8080");
  std::vector<crdt::FieldOp> big{crdt::FieldOp::add("backends", elements)};
  write_to_disk(core.kv_update(Time(1ms), "vip", big, nullptr, w));
  ASSERT_TRUE(w.is_ok());
  const size_t value_bytes = core.kv().encoded_bytes("vip");
  ASSERT_GT(value_bytes, 4000u);
  ASSERT_EQ(disk.count("kv/vip"), 1u);

  // Small changes: each writes well under a tenth of the value.
  size_t deltas = 0, rewrites = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<crdt::FieldOp> add{crdt::FieldOp::increment("version", 1)};
    Actions out = core.kv_update(Time(2ms + std::chrono::milliseconds(i)), "vip", add, nullptr, w);
    ASSERT_TRUE(w.is_ok());
    const size_t bytes = write_to_disk(out);
    bool whole = false;
    for (const auto& p : actions_of<PersistAction>(out)) whole = whole || p.key == "kv/vip";
    if (whole) {
      ++rewrites;
    } else {
      ++deltas;
      EXPECT_LT(bytes, value_bytes / 10) << "change " << i;
    }
  }
  EXPECT_GT(deltas, 1900u);
  EXPECT_GE(rewrites, 1u);
  // After a rewrite its deltas are gone: fewer delta records than changes.
  size_t delta_records = 0;
  for (const auto& [name, value] : disk) delta_records += name.starts_with(kPersistKvDeltaPrefix) ? 1 : 0;
  EXPECT_LT(delta_records, deltas);

  NodeCore::PersistedState restored_disk(disk.begin(), disk.end());
  NodeCore restarted(config_for("a", {}), 2, restored_disk, 1);
  ASSERT_TRUE(restarted.restore_status().is_ok()) << restarted.restore_status().message();
  ASSERT_NE(restarted.kv().get("vip"), nullptr);
  EXPECT_EQ(restarted.kv().get_state("vip")->encode(), core.kv().get_state("vip")->encode());

  // A damaged delta record stops the restore.
  for (auto& [name, value] : restored_disk) {
    if (name.starts_with(kPersistKvDeltaPrefix)) {
      value = Bytes{1, 2, 3};
      break;
    }
  }
  if (delta_records > 0) {
    NodeCore damaged(config_for("a", {}), 3, restored_disk, 1);
    EXPECT_FALSE(damaged.restore_status().is_ok());
  }
}

TEST(NodeCore, a_damaged_kv_record_is_reported_not_skipped) {
  NodeCore::PersistedState disk{{"kv/k", Bytes{1, 5, 0xff, 0xff}}};
  NodeCore core(config_for("a", {}), 2, disk, 1);
  EXPECT_EQ(core.restore_status().code(), StatusCode::storage);
  EXPECT_NE(core.restore_status().message().find("\"k\""), std::string::npos) << core.restore_status().message();
}

}  // namespace
}  // namespace lashup
