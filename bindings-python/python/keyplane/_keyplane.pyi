# Hand-written stubs for the native module; `python -m mypy.stubtest keyplane` checks them
# against the compiled module.
import os
from datetime import datetime, timedelta
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, TypeVar, Union, final

from typing_extensions import Buffer, TypeAlias

from keyplane._errors import KeyplaneError
from keyplane._types import (
    DataKeyPairSpec,
    DataKeySpec,
    EncryptionAlgorithm,
    FipsStatus,
    KeySpec,
    KeyState,
    KeyUsage,
    MacAlgorithm,
    MessageType,
    Origin,
    SigningAlgorithm,
    WrappingAlgorithm,
    WrappingKeySpec,
)

_T = TypeVar("_T")
_Many: TypeAlias = Sequence[_T]
_Context: TypeAlias = Union[dict[str, str], EncryptionContext, None]
_Path: TypeAlias = Union[str, os.PathLike[str]]

__all__ = [
    "FIPS",
    "INSECURE_TEST_HOOKS",
    "Audit",
    "AuditEvent",
    "AuditLogReport",
    "BlobInfo",
    "DataKey",
    "DataKeyPair",
    "DataKeyPairWithoutPlaintext",
    "EncryptionContext",
    "ImportParameters",
    "KeyLastUsage",
    "KeyMetadata",
    "KeyVersion",
    "Keyring",
    "LoadProblem",
    "LocalRootKey",
    "PublicKey",
    "fips_status",
    "inspect_blob",
    "reseal",
    "verify_audit_log",
]

FIPS: bool
INSECURE_TEST_HOOKS: bool

def fips_status() -> FipsStatus: ...
def inspect_blob(blob: Buffer) -> BlobInfo: ...
def reseal(record: Buffer, old: LocalRootKey, new: LocalRootKey) -> bytes: ...
def verify_audit_log(
    files_or_dir: _Path | Sequence[_Path], audit_key: Buffer
) -> AuditLogReport: ...
@final
class Audit:
    def __new__(
        cls,
        *,
        callback: Callable[[AuditEvent], object] | None = None,
        log_dir: _Path | None = None,
        audit_key: Buffer | None = None,
        context: Literal["full", "keys_only", "none"] = "full",
        back_pressure: Literal["block", "drop"] = "block",
        queue_capacity: int | None = None,
        max_file_bytes: int | None = None,
        checkpoint_every: int | None = None,
    ) -> Audit: ...
    @property
    def callback(self) -> Callable[[AuditEvent], object] | None: ...
    @property
    def log_dir(self) -> Path | None: ...
    @property
    def context(self) -> Literal["full", "keys_only", "none"]: ...
    @property
    def back_pressure(self) -> Literal["block", "drop"]: ...

@final
class AuditEvent:
    @property
    def sequence(self) -> int: ...
    @property
    def time(self) -> datetime: ...
    @property
    def request_id(self) -> str: ...
    @property
    def operation(self) -> str: ...
    @property
    def key_id(self) -> str | None: ...
    @property
    def key_version(self) -> int | None: ...
    @property
    def caller(self) -> str | None: ...
    @property
    def context(self) -> dict[str, str]: ...
    @property
    def error_code(self) -> str | None: ...

@final
class KeyLastUsage:
    @property
    def last_used(self) -> datetime | None: ...
    @property
    def last_operation(self) -> str | None: ...
    @property
    def counts(self) -> dict[str, int]: ...

@final
class AuditLogReport:
    @property
    def records(self) -> int: ...
    @property
    def last_checkpoint(self) -> tuple[Path, int, datetime] | None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def ends_at(self) -> tuple[Path, int] | None: ...
    @property
    def incomplete_tail(self) -> bool: ...

@final
class LoadProblem:
    @property
    def path(self) -> Path: ...
    @property
    def error(self) -> KeyplaneError: ...

@final
class ImportParameters:
    @property
    def key_id(self) -> str: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def import_token(self) -> bytes: ...
    @property
    def parameters_valid_to(self) -> datetime: ...

