"""Keyplane's exceptions: one class per core error code, all under :class:`KeyplaneError`.

Every class carries the core's stable code string as ``code`` (a class attribute, so it can be
read from the class or from an instance) and the core's stable number as ``number``. Where a
Python programmer would reach for a built-in exception, the class also derives from it:
``NotFoundError`` is a ``KeyError`` (a key id is looked up like a mapping key) and the errors
about argument values are ``ValueError``\\ s. Wrong argument *types* are not Keyplane errors:
they raise a plain ``TypeError``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AlreadyExistsError",
    "AuditLogBrokenError",
    "BufferTooSmallError",
    "InternalError",
    "InvalidCiphertextError",
    "InvalidInputError",
    "InvalidKeyUsageError",
    "KeyDisabledError",
    "KeyStateError",
    "KeyplaneError",
    "LimitExceededError",
    "NotFoundError",
    "StorageError",
    "UnsupportedAlgorithmError",
    "VersionRetiredError",
]


class KeyplaneError(Exception):
    """Base class of every error Keyplane raises (other than ``TypeError`` for wrong types)."""

    code: ClassVar[str] = "KP_ERROR"
    """The core's stable error code, for example ``"KP_NOT_FOUND"``."""

    number: ClassVar[int] = 0
    """The core's stable error number (the C ABI's status), for example ``1``."""


class NotFoundError(KeyplaneError, KeyError):
    """No key or alias with that id exists in this keyring (``KP_NOT_FOUND``).

    Also a ``KeyError``; unlike a plain ``KeyError``, ``str()`` gives the message unquoted.
    """

    code = "KP_NOT_FOUND"
    number = 1

    # KeyError's own __str__ shows repr(message); a message reads better without quotes.
    __str__ = Exception.__str__


class AlreadyExistsError(KeyplaneError, ValueError):
    """A key or alias with that id already exists (``KP_ALREADY_EXISTS``)."""

    code = "KP_ALREADY_EXISTS"
    number = 2


class InvalidInputError(KeyplaneError, ValueError):
    """An argument is malformed or out of range; the message says which (``KP_INVALID_INPUT``)."""

    code = "KP_INVALID_INPUT"
    number = 3


class InvalidKeyUsageError(KeyplaneError, ValueError):
    """The key's spec or usage does not allow the operation or algorithm
    (``KP_INVALID_KEY_USAGE``)."""

    code = "KP_INVALID_KEY_USAGE"
    number = 4


class KeyStateError(KeyplaneError):
    """The key's state does not allow the operation: pending deletion or pending import
    (``KP_INVALID_KEY_STATE``). :class:`KeyDisabledError` derives from it, so
    ``except KeyStateError`` catches every "key not usable now" error."""

    code = "KP_INVALID_KEY_STATE"
    number = 6


class KeyDisabledError(KeyStateError):
    """The key is disabled (``KP_KEY_DISABLED``)."""

    code = "KP_KEY_DISABLED"
    number = 5


class InvalidCiphertextError(KeyplaneError, ValueError):
    """The ciphertext is not authentic here with this encryption context
    (``KP_INVALID_CIPHERTEXT``).

    One error for every cause (tampered, truncated, wrong context, unknown key, other keyring),
    on purpose: the message says nothing about why.
    """

    code = "KP_INVALID_CIPHERTEXT"
    number = 7


class BufferTooSmallError(KeyplaneError, ValueError):
    """An output buffer is too small (``KP_BUFFER_TOO_SMALL``).

    Part of the shared error model; the Python API returns new ``bytes`` objects, so it does not
    raise this error today.
    """

    code = "KP_BUFFER_TOO_SMALL"
    number = 8


class UnsupportedAlgorithmError(KeyplaneError, ValueError):
    """The key spec or algorithm is not supported for this operation
    (``KP_UNSUPPORTED_ALGORITHM``), e.g. rotating an asymmetric key; also what a FIPS build
    raises for a service the FIPS module does not approve, with a message that begins
    ``"not approved in FIPS mode: "`` and says why (see ``keyplane.FIPS``)."""

    code = "KP_UNSUPPORTED_ALGORITHM"
    number = 9


class LimitExceededError(KeyplaneError):
    """A size or count limit was reached: a version's encryption budget with rotate-on-budget
    off, an encryption context over 8192 bytes, a batch over the keyring's item limit
    (``KP_LIMIT_EXCEEDED``)."""

    code = "KP_LIMIT_EXCEEDED"
    number = 10


class VersionRetiredError(KeyplaneError):
    """An authentic blob made under a key version below the key's minimum decryption version
    (``KP_VERSION_RETIRED``)."""

    code = "KP_VERSION_RETIRED"
    number = 11


class StorageError(KeyplaneError, OSError):
    """The key store could not read or write its records (``KP_STORAGE``); also an
    ``OSError``. Part of the shared error model for keyrings backed by a key store."""

    code = "KP_STORAGE"
    number = 12


class InternalError(KeyplaneError):
    """The underlying cryptographic library failed unexpectedly; never caused by input
    (``KP_INTERNAL``)."""

    code = "KP_INTERNAL"
    number = 100


class AuditLogBrokenError(ValueError):
    """``keyplane.verify_audit_log`` found a broken link in an audit log: an edited, deleted,
    reordered or inserted line, a file missing from the middle, or a checkpoint whose HMAC does
    not verify (wrong audit key, or the log before it was rewritten).

    Not a ``KeyplaneError``: no operation failed; the log is not what the keyring wrote.
    ``str()`` is ``"file:line: reason"``.
    """

    file: str
    """The log file with the first broken link."""

    line: int
    """Its line, from 1 (0 when the file could not be read at all)."""

    reason: str
    """What is wrong."""

    def __init__(self, message: str, file: str, line: int, reason: str) -> None:
        super().__init__(message)
        self.file = str(file)
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[type[AuditLogBrokenError], tuple[str, str, int, str]]:
        return (type(self), (str(self), self.file, self.line, self.reason))
