// Sixteen nodes in one process, driven only through the public C API, with
// mutual TLS over loopback: they converge (every node lists every other as
// reachable), and destroying one is reported by all the others, both in
// their snapshots and as a reachability event. Waits are bounded polls.
#include <gtest/gtest.h>
#include <lashup/lashup.h>

#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/capi_cluster.h"

namespace {

using lashup::testing::eventually;
constexpr int kNodes = 16;

class CapiCluster : public lashup::testing::CapiClusterFixture {
 protected:
  // Members of `node`'s snapshot in state `state`, itself excluded.
  static size_t count_in_state(lashup_node_t* node, int state) {
    lashup_members_t* members = nullptr;
    if (lashup_node_members(node, &members) != LASHUP_OK) return 0;
    size_t n = 0;
    for (size_t i = 0; i < lashup_members_count(members); ++i) {
      if (lashup_members_name(members, i) == std::string(lashup_node_name(node))) continue;
      n += lashup_members_state(members, i) == state ? 1 : 0;
    }
    lashup_members_destroy(members);
    return n;
  }

  static int state_of(lashup_node_t* node, const std::string& name) {
    lashup_members_t* members = nullptr;
    if (lashup_node_members(node, &members) != LASHUP_OK) return -1;
    const long index = lashup_members_find(members, name.c_str());
    const int state = index < 0 ? -1 : lashup_members_state(members, static_cast<size_t>(index));
    lashup_members_destroy(members);
    return state;
  }

  // Takes node i's queued events, remembering the last reachability state
  // reported for each member.
  void drain(size_t i) {
    lashup_event_t* ev = nullptr;
    while (lashup_node_poll(nodes_[i], &ev, 0) == LASHUP_OK) {
      if (lashup_event_type(ev) == LASHUP_EVENT_REACHABILITY) last_state_[i][lashup_event_node(ev)] = lashup_event_state(ev);
      lashup_event_destroy(ev);
    }
  }

  std::vector<std::map<std::string, int>> last_state_;
};

TEST_F(CapiCluster, sixteen_nodes_converge_and_all_see_a_destroyed_node_unreachable) {
  lashup_node_t* first = start("n00", "");
  ASSERT_NE(first, nullptr);
  const std::string contacts = "n00@" + address(first);
  for (int i = 1; i < kNodes; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "n%02d", i);
    ASSERT_NE(start(name, contacts), nullptr);
  }

  // Converged: every snapshot lists every other node as reachable, and the
  // event stream (coalesced, so it may lag the snapshot) says so too.
  last_state_.resize(nodes_.size());
  const bool converged = eventually(
      [&] {
        for (size_t i = 0; i < nodes_.size(); ++i) {
          if (count_in_state(nodes_[i], LASHUP_REACHABLE) != kNodes - 1) return false;
          drain(i);
          size_t reachable_events = 0;
          for (const auto& [name, state] : last_state_[i]) reachable_events += state == LASHUP_REACHABLE ? 1 : 0;
          if (reachable_events != kNodes - 1) return false;
        }
        return true;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(converged);
  for (auto* node : nodes_) {
    uint64_t members = 0;
    ASSERT_EQ(lashup_node_stat(node, "members", &members), LASHUP_OK);
    EXPECT_EQ(members, static_cast<uint64_t>(kNodes));
  }

  // Destroy a node that is not the contact; its connections close.
  lashup_node_t* victim = nodes_[7];
  const std::string victim_name = lashup_node_name(victim);
  lashup_node_destroy(victim);
  nodes_.erase(nodes_.begin() + 7);
  last_state_.erase(last_state_.begin() + 7);

  const bool detected = eventually(
      [&] {
        for (size_t i = 0; i < nodes_.size(); ++i) {
          if (state_of(nodes_[i], victim_name) != LASHUP_UNREACHABLE) return false;
          drain(i);
          if (last_state_[i][victim_name] != LASHUP_UNREACHABLE) return false;
        }
        return true;
      },
      std::chrono::seconds(10));
  ASSERT_TRUE(detected);

  // Nobody else was reported unreachable: the last event about every other
  // member says reachable, as the snapshot does.
  for (size_t i = 0; i < nodes_.size(); ++i) {
    drain(i);
    for (const auto& [name, state] : last_state_[i]) {
      if (name != victim_name) EXPECT_EQ(state, LASHUP_REACHABLE) << name << " on " << lashup_node_name(nodes_[i]);
    }
    EXPECT_EQ(count_in_state(nodes_[i], LASHUP_REACHABLE), static_cast<size_t>(kNodes - 2)) << lashup_node_name(nodes_[i]);
  }
}

}  // namespace
