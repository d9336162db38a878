"""One event dispatcher per node: pulls the node's events and routes them to
the subscription objects, for threads (blocking waits) and asyncio (a reader
on the node's event descriptor) alike.

Events are pulled with lashup_node_poll, never through the library's event
callback, so no Python code runs on the library's loop thread. At most one
thread at a time waits in poll; the others wait on a condition that every
routed batch notifies. An asyncio loop drains the queue from its reader
(level-triggered: readable while events are queued) without waiting.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable
from typing import Any, Deque, Generic, TypeVar

from . import _lashup
from ._errors import Closed, InvalidArgument
from ._events import EventType, KVEvent, MemberEvent, Message
from ._values import Value, decode_key

T = TypeVar("T")

# Longest single wait in lashup_node_poll: a thread waiting there also
# notices within this time what an asyncio reader routed meanwhile.
_POLL_SLICE_S = 0.1
_POLL_BATCH = 256
# Answers (health checks, asynchronous updates) kept for their waiters.
_RESULTS_MAX = 4096

_MEMBER_EVENTS = frozenset(
    {
        EventType.MEMBER_UPDATED,
        EventType.MEMBER_REMOVED,
        EventType.REACHABILITY,
        EventType.LINK_REPORT,
        EventType.NEIGHBOR,
    }
)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Dispatcher:
    def __init__(self, core: _lashup.Node) -> None:
        self._core = core
        self.lock = threading.Lock()
        self._cond = threading.Condition(self.lock)
        self._polling = False
        self.closed = False
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._reader_loop: asyncio.AbstractEventLoop | None = None
        self._reader_fd = -1
        self.kv_subscriptions: dict[int, Any] = {}
        self.mc_subscriptions: dict[str, list[Any]] = {}
        self.member_subscriptions: list[Any] = []
        self.results: collections.OrderedDict[tuple[int, int], dict[str, Any]] = collections.OrderedDict()

    # ---- routing (self.lock held) ----

    def _route(self, raw: dict[str, Any]) -> None:
        kind = raw["type"]
        if kind == EventType.KV_CHANGED:
            sub = self.kv_subscriptions.get(raw["subscription"])
            if sub is not None:
                value = None if raw["value"] is None else Value._from_raw(raw["value"])
                sub._push(KVEvent(decode_key(raw["key"]), value, raw["state"] == 1))
        elif kind == EventType.KV_DUMP_DONE:
            sub = self.kv_subscriptions.get(raw["subscription"])
            if sub is not None:
                sub._dump_done = True
        elif kind == EventType.MC_MESSAGE:
            subs = self.mc_subscriptions.get(raw["topic"], ())
            if subs:
                message = Message(raw["topic"], raw["payload"], raw["node"], raw["incarnation"], raw["sequence"])
                for sub in subs:
                    sub._push(message)
        elif kind in (EventType.HEALTH_CHECK, EventType.KV_UPDATE_DONE):
            # Health checks and asynchronous updates number their requests
            # separately.
            self.results[(kind, raw["request_id"])] = raw
            while len(self.results) > _RESULTS_MAX:
                self.results.popitem(last=False)
        elif kind in _MEMBER_EVENTS and self.member_subscriptions:
            event = MemberEvent(
                EventType(kind), raw["node"], raw["peer"], raw["state"], raw["incarnation"], raw["time_us"]
            )
            for sub in self.member_subscriptions:
                sub._push(event)

    def wake_locked(self) -> None:
        self._cond.notify_all()
        waiters, self._async_waiters = self._async_waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)

    def _deliver(self, events: list[dict[str, Any]], closed: bool) -> None:
        with self.lock:
            for raw in events:
                self._route(raw)
            if closed:
                self.closed = True
            self.wake_locked()

    def _poll(self, timeout_ms: int) -> None:
        try:
            events = self._core.poll(timeout_ms, _POLL_BATCH)
        except Closed:
            self._deliver([], True)
        else:
            self._deliver(events, False)

    # ---- waiting ----

    def wait(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """Pulls events until ready() (called with self.lock held) is true,
        the node closes or timeout seconds pass (None: no limit). True when
        ready. Polls at least once, also with timeout 0."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        polled = False
        while True:
            with self._cond:
                while True:
                    if ready():
                        return True
                    if self.closed:
                        return False
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if polled and remaining is not None and remaining <= 0:
                        return False
                    if not self._polling:
                        self._polling = True
                        break
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
            slice_s = _POLL_SLICE_S if remaining is None else max(0.0, min(remaining, _POLL_SLICE_S))
            try:
                self._poll(int(slice_s * 1000 + 0.999))
            finally:
                with self._cond:
                    self._polling = False
                    self._cond.notify_all()
            polled = True

    async def wait_async(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """wait() for asyncio: the running loop reads the node's event
        descriptor; the coroutine sleeps until something is routed."""
        loop = asyncio.get_running_loop()
        self._ensure_reader(loop)
        deadline = None if timeout is None else loop.time() + max(timeout, 0.0)
        while True:
            with self.lock:
                if ready():
                    return True
                if self.closed:
                    return False
                future: asyncio.Future[None] = loop.create_future()
                self._async_waiters.append((loop, future))
            if deadline is None:
                await future
                continue
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise asyncio.TimeoutError
                await asyncio.wait_for(future, remaining)
            except asyncio.TimeoutError:
                with self.lock:
                    return ready()

    def _ensure_reader(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._reader_loop is loop:
            return
        with self.lock:
            if self.closed:
                return
        fd = self._core.fileno()
        old = self._reader_loop
        if old is not None and not old.is_closed():
            old.call_soon_threadsafe(old.remove_reader, self._reader_fd)
        loop.add_reader(fd, self._on_readable)
        self._reader_loop, self._reader_fd = loop, fd

    def _on_readable(self) -> None:
        self._poll(0)
        if self.closed:
            self.detach_reader()

    def detach_reader(self) -> None:
        """Stops reading the event descriptor (from any thread)."""
        loop, fd = self._reader_loop, self._reader_fd
        self._reader_loop, self._reader_fd = None, -1
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.remove_reader(fd)
        else:
            loop.call_soon_threadsafe(loop.remove_reader, fd)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.wake_locked()


class Subscription(Generic[T]):
    """A stream of events, filled by the node's dispatcher.

    Iterate it (``for event in sub``) or ``async for event in sub``; the
    iteration ends once the subscription or the node is closed and the
    buffered events are consumed. At most ``maxsize`` events are buffered:
    when a consumer falls behind, the oldest are dropped and counted in
    ``dropped``. Close it (or use ``with``) to end the subscription.
    """

    def __init__(self, dispatcher: Dispatcher, maxsize: int) -> None:
        if maxsize < 1:
            raise InvalidArgument(f"maxsize must be at least 1, not {maxsize}")
        self._dispatcher = dispatcher
        self._items: Deque[T] = collections.deque()
        self._maxsize = maxsize
        self._closed = False
        self.dropped = 0

    @property
    def maxsize(self) -> int:
        return self._maxsize

    @property
    def closed(self) -> bool:
        return self._closed

    def _push(self, item: T) -> None:
        if len(self._items) >= self._maxsize:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)

    def _ready(self) -> bool:
        return bool(self._items) or self._closed

    def _take(self) -> T:
        with self._dispatcher.lock:
            if self._items:
                return self._items.popleft()
            if self._closed or self._dispatcher.closed:
                raise Closed("the subscription is closed" if self._closed else "the node is closed")
        raise TimeoutError("no event arrived in time")

    def get(self, timeout: float | None = None) -> T:
        """The next event, waiting up to timeout seconds (None: until one
        arrives). Raises TimeoutError when none arrived in time and Closed
        when the subscription or the node is closed and nothing is buffered."""
        self._dispatcher.wait(self._ready, timeout)
        return self._take()

    async def get_async(self, timeout: float | None = None) -> T:
        """get() for asyncio."""
        await self._dispatcher.wait_async(self._ready, timeout)
        return self._take()

    def __iter__(self) -> Subscription[T]:
        return self

    def __next__(self) -> T:
        try:
            return self.get()
        except Closed:
            raise StopIteration from None

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self.get_async()
        except Closed:
            raise StopAsyncIteration from None

    def _unregister(self) -> None:
        """Ends the subscription in the library (self.lock held)."""

    def close(self) -> None:
        """Ends the subscription. Buffered events can still be taken."""
        with self._dispatcher.lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._unregister()
            except Closed:
                pass
            finally:
                self._dispatcher.wake_locked()

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
