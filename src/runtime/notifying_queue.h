// A bounded multi-producer, multi-consumer queue with a file descriptor
// that is readable exactly while the queue is non-empty (level-triggered),
// so a consumer can wait in its own loop: Python asyncio's add_reader, Go's
// poller, nginx's epoll. The runtime uses one for events (loop thread ->
// API threads) and one for commands (API threads -> loop thread).
//
// The eventfd is written when the queue goes from empty to non-empty and
// drained when a pop empties it, both under the queue's mutex, so a wake-up
// is never lost and never spurious for long (rd_kafka's queue io event and
// nng's level-triggered poll fds work the same way).
//
// Bounded: when full, push either refuses (commands: the caller gets
// LASHUP_ERR_AGAIN) or drops the oldest item and counts it (events: a slow
// consumer must not grow memory without limit).
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "core/common/status.h"

namespace lashup::runtime {

enum class WhenFull { refuse, drop_oldest };

template <typename T>
class NotifyingQueue {
 public:
  NotifyingQueue(size_t capacity, WhenFull when_full) : capacity_(capacity), when_full_(when_full) {}
  ~NotifyingQueue() {
    if (fd_ >= 0) ::close(fd_);
  }
  NotifyingQueue(const NotifyingQueue&) = delete;
  NotifyingQueue& operator=(const NotifyingQueue&) = delete;

  // Creates the eventfd; until then the queue works without one.
  Status open_fd() {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return Status::io(std::string("eventfd: ") + std::strerror(errno));
    fd_ = fd;
    return Status::ok();
  }
  int fd() const { return fd_; }

  // False if the queue is full and refuses, or is closed.
  bool push(T item) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return false;
      if (items_.size() >= capacity_) {
        if (when_full_ == WhenFull::refuse) {
          ++refused_;
          return false;
        }
        items_.pop_front();
        ++dropped_;
      }
      items_.push_back(std::move(item));
      if (items_.size() == 1) signal_locked();
    }
    ready_.notify_one();
    return true;
  }

  // The oldest item, waiting up to `timeout` (zero: do not wait). Nothing if
  // the wait ran out, or the queue is closed and empty.
  // A negative timeout waits until an item arrives or the queue is closed.
  std::optional<T> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (items_.empty() && timeout.count() < 0) {
      ready_.wait(lock, [this] { return !items_.empty() || closed_; });
    } else if (items_.empty() && timeout.count() > 0) {
      ready_.wait_for(lock, timeout, [this] { return !items_.empty() || closed_; });
    }
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    if (items_.empty()) drain_locked();
    return item;
  }

  // Wakes every waiter; later pushes fail, pops drain what is left.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      signal_locked();  // readable so a poller notices the close
    }
    ready_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  uint64_t refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
  }

 private:
  void signal_locked() {
    if (fd_ < 0) return;
    const uint64_t one = 1;
    // EAGAIN (counter at its maximum) cannot happen: we write once per
    // empty -> non-empty transition and drain on the reverse one.
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  }
  void drain_locked() {
    if (fd_ < 0 || closed_) return;
    uint64_t value = 0;
    [[maybe_unused]] ssize_t n = ::read(fd_, &value, sizeof value);
  }

  const size_t capacity_;
  const WhenFull when_full_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<T> items_;
  bool closed_ = false;
  int fd_ = -1;
  uint64_t dropped_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace lashup::runtime