@final
class LocalRootKey:
    def __new__(cls, root_id: str, material: Buffer) -> LocalRootKey: ...
    @staticmethod
    def generate_material() -> bytes: ...
    @property
    def root_id(self) -> str: ...

@final
class EncryptionContext:
    def __new__(cls, pairs: dict[str, str] | None = None) -> EncryptionContext: ...
    def to_dict(self) -> dict[str, str]: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class BlobInfo:
    @property
    def format_version(self) -> int: ...
    @property
    def key_id(self) -> str: ...
    @property
    def key_version(self) -> int: ...

@final
class KeyVersion:
    @property
    def version(self) -> int: ...
    @property
    def creation_date(self) -> datetime: ...
    @property
    def encryptions(self) -> int: ...

@final
class KeyMetadata:
    @property
    def key_id(self) -> str: ...
    @property
    def key_spec(self) -> KeySpec: ...
    @property
    def key_usage(self) -> KeyUsage: ...
    @property
    def key_state(self) -> KeyState: ...
    @property
    def origin(self) -> Origin: ...
    @property
    def creation_date(self) -> datetime: ...
    @property
    def description(self) -> str: ...
    @property
    def deletion_date(self) -> datetime | None: ...
    @property
    def encryption_algorithms(self) -> tuple[EncryptionAlgorithm, ...]: ...
    @property
    def signing_algorithms(self) -> tuple[SigningAlgorithm, ...]: ...
    @property
    def mac_algorithms(self) -> tuple[MacAlgorithm, ...]: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...
    @property
    def rotation_period(self) -> timedelta | None: ...
    @property
    def next_rotation_date(self) -> datetime | None: ...
    @property
    def current_version(self) -> int: ...
    @property
    def min_decryption_version(self) -> int: ...
    @property
    def rotate_on_budget(self) -> bool: ...
    @property
    def versions(self) -> tuple[KeyVersion, ...]: ...
    @property
    def valid_to(self) -> datetime | None: ...

@final
class DataKey:
    @property
    def key_id(self) -> str: ...
    @property
    def plaintext(self) -> bytes: ...
    @property
    def ciphertext_blob(self) -> bytes: ...

@final
class DataKeyPair:
    @property
    def key_id(self) -> str: ...
    @property
    def key_pair_spec(self) -> DataKeyPairSpec: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def private_key_plaintext(self) -> bytes: ...
    @property
    def private_key_ciphertext_blob(self) -> bytes: ...

@final
class DataKeyPairWithoutPlaintext:
    @property
    def key_id(self) -> str: ...
    @property
    def key_pair_spec(self) -> DataKeyPairSpec: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def private_key_ciphertext_blob(self) -> bytes: ...

@final
class PublicKey:
    @property
    def key_id(self) -> str: ...
    @property
    def key_spec(self) -> KeySpec: ...
    @property
    def key_usage(self) -> KeyUsage: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def signing_algorithms(self) -> tuple[SigningAlgorithm, ...]: ...
    @property
    def encryption_algorithms(self) -> tuple[EncryptionAlgorithm, ...]: ...
    def to_pem(self) -> str: ...

