// Shared by the C facade files: handle structs and the mapping from core
// Status values and C++ exceptions to LASHUP_ERR_* codes. No C++ exception
// crosses the ABI: every entry point runs its body through guard().
#pragma once

#include <cstring>
#include <new>
#include <string>

#include "core/common/status.h"
#include "core/config/config.h"
#include "lashup/lashup.h"

struct lashup_config {
  lashup::config::Config rep;
};

namespace lashup::capi {

// Records the calling thread's error detail (lashup_last_error) and returns
// code.
int fail(int code, std::string message);
int fail(const Status& status);
// Clears the calling thread's error detail and returns LASHUP_OK.
int succeed();
const char* last_error_view();

int error_code(StatusCode code);

// Writes message into errbuf (NUL-terminated, truncated), if there is one.
void write_errbuf(char* errbuf, size_t errbuf_len, const std::string& message);

// Runs body, converting escaping exceptions into error codes.
template <typename Body>
int guard(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(LASHUP_ERR_NOMEM, "out of memory");
  } catch (const std::exception& e) {
    return fail(LASHUP_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(LASHUP_ERR_INTERNAL, "internal error");
  }
}

// A malloc'd copy that lashup_free releases.
char* duplicate_string(const std::string& text);

}  // namespace lashup::capi
