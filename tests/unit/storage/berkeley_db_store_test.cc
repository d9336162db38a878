// What only the Berkeley DB store can show: data outliving the process,
// kill -9, the data dir and its lock, log removal.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
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
using testing::TempDir;

Bytes bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

StoreOptions options_for(const std::string& dir, Durability durability) {
  StoreOptions options;
  options.dir = dir;
  options.durability = durability;
  options.group_commit = std::chrono::milliseconds(2);
  return options;
}

std::unique_ptr<Store> open_or_fail(const std::string& dir, Durability durability) {
  auto store = open_berkeley_db(options_for(dir, durability));
  EXPECT_TRUE(store.is_ok()) << store.status().message();
  return store.is_ok() ? std::move(store).value() : nullptr;
}

Map load(Store& store) {
  auto records = store.load_all();
  EXPECT_TRUE(records.is_ok()) << records.status().message();
  return records.is_ok() ? std::move(records).value() : Map{};
}

int count_files_starting_with(const std::string& dir, const std::string& prefix) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    count += entry.path().filename().string().rfind(prefix, 0) == 0;
  }
  return count;
}

// Runs `body` in a forked child and returns its exit code (or 128 + signal).
// The child never returns into the test framework.
int run_in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(BerkeleyDbStore, reopening_keeps_the_data_in_every_durability_mode) {
  for (Durability durability : {Durability::sync, Durability::group, Durability::none}) {
    SCOPED_TRACE(durability_name(durability));
    TempDir dir;
    {
      auto store = open_or_fail(dir.path(), durability);
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(store->apply({{"incarnation", bytes("3")}, {"members", bytes("a,b")}}).is_ok());
      ASSERT_TRUE(store->apply({{"members", {}}, {"passive", bytes("c")}}).is_ok());
      ASSERT_TRUE(store->wait_durable().is_ok());
    }
    auto reopened = open_or_fail(dir.path(), durability);
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(load(*reopened), (Map{{"incarnation", bytes("3")}, {"passive", bytes("c")}}));
  }
}

TEST(BerkeleyDbStore, creates_a_missing_data_dir_with_mode_0700) {
  TempDir dir;
  const std::string data_dir = dir.sub("a/b/node1");
  auto store = open_or_fail(data_dir, Durability::sync);
  ASSERT_NE(store, nullptr);
  struct stat info {};
  ASSERT_EQ(::stat(data_dir.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(BerkeleyDbStore, the_data_dir_holds_the_lock_the_database_and_the_log_only) {
  TempDir dir;
  auto store = open_or_fail(dir.path(), Durability::sync);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->apply({{"k", bytes("v")}}).is_ok());
  std::vector<std::string> unexpected;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name != "LOCK" && name != "lashup.db" && name.rfind("log.", 0) != 0) unexpected.push_back(name);
  }
  EXPECT_TRUE(unexpected.empty()) << unexpected.front();  // DB_PRIVATE: no __db.* region files
  EXPECT_EQ(count_files_starting_with(dir.path(), "log."), 1);
}

TEST(BerkeleyDbStore, a_data_dir_that_is_a_file_is_refused) {
  TempDir dir;
  const std::string file = dir.sub("not-a-dir");
  std::ofstream(file) << "x";
  auto store = open_berkeley_db(options_for(file, Durability::group));
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::io);
  EXPECT_NE(store.status().message().find("is not a directory"), std::string::npos) << store.status().message();
}

TEST(BerkeleyDbStore, a_data_dir_below_a_file_is_refused) {
  TempDir dir;
  const std::string file = dir.sub("file");
  std::ofstream(file) << "x";
  auto store = open_berkeley_db(options_for(file + "/node", Durability::group));
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::io);
  EXPECT_NE(store.status().message().find(file), std::string::npos) << store.status().message();
}

TEST(BerkeleyDbStore, an_empty_data_dir_path_is_invalid) {
  auto store = open_berkeley_db(options_for("", Durability::group));
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::invalid);
}

