// Benchmarks of the KV store core (issue "Replicated CRDT key-value store",
// Benchmarks), single-threaded, no I/O. One JSON line per measurement:
//   kv_update    updates/s of the store alone (no persistence: the
//                durability modes are measured with Berkeley DB elsewhere)
//   kv_memory    heap bytes per key of a store of small values
//   kv_repair    anti-entropy of two stores of N keys with d differing:
//                messages and bytes of one round, against full state
// Heap bytes are counted by tests/bench/heap_counter.cc.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "heap_counter.h"
#include "core/kv/kv_sync.h"


namespace {

using namespace lashup;
using namespace lashup::kv;
using crdt::FieldOp;
using Clock = std::chrono::steady_clock;

std::string key_of(int i) { return "vips/10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":80"; }

// A VIP record: a set of two backends and a counter.
std::vector<FieldOp> record_ops(int i) {
  return {FieldOp::add("backends", {"10.1." + std::to_string(i % 200) + ".1:8080", "10.1.0.2:8080"}),
          FieldOp::increment("version", 1)};
}

void bench_update() {
  KvStore store({}, ReplicaId{"agent-0001", 1});
  constexpr int kKeys = 1000;
  constexpr int kUpdates = 200000;
  for (int i = 0; i < kKeys; ++i) (void)store.update(key_of(i), record_ops(i));
  const auto start = Clock::now();
  for (int i = 0; i < kUpdates; ++i) {
    std::vector<FieldOp> ops{FieldOp::increment("version", 1)};
    if (!store.update(key_of(i % kKeys), ops)) std::abort();
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("{\"bench\":\"kv_update\",\"durability\":\"core (no persistence)\",\"keys\":%d,\"updates\":%d,"
              "\"updates_per_s\":%.0f}\n",
              kKeys, kUpdates, kUpdates / s);
}

void bench_memory(int keys) {
  const size_t before = lashup::bench::heap_bytes();
  {
    auto* store = new KvStore({}, ReplicaId{"agent-0001", 1});
    for (int i = 0; i < keys; ++i) (void)store->update(key_of(i), record_ops(i));
    const size_t bytes = lashup::bench::heap_bytes() - before;
    std::printf("{\"bench\":\"kv_memory\",\"keys\":%d,\"bytes_per_key\":%.0f,\"value\":\"2-element set + counter\"}\n",
                keys, static_cast<double>(bytes) / keys);
    delete store;
  }
}

struct Round {
  size_t messages = 0;
  size_t bytes = 0;
};

Round sync_round(KvSync& a_sync, KvSync& b_sync) {
  Round r;
  Actions first;
  a_sync.start(Time(0));
  a_sync.tick(Time(std::chrono::seconds(10)), {"b"}, first);
  std::deque<std::pair<bool, Bytes>> queue;  // (to b?, message)
  for (auto& item : first.items) queue.emplace_back(true, std::get<SendAction>(item).message);
  while (!queue.empty()) {
    auto [to_b, bytes] = std::move(queue.front());
    queue.pop_front();
    ++r.messages;
    r.bytes += bytes.size();
    wire::Reader reader(bytes);
    auto type = wire::read_message_type(reader);
    Actions out;
    (to_b ? b_sync : a_sync).handle(Time(0), to_b ? "a" : "b", *type, reader, out);
    for (auto& item : out.items) {
      if (auto* send = std::get_if<SendAction>(&item)) queue.emplace_back(!to_b, send->message);
    }
  }
  return r;
}

void bench_repair(int keys, int differing) {
  Random ra(1), rb(2);
  KvStore a({}, ReplicaId{"a", 1});
  KvStore b({}, ReplicaId{"b", 1});
  KvSync a_sync({}, a, ra, [](Time, const std::string&, const crdt::JoinOutcome&, Actions&) {});
  KvSync b_sync({}, b, rb, [](Time, const std::string&, const crdt::JoinOutcome&, Actions&) {});
  size_t full_state_bytes = 0;
  for (int i = 0; i < keys; ++i) {
    (void)a.update(key_of(i), record_ops(i));
    (void)b.apply(key_of(i), *a.get_state(key_of(i)));
    full_state_bytes += key_of(i).size() + a.get_state(key_of(i))->encode().size();
  }
  const std::vector<FieldOp> bump{FieldOp::increment("version", 1)};
  for (int d = 0; d < differing; ++d) (void)b.update(key_of(d * 37 % keys), bump);
  const auto start = Clock::now();
  const Round r = sync_round(a_sync, b_sync);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf("{\"bench\":\"kv_repair\",\"keys\":%d,\"differing\":%d,\"messages\":%zu,\"bytes\":%zu,"
              "\"full_state_bytes\":%zu,\"sync_bytes_ratio\":%.6f,\"equal_after\":%s,\"cpu_ms\":%.1f}\n",
              keys, differing, r.messages, r.bytes, full_state_bytes,
              static_cast<double>(r.bytes) / static_cast<double>(full_state_bytes),
              a.digest() == b.digest() ? "true" : "false", ms);
}

}  // namespace

int main() {
  bench_update();
  bench_memory(100000);
  bench_repair(100000, 0);
  bench_repair(100000, 1);
  bench_repair(100000, 100);
  return 0;
}
