// Configuration objects of the C API: a thin layer over lashup::config.
#include <fstream>
#include <sstream>

#include "capi/capi_internal.h"

using namespace lashup::capi;

namespace {

int fail_with_errbuf(const lashup::Status& status, char* errbuf, size_t errbuf_len) {
  write_errbuf(errbuf, errbuf_len, status.message());
  return fail(status);
}

int missing_argument(const char* what, char* errbuf = nullptr, size_t errbuf_len = 0) {
  const std::string message = std::string(what) + " is NULL";
  write_errbuf(errbuf, errbuf_len, message);
  return fail(LASHUP_ERR_INVALID, message);
}

}  // namespace

extern "C" {

LASHUP_API int lashup_config_new(lashup_config_t** out) {
  return guard([&] {
    if (out == nullptr) return missing_argument("out");
    *out = nullptr;
    *out = new lashup_config{};
    return succeed();
  });
}

LASHUP_API void lashup_config_destroy(lashup_config_t* cfg) { delete cfg; }

LASHUP_API int lashup_config_set(lashup_config_t* cfg, const char* key, const char* value, char* errbuf,
                                 size_t errbuf_len) {
  return guard([&] {
    if (cfg == nullptr) return missing_argument("cfg", errbuf, errbuf_len);
    if (key == nullptr) return missing_argument("key", errbuf, errbuf_len);
    if (value == nullptr) return missing_argument("value", errbuf, errbuf_len);
    if (lashup::Status s = cfg->rep.set(key, value); !s) return fail_with_errbuf(s, errbuf, errbuf_len);
    write_errbuf(errbuf, errbuf_len, "");
    return succeed();
  });
}

LASHUP_API int lashup_config_load_file(lashup_config_t* cfg, const char* path, char* errbuf, size_t errbuf_len) {
  return guard([&] {
    if (cfg == nullptr) return missing_argument("cfg", errbuf, errbuf_len);
    if (path == nullptr) return missing_argument("path", errbuf, errbuf_len);
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      const std::string message = std::string(path) + ": cannot open: " + std::strerror(errno);
      write_errbuf(errbuf, errbuf_len, message);
      return fail(LASHUP_ERR_IO, message);
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
      const std::string message = std::string(path) + ": read failed";
      write_errbuf(errbuf, errbuf_len, message);
      return fail(LASHUP_ERR_IO, message);
    }
    if (lashup::Status s = cfg->rep.load_text(text.str(), path); !s) return fail_with_errbuf(s, errbuf, errbuf_len);
    write_errbuf(errbuf, errbuf_len, "");
    return succeed();
  });
}

LASHUP_API int lashup_config_get(const lashup_config_t* cfg, const char* key, char** value_out) {
  return guard([&] {
    if (value_out == nullptr) return missing_argument("value_out");
    *value_out = nullptr;
    if (cfg == nullptr) return missing_argument("cfg");
    if (key == nullptr) return missing_argument("key");
    auto value = cfg->rep.get(key);
    if (!value) return fail(LASHUP_ERR_NOT_FOUND, value.status().message());
    *value_out = duplicate_string(*value);
    return succeed();
  });
}

LASHUP_API int lashup_config_get_int(const lashup_config_t* cfg, const char* key, int64_t* value_out) {
  return guard([&] {
    if (value_out == nullptr) return missing_argument("value_out");
    if (cfg == nullptr) return missing_argument("cfg");
    if (key == nullptr) return missing_argument("key");
    if (lashup::config::find_key(key) == nullptr) {
      return fail(LASHUP_ERR_NOT_FOUND, std::string(key) + ": unknown configuration key");
    }
    auto value = cfg->rep.get_int(key);
    if (!value) return fail(value.status());
    *value_out = *value;
    return succeed();
  });
}

LASHUP_API size_t lashup_config_key_count(void) { return lashup::config::all_keys().size(); }

LASHUP_API const char* lashup_config_key_name(size_t index) {
  const auto keys = lashup::config::all_keys();
  // Key names are literals in the table, so data() is NUL-terminated.
  return index < keys.size() ? keys[index].name.data() : nullptr;
}

}  // extern "C"