TEST(BerkeleyDbStore, an_unwritable_data_dir_is_refused) {
  TempDir dir;
  const std::string data_dir = dir.sub("read-only");
  ASSERT_EQ(::mkdir(data_dir.c_str(), 0555), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  // Root writes anywhere, so as root the check runs in a child that became
  // the unprivileged user "nobody".
  int result = run_in_child([&] {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 77;
    auto store = open_berkeley_db(options_for(data_dir, Durability::sync));
    if (store.is_ok()) return 1;
    if (store.status().code() != StatusCode::io) return 2;
    if (store.status().message().find("is not writable") == std::string::npos) return 3;
    if (store.status().message().find(data_dir) == std::string::npos) return 4;
    return 0;
  });
  EXPECT_NE(result, 77) << "the child could not drop root privileges, so the check could not run";
  EXPECT_EQ(result, 0);
}

TEST(BerkeleyDbStore, a_second_open_in_the_same_process_is_refused) {
  TempDir dir;
  auto first = open_or_fail(dir.path(), Durability::group);
  ASSERT_NE(first, nullptr);
  auto second = open_berkeley_db(options_for(dir.path(), Durability::group));
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::io);
  EXPECT_NE(second.status().message().find("already in use"), std::string::npos) << second.status().message();
  // The refused open did not disturb the first store.
  EXPECT_TRUE(first->apply({{"k", bytes("v")}}).is_ok());
}

TEST(BerkeleyDbStore, a_second_open_from_another_process_is_refused) {
  TempDir dir;
  // sync mode: no flusher thread, so the fork below copies a one-thread process.
  auto first = open_or_fail(dir.path(), Durability::sync);
  ASSERT_NE(first, nullptr);
  int result = run_in_child([&] {
    auto second = open_berkeley_db(options_for(dir.path(), Durability::sync));
    if (second.is_ok()) return 1;
    if (second.status().code() != StatusCode::io) return 2;
    return second.status().message().find("already in use") == std::string::npos ? 3 : 0;
  });
  EXPECT_EQ(result, 0);
}

TEST(BerkeleyDbStore, the_data_dir_can_be_opened_again_after_close) {
  TempDir dir;
  auto first = open_or_fail(dir.path(), Durability::group);
  ASSERT_NE(first, nullptr);
  first->close();
  auto second = open_or_fail(dir.path(), Durability::group);
  EXPECT_NE(second, nullptr);
}

TEST(BerkeleyDbStore, checkpoint_removes_log_files_no_longer_needed) {
  TempDir dir;
  auto store = open_or_fail(dir.path(), Durability::none);
  ASSERT_NE(store, nullptr);
  // Overwrite a few keys with 64 KB values: the log grows, the database does not.
  for (int i = 0; i < 2000 && count_files_starting_with(dir.path(), "log.") < 4; ++i) {
    ASSERT_TRUE(store->apply({{"key" + std::to_string(i % 4), Bytes(64 << 10, static_cast<uint8_t>(i))}}).is_ok());
  }
  const int before = count_files_starting_with(dir.path(), "log.");
  ASSERT_GE(before, 4);
  ASSERT_TRUE(store->checkpoint().is_ok());
  EXPECT_EQ(count_files_starting_with(dir.path(), "log."), 1) << "before: " << before;
  const Map kept = load(*store);
  store->close();
  auto reopened = open_or_fail(dir.path(), Durability::none);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(load(*reopened), kept);
  EXPECT_EQ(kept.size(), 4u);
}

TEST(BerkeleyDbStore, a_clean_close_leaves_one_log_file) {
  TempDir dir;
  {
    auto store = open_or_fail(dir.path(), Durability::none);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 80; ++i) {  // 5 MB of log: more than one 4 MB file
      ASSERT_TRUE(store->apply({{"key", Bytes(64 << 10, static_cast<uint8_t>(i))}}).is_ok());
    }
    ASSERT_GE(count_files_starting_with(dir.path(), "log."), 2);
  }
  EXPECT_EQ(count_files_starting_with(dir.path(), "log."), 1);
}

// --- kill -9 ---------------------------------------------------------------

enum class Acknowledge { after_apply, after_wait_durable };

