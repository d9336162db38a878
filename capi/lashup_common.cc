// Version, errors and memory of the C API.
#include <cstdlib>

#include "capi/capi_internal.h"

namespace lashup::capi {
namespace {
thread_local std::string last_error_detail;
}  // namespace

int fail(int code, std::string message) {
  last_error_detail = std::move(message);
  return code;
}

int fail(const Status& status) { return fail(error_code(status.code()), status.message()); }

const char* last_error_view() { return last_error_detail.c_str(); }

int succeed() {
  last_error_detail.clear();
  return LASHUP_OK;
}

int error_code(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return LASHUP_OK;
    case StatusCode::invalid: return LASHUP_ERR_INVALID;
    case StatusCode::not_found: return LASHUP_ERR_NOT_FOUND;
    case StatusCode::conflict: return LASHUP_ERR_CONFLICT;
    case StatusCode::too_large: return LASHUP_ERR_TOO_LARGE;
    case StatusCode::unsupported: return LASHUP_ERR_VERSION;
    case StatusCode::io: return LASHUP_ERR_IO;
    case StatusCode::tls: return LASHUP_ERR_TLS;
    case StatusCode::storage: return LASHUP_ERR_STORAGE;
    case StatusCode::state: return LASHUP_ERR_STATE;
    case StatusCode::permission: return LASHUP_ERR_PERMISSION;
    case StatusCode::type_mismatch: return LASHUP_ERR_TYPE;
    case StatusCode::closed: return LASHUP_ERR_CLOSED;
    case StatusCode::again: return LASHUP_ERR_AGAIN;
    case StatusCode::internal: return LASHUP_ERR_INTERNAL;
  }
  return LASHUP_ERR_INTERNAL;
}

void write_errbuf(char* errbuf, size_t errbuf_len, const std::string& message) {
  if (errbuf == nullptr || errbuf_len == 0) return;
  const size_t n = message.size() < errbuf_len - 1 ? message.size() : errbuf_len - 1;
  std::memcpy(errbuf, message.data(), n);
  errbuf[n] = '\0';
}

char* duplicate_string(const std::string& text) {
  auto* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

}  // namespace lashup::capi

using namespace lashup::capi;

extern "C" {

LASHUP_API uint32_t lashup_version(void) { return LASHUP_VERSION_NUMBER; }

LASHUP_API const char* lashup_version_string(void) { return LASHUP_VERSION_STRING; }

LASHUP_API const char* lashup_strerror(int err) {
  switch (err) {
    case LASHUP_OK: return "success";
    case LASHUP_ERR_INVALID: return "invalid argument";
    case LASHUP_ERR_NOMEM: return "out of memory";
    case LASHUP_ERR_AGAIN: return "resource temporarily unavailable";
    case LASHUP_ERR_TIMEOUT: return "timed out";
    case LASHUP_ERR_CLOSED: return "node is stopped";
    case LASHUP_ERR_NOT_FOUND: return "not found";
    case LASHUP_ERR_IO: return "input/output error";
    case LASHUP_ERR_TLS: return "TLS error";
    case LASHUP_ERR_STORAGE: return "storage error";
    case LASHUP_ERR_VERSION: return "incompatible version";
    case LASHUP_ERR_CONFLICT: return "conflicting concurrent update";
    case LASHUP_ERR_TOO_LARGE: return "size limit exceeded";
    case LASHUP_ERR_STATE: return "not allowed in the current state";
    case LASHUP_ERR_PERMISSION: return "not this node's namespace";
    case LASHUP_ERR_TYPE: return "type mismatch";
    case LASHUP_ERR_INTERNAL: return "internal error";
    default: return "unknown error";
  }
}

LASHUP_API const char* lashup_last_error(void) {
  // Reading does not clear the detail: the pointer stays valid until this
  // thread's next call that fails or succeeds.
  return last_error_view();
}

LASHUP_API void lashup_free(void* ptr) { std::free(ptr); }

}  // extern "C"
