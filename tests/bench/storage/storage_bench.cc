// Benchmarks of the Berkeley DB store (docs/STORAGE.md). One JSON line per
// measurement, units in the field names:
//   storage_commit        commits_per_s, commit_p50_us, commit_p99_us per durability
//                         mode, 1 and 100 writes (12-byte key, 200-byte value) per commit
//   storage_durable_ack   apply + wait_durable in group mode: the latency of an
//                         acknowledgement that survives an OS crash
//   storage_recovery      open after a process died without closing
//   storage_checkpoint    checkpoint after the commit runs, and the log files it left
//   storage_open          opening a new store: time and resident memory added
// Usage: storage_bench [dir]   (default: a fresh directory under $TMPDIR)
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace {

using lashup::storage::Durability;
using lashup::storage::Store;
using lashup::storage::StoreOptions;
using Clock = std::chrono::steady_clock;
using Writes = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

constexpr auto kRunTime = std::chrono::seconds(2);

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

std::string key_of(uint64_t i) {
  char key[16];
  std::snprintf(key, sizeof(key), "k%011" PRIu64, i);
  return key;
}

std::unique_ptr<Store> open_store(const std::string& dir, Durability durability) {
  StoreOptions options;
  options.dir = dir;
  options.durability = durability;
  auto store = lashup::storage::open_berkeley_db(options);
  if (!store.is_ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), store.status().message().c_str());
    std::exit(1);
  }
  return std::move(store).value();
}

int count_log_files(const std::string& dir) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    count += entry.path().filename().string().rfind("log.", 0) == 0;
  }
  return count;
}

Writes batch(uint64_t first, size_t writes_per_commit) {
  Writes writes;
  for (size_t j = 0; j < writes_per_commit; ++j) {
    writes.emplace_back(key_of(first + j), std::vector<uint8_t>(200, static_cast<uint8_t>(first + j)));
  }
  return writes;
}

void bench_commits(const std::string& root, Durability durability, size_t writes_per_commit, bool wait_each) {
  const std::string dir = root + "/commit_" + lashup::storage::durability_name(durability) + "_" +
                          std::to_string(writes_per_commit) + (wait_each ? "_ack" : "");
  auto store = open_store(dir, durability);
  std::vector<double> latencies_us;
  uint64_t next_key = 0;
  const auto start = Clock::now();
  while (Clock::now() - start < kRunTime && latencies_us.size() < 1000000) {
    Writes writes = batch(next_key, writes_per_commit);
    next_key += writes_per_commit;
    const auto before = Clock::now();
    lashup::Status status = store->apply(writes);
    if (status && wait_each) status = store->wait_durable();
    latencies_us.push_back(micros(Clock::now() - before));
    if (!status) {
      std::fprintf(stderr, "apply: %s\n", status.message().c_str());
      std::exit(1);
    }
  }
  if (!store->wait_durable()) std::exit(1);  // the run ends when everything is durable
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double commits = static_cast<double>(latencies_us.size());
  std::printf(
      "{\"bench\":\"%s\",\"durability\":\"%s\",\"writes_per_commit\":%zu,\"commits\":%zu,"
      "\"commits_per_s\":%.0f,\"writes_per_s\":%.0f,\"commit_p50_us\":%.1f,\"commit_p99_us\":%.1f}\n",
      wait_each ? "storage_durable_ack" : "storage_commit", lashup::storage::durability_name(durability),
      writes_per_commit, latencies_us.size(), commits / seconds,
      commits * static_cast<double>(writes_per_commit) / seconds, percentile(latencies_us, 0.5),
      percentile(latencies_us, 0.99));
  std::fflush(stdout);

  if (durability == Durability::group && writes_per_commit == 1 && !wait_each) {
    const int logs_before = count_log_files(dir);
    const auto checkpoint_start = Clock::now();
    if (!store->checkpoint()) std::exit(1);
    std::printf("{\"bench\":\"storage_checkpoint\",\"records\":%" PRIu64
                ",\"checkpoint_ms\":%.1f,\"log_files_before\":%d,\"log_files_after\":%d}\n",
                next_key, micros(Clock::now() - checkpoint_start) / 1000, logs_before, count_log_files(dir));
    std::fflush(stdout);
  }
}

// A child commits `commits` single-write transactions in group mode and dies
// with _exit() without closing; the parent times the reopen (recovery).
void bench_recovery(const std::string& root, uint64_t commits) {
  const std::string dir = root + "/recovery";
  pid_t pid = ::fork();
  if (pid == 0) {
    auto store = open_store(dir, Durability::group);
    for (uint64_t i = 0; i < commits; ++i) {
      if (!store->apply(batch(i, 1))) ::_exit(1);
    }
    ::_exit(store->wait_durable() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::exit(1);
  const int logs = count_log_files(dir);
  const auto start = Clock::now();
  auto store = open_store(dir, Durability::group);
  const double recovery_ms = micros(Clock::now() - start) / 1000;
  auto records = store->load_all();
  std::printf("{\"bench\":\"storage_recovery\",\"commits\":%" PRIu64
              ",\"log_files\":%d,\"recovery_ms\":%.1f,\"records_after\":%zu}\n",
              commits, logs, recovery_ms, records.is_ok() ? records->size() : 0);
  std::fflush(stdout);
}

long resident_kb() {
  long pages_total = 0, pages_resident = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return -1;
  if (std::fscanf(statm, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = -1;
  std::fclose(statm);
  return pages_resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

void bench_open(const std::string& root) {
  const long before_kb = resident_kb();
  const auto start = Clock::now();
  auto store = open_store(root + "/open", Durability::group);
  const double open_ms = micros(Clock::now() - start) / 1000;
  std::printf("{\"bench\":\"storage_open\",\"open_ms\":%.1f,\"cache_mb\":%zu,\"rss_added_kb\":%ld}\n", open_ms,
              StoreOptions{}.cache_bytes >> 20, resident_kb() - before_kb);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string root;
  bool remove_root = false;
  if (argc > 1) {
    root = argv[1];
  } else {
    std::string pattern = (std::filesystem::temp_directory_path() / "lashup_storage_bench_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return 1;
    root = pattern;
    remove_root = true;
  }
  bench_open(root);
  for (Durability durability : {Durability::sync, Durability::group, Durability::none}) {
    bench_commits(root, durability, 1, false);
    bench_commits(root, durability, 100, false);
  }
  bench_commits(root, Durability::group, 1, true);
  bench_recovery(root, 100000);
  if (remove_root) std::filesystem::remove_all(root);
  return 0;
}
