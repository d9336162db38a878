"""The exceptions of the lashup package: one class per liblashup error code."""

from __future__ import annotations


class Error(Exception):
    """A liblashup call failed.

    ``code`` is the library's negative LASHUP_ERR_* code and ``message`` the
    library's detail of the failure (``lashup_last_error()``), or the code's
    description when the library gave none.
    """

    code: int = -99

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    def __str__(self) -> str:
        # KeyError (a base of NotFound) would otherwise quote the message.
        return self.message


class InvalidArgument(Error, ValueError):
    """An argument or a configuration value is invalid (LASHUP_ERR_INVALID)."""

    code = -1


class NoMemory(Error, MemoryError):
    """The library ran out of memory (LASHUP_ERR_NOMEM)."""

    code = -2


class Again(Error):
    """Nothing could be done now, e.g. the node's command queue is full (LASHUP_ERR_AGAIN)."""

    code = -3


class Timeout(Error, TimeoutError):
    """The operation did not complete in time (LASHUP_ERR_TIMEOUT)."""

    code = -4


class Closed(Error):
    """The node is stopped, closed or being closed (LASHUP_ERR_CLOSED)."""

    code = -5


class NotFound(Error, KeyError):
    """No such key, field, element, member or subscription (LASHUP_ERR_NOT_FOUND)."""

    code = -6


class IOFailure(Error, OSError):
    """An operating-system call failed, e.g. an address could not be bound (LASHUP_ERR_IO)."""

    code = -7


class TLSError(Error):
    """TLS material is missing or invalid (LASHUP_ERR_TLS)."""

    code = -8


class StorageError(Error):
    """Berkeley DB failed (LASHUP_ERR_STORAGE)."""

    code = -9


class VersionMismatch(Error):
    """An incompatible protocol or data version (LASHUP_ERR_VERSION)."""

    code = -10


class Conflict(Error):
    """A compare-and-set context is stale: the key changed since it was read (LASHUP_ERR_CONFLICT)."""

    code = -11


class TooLarge(Error, ValueError):
    """A size limit was exceeded (LASHUP_ERR_TOO_LARGE)."""

    code = -12


class InvalidState(Error):
    """Not allowed in the node's current state, e.g. started twice (LASHUP_ERR_STATE)."""

    code = -13


class PermissionDenied(Error, PermissionError):
    """A write to another node's namespace, nodes/<name>/... (LASHUP_ERR_PERMISSION)."""

    code = -14


class TypeMismatch(Error, TypeError):
    """An operation of another type than the field it addresses (LASHUP_ERR_TYPE)."""

    code = -15


class InternalError(Error):
    """A bug in liblashup (LASHUP_ERR_INTERNAL)."""

    code = -99


_BY_CODE: dict[int, type[Error]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NoMemory,
        Again,
        Timeout,
        Closed,
        NotFound,
        IOFailure,
        TLSError,
        StorageError,
        VersionMismatch,
        Conflict,
        TooLarge,
        InvalidState,
        PermissionDenied,
        TypeMismatch,
        InternalError,
    )
}


def error_for_code(code: int, message: str) -> Error:
    """The exception for a liblashup error code (an unknown code gives Error)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return Error(message, code)
    return cls(message)
