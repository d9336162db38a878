#include "trace.h"

namespace lashup::sim {

const char* to_string(TraceKind kind) {
  switch (kind) {
    case TraceKind::start: return "start";
    case TraceKind::message: return "message";
    case TraceKind::tick: return "tick";
    case TraceKind::connection_up: return "connection_up";
    case TraceKind::connection_down: return "connection_down";
    case TraceKind::crash: return "crash";
    case TraceKind::hang: return "hang";
    case TraceKind::restart: return "restart";
    case TraceKind::pause: return "pause";
    case TraceKind::partition: return "partition";
    case TraceKind::heal: return "heal";
    case TraceKind::clog: return "clog";
  }
  return "?";
}

std::string to_string(const TraceEntry& entry) {
  return "t=" + std::to_string(entry.time.count()) + "us node=" + std::to_string(entry.node) + " " +
         to_string(entry.kind) + " peer=" + std::to_string(entry.peer) + " detail=" + std::to_string(entry.detail);
}

}  // namespace lashup::sim
