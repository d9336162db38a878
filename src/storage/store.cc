#include "storage/store.h"

namespace lashup::storage {

const char* durability_name(Durability durability) {
  switch (durability) {
    case Durability::sync: return "sync";
    case Durability::group: return "group";
    case Durability::none: return "none";
  }
  return "?";
}

Result<Durability> parse_durability(std::string_view name) {
  if (name == "sync") return Durability::sync;
  if (name == "group") return Durability::group;
  if (name == "none") return Durability::none;
  return Status::invalid("durability must be sync, group or none, not '" + std::string(name) + "'");
}

}  // namespace lashup::storage
