"""node.kv: the replicated key-value store (docs/KV.md)."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import TYPE_CHECKING, Union

from . import _lashup
from ._dispatch import Dispatcher, Subscription
from ._errors import Closed, InvalidArgument, Timeout, error_for_code
from ._events import EventType, KVEvent
from ._values import FieldType, Key, Value, decode_key, encode_data, encode_key

if TYPE_CHECKING:
    from ._node import Node

Expected = Union[Value, _lashup.Context, None]
Data = Union[str, bytes, bytearray, memoryview]


def _path(path: str) -> str:
    if not isinstance(path, str):
        raise TypeError(f"a field path must be str, not {type(path).__name__}")
    if "\0" in path:
        raise InvalidArgument(f"field path {path!r} contains a NUL character")
    return path


def _context(expected: Expected) -> _lashup.Context | None:
    if expected is None or isinstance(expected, _lashup.Context):
        return expected
    if isinstance(expected, Value):
        if expected.context is None:
            raise InvalidArgument("a nested map has no compare-and-set context")
        return expected.context
    raise TypeError(f"expected must be a Value or its context, not {type(expected).__name__}")


class Update:
    """A batch of operations on one key, applied atomically by commit() —
    or on leaving a ``with`` block without an exception (a block that raises
    applies nothing).

    Paths name a field: names separated by '/', all but the last naming
    nested maps ("a/b/hits" is the counter "hits" of map "b" of map "a").
    A bad path raises InvalidArgument at once. ``result`` is the key's value
    after the commit.
    """

    def __init__(self, kv: KV, key: Key, expected: Expected = None) -> None:
        self._kv = kv
        self._key = encode_key(key)
        self._expected = _context(expected)
        self._ops = _lashup.Ops()
        self._committed = False
        self.result: Value | None = None

    @property
    def key(self) -> str:
        return decode_key(self._key)

    def __len__(self) -> int:
        return self._ops.count()

    def counter_add(self, path: str, amount: int = 1) -> Update:
        self._ops.counter_add(_path(path), amount)
        return self

    def set_add(self, path: str, element: Data) -> Update:
        self._ops.set_add(_path(path), encode_data(element))
        return self

    def set_remove(self, path: str, element: Data) -> Update:
        """Removes an element; the commit raises NotFound when it is not in the set."""
        self._ops.set_remove(_path(path), encode_data(element))
        return self

    def register_set(self, path: str, value: Data, timestamp: int | None = None) -> Update:
        """Writes a register; timestamp defaults to the wall clock in microseconds.
        The write takes effect where its timestamp is the highest."""
        if timestamp is None:
            timestamp = time.time_ns() // 1000
        if timestamp < 0:
            raise InvalidArgument(f"timestamp must not be negative, not {timestamp}")
        self._ops.register_set(_path(path), encode_data(value), timestamp)
        return self

    def flag_enable(self, path: str) -> Update:
        self._ops.flag_enable(_path(path))
        return self

    def flag_disable(self, path: str) -> Update:
        self._ops.flag_disable(_path(path))
        return self

    def remove_field(self, path: str, type: FieldType | int) -> Update:
        """Removes the field (path, type); the commit raises NotFound when it is absent."""
        self._ops.remove_field(_path(path), int(type))
        return self

    def commit(self) -> Value:
        """Applies the operations on this node and waits (see KV.update)."""
        if self._committed:
            raise InvalidArgument("this update was committed already")
        self._committed = True
        raw = self._kv._node._core.kv_update(self._key, self._ops, self._expected)
        self.result = Value._from_raw(raw)
        return self.result

    async def commit_async(self) -> None:
        """Queues the operations without blocking the event loop and waits
        for the write's completion event (lashup_kv_update_async): raises as
        commit() does. ``result`` stays None: the completion carries no value."""
        if self._committed:
            raise InvalidArgument("this update was committed already")
        self._committed = True
        node = self._kv._node
        if not _lashup.HAVE_KV_UPDATE_ASYNC:
            loop = asyncio.get_running_loop()
            raw = await loop.run_in_executor(None, node._core.kv_update, self._key, self._ops, self._expected)
            self.result = Value._from_raw(raw)
            return
        dispatcher = node._dispatcher
        with dispatcher.lock:
            # Registered before the completion can be routed.
            request_id = node._core.kv_update_async(self._key, self._ops, self._expected)
        await dispatcher.wait_async(lambda: (EventType.KV_UPDATE_DONE, request_id) in dispatcher.results, None)
        with dispatcher.lock:
            done = dispatcher.results.pop((EventType.KV_UPDATE_DONE, request_id), None)
        if done is None:
            raise Closed("the node closed before the write completed")
        if done["status"] != 0:
            raise error_for_code(done["status"], done["error"] or _lashup.strerror(done["status"]))

    def __enter__(self) -> Update:
        return self

    async def __aenter__(self) -> Update:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None and not self._committed:
            await self.commit_async()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None and not self._committed:
            self.commit()


class KVSubscription(Subscription[KVEvent]):
    """KV_CHANGED events of the keys a pattern covers: first one per live key
    (``initial=True``), then one per change. ``dump_done`` turns true once the
    initial dump is complete."""

    def __init__(self, dispatcher: Dispatcher, node: Node, pattern: bytes, glob: bool, maxsize: int) -> None:
        super().__init__(dispatcher, maxsize)
        self._node = node
        self._dump_done = False
        self.id = node._core.kv_subscribe(pattern, glob)
        dispatcher.kv_subscriptions[self.id] = self

    @property
    def dump_done(self) -> bool:
        return self._dump_done

    def wait_dump_done(self, timeout: float | None = None) -> None:
        """Waits until the initial dump is complete; events stay buffered.
        Raises Timeout or Closed."""
        if not self._dispatcher.wait(lambda: self._dump_done or self._closed, timeout):
            if self._dispatcher.closed:
                raise Closed("the node is closed")
            raise Timeout("the initial dump did not complete in time")

    def _unregister(self) -> None:
        self._dispatcher.kv_subscriptions.pop(self.id, None)
        self._node._core.kv_unsubscribe(self.id)


class KV:
    """The node's replica of the replicated key-value store.

    Keys are byte strings of 1 to 4096 bytes, given as str (UTF-8) or bytes
    and returned as str (bytes that are not UTF-8 are kept through
    surrogateescape). Reads are local; writes wait for the node's loop thread
    (the GIL is released meanwhile).
    """

    def __init__(self, node: Node) -> None:
        self._node = node

    def get(self, key: Key, default: Value | None = None) -> Value | None:
        """This replica's value of key, or default when the key is absent."""
        raw = self._node._core.kv_get(encode_key(key))
        return default if raw is None else Value._from_raw(raw)

    def __getitem__(self, key: Key) -> Value:
        """Like get(), but raises NotFound (a KeyError) when the key is absent."""
        from ._errors import NotFound

        value = self.get(key)
        if value is None:
            raise NotFound(f"no key {decode_key(encode_key(key))!r}")
        return value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, (str, bytes)):
            return False
        return self.get(key) is not None

    def update(self, key: Key, expected: Expected = None) -> Update:
        """An update of key, applied on commit() or at the end of a ``with``
        block. With expected (a Value of this key, or its context), the write
        applies only if the key has not changed since: Conflict otherwise.
        Other errors: PermissionDenied (another node's nodes/<name>/ key),
        TypeMismatch, NotFound (removing an absent element or field),
        TooLarge, InvalidArgument, Closed."""
        return Update(self, key, expected)

    def delete(self, key: Key) -> None:
        """Removes every field of key that this node has seen; NotFound when
        the key holds none."""
        self._node._core.kv_delete(encode_key(key))

    def keys(self, prefix: Key = "", *, glob: Key | None = None) -> list[str]:
        """The live keys starting with prefix, or matching glob ('*' within a
        '/'-separated segment, '**' across segments, '?' one byte), sorted."""
        if glob is not None:
            found = self._node._core.kv_keys(encode_key(glob), True)
        else:
            found = self._node._core.kv_keys(encode_key(prefix), False)
        return [decode_key(k) for k in found]

    def subscribe(self, prefix: Key = "", *, glob: Key | None = None, maxsize: int = 1024) -> KVSubscription:
        """Subscribes to the keys starting with prefix (or matching glob)."""
        if glob is not None:
            pattern, is_glob = encode_key(glob), True
        else:
            pattern, is_glob = encode_key(prefix), False
        dispatcher = self._node._dispatcher
        with dispatcher.lock:
            # Registered before any event can be routed: the initial dump is
            # queued before kv_subscribe returns.
            return KVSubscription(dispatcher, self._node, pattern, is_glob, maxsize)