std::string record_key(uint32_t i, char part) { return "rec/" + std::to_string(i) + "/" + part; }

// The child writes batch i = {rec/i/a, rec/i/b} and acknowledges i through the
// pipe once the contract says it is durable; the parent kills it with SIGKILL
// as soon as it has read `acks_before_kill` acknowledgements, while the child
// is still writing. Returns every acknowledged i.
std::vector<uint32_t> write_until_killed(const std::string& dir, Durability durability, Acknowledge acknowledge,
                                         uint32_t acks_before_kill) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    auto store = open_berkeley_db(options_for(dir, durability));
    if (!store.is_ok()) ::_exit(2);
    for (uint32_t i = 0; i < 1000000; ++i) {
      const Bytes value(100, static_cast<uint8_t>(i));
      if (!(*store)->apply({{record_key(i, 'a'), value}, {record_key(i, 'b'), value}}).is_ok()) ::_exit(3);
      if (acknowledge == Acknowledge::after_wait_durable && !(*store)->wait_durable().is_ok()) ::_exit(4);
      if (::write(pipe_fds[1], &i, sizeof(i)) != sizeof(i)) ::_exit(5);
    }
    ::_exit(6);  // never killed: the parent stopped reading
  }
  ::close(pipe_fds[1]);
  std::vector<uint32_t> acknowledged;
  bool killed = false;
  uint32_t i = 0;
  while (::read(pipe_fds[0], &i, sizeof(i)) == static_cast<ssize_t>(sizeof(i))) {
    acknowledged.push_back(i);
    if (!killed && acknowledged.size() >= acks_before_kill) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
  }
  // The read loop ends at EOF: the child is dead and every ack it sent is in.
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child exited with " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return acknowledged;
}

void expect_acknowledged_batches_survived(const std::string& dir, const std::vector<uint32_t>& acknowledged) {
  ASSERT_FALSE(acknowledged.empty());
  auto store = open_or_fail(dir, Durability::sync);  // runs recovery
  ASSERT_NE(store, nullptr);
  const Map records = load(*store);
  for (uint32_t i : acknowledged) {
    const Bytes value(100, static_cast<uint8_t>(i));
    auto a = records.find(record_key(i, 'a'));
    ASSERT_TRUE(a != records.end()) << "acknowledged batch " << i << " lost";
    EXPECT_EQ(a->second, value);
  }
  // Batches are transactions: after recovery each one is whole or absent,
  // including one that was in flight when the child died.
  for (const auto& [key, value] : records) {
    if (key.back() != 'a') continue;
    std::string partner = key;
    partner.back() = 'b';
    auto b = records.find(partner);
    ASSERT_TRUE(b != records.end()) << key << " without " << partner;
    EXPECT_EQ(b->second, value);
  }
  EXPECT_GE(records.size(), 2 * acknowledged.size());
}

TEST(BerkeleyDbStore, sync_mode_keeps_every_write_acknowledged_by_apply_across_kill_9) {
  TempDir dir;
  auto acknowledged = write_until_killed(dir.path(), Durability::sync, Acknowledge::after_apply, 50);
  expect_acknowledged_batches_survived(dir.path(), acknowledged);
}

TEST(BerkeleyDbStore, group_mode_keeps_every_write_acknowledged_by_wait_durable_across_kill_9) {
  TempDir dir;
  auto acknowledged = write_until_killed(dir.path(), Durability::group, Acknowledge::after_wait_durable, 50);
  expect_acknowledged_batches_survived(dir.path(), acknowledged);
}

// Group mode commits with DB_TXN_WRITE_NOSYNC: the log is in the kernel when
// apply returns, so a process crash (not an OS crash) loses nothing even
// before the flush.
TEST(BerkeleyDbStore, group_mode_keeps_every_write_acknowledged_by_apply_across_kill_9) {
  TempDir dir;
  auto acknowledged = write_until_killed(dir.path(), Durability::group, Acknowledge::after_apply, 2000);
  expect_acknowledged_batches_survived(dir.path(), acknowledged);
}

}  // namespace
}  // namespace lashup::storage
