"""Values of the replicated key-value store, as Python objects."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, Union

from . import _lashup
from ._errors import TypeMismatch

Key = Union[str, bytes]


class FieldType(enum.IntEnum):
    """The type of a field (lashup_kv_type_t). A field is named by (name, type)."""

    COUNTER = 1
    REGISTER = 2
    FLAG = 3
    SET = 4
    MAP = 5


class Field(NamedTuple):
    """One field of a value.

    value is an int (counter), bytes (register), bool (flag), frozenset of
    bytes (set) or a nested Value (map); timestamp is the register's write
    timestamp, 0 for other types.
    """

    name: str
    type: FieldType
    value: Any
    timestamp: int


def encode_key(key: Key) -> bytes:
    """Keys and patterns are byte strings; str is encoded as UTF-8 (surrogateescape)."""
    if isinstance(key, str):
        return key.encode("utf-8", "surrogateescape")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"a key must be str or bytes, not {type(key).__name__}")


def decode_key(key: bytes) -> str:
    """The inverse of encode_key: bytes that are not UTF-8 survive a round trip."""
    return key.decode("utf-8", "surrogateescape")


def encode_data(data: str | bytes | bytearray | memoryview) -> bytes:
    """Payloads, elements and registers: bytes-like, or str encoded as UTF-8."""
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected bytes or str, not {type(data).__name__}")


class Value(Mapping[str, Any]):
    """The value of a key: a read-only mapping of its fields by name.

    ``value["hits"]`` is the field's Python value (see Field). One name may
    hold fields of several types (the counter "x" and the set "x"); such a
    name raises TypeMismatch through the mapping interface: use the typed
    accessors (counter, register, flag, set, map) or ``fields``.

    ``context`` is the compare-and-set token of a key's value (None for a
    nested map): pass the value, or its context, as ``expected`` to
    ``node.kv.update``.
    """

    __slots__ = ("_fields", "_context")

    def __init__(self, fields: tuple[Field, ...], context: _lashup.Context | None = None) -> None:
        self._fields = fields
        self._context = context

    @classmethod
    def _from_raw(cls, raw: tuple[list[Any], _lashup.Context | None]) -> Value:
        fields, context = raw
        return cls(_fields_from_raw(fields), context)

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every field, sorted by name, then type."""
        return self._fields

    @property
    def context(self) -> _lashup.Context | None:
        return self._context

    def _of_name(self, name: str) -> list[Field]:
        return [f for f in self._fields if f.name == name]

    def __getitem__(self, name: str) -> Any:
        found = self._of_name(name)
        if not found:
            raise KeyError(name)
        if len(found) > 1:
            types = ", ".join(f.type.name.lower() for f in found)
            raise TypeMismatch(f"field {name!r} exists as {types}: use the typed accessors")
        return found[0].value

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for field in self._fields:
            if field.name not in seen:
                seen.add(field.name)
                yield field.name

    def __len__(self) -> int:
        return len({f.name for f in self._fields})

    def __repr__(self) -> str:
        inner = ", ".join(f"{f.name!r}: {f.type.name.lower()} {f.value!r}" for f in self._fields)
        return f"Value({{{inner}}})"

    def field(self, name: str, type: FieldType) -> Field | None:
        """The field (name, type), or None."""
        for field in self._fields:
            if field.name == name and field.type == type:
                return field
        return None

    def counter(self, name: str) -> int:
        """The counter's value; 0 when absent."""
        field = self.field(name, FieldType.COUNTER)
        return 0 if field is None else int(field.value)

    def register(self, name: str) -> bytes | None:
        """The register's bytes; None when absent."""
        field = self.field(name, FieldType.REGISTER)
        return None if field is None else bytes(field.value)

    def flag(self, name: str) -> bool:
        """True when the flag is enabled (an absent flag is disabled)."""
        field = self.field(name, FieldType.FLAG)
        return False if field is None else bool(field.value)

    def set(self, name: str) -> frozenset[bytes]:
        """The set's elements; empty when absent."""
        field = self.field(name, FieldType.SET)
        return frozenset() if field is None else frozenset(field.value)

    def map(self, name: str) -> Value | None:
        """The nested map; None when absent."""
        field = self.field(name, FieldType.MAP)
        if field is None:
            return None
        nested = field.value
        assert isinstance(nested, Value)
        return nested


def _fields_from_raw(raw: list[Any]) -> tuple[Field, ...]:
    fields = []
    for name, type_number, value, timestamp in raw:
        field_type = FieldType(type_number)
        if field_type is FieldType.SET:
            value = frozenset(value)
        elif field_type is FieldType.MAP:
            value = Value(_fields_from_raw(value))
        fields.append(Field(decode_key(name), field_type, value, timestamp))
    return tuple(fields)
