// Group commit (crdt-notes §5.1.4): transactions commit with the log written
// but not fsynced, and this thread fsyncs the log once at most `delay` after
// the first unflushed commit, so one fsync covers every commit of the window.
// Idle, the thread sleeps without a timer: no wake-ups when nothing is written.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "core/common/status.h"

namespace lashup::storage {

class GroupCommitFlusher {
 public:
  // `flush` makes every commit noted so far durable (log_flush). It runs on
  // the flusher thread, without the flusher's lock held, concurrently with
  // new commits.
  GroupCommitFlusher(std::chrono::milliseconds delay, std::function<Status()> flush);
  ~GroupCommitFlusher() { stop(); }
  GroupCommitFlusher(const GroupCommitFlusher&) = delete;
  GroupCommitFlusher& operator=(const GroupCommitFlusher&) = delete;

  // Records one commit to be flushed. Wakes the thread only if it was idle.
  void note_commit();

  // Blocks until every commit noted before the call is flushed. Returns the
  // flush error, which is sticky: after a failed fsync the kernel may have
  // dropped the dirty pages, so a later "successful" fsync proves nothing.
  Status wait_durable();

  // The sticky flush error, ok if none.
  Status error();

  // Flushes what is pending, then joins the thread. Idempotent. Must not be
  // called from inside `flush`.
  Status stop();

 private:
  void run();

  const std::chrono::milliseconds delay_;
  const std::function<Status()> flush_;
  std::mutex mutex_;
  std::condition_variable work_;     // the thread waits here: commits pending or stop
  std::condition_variable flushed_;  // wait_durable waits here
  uint64_t committed_ = 0;           // commits noted
  uint64_t durable_ = 0;             // commits covered by a finished flush
  bool idle_ = false;                // the thread waits for a first commit
  bool stopping_ = false;
  bool stopped_ = false;
  Status error_;
  std::thread thread_;
};

}  // namespace lashup::storage
