// Helpers for reading Actions in transcript-style tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/common/actions.h"
#include "core/wire/message.h"

namespace lashup::test {

inline std::vector<SendAction> sends(const Actions& actions) {
  std::vector<SendAction> out;
  for (const auto& action : actions.items) {
    if (const auto* send = std::get_if<SendAction>(&action)) out.push_back(*send);
  }
  return out;
}

inline std::optional<wire::MessageType> type_of(const Bytes& message) {
  wire::Reader r(message);
  auto type = wire::read_message_type(r);
  if (!type) return std::nullopt;
  return *type;
}

// The sends of one message type, in order.
inline std::vector<SendAction> sends_of(const Actions& actions, wire::MessageType type) {
  std::vector<SendAction> out;
  for (auto& send : sends(actions)) {
    if (type_of(send.message) == type) out.push_back(std::move(send));
  }
  return out;
}

// Decodes a message with its type-specific decoder.
template <typename Decoder>
auto decode(const Bytes& message, Decoder decoder) {
  wire::Reader r(message);
  (void)wire::read_message_type(r);
  return decoder(r);
}

template <typename E>
std::vector<E> events(const Actions& actions) {
  std::vector<E> out;
  for (const auto& action : actions.items) {
    if (const auto* emit = std::get_if<EmitAction>(&action)) {
      if (const auto* e = std::get_if<E>(&emit->event)) out.push_back(*e);
    }
  }
  return out;
}

template <typename A>
std::vector<A> actions_of(const Actions& actions) {
  std::vector<A> out;
  for (const auto& action : actions.items) {
    if (const auto* a = std::get_if<A>(&action)) out.push_back(*a);
  }
  return out;
}

}  // namespace lashup::test
