"""node.mc: multicast (docs/MULTICAST.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from ._dispatch import Dispatcher, Subscription
from ._errors import InvalidArgument
from ._events import Message
from ._values import encode_data

if TYPE_CHECKING:
    from ._node import Node

Data = Union[str, bytes, bytearray, memoryview]


def _topic(topic: str) -> str:
    if not isinstance(topic, str):
        raise TypeError(f"a topic must be str, not {type(topic).__name__}")
    if "\0" in topic:
        raise InvalidArgument(f"topic {topic!r} contains a NUL character")
    return topic


class MessageSubscription(Subscription[Message]):
    """The messages published on one topic, from every node (this one included)."""

    def __init__(self, dispatcher: Dispatcher, node: Node, topic: str, maxsize: int) -> None:
        super().__init__(dispatcher, maxsize)
        self._node = node
        self.topic = topic
        subs = dispatcher.mc_subscriptions.get(topic)
        if subs is None:
            node._core.mc_subscribe(topic)
            dispatcher.mc_subscriptions[topic] = [self]
        else:
            subs.append(self)

    def _unregister(self) -> None:
        subs = self._dispatcher.mc_subscriptions.get(self.topic, [])
        if self in subs:
            subs.remove(self)
        if not subs:
            self._dispatcher.mc_subscriptions.pop(self.topic, None)
            self._node._core.mc_unsubscribe(self.topic)


class Multicast:
    """Publishes to and subscribes to topics (1 to 255 bytes; "lashup/..." is reserved)."""

    def __init__(self, node: Node) -> None:
        self._node = node

    def publish(self, topic: str, data: Data = b"") -> None:
        """Queues a message for publication without waiting (Again when the
        node's command queue is full; TooLarge above multicast.payload_bytes_max)."""
        self._node._core.mc_publish(_topic(topic), encode_data(data))

    def publish_seq(self, topic: str, data: Data = b"") -> int:
        """Publishes and waits for the message's sequence number."""
        return self._node._core.mc_publish_seq(_topic(topic), encode_data(data))

    def subscribe(self, topic: str, *, maxsize: int = 1024) -> MessageSubscription:
        """Subscribes to topic: messages that reach this node afterwards are delivered."""
        dispatcher = self._node._dispatcher
        with dispatcher.lock:
            return MessageSubscription(dispatcher, self._node, _topic(topic), maxsize)
