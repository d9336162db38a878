#include "storage/group_commit_flusher.h"

#include <utility>

namespace lashup::storage {

GroupCommitFlusher::GroupCommitFlusher(std::chrono::milliseconds delay, std::function<Status()> flush)
    : delay_(delay), flush_(std::move(flush)) {
  thread_ = std::thread([this] { run(); });
}

void GroupCommitFlusher::note_commit() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++committed_;
  // Notifying during the batch window would only wake the thread to sleep
  // again: one context switch per commit, which is what group commit avoids.
  if (idle_) work_.notify_one();
}

Status GroupCommitFlusher::wait_durable() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = committed_;
  flushed_.wait(lock, [&] { return durable_ >= target || !error_.is_ok() || stopped_; });
  if (!error_.is_ok()) return error_;
  if (durable_ < target) return Status::internal("storage: flusher stopped before flushing");
  return Status::ok();
}

Status GroupCommitFlusher::error() {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

Status GroupCommitFlusher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    work_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

void GroupCommitFlusher::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    idle_ = true;
    work_.wait(lock, [&] { return stopping_ || (committed_ > durable_ && error_.is_ok()); });
    idle_ = false;
    if (!error_.is_ok() || committed_ == durable_) break;  // stopping, nothing (more) to flush
    if (!stopping_) {
      // The batch window: commits arriving now share this flush.
      work_.wait_for(lock, delay_, [&] { return stopping_; });
    }
    const uint64_t target = committed_;
    lock.unlock();
    Status status = flush_();
    lock.lock();
    if (status.is_ok()) {
      durable_ = target;
    } else {
      error_ = std::move(status);
    }
    flushed_.notify_all();
  }
  stopped_ = true;
  flushed_.notify_all();
}

}  // namespace lashup::storage
