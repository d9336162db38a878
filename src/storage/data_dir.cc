#include "storage/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lashup::storage {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

// mkdir -p with mode 0700 for every directory it creates.
Status make_directories(const std::string& dir) {
  struct stat info {};
  if (::stat(dir.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) return Status::io("storage: data dir '" + dir + "' exists and is not a directory");
    return Status::ok();
  }
  if (errno != ENOENT) return Status::io("storage: cannot stat data dir '" + dir + "': " + errno_text(errno));
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    Status parent = make_directories(dir.substr(0, slash));
    if (!parent) return parent;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::io("storage: cannot create data dir '" + dir + "': " + errno_text(errno));
  }
  return Status::ok();
}

}  // namespace

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Status DataDirLock::acquire(const std::string& dir, DataDirLock* lock) {
  if (dir.empty()) return Status::invalid("storage: data dir is empty");
  Status made = make_directories(dir);
  if (!made) return made;
  // Root ignores permission bits on open(), so ask access() as well: a node
  // that cannot write its dir should fail here, clearly, not deep in the log.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return Status::io("storage: data dir '" + dir + "' is not writable: " + errno_text(errno));
  }
  std::string path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io("storage: cannot open lock file '" + path + "': " + errno_text(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Status::io("storage: data dir '" + dir + "' is already in use by another store (" + path +
                        " is locked); one node per data dir");
    }
    return Status::io("storage: cannot lock '" + path + "': " + errno_text(error));
  }
  lock->release();
  lock->fd_ = fd;
  return Status::ok();
}

void DataDirLock::release() {
  if (fd_ >= 0) {
    ::close(fd_);  // closing the last fd of the description drops the flock
    fd_ = -1;
  }
}

}  // namespace lashup::storage