@final
class Keyring:
    def __new__(
        cls,
        *,
        threads: int | None = None,
        encryption_budget: int | None = None,
        max_batch_items: int | None = None,
        audit: Audit | None = None,
    ) -> Keyring: ...
    @staticmethod
    def open(
        store_dir: _Path,
        root_key: LocalRootKey,
        *,
        threads: int | None = None,
        encryption_budget: int | None = None,
        max_batch_items: int | None = None,
        audit: Audit | None = None,
    ) -> Keyring: ...
    @property
    def load_problems(self) -> list[LoadProblem]: ...

    # audit
    def with_caller(self, caller: str) -> Keyring: ...
    @property
    def caller(self) -> str | None: ...
    def flush_audit(self) -> None: ...
    @property
    def audit_dropped(self) -> int: ...
    @property
    def audit_failures(self) -> int: ...
    def key_last_usage(self, key_id: str) -> KeyLastUsage: ...

    # key material import
    def get_parameters_for_import(
        self,
        key_id: str,
        wrapping_algorithm: WrappingAlgorithm = "RSA_AES_KEY_WRAP_SHA_256",
        wrapping_key_spec: WrappingKeySpec = "RSA_2048",
    ) -> ImportParameters: ...
    def import_key_material(
        self,
        key_id: str,
        import_token: Buffer,
        encrypted_key_material: Buffer,
        valid_to: datetime | None = None,
    ) -> None: ...
    def delete_imported_key_material(self, key_id: str) -> None: ...

    # key management
    def create_key(
        self,
        spec: KeySpec = "SYMMETRIC_DEFAULT",
        *,
        key_id: str | None = None,
        alias: str | None = None,
        usage: KeyUsage | None = None,
        description: str | None = None,
        rotation_period_days: int | None = None,
        rotation_period: timedelta | None = None,
        rotate_on_budget: bool = True,
        origin: Origin = "KEYPLANE",
    ) -> KeyMetadata: ...
    def describe_key(self, key_id: str) -> KeyMetadata: ...
    def list_keys(self) -> list[str]: ...
    def enable_key(self, key_id: str) -> None: ...
    def disable_key(self, key_id: str) -> None: ...
    def schedule_key_deletion(
        self,
        key_id: str,
        pending_window_days: int | None = None,
        *,
        pending_window: timedelta | None = None,
    ) -> datetime: ...
    def cancel_key_deletion(self, key_id: str) -> None: ...
    def create_alias(self, alias: str, key_id: str) -> None: ...
    def update_alias(self, alias: str, key_id: str) -> None: ...
    def delete_alias(self, alias: str) -> None: ...
    def list_aliases(self) -> dict[str, str]: ...
    def rotate_key(self, key_id: str) -> int: ...
    def enable_key_rotation(
        self,
        key_id: str,
        rotation_period_days: int | None = None,
        *,
        rotation_period: timedelta | None = None,
    ) -> None: ...
    def disable_key_rotation(self, key_id: str) -> None: ...
    def set_min_decryption_version(self, key_id: str, version: int) -> None: ...
    def set_rotate_on_budget(self, key_id: str, rotate: bool) -> None: ...

    # symmetric encryption and data keys
    def encrypt(self, key_id: str, plaintext: Buffer, context: _Context = None) -> bytes: ...
    def decrypt(self, blob: Buffer, context: _Context = None) -> bytes: ...
    def re_encrypt(
        self,
        blob: Buffer,
        destination_key_id: str,
        *,
        source_context: _Context = None,
        destination_context: _Context = None,
    ) -> bytes: ...
    def generate_data_key(
        self,
        key_id: str,
        key_spec: DataKeySpec | None = None,
        *,
        number_of_bytes: int | None = None,
        context: _Context = None,
    ) -> DataKey: ...
    def generate_data_key_without_plaintext(
        self,
        key_id: str,
        key_spec: DataKeySpec | None = None,
        *,
        number_of_bytes: int | None = None,
        context: _Context = None,
    ) -> bytes: ...
    def generate_data_key_pair(
        self, key_id: str, key_pair_spec: DataKeyPairSpec, *, context: _Context = None
    ) -> DataKeyPair: ...
    def generate_data_key_pair_without_plaintext(
        self, key_id: str, key_pair_spec: DataKeyPairSpec, *, context: _Context = None
    ) -> DataKeyPairWithoutPlaintext: ...
    def generate_random(self, number_of_bytes: int) -> bytes: ...

    # MACs, signatures, RSA-OAEP
    def generate_mac(self, key_id: str, message: Buffer, algorithm: MacAlgorithm) -> bytes: ...
    def verify_mac(
        self, key_id: str, message: Buffer, mac: Buffer, algorithm: MacAlgorithm
    ) -> bool: ...
    def mac_len(self, key_id: str) -> int: ...
    def sign(
        self,
        key_id: str,
        message: Buffer,
        algorithm: SigningAlgorithm,
        *,
        message_type: MessageType = "RAW",
    ) -> bytes: ...
    def verify(
        self,
        key_id: str,
        message: Buffer,
        signature: Buffer,
        algorithm: SigningAlgorithm,
        *,
        message_type: MessageType = "RAW",
    ) -> bool: ...
    def max_signature_len(self, key_id: str) -> int: ...
    def get_public_key(self, key_id: str) -> PublicKey: ...
    def encrypt_asymmetric(
        self, key_id: str, plaintext: Buffer, algorithm: EncryptionAlgorithm
    ) -> bytes: ...
    def decrypt_asymmetric(
        self, key_id: str, ciphertext: Buffer, algorithm: EncryptionAlgorithm
    ) -> bytes: ...
    def max_asymmetric_plaintext_len(self, key_id: str, algorithm: EncryptionAlgorithm) -> int: ...
    def ciphertext_len(self, key_id: str, plaintext_len: int) -> int: ...
    def plaintext_len(self, blob: Buffer) -> int: ...

    # sealed key records
    def export_sealed(self, key_id: str, root: LocalRootKey) -> bytes: ...
    def import_sealed(self, record: Buffer, root: LocalRootKey) -> KeyMetadata: ...

    # batches: one result per item, in input order; a failed item is its exception instance,
    # whether the core refused it or its own arguments did (unknown algorithm, invalid or
    # oversized context, a str that is not valid Unicode, a released buffer). Only wrong types
    # (TypeError), lists of different lengths and more items than max_batch_items raise.
    def encrypt_many(
        self,
        key_id: str | _Many[str],
        plaintexts: _Many[Buffer],
        context: _Context | _Many[_Context] = None,
    ) -> list[bytes | KeyplaneError]: ...
    def decrypt_many(
        self, blobs: _Many[Buffer], context: _Context | _Many[_Context] = None
    ) -> list[bytes | KeyplaneError]: ...
    def re_encrypt_many(
        self,
        blobs: _Many[Buffer],
        destination_key_id: str | _Many[str],
        *,
        source_context: _Context | _Many[_Context] = None,
        destination_context: _Context | _Many[_Context] = None,
    ) -> list[bytes | KeyplaneError]: ...
    def generate_data_key_many(
        self,
        key_id: str | _Many[str],
        count: int | None = None,
        *,
        key_spec: DataKeySpec | None = None,
        number_of_bytes: int | None = None,
        context: _Context | _Many[_Context] = None,
    ) -> list[DataKey | KeyplaneError]: ...
    def generate_data_key_without_plaintext_many(
        self,
        key_id: str | _Many[str],
        count: int | None = None,
        *,
        key_spec: DataKeySpec | None = None,
        number_of_bytes: int | None = None,
        context: _Context | _Many[_Context] = None,
    ) -> list[bytes | KeyplaneError]: ...
    def generate_mac_many(
        self,
        key_id: str | _Many[str],
        messages: _Many[Buffer],
        algorithm: MacAlgorithm | _Many[MacAlgorithm],
    ) -> list[bytes | KeyplaneError]: ...
    def verify_mac_many(
        self,
        key_id: str | _Many[str],
        messages: _Many[Buffer],
        macs: _Many[Buffer],
        algorithm: MacAlgorithm | _Many[MacAlgorithm],
    ) -> list[bool | KeyplaneError]: ...
    def sign_many(
        self,
        key_id: str | _Many[str],
        messages: _Many[Buffer],
        algorithm: SigningAlgorithm | _Many[SigningAlgorithm],
        *,
        message_type: MessageType | _Many[MessageType] = "RAW",
    ) -> list[bytes | KeyplaneError]: ...
    def verify_many(
        self,
        key_id: str | _Many[str],
        messages: _Many[Buffer],
        signatures: _Many[Buffer],
        algorithm: SigningAlgorithm | _Many[SigningAlgorithm],
        *,
        message_type: MessageType | _Many[MessageType] = "RAW",
    ) -> list[bool | KeyplaneError]: ...
