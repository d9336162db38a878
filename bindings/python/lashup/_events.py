"""The events a node delivers, and the records of its membership view."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._values import Value


class EventType(enum.IntEnum):
    """lashup_event_type_t."""

    MEMBER_UPDATED = 1
    MEMBER_REMOVED = 2
    REACHABILITY = 3
    LINK_REPORT = 4
    HEALTH_CHECK = 5
    NEIGHBOR = 6
    MC_MESSAGE = 7
    KV_CHANGED = 8
    KV_DUMP_DONE = 9
    KV_UPDATE_DONE = 10


class MemberState(enum.IntEnum):
    """lashup_member_state_t."""

    REACHABLE = 0
    UNREACHABLE = 1
    LEFT = 2


@dataclass(frozen=True)
class Member:
    """One member of this node's view of the cluster (this node included).

    distance is the number of hops from this node, None when unreachable;
    neighbours are the member's overlay neighbours as it last announced them;
    link_reports the nodes it cannot reach directly although they answer
    others.
    """

    name: str
    address: str
    state: MemberState
    incarnation: int
    last_heard_ms: int
    distance: int | None
    metadata: bytes
    neighbours: tuple[str, ...]
    link_reports: tuple[str, ...]


@dataclass(frozen=True)
class RouteEntry:
    """A member in a route tree: its parent (None for the root) and its distance from the root."""

    node: str
    parent: str | None
    distance: int


@dataclass(frozen=True)
class HealthCheck:
    """The answer to Node.health_check: alive, and the round trip in microseconds when alive."""

    name: str
    alive: bool
    rtt_us: int


@dataclass(frozen=True)
class MemberEvent:
    """A membership event (MEMBER_UPDATED, MEMBER_REMOVED, REACHABILITY, LINK_REPORT, NEIGHBOR).

    node is the member the event is about (for LINK_REPORT the reporter),
    peer the node the reporter cannot reach (LINK_REPORT only); state is a
    MemberState for REACHABILITY and 1 or 0 for LINK_REPORT and NEIGHBOR.
    """

    type: EventType
    node: str
    peer: str
    state: int
    incarnation: int
    time_us: int


@dataclass(frozen=True)
class Message:
    """A multicast message: its topic, payload, origin (the publisher) and sequence per origin incarnation."""

    topic: str
    data: bytes
    origin: str
    incarnation: int
    sequence: int


@dataclass(frozen=True)
class KVEvent:
    """A key covered by a KV subscription: in the initial dump (initial=True) or changed.

    value is the key's value when the event was made; None when the key was
    deleted.
    """

    key: str
    value: Value | None
    initial: bool

    @property
    def deleted(self) -> bool:
        return self.value is None
