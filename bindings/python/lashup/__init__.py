"""Python binding of liblashup: failure detection, membership, a replicated
CRDT key-value store and multicast for every host of a cluster.

    import lashup
    with lashup.Node(node_name="a", data_dir="/tmp/a", listen_address="127.0.0.1:0",
                     tls_ca_file="ca.pem", tls_cert_file="a.pem", tls_key_file="a.key") as node:
        with node.kv.update("svc/web") as u:
            u.counter_add("hits", 1)
        print(node.kv.get("svc/web"))

See bindings/python/README.md.
"""

from . import _lashup
from ._dispatch import Subscription
from ._errors import (
    Again,
    Closed,
    Conflict,
    Error,
    InternalError,
    InvalidArgument,
    InvalidState,
    IOFailure,
    NoMemory,
    NotFound,
    PermissionDenied,
    StorageError,
    Timeout,
    TLSError,
    TooLarge,
    TypeMismatch,
    VersionMismatch,
)
from ._events import EventType, HealthCheck, KVEvent, Member, MemberEvent, MemberState, Message, RouteEntry
from ._kv import KV, KVSubscription, Update
from ._lashup import Context
from ._multicast import MessageSubscription, Multicast
from ._node import Node
from ._values import Field, FieldType, Value

__version__: str = _lashup.version_string()


def library_version() -> str:
    """The version of the liblashup actually loaded."""
    return _lashup.version_string()


def config_keys() -> list[str]:
    """Every configuration key (docs/CONFIG.md)."""
    return list(_lashup.config_keys())


def stat_names() -> list[str]:
    """Every stat name Node.stat accepts."""
    return list(_lashup.stat_names())


__all__ = [
    "Again",
    "Closed",
    "Conflict",
    "Context",
    "Error",
    "EventType",
    "Field",
    "FieldType",
    "HealthCheck",
    "InternalError",
    "InvalidArgument",
    "InvalidState",
    "IOFailure",
    "KV",
    "KVEvent",
    "KVSubscription",
    "Member",
    "MemberEvent",
    "MemberState",
    "Message",
    "MessageSubscription",
    "Multicast",
    "NoMemory",
    "Node",
    "NotFound",
    "PermissionDenied",
    "RouteEntry",
    "StorageError",
    "Subscription",
    "Timeout",
    "TLSError",
    "TooLarge",
    "TypeMismatch",
    "Update",
    "Value",
    "VersionMismatch",
    "config_keys",
    "library_version",
    "stat_names",
]
