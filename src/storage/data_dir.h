// The data dir: created if missing, checked to be a writable directory, and
// held exclusively by one Store through a lock file.
#pragma once

#include <string>

#include "core/common/status.h"

namespace lashup::storage {

// Holds flock(LOCK_EX) on <dir>/LOCK while alive. flock locks belong to the
// open file description, so a second open of the same dir is refused whether
// it comes from another process or from this one (fcntl locks would let this
// process lock twice). The kernel drops the lock when the holder dies, so a
// kill -9 leaves nothing stale. The fd is close-on-exec so that a child that
// execs does not inherit the lock.
class DataDirLock {
 public:
  DataDirLock() = default;
  ~DataDirLock() { release(); }
  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  // Creates dir (and missing parents, mode 0700) and takes the lock.
  static Status acquire(const std::string& dir, DataDirLock* lock);
  void release();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace lashup::storage
