"""lashup.Node: one member of a cluster."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Union

from . import _lashup
from ._dispatch import Dispatcher, Subscription
from ._errors import Closed, InvalidArgument, Timeout
from ._events import EventType, HealthCheck, Member, MemberEvent, MemberState, RouteEntry
from ._kv import KV
from ._multicast import Multicast

ConfigValue = Union[str, int, bool, "os.PathLike[str]", Iterable[str]]

_KEYS: frozenset[str] = frozenset(_lashup.config_keys())
# Keyword arguments cannot hold dots: "overlay_active_view_size" names
# "overlay.active_view_size".
_KEY_BY_UNDERSCORED: dict[str, str] = {key.replace(".", "_"): key for key in _KEYS}


def config_key(name: str) -> str:
    """The configuration key a keyword argument or dict key names."""
    if name in _KEYS:
        return name
    return _KEY_BY_UNDERSCORED.get(name, name)


def config_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    if isinstance(value, Iterable):
        items = list(value)
        if all(isinstance(item, str) for item in items):
            return ",".join(items)
    raise TypeError(f"configuration {key}: a str, int, bool, path or list of str, not {type(value).__name__}")


class Node:
    """One member of a lashup cluster: failure detection, membership, the
    replicated key-value store (``node.kv``) and multicast (``node.mc``).

    Configured from a file of "key = value" lines (``config_file``), then a
    dict (``config``), then keyword arguments, a later value winning. Keys are
    those of docs/CONFIG.md; in keyword arguments dots are written as
    underscores (``overlay_active_view_size=5``). Values: str, int, bool
    (``tls=False``), a path, or a list (``contact_nodes=["b@127.0.0.1:7001"]``).
    A bad key or value raises InvalidArgument naming it.

    ``with Node(...) as node`` starts the node and closes it at the end
    (``async with`` too). Otherwise: start(), then stop() and/or close().
    A node runs at most once.

    Every method may be called from any thread; blocking calls release the
    GIL. Events are pulled by one dispatcher per node (no Python code runs on
    the library's thread); subscriptions iterate them from threads or asyncio.
    """

    def __init__(
        self,
        config: Mapping[str, ConfigValue] | None = None,
        *,
        config_file: str | os.PathLike[str] | None = None,
        **settings: ConfigValue,
    ) -> None:
        pairs: list[tuple[str, str]] = []
        for source in (config or {}, settings):
            for name, value in source.items():
                key = config_key(name)
                pairs.append((key, config_value(key, value)))
        path = None if config_file is None else os.fspath(config_file)
        self._core = _lashup.Node(pairs, path)
        self._dispatcher = Dispatcher(self._core)
        self._started = False
        self.kv = KV(self)
        self.mc = Multicast(self)

    # ---- lifecycle ----

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def closed(self) -> bool:
        return self._core.closed()

    def start(self) -> None:
        """Opens the store, binds the listen address and joins the cluster.
        Raises TLSError, StorageError, IOFailure or InvalidState (started twice)."""
        self._core.start()
        self._started = True

    def stop(self) -> None:
        """Stops the node (idempotent): peers see it unreachable (call leave()
        first to be marked left). Events queued before can still be taken."""
        self._core.stop()

    def close(self) -> None:
        """Stops the node and frees it (idempotent). Threads waiting for its
        events wake up: their iterations end, their gets raise Closed. With
        asyncio, close from the loop's thread."""
        self._dispatcher.detach_reader()
        self._core.close()
        self._dispatcher.close()

    def __enter__(self) -> Node:
        if not self._started:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Node:
        if not self._started:
            await asyncio.get_running_loop().run_in_executor(None, self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._dispatcher.detach_reader()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def fileno(self) -> int:
        """The node's event descriptor, readable while events are queued (for
        selectors; asyncio users need not touch it)."""
        return self._core.fileno()

    # ---- membership ----

    @property
    def address(self) -> str:
        """The address peers reach this node at (InvalidState before start)."""
        return self._core.address()

    @property
    def incarnation(self) -> int:
        """This run's incarnation (InvalidState before start)."""
        return self._core.incarnation()

    def members(self) -> list[Member]:
        """This node's view of the cluster, sorted by name, this node included."""
        return [
            Member(name, address, MemberState(state), incarnation, heard, distance, metadata, neighbours, reports)
            for (name, address, state, incarnation, heard, distance, metadata, neighbours, reports) in (
                self._core.members()
            )
        ]

    def reachable(self, name: str) -> bool:
        """True when name is reachable through the overlay (False for an unknown name)."""
        return self._core.reachable(name)

    def distance(self, name: str) -> int:
        """Hops from this node to name; NotFound when unknown or unreachable."""
        return self._core.distance(name)

    def route_tree(self, root: str) -> list[RouteEntry]:
        """The breadth-first tree rooted at root over the overlay, sorted by
        (distance, name); NotFound for an unknown root."""
        return [
            RouteEntry(node, parent if parent else None, distance)
            for node, parent, distance in self._core.route_tree(root)
        ]

    def health_check(self, name: str, timeout: float | None = 10.0) -> HealthCheck:
        """Probes name directly and waits for the answer (Timeout when none
        came within timeout seconds)."""
        request_id = self._core.health_check(name)
        dispatcher = self._dispatcher
        dispatcher.wait(lambda: (EventType.HEALTH_CHECK, request_id) in dispatcher.results, timeout)
        return self._health_result(name, request_id)

    async def health_check_async(self, name: str, timeout: float | None = 10.0) -> HealthCheck:
        """health_check() for asyncio."""
        request_id = self._core.health_check(name)
        dispatcher = self._dispatcher
        await dispatcher.wait_async(lambda: (EventType.HEALTH_CHECK, request_id) in dispatcher.results, timeout)
        return self._health_result(name, request_id)

    def _health_result(self, name: str, request_id: int) -> HealthCheck:
        with self._dispatcher.lock:
            raw = self._dispatcher.results.pop((EventType.HEALTH_CHECK, request_id), None)
        if raw is None:
            if self._dispatcher.closed:
                raise Closed("the node is closed")
            raise Timeout(f"no answer to the health check of {name!r} in time")
        return HealthCheck(name, raw["state"] == 1, raw["rtt_us"])

    def set_metadata(self, metadata: bytes | str) -> None:
        """Replaces this node's metadata, flooded to every member (TooLarge
        beyond membership.metadata_bytes_max)."""
        self._core.set_metadata(metadata.encode() if isinstance(metadata, str) else bytes(metadata))

    def leave(self) -> None:
        """Announces a graceful leave; stop or close the node afterwards."""
        self._core.leave()

    def member_events(self, *, maxsize: int = 1024) -> Subscription[MemberEvent]:
        """A subscription to membership events (updates, removals,
        reachability, link reports, neighbours) from now on."""
        dispatcher = self._dispatcher
        sub = _MemberSubscription(dispatcher, maxsize)
        with dispatcher.lock:
            dispatcher.member_subscriptions.append(sub)
        return sub

    # ---- stats ----

    def stat(self, name: str) -> int:
        """A counter or gauge by name (NotFound for an unknown name)."""
        return self._core.stat(name)

    def stats(self) -> dict[str, int]:
        """Every stat of the latest snapshot."""
        return {name: self._core.stat(name) for name in _lashup.stat_names()}

    def __repr__(self) -> str:
        if not hasattr(self, "_core"):
            return "<lashup.Node (not created)>"
        state = "closed" if self.closed else ("started" if self._started else "new")
        return f"<lashup.Node {self.name!r} {state}>"


class _MemberSubscription(Subscription[MemberEvent]):
    def _unregister(self) -> None:
        subs = self._dispatcher.member_subscriptions
        if self in subs:
            subs.remove(self)


def _check_key_table() -> None:
    # Two keys that differ only in '.' versus '_' would make keyword
    # arguments ambiguous.
    if len(_KEY_BY_UNDERSCORED) != len(_KEYS):
        raise InvalidArgument("ambiguous configuration keys")


_check_key_table()
