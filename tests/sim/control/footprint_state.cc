// Scenario "footprint-state": the membership and adjacency state one node
// holds when the cluster has N members, without simulating N full nodes.
//
// The `footprint` scenario measures this on every node of a simulated
// cluster, which at 5,000 nodes needs more memory than this machine has (the
// simulator holds 5,000 copies of a 5,000-member state). Here one node's
// Membership receives, through the normal message path, the records of a
// cluster of N members whose overlay is a random symmetric graph with the
// active-view size as degree (what HyParView converges to), with node names
// and addresses as the simulator gives them. At N = 1,000 it gives the same
// figure as `footprint` (within a few percent), which is what makes the
// larger sizes credible.
#include <algorithm>
#include <chrono>
#include <set>

#include "core/membership/membership.h"
#include "core/overlay/overlay.h"
#include "core/node/connections.h"
#include "core/wire/membership_messages.h"
#include "core/wire/message.h"
#include "scenario.h"

namespace lashup::sim {
namespace {

using namespace std::chrono_literals;

struct NoListener : MembershipListener {
  void on_dropped_by_other(Time, const NodeName&, const NodeName&, Actions&) override {}
};

NodeName name_of(uint32_t index) { return "n" + std::to_string(index); }

// A random graph where every vertex has `degree` distinct neighbours (or
// close to it: the last few vertices may get fewer), edges symmetric.
std::vector<std::set<uint32_t>> random_overlay(uint32_t nodes, uint32_t degree, Random& random) {
  std::vector<std::set<uint32_t>> edges(nodes);
  for (uint32_t v = 0; v < nodes; ++v) {
    for (uint32_t attempt = 0; edges[v].size() < degree && attempt < 20 * degree; ++attempt) {
      const auto w = static_cast<uint32_t>(random.uniform(nodes));
      if (w == v || edges[w].size() >= degree) continue;
      edges[v].insert(w);
      edges[w].insert(v);
    }
  }
  return edges;
}

ScenarioOutcome run_footprint_state(const ScenarioOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("footprint-state", options);
  const uint32_t n = std::max<uint32_t>(options.nodes, 2);
  const auto degree = static_cast<uint32_t>(OverlayConfig{}.active_view_size);
  Random random(options.seed);
  const auto overlay = random_overlay(n, degree, random);

  // Node 0 is the one measured; its neighbours send it every record.
  Connections connections(10s);
  NoListener listener;
  Membership membership(MembershipConfig{}, {name_of(0), name_of(0) + ":7450"}, 1, random, connections, listener);
  Time now{1s};
  Actions out;
  membership.start(now, out);
  std::vector<NodeName> own_view;
  for (uint32_t w : overlay[0]) own_view.push_back(name_of(w));
  std::sort(own_view.begin(), own_view.end());
  for (const auto& peer : own_view) connections.on_up(now, peer, wire::kProtocolVersion, out);
  membership.set_active_view(now, own_view, true, out);

  const NodeName from = own_view.empty() ? name_of(1) : own_view.front();
  constexpr uint32_t kBatch = 64;  // records per message, as floods and catch-up send them
  for (uint32_t first = 1; first < n; first += kBatch) {
    wire::MemberRecords message;
    message.ttl = 0;
    for (uint32_t v = first; v < std::min(n, first + kBatch); ++v) {
      wire::MemberRecord record;
      record.name = name_of(v);
      record.address = name_of(v) + ":7450";
      record.incarnation = 1;
      record.version = 1;
      for (uint32_t w : overlay[v]) record.active_view.push_back(name_of(w));
      std::sort(record.active_view.begin(), record.active_view.end());
      message.records.push_back(std::move(record));
    }
    const Bytes bytes = wire::encode(message);
    wire::Reader reader(bytes);
    (void)wire::read_message_type(reader);
    Actions ignored;
    if (!membership.handle(now, from, wire::MessageType::member_records, reader, ignored)) {
      outcome.ok = false;
      outcome.failure = "a record batch was refused";
      return outcome;
    }
    now += 1ms;
  }
  Actions ignored;
  membership.tick(now + 10s, ignored);  // reports, route tree

  const double bytes_per_node = static_cast<double>(membership.footprint_bytes());
  outcome.ok = membership.member_count() == n && membership.reachable_member_count() + 1 == n;
  if (!outcome.ok) outcome.failure = "the measured node does not list and reach every member";
  // Goal of the `footprint` scenario: 5 KB per member (5 MB at 1,000).
  if (outcome.ok && bytes_per_node > 5000.0 * n) {
    outcome.ok = false;
    outcome.failure = "membership state above 5 KB per member";
  }
  outcome.figures.add("bytes_per_node", bytes_per_node)
      .add("bytes_per_member", bytes_per_node / n)
      .add("members", static_cast<uint64_t>(membership.member_count()))
      .add("wall_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return outcome;
}

const bool registered = register_scenario({
    .name = "footprint-state",
    .summary = "one node's membership + adjacency state when the cluster has N members, fed the records of a "
               "random overlay of N nodes (goal: 5 KB per member; matches `footprint` at 1,000)",
    .default_nodes = 5000,
    .default_duration = 1s,
    .params = {},
    .run = run_footprint_state,
});

}  // namespace
}  // namespace lashup::sim
