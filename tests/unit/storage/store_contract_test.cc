// The Store contract, run against the in-memory store and the Berkeley DB
// store in each durability mode: whatever the simulator learns about the
// in-memory store holds for the real one.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.h"
#include "temp_dir.h"

namespace lashup::storage {
namespace {

using Bytes = std::vector<uint8_t>;
using Writes = std::vector<std::pair<std::string, Bytes>>;

Bytes bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

struct Implementation {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
};

std::unique_ptr<Store> open_bdb(const std::string& dir, Durability durability) {
  StoreOptions options;
  options.dir = dir;
  options.durability = durability;
  options.group_commit = std::chrono::milliseconds(2);
  auto store = open_berkeley_db(options);
  EXPECT_TRUE(store.is_ok()) << store.status().message();
  return store.is_ok() ? std::move(store).value() : nullptr;
}

class StoreContract : public ::testing::TestWithParam<Implementation> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  Map load() {
    auto records = store_->load_all();
    EXPECT_TRUE(records.is_ok()) << records.status().message();
    return records.is_ok() ? std::move(records).value() : Map{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContract, a_new_store_is_empty) { EXPECT_TRUE(load().empty()); }

TEST_P(StoreContract, stores_and_loads_records) {
  ASSERT_TRUE(store_->apply({{"incarnation", bytes("7")}, {"passive_view", bytes("a,b,c")}}).is_ok());
  EXPECT_EQ(load(), (Map{{"incarnation", bytes("7")}, {"passive_view", bytes("a,b,c")}}));
}

TEST_P(StoreContract, keys_and_values_are_arbitrary_bytes) {
  const std::string key("k\0\xff/x", 5);
  const Bytes value{0, 1, 0, 255};
  ASSERT_TRUE(store_->apply({{key, value}}).is_ok());
  EXPECT_EQ(load(), (Map{{key, value}}));
}

TEST_P(StoreContract, a_later_apply_overwrites) {
  ASSERT_TRUE(store_->apply({{"k", bytes("old")}}).is_ok());
  ASSERT_TRUE(store_->apply({{"k", bytes("new")}}).is_ok());
  EXPECT_EQ(load(), (Map{{"k", bytes("new")}}));
}

TEST_P(StoreContract, an_empty_value_deletes_the_key) {
  ASSERT_TRUE(store_->apply({{"gone", bytes("x")}, {"kept", bytes("y")}}).is_ok());
  ASSERT_TRUE(store_->apply({{"gone", {}}}).is_ok());
  EXPECT_EQ(load(), (Map{{"kept", bytes("y")}}));
}

TEST_P(StoreContract, deleting_a_missing_key_is_not_an_error) {
  EXPECT_TRUE(store_->apply({{"never-written", {}}}).is_ok());
  EXPECT_TRUE(load().empty());
}

TEST_P(StoreContract, writes_of_a_batch_apply_in_order) {
  ASSERT_TRUE(store_->apply({{"a", bytes("1")}, {"a", bytes("2")}, {"b", bytes("x")}, {"b", {}}}).is_ok());
  EXPECT_EQ(load(), (Map{{"a", bytes("2")}}));
}

TEST_P(StoreContract, a_batch_with_an_empty_key_applies_none_of_its_writes) {
  ASSERT_TRUE(store_->apply({{"a", bytes("before")}}).is_ok());
  Status status = store_->apply({{"a", bytes("after")}, {"b", bytes("new")}, {"", bytes("bad")}});
  EXPECT_EQ(status.code(), StatusCode::invalid);
  EXPECT_EQ(load(), (Map{{"a", bytes("before")}}));
}

TEST_P(StoreContract, an_empty_batch_is_accepted) {
  EXPECT_TRUE(store_->apply({}).is_ok());
  EXPECT_TRUE(load().empty());
}

TEST_P(StoreContract, a_large_batch_commits_as_one_transaction) {
  Writes writes;
  Map expected;
  for (int i = 0; i < 20000; ++i) {
    std::string key = "nodes/n" + std::to_string(i);
    writes.emplace_back(key, Bytes(200, static_cast<uint8_t>(i)));
    expected[key] = Bytes(200, static_cast<uint8_t>(i));
  }
  Status status = store_->apply(writes);
  ASSERT_TRUE(status.is_ok()) << status.message();
  EXPECT_EQ(load(), expected);
}

TEST_P(StoreContract, values_larger_than_a_page_round_trip) {
  Bytes big(100000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  ASSERT_TRUE(store_->apply({{"big", big}}).is_ok());
  EXPECT_EQ(load(), (Map{{"big", big}}));
}

TEST_P(StoreContract, wait_durable_and_checkpoint_succeed) {
  ASSERT_TRUE(store_->apply({{"k", bytes("v")}}).is_ok());
  EXPECT_TRUE(store_->wait_durable().is_ok());
  EXPECT_TRUE(store_->checkpoint().is_ok());
  EXPECT_TRUE(store_->wait_durable().is_ok());
  EXPECT_EQ(load(), (Map{{"k", bytes("v")}}));
}

TEST_P(StoreContract, calls_after_close_are_refused) {
  store_->close();
  store_->close();  // idempotent
  EXPECT_EQ(store_->apply({{"k", bytes("v")}}).code(), StatusCode::invalid);
  EXPECT_EQ(store_->load_all().status().code(), StatusCode::invalid);
  EXPECT_EQ(store_->wait_durable().code(), StatusCode::invalid);
  EXPECT_EQ(store_->checkpoint().code(), StatusCode::invalid);
}

INSTANTIATE_TEST_SUITE_P(
    Implementations, StoreContract,
    ::testing::Values(
        Implementation{"in_memory", [](const std::string&) { return open_in_memory(); }},
        Implementation{"bdb_sync", [](const std::string& dir) { return open_bdb(dir, Durability::sync); }},
        Implementation{"bdb_group", [](const std::string& dir) { return open_bdb(dir, Durability::group); }},
        Implementation{"bdb_none", [](const std::string& dir) { return open_bdb(dir, Durability::none); }}),
    [](const ::testing::TestParamInfo<Implementation>& info) { return info.param.name; });

}  // namespace
}  // namespace lashup::storage
