/*
 * keyplane.h: the C ABI of Keyplane, the cryptographic data plane of a key management service.
 * Licensed Apache-2.0 OR MIT.
 *
 * Link: cc app.c -I<include dir> -L<lib dir> -lkeyplane -lpthread -ldl -lm
 * (static library; `pkg-config --cflags --libs keyplane` prints the same).
 *
 * CONVENTIONS
 *
 * Status codes. Every function that can fail returns a kp_status: KP_OK (0) or an error. 1-12
 * and 100 are Keyplane's error numbers, shared with the Rust, Python and Node surfaces;
 * 200-202 are errors of this C boundary (NULL argument, invalid UTF-8, panic). Numbers are
 * never reused. kp_status_str() gives the stable code string ("KP_INVALID_CIPHERTEXT"), and
 * kp_last_error_message() the message of the calling thread's last failure (thread-local,
 * valid until that thread's next failure). Decryption and verification failures say nothing
 * about why (one KP_ERR_INVALID_CIPHERTEXT for every cause): no oracle.
 *
 * Inputs. Byte and text inputs are (pointer, length) pairs, never NUL-terminated: key ids,
 * aliases and context strings must be UTF-8 (KP_ERR_INVALID_UTF8 otherwise). (NULL, 0) is the
 * empty input; NULL with a non-zero length is KP_ERR_NULL_ARGUMENT. Inputs are only read during
 * the call and never retained. An encryption context is an array of kp_context_entry
 * (key, key_len, value, value_len); (NULL, 0) is the empty context. Enumerations (kp_key_spec,
 * kp_signing_algorithm, ...) are uint32_t values with the #defines below; an unknown value is
 * KP_ERR_INVALID_INPUT.
 *
 * Output buffers. Byte outputs are (out, out_cap, out_len): the function writes at most out_cap
 * bytes to out and the length written to *out_len. When out_cap is too small it returns
 * KP_ERR_BUFFER_TOO_SMALL and sets *out_len to the size needed, so (NULL, 0, &len) is a size
 * query (for encrypt, decrypt, MAC and sign it performs no cryptography; the *_len functions
 * give the same sizes; on an audited keyring it is not recorded as an operation, unless it
 * fails for another reason, such as an unknown key, which is the operation failing). On ANY
 * failure the whole of out[0..out_cap] is zeroed (so a failed decryption leaves no partial
 * plaintext) and *out_len is 0 unless it reports the size needed: a NULL or invalid keyring,
 * invalid UTF-8, a NULL input with a length, an unknown enumeration value, a missing or
 * misaligned out_len, overlapping buffers and the operation's own errors alike (every argument
 * is checked inside the step that owns the output). The one exception: out NULL with a
 * non-zero out_cap (KP_ERR_NULL_ARGUMENT), where there is nothing to zero.
 * out_len is required (KP_ERR_NULL_ARGUMENT) and must not lie inside out. An output must not
 * overlap any input the call reads while writing it: the data (blob, plaintext, message,
 * sealed record), the key id and every part of an encryption context (KP_ERR_INVALID_INPUT).
 *
 * Other out-parameters (T **out handles, structs, sizes, flags) must be aligned for their type
 * (KP_ERR_INVALID_INPUT otherwise) and are checked first: on any failure a valid one is left
 * NULL or zeroed. Optional ones (NULL: not wanted) are checked just as strictly when given.
 *
 * Ownership. Opaque handles (kp_keyring, kp_key_metadata, kp_data_key, kp_batch_result, ...)
 * are created by the library, returned through a `T **out` parameter, and owned by the caller
 * until freed with their kp_T_free(&handle). A free function takes the ADDRESS of the caller's
 * pointer and sets it to NULL, so freeing the same variable twice is a no-op, and
 * kp_T_free(NULL) or a NULL handle is a no-op. NOT defended (undefined behaviour, as with
 * free()): freeing a copy of an already freed pointer, using a handle after it is freed, or
 * passing a pointer this library did not make. Views returned by accessors (kp_str, kp_bytes,
 * kp_batch_item) borrow from their handle and are valid until that handle is freed. Handles
 * obtained from a keyring own their data and outlive the keyring. Secret outputs held by the
 * library (data key plaintexts, private keys, batch plaintexts) are zeroized when their handle
 * is freed; secrets the library writes into YOUR buffers are yours to wipe.
 *
 * Thread safety. A kp_keyring may be used from any number of threads at once, including
 * concurrently with key management on the same keyring. Other handles are immutable once
 * returned and may be read from many threads; a handle must not be freed while another thread
 * uses it. kp_last_error_message() is per thread.
 *
 * Failure behaviour. A failing call has no effect beyond its documented outputs (the size
 * needed on KP_ERR_BUFFER_TOO_SMALL; where a broken audit log breaks, from kp_audit_verify):
 * every argument, out-parameters included, is checked before anything changes, so a call that
 * fails on its arguments creates, rotates, deletes, opens and starts nothing; no partial
 * success is reported as KP_OK. Counts and lengths are checked against their limits before
 * anything is allocated for them (batch sizes against max_batch_items, batch_threads at most
 * 1024, queue_capacity at most 1048576): a value the caller chose is KP_ERR_INVALID_INPUT or
 * KP_ERR_LIMIT_EXCEEDED, never KP_ERR_INTERNAL. No function aborts, unwinds into C or prints on
 * bad input; a bug inside the library that panics returns KP_ERR_PANIC.
 *
 * Batches (kp_*_many). Arrays of request structs in, one kp_batch_result out with a status and
 * an output per item, in input order: one bad item (including a NULL pointer or invalid UTF-8
 * in its request) never fails the others. The call itself fails only for the batch as a whole
 * (NULL arguments, KP_ERR_LIMIT_EXCEEDED above the keyring's max_batch_items). Items run on a
 * thread pool (kp_keyring_options.batch_threads); outputs share a few library-owned buffers.
 */

#ifndef KEYPLANE_H
#define KEYPLANE_H

/* Generated by cbindgen from ffi-c/src (configuration: ffi-c/cbindgen.toml). Do not edit.
 * Regenerate with: KEYPLANE_REGENERATE_HEADER=1 cargo test -p keyplane-ffi --test header */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// The status every fallible function returns. `KP_OK` is 0; 1 to 99 and 100 are Keyplane's
// error numbers (the same codes as the Rust, Python and Node surfaces); 200 and up are errors
// of the C boundary itself. Numbers are never reused.
enum kp_status
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // Success.
  KP_OK = 0,
  // No key or alias with that id exists (`KP_NOT_FOUND`).
  KP_ERR_NOT_FOUND = 1,
  // The key id or alias is taken (`KP_ALREADY_EXISTS`).
  KP_ERR_ALREADY_EXISTS = 2,
  // A malformed or out-of-range argument; the last-error message says which
  // (`KP_INVALID_INPUT`).
  KP_ERR_INVALID_INPUT = 3,
  // The key's spec or usage does not allow the operation (`KP_INVALID_KEY_USAGE`).
  KP_ERR_INVALID_KEY_USAGE = 4,
  // The key is disabled (`KP_KEY_DISABLED`).
  KP_ERR_KEY_DISABLED = 5,
  // The key is pending deletion or pending import (`KP_INVALID_KEY_STATE`).
  KP_ERR_INVALID_KEY_STATE = 6,
  // The ciphertext is not authentic here with this context; one error for every cause
  // (`KP_INVALID_CIPHERTEXT`).
  KP_ERR_INVALID_CIPHERTEXT = 7,
  // The output buffer is too small; `*out_len` holds the size needed
  // (`KP_BUFFER_TOO_SMALL`).
  KP_ERR_BUFFER_TOO_SMALL = 8,
  // The spec or algorithm is not supported for this operation (`KP_UNSUPPORTED_ALGORITHM`).
  KP_ERR_UNSUPPORTED_ALGORITHM = 9,
  // A size or count limit was reached (`KP_LIMIT_EXCEEDED`).
  KP_ERR_LIMIT_EXCEEDED = 10,
  // An authentic blob of a version below the key's minimum decryption version
  // (`KP_VERSION_RETIRED`).
  KP_ERR_VERSION_RETIRED = 11,
  // A key store or audit log could not be read or written, is in use by another process,
  // or (audit) the keyring's writer thread is in the parent of this forked process
  // (`KP_STORAGE`).
  KP_ERR_STORAGE = 12,
  // The cryptographic library failed unexpectedly; never caused by input (`KP_INTERNAL`).
  KP_ERR_INTERNAL = 100,
  // A required pointer argument was NULL, or a buffer was NULL with a non-zero length
  // (`KP_NULL_ARGUMENT`).
  KP_ERR_NULL_ARGUMENT = 200,
  // A key id, alias, description or context string was not valid UTF-8 (`KP_INVALID_UTF8`).
  KP_ERR_INVALID_UTF8 = 201,
  // Keyplane panicked (a bug); the call had no effect that can be relied on (`KP_PANIC`).
  KP_ERR_PANIC = 202,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum kp_status kp_status;
#else
typedef uint32_t kp_status;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// Every alias and its target key, sorted by alias, freed with `kp_alias_list_free`.
typedef struct kp_alias_list kp_alias_list;

// The results of one batch call: an item per request, in input order. Outputs are views into
// buffers the handle owns, valid until `kp_batch_result_free`, which zeroizes secret outputs
// (plaintexts, data keys).
typedef struct kp_batch_result kp_batch_result;

// A data key: its plaintext and the same bytes encrypted under a key. The plaintext is
// zeroized when the handle is freed with `kp_data_key_free`.
typedef struct kp_data_key kp_data_key;

// A data key pair: public key (DER SubjectPublicKeyInfo), private key (PKCS#8 DER) in
// plaintext and encrypted under a symmetric key. Freed (plaintext zeroized) with
// `kp_data_key_pair_free`.
typedef struct kp_data_key_pair kp_data_key_pair;

// Import parameters from `kp_get_parameters_for_import`: read with the
// `kp_import_parameters_*` accessors (NULL gives empty values), free with
// `kp_import_parameters_free`.
typedef struct kp_import_parameters kp_import_parameters;

// When a key was last used, by which operation, and how often each operation used it (AWS
// KMS's `GetKeyLastUsage`), from `kp_keyring_key_last_usage`. Read with the
// `kp_key_last_usage_*` accessors (NULL gives 0 or `""`), free with `kp_key_last_usage_free`.
typedef struct kp_key_last_usage kp_key_last_usage;

// A key's metadata: a snapshot taken by `kp_create_key` or `kp_describe_key`, read with the
// `kp_key_metadata_*` accessors and freed with `kp_key_metadata_free`. Strings it hands out
// are valid until it is freed. Accessors given NULL return 0, `false` or an empty string.
typedef struct kp_key_metadata kp_key_metadata;

// A keyring: the set of keys of a process and every operation on them. Thread-safe: one
// `kp_keyring*` may be used from any number of threads at once. Free with `kp_keyring_free`.
typedef struct kp_keyring kp_keyring;

// The public half of an asymmetric key, freed with `kp_public_key_free`.
typedef struct kp_public_key kp_public_key;

// A root key held in this process (`LocalRootKey`): AES-256-GCM under a key derived from 32
// bytes of root material. Seals and opens key records; safe to share between threads. Free
// with `kp_root_key_free`.
typedef struct kp_root_key kp_root_key;

// A list of strings (key ids), freed with `kp_string_list_free`.
typedef struct kp_string_list kp_string_list;

// UTF-8 text borrowed from a handle: `data` is NUL-terminated (never NULL; `""` when empty)
// and `len` excludes the NUL. Valid until the handle is freed.
typedef struct kp_str {
  // The text, NUL-terminated.
  const char *data;
  // Its length in bytes, without the NUL.
  size_t len;
} kp_str;

// What `kp_audit_verify` and `kp_audit_verify_files` found. File positions are indexes into
// the files checked (from 0): the array given, or a directory's `audit-*.jsonl` files in
// name order. Lines count from 1.
typedef struct kp_audit_report {
  // Event lines (checkpoints not counted).
  uint64_t records;
  // The log ends with the checkpoint its keyring wrote when it closed. `false` for an intact
  // log means the writer stopped (a crash, or the keyring is still open) or the tail after
  // `end_line` was cut off: lines after the last checkpoint are chained but not MACed, so
  // a log that must be complete must be closed.
  bool closed;
  // An incomplete last line (a crash mid-write) was ignored.
  bool incomplete_tail;
  // The file of the last complete line.
  size_t end_file;
  // The last complete line; 0 for an empty log.
  uint64_t end_line;
  // The file of the last checkpoint.
  size_t checkpoint_file;
  // The last checkpoint's line; 0 when there is none.
  uint64_t checkpoint_line;
  // When the last checkpoint was written, in nanoseconds since the Unix epoch; 0: none.
  uint64_t checkpoint_time_unix_nanos;
  // On `KP_ERR_INVALID_CIPHERTEXT` or `KP_ERR_STORAGE` from a file that cannot be read:
  // the file of the first broken link. 0 otherwise.
  size_t broken_file;
  // On `KP_ERR_INVALID_CIPHERTEXT`: the line of the first broken link (from 1); 0 otherwise
  // (and for a file that cannot be read).
  uint64_t broken_line;
} kp_audit_report;

// One file of an audit log, for `kp_audit_verify_files`: a UTF-8 path as `(ptr, len)`.
typedef struct kp_audit_file {
  // The path's bytes (not NUL-terminated).
  const char *path;
  // Its length in bytes.
  size_t path_len;
} kp_audit_file;

// One pair of an encryption context: UTF-8 `key` (non-empty) and `value`, as `(ptr, len)`.
typedef struct kp_context_entry {
  // The key's UTF-8 bytes (not NUL-terminated; a NUL byte is a character like any other).
  const char *key;
  // The key's length in bytes (at least 1).
  size_t key_len;
  // The value's UTF-8 bytes.
  const char *value;
  // The value's length in bytes (may be 0).
  size_t value_len;
} kp_context_entry;

// One encryption in `kp_encrypt_many`.
typedef struct kp_encrypt_request {
  // Key id or `alias/...`.
  const char *key_id;
  // Length of `key_id`.
  size_t key_id_len;
  // The data to encrypt.
  const uint8_t *plaintext;
  // Length of `plaintext`.
  size_t plaintext_len;
  // The encryption context (NULL, 0 for none).
  const struct kp_context_entry *context;
  // Number of context entries.
  size_t context_len;
} kp_encrypt_request;

// One decryption in `kp_decrypt_many`.
typedef struct kp_decrypt_request {
  // The blob.
  const uint8_t *blob;
  // Length of `blob`.
  size_t blob_len;
  // The context given when encrypting.
  const struct kp_context_entry *context;
  // Number of context entries.
  size_t context_len;
} kp_decrypt_request;

// One re-encryption in `kp_re_encrypt_many`.
typedef struct kp_re_encrypt_request {
  // The blob.
  const uint8_t *blob;
  // Length of `blob`.
  size_t blob_len;
  // The context `blob` was made with.
  const struct kp_context_entry *source_context;
  // Number of source context entries.
  size_t source_context_len;
  // Key id or `alias/...` to encrypt under.
  const char *destination_key_id;
  // Length of `destination_key_id`.
  size_t destination_key_id_len;
  // The context bound to the new blob.
  const struct kp_context_entry *destination_context;
  // Number of destination context entries.
  size_t destination_context_len;
} kp_re_encrypt_request;

// The size of a data key.
typedef uint32_t kp_data_key_spec;

// One data key in `kp_generate_data_key_many` / `kp_generate_data_key_without_plaintext_many`.
typedef struct kp_data_key_request {
  // Key id or `alias/...` that encrypts the data key.
  const char *key_id;
  // Length of `key_id`.
  size_t key_id_len;
  // The data key's size.
  kp_data_key_spec spec;
  // With `KP_DATA_KEY_SPEC_NUMBER_OF_BYTES`: 1 to 1024; otherwise 0.
  size_t number_of_bytes;
  // The context bound to the encrypted data key.
  const struct kp_context_entry *context;
  // Number of context entries.
  size_t context_len;
} kp_data_key_request;

// MAC algorithms.
typedef uint32_t kp_mac_algorithm;

// One MAC in `kp_generate_mac_many`.
typedef struct kp_mac_request {
  // Key id or `alias/...` of an HMAC key.
  const char *key_id;
  // Length of `key_id`.
  size_t key_id_len;
  // The message.
  const uint8_t *message;
  // Length of `message`.
  size_t message_len;
  // Must match the key's spec.
  kp_mac_algorithm algorithm;
} kp_mac_request;

// One MAC check in `kp_verify_mac_many`.
typedef struct kp_verify_mac_request {
  // Key id or `alias/...` of an HMAC key.
  const char *key_id;
  // Length of `key_id`.
  size_t key_id_len;
  // The message.
  const uint8_t *message;
  // Length of `message`.
  size_t message_len;
  // Must match the key's spec.
  kp_mac_algorithm algorithm;
  // The MAC to check.
  const uint8_t *mac;
  // Length of `mac`.
  size_t mac_len;
} kp_verify_mac_request;

// What a message given to sign / verify is.
typedef uint32_t kp_message_type;

// Signing algorithms.
typedef uint32_t kp_signing_algorithm;

// One signature in `kp_sign_many`.
typedef struct kp_sign_request {
  // Key id or `alias/...` of a signing key.
  const char *key_id;
  // Length of `key_id`.
  size_t key_id_len;
  // The message, or its digest with `KP_MESSAGE_TYPE_DIGEST`.
  const uint8_t *message;
  // Length of `message`.
  size_t message_len;
  // `KP_MESSAGE_TYPE_RAW` or `KP_MESSAGE_TYPE_DIGEST`.
  kp_message_type message_type;
  // One the key's spec allows.
  kp_signing_algorithm algorithm;
} kp_sign_request;

// One signature check in `kp_verify_many`.
typedef struct kp_verify_request {
  // Key id or `alias/...` of a signing key.
  const char *key_id;
  // Length of `key_id`.
  size_t key_id_len;
  // The message, or its digest with `KP_MESSAGE_TYPE_DIGEST`.
  const uint8_t *message;
  // Length of `message`.
  size_t message_len;
  // `KP_MESSAGE_TYPE_RAW` or `KP_MESSAGE_TYPE_DIGEST`.
  kp_message_type message_type;
  // One the key's spec allows.
  kp_signing_algorithm algorithm;
  // The signature to check.
  const uint8_t *signature;
  // Length of `signature`.
  size_t signature_len;
} kp_verify_request;

// Bytes borrowed from a handle, valid until the handle is freed; `(NULL, 0)` when empty.
typedef struct kp_bytes {
  // The bytes, or NULL when `len` is 0.
  const uint8_t *data;
  // The number of bytes.
  size_t len;
} kp_bytes;

// One item of a batch result.
typedef struct kp_batch_item {
  // `KP_OK` or why this item failed.
  kp_status status;
  // The output: the blob (encrypt, re-encrypt, data keys), the plaintext (decrypt), the MAC
  // or the signature. `(NULL, 0)` when the item failed and for verify results.
  struct kp_bytes output;
  // The data key's plaintext (`kp_generate_data_key_many` only; otherwise `(NULL, 0)`).
  struct kp_bytes plaintext;
  // Verify forms: whether the MAC or signature is valid (`false` when the item failed).
  bool valid;
  // Why the item failed (the last-error message of a single call), or empty.
  struct kp_str message;
} kp_batch_item;

// The type of key material (AWS KMS's `KeySpec`).
typedef uint32_t kp_key_spec;

// What a key may be used for (AWS KMS's `KeyUsage`).
typedef uint32_t kp_key_usage;

// A key's life-cycle state.
typedef uint32_t kp_key_state;

// Encryption algorithms.
typedef uint32_t kp_encryption_algorithm;

// How imported key material is wrapped (AWS KMS's `WrappingAlgorithm`).
typedef uint32_t kp_wrapping_algorithm;

// The size of the RSA wrapping key (AWS KMS's `WrappingKeySpec`).
typedef uint32_t kp_wrapping_key_spec;

// One audited operation, as a `kp_audit_callback` receives it. Never carries a plaintext, a
// ciphertext or key material. Everything it points at is valid only during the call.
typedef struct kp_audit_event {
  // Position in the keyring's audit trail, from 1.
  uint64_t sequence;
  // When the operation finished, in nanoseconds since the Unix epoch.
  uint64_t time_unix_nanos;
  // Unique within the process (for example `"3-1f"`).
  struct kp_str request_id;
  // The operation, named as AWS KMS names its API calls (for example `"Encrypt"`).
  struct kp_str operation;
  // The key's id (never an alias) when the key was found, else the name given; `""` for
  // operations without a key.
  struct kp_str key_id;
  // The key version used by symmetric encryption and decryption; 0 otherwise.
  uint32_t key_version;
  // The caller identity of the keyring handle (`kp_keyring_with_caller`); `""` for none.
  struct kp_str caller;
  // The encryption context, as much of it as the keyring logs (`context_len` pairs).
  const struct kp_context_entry *context;
  // The number of pairs in `context`.
  size_t context_len;
  // `""` for success, else the error's code (for example `"KP_INVALID_CIPHERTEXT"`).
  struct kp_str error_code;
} kp_audit_event;

// Receives each audit event (each calling thread's in the order it made them) on the
// keyring's audit writer thread (never the thread that made the call), with the `user_data`
// of `kp_audit_options`. It must return promptly
// (the writer delivers nothing else meanwhile, and with `KP_BACK_PRESSURE_BLOCK` callers wait
// once the queue is full), must not unwind (no C++ exception may leave it), and cannot use
// the keyring it audits, through any of its handles: an operation there would queue a new
// event that this same thread has to deliver (with a full queue it would wait for itself), so
// every audited operation and `kp_keyring_flush_audit` called from the callback on its own
// keyring fail at once with `KP_ERR_INVALID_INPUT`. Freeing the last handle there would make
// the writer thread wait for its own end: do not.
typedef void (*kp_audit_callback)(const struct kp_audit_event *event, void *user_data);

// How much of an encryption context audit events keep.
typedef uint32_t kp_context_logging;

// What an operation does when the audit queue is full.
typedef uint32_t kp_back_pressure;

// How a keyring audits (`kp_keyring_options.audit`): exactly one of `callback` and `log_dir`.
// Zero-initialize, then set what you need. Read only while the keyring is made.
typedef struct kp_audit_options {
  // Called with every event (see `kp_audit_callback`). `user_data` must stay valid until
  // `kp_keyring_free` of the keyring's last handle returns: that call delivers the events
  // still queued.
  kp_audit_callback callback;
  // Passed to `callback` as is.
  void *user_data;
  // A directory for a hash-chained JSON Lines log (UTF-8, not NUL-terminated), created if
  // needed; it must not already hold a log (`KP_ERR_STORAGE`). `(NULL, 0)` for none.
  const char *log_dir;
  // The length of `log_dir` in bytes.
  size_t log_dir_len;
  // The 32-byte key that MACs the log's checkpoints (with `log_dir` only). Keep it apart
  // from the log: whoever holds it can forge checkpoints.
  const uint8_t *audit_key;
  // The length of `audit_key` (32).
  size_t audit_key_len;
  // `KP_CONTEXT_LOGGING_*`.
  kp_context_logging context_logging;
  // `KP_BACK_PRESSURE_*`.
  kp_back_pressure back_pressure;
  // Events each calling thread may have waiting for the writer; 0 for the default (4096);
  // at most 1048576 (`KP_ERR_INVALID_INPUT` above).
  size_t queue_capacity;
  // With `log_dir`: the size in bytes at which the log goes on in a new file
  // (`audit-000002.jsonl`, ...; the chain runs on through them); 0 for the default (64 MiB).
  uint64_t max_file_bytes;
  // With `log_dir`: a MACed checkpoint every this many records (and at each file's end and
  // at close); 0 for the default (1000).
  uint64_t checkpoint_every;
} kp_audit_options;

// Settings for `kp_keyring_new_with_options` and `kp_keyring_open`. All-zero is the default
// for every field.
typedef struct kp_keyring_options {
  // Encryptions allowed per key version before the key rotates (or refuses); 0: 2^32.
  uint64_t encryption_budget;
  // 0: batches run on one process-wide pool shared by every keyring, with a thread per
  // core. n > 0: on a pool of n threads of this keyring's own, started at its first batch.
  // The calling thread works on its batch too, with up to n - 1 pool threads (so n = 1
  // starts no thread). At most 1024 (`KP_ERR_INVALID_INPUT` above).
  size_t batch_threads;
  // The most items one batch call takes; 0: 100,000.
  size_t max_batch_items;
  // NULL: no audit trail. Otherwise every operation of the keyring is audited as this says
  // (a callback or a log directory; see `kp_audit_options`). Read only during the call.
  const struct kp_audit_options *audit;
} kp_keyring_options;

// Where a key's material came from.
typedef uint32_t kp_origin;

// Options for `kp_create_key`. Zero-initialize, then set `key_spec` and what you need.
typedef struct kp_create_key_options {
  // The key spec (required).
  kp_key_spec key_spec;
  // The key usage; `KP_KEY_USAGE_DEFAULT` (0) for the spec's default. RSA keys need one.
  kp_key_usage key_usage;
  // The key id, 1 to 255 ASCII letters, digits or `-_.:/`; `(NULL, 0)`: a random UUID.
  const char *key_id;
  // Length of `key_id` in bytes.
  size_t key_id_len;
  // Free-text UTF-8 description; `(NULL, 0)` for none.
  const char *description;
  // Length of `description` in bytes.
  size_t description_len;
  // An alias (`alias/...`) to create with the key; `(NULL, 0)` for none.
  const char *alias;
  // Length of `alias` in bytes.
  size_t alias_len;
  // Automatic rotation every this many days (90 to 2560, AWS KMS's bounds); 0: none.
  uint32_t rotation_period_days;
  // Automatic rotation every this many seconds, without KMS's bounds (for control planes
  // with a policy of their own); 0: none. At most one of the two periods may be set.
  uint64_t rotation_period_seconds;
  // `true`: refuse encryptions with `KP_ERR_LIMIT_EXCEEDED` once a version's encryption
  // budget is spent, instead of rotating (the default, `false`).
  bool refuse_on_budget;
  // `KP_ORIGIN_EXTERNAL`: the key starts in `PendingImport` without material, for
  // `kp_import_key_material`. 0 or `KP_ORIGIN_KEYPLANE`: material generated here.
  kp_origin origin;
} kp_create_key_options;

// One version of a key.
typedef struct kp_key_version {
  // The version number, from 1.
  uint32_t version;
  // When it was created (Unix seconds).
  int64_t creation_date;
  // How many encryptions this keyring has made under it.
  uint64_t encryptions;
} kp_key_version;

// The kind of a data key pair.
typedef uint32_t kp_data_key_pair_spec;

// What a sealed record says in the clear, from `kp_sealed_inspect`: which key it holds and
// which root key opens it. Nothing here is authenticated until the record is opened.
typedef struct kp_sealed_record_info {
  // The record format (1).
  uint8_t format;
  // The id of the key inside, NUL-terminated (at most 255 bytes before the NUL).
  char key_id[256];
  // The length of `key_id` in bytes, without the NUL.
  size_t key_id_len;
  // The id of the root key that sealed it, NUL-terminated (at most 255 bytes).
  char root_id[256];
  // The length of `root_id` in bytes, without the NUL.
  size_t root_id_len;
} kp_sealed_record_info;

// Every status, for the name table and the tests.
#define kp_status_ALL { KP_OK, KP_ERR_NOT_FOUND, KP_ERR_ALREADY_EXISTS, KP_ERR_INVALID_INPUT, KP_ERR_INVALID_KEY_USAGE, KP_ERR_KEY_DISABLED, KP_ERR_INVALID_KEY_STATE, KP_ERR_INVALID_CIPHERTEXT, KP_ERR_BUFFER_TOO_SMALL, KP_ERR_UNSUPPORTED_ALGORITHM, KP_ERR_LIMIT_EXCEEDED, KP_ERR_VERSION_RETIRED, KP_ERR_STORAGE, KP_ERR_INTERNAL, KP_ERR_NULL_ARGUMENT, KP_ERR_INVALID_UTF8, KP_ERR_PANIC, }

// Keys and values (the default; AWS KMS logs contexts in full).
#define KP_CONTEXT_LOGGING_FULL 0

// Keys only, values left out.
#define KP_CONTEXT_LOGGING_KEYS_ONLY 1

// No context.
#define KP_CONTEXT_LOGGING_NONE 2

// Wait for the writer (the default): no event is ever lost.
#define KP_BACK_PRESSURE_BLOCK 0

// Drop the event and count it; the count is itself recorded.
#define KP_BACK_PRESSURE_DROP 1

// `SYMMETRIC_DEFAULT`: AES-256-GCM with per-version HKDF-derived keys.
#define KP_KEY_SPEC_SYMMETRIC_DEFAULT 1

// `HMAC_224`.
#define KP_KEY_SPEC_HMAC_224 2

// `HMAC_256`.
#define KP_KEY_SPEC_HMAC_256 3

// `HMAC_384`.
#define KP_KEY_SPEC_HMAC_384 4

// `HMAC_512`.
#define KP_KEY_SPEC_HMAC_512 5

// `RSA_2048` (needs an explicit usage: `ENCRYPT_DECRYPT` or `SIGN_VERIFY`).
#define KP_KEY_SPEC_RSA_2048 6

// `RSA_3072`.
#define KP_KEY_SPEC_RSA_3072 7

// `RSA_4096`.
#define KP_KEY_SPEC_RSA_4096 8

// `ECC_NIST_P256` (ECDSA_SHA_256).
#define KP_KEY_SPEC_ECC_NIST_P256 9

// `ECC_NIST_P384` (ECDSA_SHA_384).
#define KP_KEY_SPEC_ECC_NIST_P384 10

// `ECC_NIST_P521` (ECDSA_SHA_512).
#define KP_KEY_SPEC_ECC_NIST_P521 11

// `ECC_SECG_P256K1` (ECDSA_SHA_256).
#define KP_KEY_SPEC_ECC_SECG_P256K1 12

// When creating a key: the spec's default usage (RSA keys have none and must name one).
#define KP_KEY_USAGE_DEFAULT 0

// `ENCRYPT_DECRYPT`.
#define KP_KEY_USAGE_ENCRYPT_DECRYPT 1

// `SIGN_VERIFY`.
#define KP_KEY_USAGE_SIGN_VERIFY 2

// `GENERATE_VERIFY_MAC`.
#define KP_KEY_USAGE_GENERATE_VERIFY_MAC 3

// `KEY_AGREEMENT` (refused at creation until a key-agreement operation exists).
#define KP_KEY_USAGE_KEY_AGREEMENT 4

// `Enabled`.
#define KP_KEY_STATE_ENABLED 1

// `Disabled`.
#define KP_KEY_STATE_DISABLED 2

// `PendingDeletion`.
#define KP_KEY_STATE_PENDING_DELETION 3

// `PendingImport`.
#define KP_KEY_STATE_PENDING_IMPORT 4

// `KEYPLANE`: generated inside Keyplane.
#define KP_ORIGIN_KEYPLANE 1

// `EXTERNAL`: imported by the caller.
#define KP_ORIGIN_EXTERNAL 2

// `SYMMETRIC_DEFAULT` (Keyplane's blob format).
#define KP_ENCRYPTION_ALGORITHM_SYMMETRIC_DEFAULT 1

// `RSAES_OAEP_SHA_1`.
#define KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_1 2

// `RSAES_OAEP_SHA_256`.
#define KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256 3

// `ECDSA_SHA_256` (DER signature).
#define KP_SIGNING_ALGORITHM_ECDSA_SHA_256 1

// `ECDSA_SHA_384`.
#define KP_SIGNING_ALGORITHM_ECDSA_SHA_384 2

// `ECDSA_SHA_512`.
#define KP_SIGNING_ALGORITHM_ECDSA_SHA_512 3

// `RSASSA_PSS_SHA_256`.
#define KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_256 4

// `RSASSA_PSS_SHA_384`.
#define KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_384 5

// `RSASSA_PSS_SHA_512`.
#define KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_512 6

// `RSASSA_PKCS1_V1_5_SHA_256`.
#define KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_256 7

// `RSASSA_PKCS1_V1_5_SHA_384`.
#define KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_384 8

// `RSASSA_PKCS1_V1_5_SHA_512`.
#define KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_512 9

// `HMAC_SHA_224`.
#define KP_MAC_ALGORITHM_HMAC_SHA_224 1

// `HMAC_SHA_256`.
#define KP_MAC_ALGORITHM_HMAC_SHA_256 2

// `HMAC_SHA_384`.
#define KP_MAC_ALGORITHM_HMAC_SHA_384 3

// `HMAC_SHA_512`.
#define KP_MAC_ALGORITHM_HMAC_SHA_512 4

// `RAW`: the message itself; Keyplane hashes it.
#define KP_MESSAGE_TYPE_RAW 1

// `DIGEST`: the caller's digest; its length must be the algorithm's digest length.
#define KP_MESSAGE_TYPE_DIGEST 2

// `AES_256`: 32 bytes (pass `number_of_bytes` 0).
#define KP_DATA_KEY_SPEC_AES_256 1

// `AES_128`: 16 bytes (pass `number_of_bytes` 0).
#define KP_DATA_KEY_SPEC_AES_128 2

// `number_of_bytes` bytes, 1 to 1024 (AWS KMS's `NumberOfBytes`).
#define KP_DATA_KEY_SPEC_NUMBER_OF_BYTES 3

// `RSA_2048`.
#define KP_DATA_KEY_PAIR_SPEC_RSA_2048 1

// `RSA_3072`.
#define KP_DATA_KEY_PAIR_SPEC_RSA_3072 2

// `RSA_4096`.
#define KP_DATA_KEY_PAIR_SPEC_RSA_4096 3

// `ECC_NIST_P256`.
#define KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P256 4

// `ECC_NIST_P384`.
#define KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P384 5

// `ECC_NIST_P521`.
#define KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P521 6

// `ECC_SECG_P256K1`.
#define KP_DATA_KEY_PAIR_SPEC_ECC_SECG_P256K1 7

// `RSAES_OAEP_SHA_1`: the material itself, RSA-OAEP (symmetric and HMAC material).
#define KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_1 1

// `RSAES_OAEP_SHA_256`.
#define KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_256 2

// `RSA_AES_KEY_WRAP_SHA_1`: an AES-256 key by RSA-OAEP, then the material by AES key wrap
// with padding (any material; required for RSA private keys).
#define KP_WRAPPING_ALGORITHM_RSA_AES_KEY_WRAP_SHA_1 3

// `RSA_AES_KEY_WRAP_SHA_256`.
#define KP_WRAPPING_ALGORITHM_RSA_AES_KEY_WRAP_SHA_256 4

// `RSA_2048`.
#define KP_WRAPPING_KEY_SPEC_RSA_2048 1

// `RSA_3072`.
#define KP_WRAPPING_KEY_SPEC_RSA_3072 2

// `RSA_4096`.
#define KP_WRAPPING_KEY_SPEC_RSA_4096 3

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// The stable code of a status as a static NUL-terminated string (`"KP_OK"`,
// `"KP_INVALID_CIPHERTEXT"`, …; the same strings the Rust, Python and Node surfaces use), or
// `"KP_UNKNOWN_STATUS"` for a number that is not a status. Never NULL. Takes any integer so
// that a value from anywhere can be passed.
const char *kp_status_str(uint32_t status);

// The message of the last failure on the calling thread, NUL-terminated: for example
// `"invalid input: random length must be 1 to 1024 bytes"` or `"NULL argument: out_len"`.
// The empty string if no call on this thread has failed yet. Calls that succeed leave it as
// it was. The pointer stays valid until the thread's next failing call (or its exit); copy
// the text to keep it longer. Never NULL.
const char *kp_last_error_message(void);

// The library's version, NUL-terminated (for example `"0.1.0"`). Never NULL.
const char *kp_version(void);

// 1 when this library is a FIPS build (the `fips` feature: linked to the AWS-LC FIPS module)
// whose module is in FIPS mode (its power-on self-tests passed), else 0. A non-FIPS build
// always returns 0. In a FIPS build, services the module does not approve are refused with
// `KP_ERR_UNSUPPORTED_ALGORITHM` and a message starting `"not approved in FIPS mode: "`:
// secp256k1 keys and data key pairs, signing or verifying with `KP_MESSAGE_TYPE_DIGEST`,
// RSA keys with `KP_KEY_USAGE_ENCRYPT_DECRYPT` (RSA-OAEP), `KP_ORIGIN_EXTERNAL` keys and key
// material import. A FIPS build whose module is not in FIPS mode makes no keyring
// (`kp_keyring_new` and the others return `KP_ERR_UNSUPPORTED_ALGORITHM`).
int kp_fips_mode(void);

// The module this library runs on and its version, NUL-terminated: for example
// `"AWS-LC FIPS 4.2.0"` in a FIPS build or `"AWS-LC 5.12.0"` otherwise. The version is the
// one the module reports at run time; it is not by itself a statement of certification.
// Static: never NULL, the same pointer on every call, valid for the life of the process.
const char *kp_fips_module(void);

// A new handle on the same keyring (same keys, same audit trail) whose operations the audit
// trail attributes to `caller` (UTF-8, `(ptr, len)`), stored in `*out`. Free it with
// `kp_keyring_free` like any keyring handle; the keyring lives until its last handle is
// freed.
//
// # Safety
// `keyring` is NULL or a live `kp_keyring*`; `caller` points to `caller_len` bytes when not
// NULL; `out` is NULL or writable.
kp_status kp_keyring_with_caller(const struct kp_keyring *keyring,
                                 const char *caller,
                                 size_t caller_len,
                                 struct kp_keyring **out);

// Returns once every operation recorded before the call has been delivered (the callback
// has returned for it, or the log is written and synced). `KP_OK` at once for a keyring
// without audit. From inside an audit callback (of any keyring) it is refused with
// `KP_ERR_INVALID_INPUT`: it would wait for its own thread. `KP_ERR_STORAGE` if the writer
// thread has stopped, or in a `fork()`ed child of the process that made the keyring.
//
// # Safety
// `keyring` is NULL or a live `kp_keyring*`.
kp_status kp_keyring_flush_audit(const struct kp_keyring *keyring);

// Events dropped because the audit queue was full (with `KP_BACK_PRESSURE_DROP`); 0 for a
// NULL keyring or one without audit.
//
// # Safety
// `keyring` is NULL or a live `kp_keyring*`.
uint64_t kp_keyring_audit_dropped(const struct kp_keyring *keyring);

// Times the audit sink failed to record, flush or close (a log that could not be written:
// full disk, removed directory); the writer goes on with the next event. 0 for a NULL
// keyring or one without audit. A control plane that must not run unaudited checks it.
//
// # Safety
// `keyring` is NULL or a live `kp_keyring*`.
uint64_t kp_keyring_audit_failures(const struct kp_keyring *keyring);

// The usage of `key_id` (id or `alias/...`) as the audit writer has seen it so far, in
// `*out`: call `kp_keyring_flush_audit` first to include operations still queued. Every
// audited operation counts, successful or not. `KP_ERR_NOT_FOUND` for an unknown key,
// `KP_ERR_INVALID_INPUT` for a keyring without audit.
//
// # Safety
// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out` is NULL or writable.
kp_status kp_keyring_key_last_usage(const struct kp_keyring *keyring,
                                    const char *key_id,
                                    size_t key_id_len,
                                    struct kp_key_last_usage **out);

// When the key was last used, in nanoseconds since the Unix epoch; 0 if never (since the
// keyring was made: usage is not persisted).
//
// # Safety
// `u` is NULL or a live `kp_key_last_usage*`; so for every `kp_key_last_usage_*` accessor.
uint64_t kp_key_last_usage_last_used_unix_nanos(const struct kp_key_last_usage *u);

// The last operation that used the key, named as AWS KMS names it (`"Encrypt"`); `""` if
// never.
//
// # Safety
// As `kp_key_last_usage_last_used_unix_nanos`.
struct kp_str kp_key_last_usage_last_operation(const struct kp_key_last_usage *u);

// How many operations have used the key (each listed once, by name, with its count).
//
// # Safety
// As `kp_key_last_usage_last_used_unix_nanos`.
size_t kp_key_last_usage_operation_count(const struct kp_key_last_usage *u);

// The name of operation `index` (from 0, in name order); `""` past the last.
//
// # Safety
// As `kp_key_last_usage_last_used_unix_nanos`.
struct kp_str kp_key_last_usage_operation(const struct kp_key_last_usage *u, size_t index);

// How many times operation `index` used the key; 0 past the last.
//
// # Safety
// As `kp_key_last_usage_last_used_unix_nanos`.
uint64_t kp_key_last_usage_uses(const struct kp_key_last_usage *u, size_t index);

// Frees the usage in `*u` and sets `*u` to NULL. NULL: no-op.
//
// # Safety
// `u` is NULL or points to NULL or a live `kp_key_last_usage*`.
void kp_key_last_usage_free(struct kp_key_last_usage **u);

// Checks the audit log in directory `log_dir` (UTF-8, `(ptr, len)`; every `audit-*.jsonl`
// file in name order): the hash chain through all of them, every checkpoint's MAC under
// `audit_key` (32 bytes), and that sequence numbers run without gaps. `KP_OK` with what it
// found in `*out_report` (check `closed`: an intact log whose tail was cut off after a
// checkpoint is not closed). `KP_ERR_INVALID_CIPHERTEXT` for a broken log (an edited, deleted,
// reordered or inserted line, a file missing from the middle, a checkpoint that does not
// verify under `audit_key`, lines after the close), with the first broken link's file and
// line in `out_report->broken_file` / `broken_line` and `kp_last_error_message()` saying
// `"audit log broken at <path>:<line>: <reason>"`. `KP_ERR_STORAGE` when the directory or a
// file cannot be read, or holds no log file.
//
// # Safety
// `(log_dir, log_dir_len)` and `(audit_key, audit_key_len)` are valid; `out_report` is NULL
// or writable.
kp_status kp_audit_verify(const char *log_dir,
                          size_t log_dir_len,
                          const uint8_t *audit_key,
                          size_t audit_key_len,
                          struct kp_audit_report *out_report);

// Checks an audit log given as its files, in order (for logs moved or archived under other
// names): as `kp_audit_verify`, with file positions in `*out_report` indexing `files`. The
// first file must be the log's first. `(NULL, 0)` files is `KP_ERR_INVALID_INPUT`.
//
// # Safety
// `files` is NULL or points to `file_count` entries whose `(path, path_len)` are valid;
// `(audit_key, audit_key_len)` is valid; `out_report` is NULL or writable.
kp_status kp_audit_verify_files(const struct kp_audit_file *files,
                                size_t file_count,
                                const uint8_t *audit_key,
                                size_t audit_key_len,
                                struct kp_audit_report *out_report);

// Encrypts every request; see `kp_encrypt` for each item's errors. Each item's `output` is
// its blob. Stores a new `kp_batch_result` in `*out`.
//
// # Safety
// `keyring` is NULL or live; `items` is NULL or points to `count` requests whose pointers
// are valid for the call; `out` is NULL or writable. The same for every `kp_*_many`.
kp_status kp_encrypt_many(const struct kp_keyring *keyring,
                          const struct kp_encrypt_request *items,
                          size_t count,
                          struct kp_batch_result **out);

// Decrypts every request; see `kp_decrypt`. Each item's `output` is its plaintext (zeroized
// when the result is freed).
//
// # Safety
// As `kp_encrypt_many`.
kp_status kp_decrypt_many(const struct kp_keyring *keyring,
                          const struct kp_decrypt_request *items,
                          size_t count,
                          struct kp_batch_result **out);

// Re-encrypts every request; see `kp_re_encrypt`. Each item's `output` is its new blob.
//
// # Safety
// As `kp_encrypt_many`.
kp_status kp_re_encrypt_many(const struct kp_keyring *keyring,
                             const struct kp_re_encrypt_request *items,
                             size_t count,
                             struct kp_batch_result **out);

// Generates a data key per request; see `kp_generate_data_key`. Each item's `plaintext` is
// the data key (zeroized when the result is freed) and `output` its blob.
//
// # Safety
// As `kp_encrypt_many`.
kp_status kp_generate_data_key_many(const struct kp_keyring *keyring,
                                    const struct kp_data_key_request *items,
                                    size_t count,
                                    struct kp_batch_result **out);

// Generates a data key per request and keeps only its blob (`output`); see
// `kp_generate_data_key_without_plaintext`.
//
// # Safety
// As `kp_encrypt_many`.
kp_status kp_generate_data_key_without_plaintext_many(const struct kp_keyring *keyring,
                                                      const struct kp_data_key_request *items,
                                                      size_t count,
                                                      struct kp_batch_result **out);

// Computes a MAC per request (`output`); see `kp_generate_mac`.
//
// # Safety
// As `kp_encrypt_many`.
kp_status kp_generate_mac_many(const struct kp_keyring *keyring,
                               const struct kp_mac_request *items,
                               size_t count,
                               struct kp_batch_result **out);

// Checks a MAC per request (`valid`); see `kp_verify_mac`.
//
// # Safety
// As `kp_encrypt_many`.
kp_status kp_verify_mac_many(const struct kp_keyring *keyring,
                             const struct kp_verify_mac_request *items,
                             size_t count,
                             struct kp_batch_result **out);

// Signs every request (`output`); see `kp_sign`.
//
// # Safety
// As `kp_encrypt_many`.
kp_status kp_sign_many(const struct kp_keyring *keyring,
                       const struct kp_sign_request *items,
                       size_t count,
                       struct kp_batch_result **out);

// Checks a signature per request (`valid`); see `kp_verify`.
//
// # Safety
// As `kp_encrypt_many`.
kp_status kp_verify_many(const struct kp_keyring *keyring,
                         const struct kp_verify_request *items,
                         size_t count,
                         struct kp_batch_result **out);

// The number of items (0 for NULL).
//
// # Safety
// `result` is NULL or a live `kp_batch_result`.
size_t kp_batch_result_count(const struct kp_batch_result *result);

// Item `index` into `*out`; its views stay valid until the result is freed.
// `KP_ERR_INVALID_INPUT` when `index` is out of range.
//
// # Safety
// `result` is NULL or a live `kp_batch_result`; `out` is NULL or writable.
kp_status kp_batch_result_item(const struct kp_batch_result *result,
                               size_t index,
                               struct kp_batch_item *out);

// Frees the result in `*result` (zeroizing secret outputs) and sets `*result` to NULL; NULL or
// `*result` NULL: no-op.
//
// # Safety
// `result` is NULL or points to NULL or a live `kp_batch_result*`.
void kp_batch_result_free(struct kp_batch_result **result);

// The KMS name of a key spec (`"SYMMETRIC_DEFAULT"`, …), static and NUL-terminated; NULL for
// an unknown number.
const char *kp_key_spec_str(kp_key_spec spec);

// The KMS name of a key usage; NULL for an unknown number.
const char *kp_key_usage_str(kp_key_usage usage);

// The KMS name of a key state (`"Enabled"`, …); NULL for an unknown number.
const char *kp_key_state_str(kp_key_state state);

// The KMS name of a signing algorithm; NULL for an unknown number.
const char *kp_signing_algorithm_str(kp_signing_algorithm algorithm);

// The KMS name of an encryption algorithm; NULL for an unknown number.
const char *kp_encryption_algorithm_str(kp_encryption_algorithm algorithm);

// The KMS name of a MAC algorithm; NULL for an unknown number.
const char *kp_mac_algorithm_str(kp_mac_algorithm algorithm);

#if defined(KEYPLANE_INSECURE_TEST_HOOKS)
// **Insecure, tests only.** Creates a `SYMMETRIC_DEFAULT` key whose versions 1, 2, … have the
// 32-byte root materials `roots[0..32]`, `roots[32..64]`, … (`roots_len` a multiple of 32).
//
// # Safety
// `keyring` is NULL or live; both `(ptr, len)` pairs are valid.
kp_status kp_insecure_create_key_with_material(const struct kp_keyring *keyring,
                                               const char *key_id,
                                               size_t key_id_len,
                                               const uint8_t *roots,
                                               size_t roots_len);
#endif

#if defined(KEYPLANE_INSECURE_TEST_HOOKS)
// **Insecure, tests only.** Creates a key of any spec from caller-chosen material: 32 bytes of
// root material (`SYMMETRIC_DEFAULT`), the HMAC secret (`HMAC_*`) or a PKCS#8 private key.
//
// # Safety
// `keyring` is NULL or live; both `(ptr, len)` pairs are valid.
kp_status kp_insecure_import_key_material(const struct kp_keyring *keyring,
                                          const char *key_id,
                                          size_t key_id_len,
                                          kp_key_spec spec,
                                          kp_key_usage usage,
                                          const uint8_t *material,
                                          size_t material_len);
#endif

// An RSA wrapping public key and an import token for bringing your own material into `key_id`
// (a key created with `KP_ORIGIN_EXTERNAL`), valid for 24 hours, in `*out`. The token is
// sealed under the keyring's root key (a store-backed keyring's, so it also works in a later
// process on the same store) or a root of the keyring's own. RSA key generation makes this
// call take tens to hundreds of milliseconds.
//
// # Safety
// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out` is NULL or writable.
kp_status kp_get_parameters_for_import(const struct kp_keyring *keyring,
                                       const char *key_id,
                                       size_t key_id_len,
                                       kp_wrapping_algorithm wrapping_algorithm,
                                       kp_wrapping_key_spec wrapping_key_spec,
                                       struct kp_import_parameters **out);

// The RSA public key to wrap the material with, DER SubjectPublicKeyInfo.
//
// # Safety
// `p` is NULL or a live `kp_import_parameters*`.
struct kp_bytes kp_import_parameters_public_key(const struct kp_import_parameters *p);

// The import token to pass to `kp_import_key_material` with the wrapped material.
//
// # Safety
// As `kp_import_parameters_public_key`.
struct kp_bytes kp_import_parameters_import_token(const struct kp_import_parameters *p);

// When the token stops being accepted, in seconds since the Unix epoch.
//
// # Safety
// As `kp_import_parameters_public_key`.
int64_t kp_import_parameters_valid_to(const struct kp_import_parameters *p);

// Frees the parameters in `*p` and sets `*p` to NULL. NULL: no-op.
//
// # Safety
// `p` is NULL or points to NULL or a live `kp_import_parameters*`.
void kp_import_parameters_free(struct kp_import_parameters **p);

// Unwraps `encrypted_key_material` (wrapped for the parameters of `import_token`) and installs
// it as `key_id`'s material; the key becomes enabled. `valid_to` (seconds since the Unix
// epoch, in the future) makes the material expire then, and the key return to
// `PendingImport`; 0: it does not expire. A key accepts only the material it was first given.
// Errors: `KP_ERR_INVALID_INPUT` for a damaged, expired, other key's or other keyring's token,
// a `valid_to` in the past, or material that does not fit the key spec or differs from what
// the key had; `KP_ERR_INVALID_CIPHERTEXT` for material that does not unwrap;
// `KP_ERR_UNSUPPORTED_ALGORITHM` unless the key's origin is `EXTERNAL`.
//
// # Safety
// `keyring` is NULL or live; the `(ptr, len)` pairs are valid.
kp_status kp_import_key_material(const struct kp_keyring *keyring,
                                 const char *key_id,
                                 size_t key_id_len,
                                 const uint8_t *import_token,
                                 size_t import_token_len,
                                 const uint8_t *encrypted_key_material,
                                 size_t encrypted_key_material_len,
                                 int64_t valid_to);

// Deletes `key_id`'s imported material now: the key returns to `PendingImport`, and the same
// material can be imported again.
//
// # Safety
// `keyring` is NULL or live; `(key_id, key_id_len)` is valid.
kp_status kp_delete_imported_key_material(const struct kp_keyring *keyring,
                                          const char *key_id,
                                          size_t key_id_len);

// Creates an empty keyring with default settings and stores it in `*out`.
// `KP_ERR_UNSUPPORTED_ALGORITHM` in a FIPS build whose module is not in FIPS mode (see
// `kp_fips_mode`).
//
// # Safety
// `out` is NULL or valid for writing a pointer.
kp_status kp_keyring_new(struct kp_keyring **out);

// Creates an empty keyring with `options` (NULL: the defaults) and stores it in `*out`. With
// `options.audit`, the keyring audits every operation: `KP_ERR_INVALID_INPUT` for audit
// options that do not fit together, `KP_ERR_STORAGE` for a log directory that cannot be
// created or already holds a log. `KP_ERR_UNSUPPORTED_ALGORITHM` in a FIPS build whose module
// is not in FIPS mode (see `kp_fips_mode`).
//
// # Safety
// `options` is NULL or points to a `kp_keyring_options` whose `audit` is NULL or valid as
// documented in `kp_audit_options`; `out` is NULL or writable.
kp_status kp_keyring_new_with_options(const struct kp_keyring_options *options,
                                      struct kp_keyring **out);

// Frees the keyring in `*keyring` and sets `*keyring` to NULL, so that a second
// `kp_keyring_free(&k)` is a no-op. `keyring` or `*keyring` NULL: no-op. Handles obtained
// from the keyring (metadata, data keys, batch results) stay valid: they own their data.
//
// # Safety
// `keyring` is NULL or points to NULL or a live `kp_keyring*` that no other thread is using.
void kp_keyring_free(struct kp_keyring **keyring);

// Creates a key. Stores its metadata in `*out_metadata` unless `out_metadata` is NULL (free
// it with `kp_key_metadata_free`).
//
// Errors: `KP_ERR_INVALID_INPUT` (malformed id, alias or period), `KP_ERR_ALREADY_EXISTS`,
// `KP_ERR_INVALID_KEY_USAGE` (usage the spec does not allow), `KP_ERR_UNSUPPORTED_ALGORITHM`
// (`KEY_AGREEMENT`).
//
// # Safety
// `keyring` is NULL or live; `options` is NULL or points to options whose `(ptr, len)` fields
// are valid; `out_metadata` is NULL or writable.
kp_status kp_create_key(const struct kp_keyring *keyring,
                        const struct kp_create_key_options *options,
                        struct kp_key_metadata **out_metadata);

// Describes a key (id or `alias/...`) into a new `kp_key_metadata` in `*out`.
//
// # Safety
// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out` is NULL or writable.
kp_status kp_describe_key(const struct kp_keyring *keyring,
                          const char *key_id,
                          size_t key_id_len,
                          struct kp_key_metadata **out);

// The key id.
//
// # Safety
// `m` is NULL or a live `kp_key_metadata`; so for every `kp_key_metadata_*` accessor.
struct kp_str kp_key_metadata_key_id(const struct kp_key_metadata *m);

// The key spec.
//
// # Safety
// As `kp_key_metadata_key_id`.
kp_key_spec kp_key_metadata_key_spec(const struct kp_key_metadata *m);

// The key usage.
//
// # Safety
// As `kp_key_metadata_key_id`.
kp_key_usage kp_key_metadata_key_usage(const struct kp_key_metadata *m);

// The key state when the snapshot was taken.
//
// # Safety
// As `kp_key_metadata_key_id`.
kp_key_state kp_key_metadata_key_state(const struct kp_key_metadata *m);

// Where the key material came from.
//
// # Safety
// As `kp_key_metadata_key_id`.
kp_origin kp_key_metadata_origin(const struct kp_key_metadata *m);

// When the key was created, in seconds since the Unix epoch.
//
// # Safety
// As `kp_key_metadata_key_id`.
int64_t kp_key_metadata_creation_date(const struct kp_key_metadata *m);

// The description given at creation.
//
// # Safety
// As `kp_key_metadata_key_id`.
struct kp_str kp_key_metadata_description(const struct kp_key_metadata *m);

// When a key pending deletion will be deleted (Unix seconds); 0 if not pending deletion.
//
// # Safety
// As `kp_key_metadata_key_id`.
int64_t kp_key_metadata_deletion_date(const struct kp_key_metadata *m);

// The number of encryption algorithms the key supports.
//
// # Safety
// As `kp_key_metadata_key_id`.
size_t kp_key_metadata_encryption_algorithm_count(const struct kp_key_metadata *m);

// Encryption algorithm `index` (0 when out of range).
//
// # Safety
// As `kp_key_metadata_key_id`.
kp_encryption_algorithm kp_key_metadata_encryption_algorithm(const struct kp_key_metadata *m,
                                                             size_t index);

// The number of signing algorithms the key supports.
//
// # Safety
// As `kp_key_metadata_key_id`.
size_t kp_key_metadata_signing_algorithm_count(const struct kp_key_metadata *m);

// Signing algorithm `index` (0 when out of range).
//
// # Safety
// As `kp_key_metadata_key_id`.
kp_signing_algorithm kp_key_metadata_signing_algorithm(const struct kp_key_metadata *m,
                                                       size_t index);

// The number of MAC algorithms the key supports.
//
// # Safety
// As `kp_key_metadata_key_id`.
size_t kp_key_metadata_mac_algorithm_count(const struct kp_key_metadata *m);

// MAC algorithm `index` (0 when out of range).
//
// # Safety
// As `kp_key_metadata_key_id`.
kp_mac_algorithm kp_key_metadata_mac_algorithm(const struct kp_key_metadata *m, size_t index);

// The number of aliases pointing at the key.
//
// # Safety
// As `kp_key_metadata_key_id`.
size_t kp_key_metadata_alias_count(const struct kp_key_metadata *m);

// Alias `index`, in sorted order (empty when out of range).
//
// # Safety
// As `kp_key_metadata_key_id`.
struct kp_str kp_key_metadata_alias(const struct kp_key_metadata *m, size_t index);

// The automatic rotation period in seconds; 0: none.
//
// # Safety
// As `kp_key_metadata_key_id`.
uint64_t kp_key_metadata_rotation_period_seconds(const struct kp_key_metadata *m);

// When the key next rotates by itself (Unix seconds; on its first use after then); 0: never.
//
// # Safety
// As `kp_key_metadata_key_id`.
int64_t kp_key_metadata_next_rotation_date(const struct kp_key_metadata *m);

// The version new encryptions use.
//
// # Safety
// As `kp_key_metadata_key_id`.
uint32_t kp_key_metadata_current_version(const struct kp_key_metadata *m);

// Blobs of older versions fail with `KP_ERR_VERSION_RETIRED`.
//
// # Safety
// As `kp_key_metadata_key_id`.
uint32_t kp_key_metadata_min_decryption_version(const struct kp_key_metadata *m);

// Whether the key rotates (`true`) or refuses (`false`) once a version's budget is spent.
//
// # Safety
// As `kp_key_metadata_key_id`.
bool kp_key_metadata_rotate_on_budget(const struct kp_key_metadata *m);

// The number of versions of the key.
//
// # Safety
// As `kp_key_metadata_key_id`.
size_t kp_key_metadata_version_count(const struct kp_key_metadata *m);

// Version `index` (oldest first) into `*out`; `KP_ERR_INVALID_INPUT` when out of range.
//
// # Safety
// `m` is NULL or a live `kp_key_metadata`; `out` is NULL or writable.
kp_status kp_key_metadata_version(const struct kp_key_metadata *m,
                                  size_t index,
                                  struct kp_key_version *out);

// Frees the metadata in `*m` and sets `*m` to NULL; NULL or `*m` NULL: no-op.
//
// # Safety
// `m` is NULL or points to NULL or a live `kp_key_metadata*`.
void kp_key_metadata_free(struct kp_key_metadata **m);

// Every key id of the keyring, sorted, into a new `kp_string_list` in `*out`.
//
// # Safety
// `keyring` is NULL or live; `out` is NULL or writable.
kp_status kp_list_keys(const struct kp_keyring *keyring, struct kp_string_list **out);

// The number of strings in the list (0 for NULL).
//
// # Safety
// `list` is NULL or a live `kp_string_list`.
size_t kp_string_list_count(const struct kp_string_list *list);

// String `index` (empty when out of range), valid until the list is freed.
//
// # Safety
// `list` is NULL or a live `kp_string_list`.
struct kp_str kp_string_list_get(const struct kp_string_list *list, size_t index);

// Frees the list in `*list` and sets `*list` to NULL; NULL or `*list` NULL: no-op.
//
// # Safety
// `list` is NULL or points to NULL or a live `kp_string_list*`.
void kp_string_list_free(struct kp_string_list **list);

// Every alias of the keyring into a new `kp_alias_list` in `*out`.
//
// # Safety
// `keyring` is NULL or live; `out` is NULL or writable.
kp_status kp_list_aliases(const struct kp_keyring *keyring, struct kp_alias_list **out);

// The number of aliases in the list (0 for NULL).
//
// # Safety
// `list` is NULL or a live `kp_alias_list`.
size_t kp_alias_list_count(const struct kp_alias_list *list);

// Alias `index`'s name (`alias/...`; empty when out of range).
//
// # Safety
// `list` is NULL or a live `kp_alias_list`.
struct kp_str kp_alias_list_name(const struct kp_alias_list *list, size_t index);

// The key id alias `index` points at (empty when out of range).
//
// # Safety
// `list` is NULL or a live `kp_alias_list`.
struct kp_str kp_alias_list_target(const struct kp_alias_list *list, size_t index);

// Frees the list in `*list` and sets `*list` to NULL; NULL or `*list` NULL: no-op.
//
// # Safety
// `list` is NULL or points to NULL or a live `kp_alias_list*`.
void kp_alias_list_free(struct kp_alias_list **list);

// Enables a disabled key. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (pending
// deletion or import).
//
// # Safety
// `keyring` is NULL or live; `(key_id, key_id_len)` is valid. The same for every function
// below that takes these arguments.
kp_status kp_enable_key(const struct kp_keyring *keyring, const char *key_id, size_t key_id_len);

// Disables a key: every operation with it fails with `KP_ERR_KEY_DISABLED` until enabled.
//
// # Safety
// As `kp_enable_key`.
kp_status kp_disable_key(const struct kp_keyring *keyring, const char *key_id, size_t key_id_len);

// Schedules the key's deletion after `pending_window_days` (7 to 30; 0: 30, as in AWS KMS).
// Stores the deletion date (Unix seconds) in `*out_deletion_date` unless it is NULL.
// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (already pending deletion),
// `KP_ERR_INVALID_INPUT` (window out of range).
//
// # Safety
// As `kp_enable_key`; `out_deletion_date` is NULL or writable.
kp_status kp_schedule_key_deletion(const struct kp_keyring *keyring,
                                   const char *key_id,
                                   size_t key_id_len,
                                   uint32_t pending_window_days,
                                   int64_t *out_deletion_date);

// Cancels a scheduled deletion; as in AWS KMS the key comes back **disabled** (an imported key
// without material: `KP_KEY_STATE_PENDING_IMPORT`).
// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (not pending deletion).
//
// # Safety
// As `kp_enable_key`.
kp_status kp_cancel_key_deletion(const struct kp_keyring *keyring,
                                 const char *key_id,
                                 size_t key_id_len);

// Creates `alias` (`alias/...`) pointing at `key_id` (a key id or another alias).
// Errors: `KP_ERR_INVALID_INPUT`, `KP_ERR_ALREADY_EXISTS`, `KP_ERR_NOT_FOUND`.
//
// # Safety
// `keyring` is NULL or live; both `(ptr, len)` pairs are valid.
kp_status kp_create_alias(const struct kp_keyring *keyring,
                          const char *alias,
                          size_t alias_len,
                          const char *key_id,
                          size_t key_id_len);

// Points an existing alias at another key. Errors: `KP_ERR_INVALID_INPUT`,
// `KP_ERR_NOT_FOUND` (alias or key).
//
// # Safety
// As `kp_create_alias`.
kp_status kp_update_alias(const struct kp_keyring *keyring,
                          const char *alias,
                          size_t alias_len,
                          const char *key_id,
                          size_t key_id_len);

// Deletes an alias (the key is untouched). Errors: `KP_ERR_NOT_FOUND`.
//
// # Safety
// `keyring` is NULL or live; `(alias, alias_len)` is valid.
kp_status kp_delete_alias(const struct kp_keyring *keyring, const char *alias, size_t alias_len);

// Adds a version to a `SYMMETRIC_DEFAULT` key now; new encryptions use it and older versions
// keep decrypting. Stores the new version number in `*out_version` unless it is NULL.
// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`,
// `KP_ERR_UNSUPPORTED_ALGORITHM` (keys that do not rotate).
//
// # Safety
// As `kp_enable_key`; `out_version` is NULL or writable.
kp_status kp_rotate_key(const struct kp_keyring *keyring,
                        const char *key_id,
                        size_t key_id_len,
                        uint32_t *out_version);

// Turns on automatic rotation every `period_days` (90 to 2560) or, when `period_days` is 0,
// every `period_seconds` (any non-zero period, without KMS's bounds); not both.
// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_INPUT`, `KP_ERR_UNSUPPORTED_ALGORITHM`.
//
// # Safety
// As `kp_enable_key`.
kp_status kp_enable_key_rotation(const struct kp_keyring *keyring,
                                 const char *key_id,
                                 size_t key_id_len,
                                 uint32_t period_days,
                                 uint64_t period_seconds);

// Turns off automatic rotation. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_UNSUPPORTED_ALGORITHM`.
//
// # Safety
// As `kp_enable_key`.
kp_status kp_disable_key_rotation(const struct kp_keyring *keyring,
                                  const char *key_id,
                                  size_t key_id_len);

// Whether the key rotates (`true`) or refuses with `KP_ERR_LIMIT_EXCEEDED` (`false`) once a
// version's encryption budget is spent. `true` for an imported (`EXTERNAL`) key is
// `KP_ERR_UNSUPPORTED_ALGORITHM`: its only version is the material imported into it.
//
// # Safety
// As `kp_enable_key`.
kp_status kp_set_rotate_on_budget(const struct kp_keyring *keyring,
                                  const char *key_id,
                                  size_t key_id_len,
                                  bool rotate);

// Refuses blobs of versions older than `version` (`KP_ERR_VERSION_RETIRED`); lowering it
// again re-admits them. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_INPUT` (not between 1
// and the current version), `KP_ERR_UNSUPPORTED_ALGORITHM`.
//
// # Safety
// As `kp_enable_key`.
kp_status kp_set_min_decryption_version(const struct kp_keyring *keyring,
                                        const char *key_id,
                                        size_t key_id_len,
                                        uint32_t version);

// The exact blob length `kp_encrypt` writes for `plaintext_len` bytes under `key_id`, into
// `*out_len`. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_LIMIT_EXCEEDED`.
//
// # Safety
// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out_len` is NULL or writable.
kp_status kp_ciphertext_len(const struct kp_keyring *keyring,
                            const char *key_id,
                            size_t key_id_len,
                            size_t plaintext_len,
                            size_t *out_len);

// The plaintext length `kp_decrypt` writes for `blob`, into `*out_len`.
// Errors: `KP_ERR_INVALID_CIPHERTEXT` for a malformed blob.
//
// # Safety
// `keyring` is NULL or live; `(blob, blob_len)` is valid; `out_len` is NULL or writable.
kp_status kp_plaintext_len(const struct kp_keyring *keyring,
                           const uint8_t *blob,
                           size_t blob_len,
                           size_t *out_len);

// Encrypts `plaintext` under the newest version of `key_id` (or alias) with the encryption
// context `context[0..context_len]`, writing the blob into `out`. Allocates nothing with an
// empty context and takes no lock while encrypting. `out` needs `kp_ciphertext_len` bytes;
// with `(NULL, 0)` the call only reports the size (`KP_ERR_BUFFER_TOO_SMALL`, `*out_len`).
// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE`, `KP_ERR_KEY_DISABLED`,
// `KP_ERR_INVALID_KEY_STATE`, `KP_ERR_BUFFER_TOO_SMALL`, `KP_ERR_LIMIT_EXCEEDED`,
// `KP_ERR_INVALID_INPUT` / `KP_ERR_INVALID_UTF8` (context).
//
// # Safety
// `keyring` is NULL or live; every `(ptr, len)` is valid; `context` is NULL or points to
// `context_len` entries; `(out, out_cap)` is writable and overlaps no input; `out_len` is NULL
// or writable.
kp_status kp_encrypt(const struct kp_keyring *keyring,
                     const char *key_id,
                     size_t key_id_len,
                     const uint8_t *plaintext,
                     size_t plaintext_len,
                     const struct kp_context_entry *context,
                     size_t context_len,
                     uint8_t *out,
                     size_t out_cap,
                     size_t *out_len);

// Decrypts `blob` (which names its key and version) with the context it was encrypted with,
// writing the plaintext into `out` (`kp_plaintext_len` bytes; `(NULL, 0)` for a size query).
// On any failure `out[0..out_cap]` is zeroed. Errors: `KP_ERR_INVALID_CIPHERTEXT` (malformed,
// tampered, another keyring's, another context, or a key that cannot open it, such as one
// without its material: one error for every cause), `KP_ERR_BUFFER_TOO_SMALL`; and, for a
// blob that authenticates, `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`,
// `KP_ERR_INVALID_KEY_USAGE`, `KP_ERR_VERSION_RETIRED`.
//
// # Safety
// As `kp_encrypt`.
kp_status kp_decrypt(const struct kp_keyring *keyring,
                     const uint8_t *blob,
                     size_t blob_len,
                     const struct kp_context_entry *context,
                     size_t context_len,
                     uint8_t *out,
                     size_t out_cap,
                     size_t *out_len);

// Decrypts `blob` (made with `source_context`) and encrypts its plaintext under
// `destination_key_id` with `destination_context`, writing the new blob into `out`. The
// plaintext never leaves the library. A size query (`(NULL, 0)`) decrypts nothing.
// Errors: those of `kp_decrypt` and `kp_encrypt`.
//
// # Safety
// As `kp_encrypt`.
kp_status kp_re_encrypt(const struct kp_keyring *keyring,
                        const uint8_t *blob,
                        size_t blob_len,
                        const struct kp_context_entry *source_context,
                        size_t source_context_len,
                        const char *destination_key_id,
                        size_t destination_key_id_len,
                        const struct kp_context_entry *destination_context,
                        size_t destination_context_len,
                        uint8_t *out,
                        size_t out_cap,
                        size_t *out_len);

// Generates a data key of `spec` (with `number_of_bytes` for
// `KP_DATA_KEY_SPEC_NUMBER_OF_BYTES`, else 0) encrypted under `key_id` with `context`, into a
// new `kp_data_key` in `*out`. Errors: `KP_ERR_INVALID_INPUT` (spec or length), and those of
// `kp_encrypt`.
//
// # Safety
// `keyring` is NULL or live; the `(ptr, len)` pairs and `context` are valid; `out` is NULL or
// writable.
kp_status kp_generate_data_key(const struct kp_keyring *keyring,
                               const char *key_id,
                               size_t key_id_len,
                               kp_data_key_spec spec,
                               size_t number_of_bytes,
                               const struct kp_context_entry *context,
                               size_t context_len,
                               struct kp_data_key **out);

// The id of the key that encrypted the data key (never an alias).
//
// # Safety
// `dk` is NULL or a live `kp_data_key`; so for every `kp_data_key_*` accessor.
struct kp_str kp_data_key_key_id(const struct kp_data_key *dk);

// The data key in plaintext, valid until the handle is freed (which zeroizes it).
//
// # Safety
// As `kp_data_key_key_id`.
struct kp_bytes kp_data_key_plaintext(const struct kp_data_key *dk);

// The data key encrypted under `kp_data_key_key_id`: a blob for `kp_decrypt`.
//
// # Safety
// As `kp_data_key_key_id`.
struct kp_bytes kp_data_key_ciphertext_blob(const struct kp_data_key *dk);

// Zeroizes and frees the data key in `*dk` and sets `*dk` to NULL; NULL or `*dk` NULL: no-op.
//
// # Safety
// `dk` is NULL or points to NULL or a live `kp_data_key*`.
void kp_data_key_free(struct kp_data_key **dk);

// Generates a data key and writes only its blob into `out` (no plaintext leaves the library).
// A size query (`(NULL, 0)`) generates nothing. Errors: as `kp_generate_data_key`, and
// `KP_ERR_BUFFER_TOO_SMALL`.
//
// # Safety
// As `kp_generate_data_key`, with `(out, out_cap, out_len)` as in `kp_encrypt`.
kp_status kp_generate_data_key_without_plaintext(const struct kp_keyring *keyring,
                                                 const char *key_id,
                                                 size_t key_id_len,
                                                 kp_data_key_spec spec,
                                                 size_t number_of_bytes,
                                                 const struct kp_context_entry *context,
                                                 size_t context_len,
                                                 uint8_t *out,
                                                 size_t out_cap,
                                                 size_t *out_len);

// Generates a key pair of `spec` whose private key is also encrypted under the symmetric key
// `key_id` with `context`, into a new `kp_data_key_pair` in `*out`. Errors: those of
// `kp_encrypt`, `KP_ERR_INVALID_INPUT` (spec).
//
// # Safety
// As `kp_generate_data_key`.
kp_status kp_generate_data_key_pair(const struct kp_keyring *keyring,
                                    const char *key_id,
                                    size_t key_id_len,
                                    kp_data_key_pair_spec spec,
                                    const struct kp_context_entry *context,
                                    size_t context_len,
                                    struct kp_data_key_pair **out);

// As `kp_generate_data_key_pair`, without the plaintext private key
// (`kp_data_key_pair_private_key_plaintext` is empty).
//
// # Safety
// As `kp_generate_data_key`.
kp_status kp_generate_data_key_pair_without_plaintext(const struct kp_keyring *keyring,
                                                      const char *key_id,
                                                      size_t key_id_len,
                                                      kp_data_key_pair_spec spec,
                                                      const struct kp_context_entry *context,
                                                      size_t context_len,
                                                      struct kp_data_key_pair **out);

// The symmetric key that encrypted the private key.
//
// # Safety
// `p` is NULL or a live `kp_data_key_pair`; so for every `kp_data_key_pair_*` accessor.
struct kp_str kp_data_key_pair_key_id(const struct kp_data_key_pair *p);

// The kind of key pair.
//
// # Safety
// As `kp_data_key_pair_key_id`.
kp_data_key_pair_spec kp_data_key_pair_key_pair_spec(const struct kp_data_key_pair *p);

// The public key, DER-encoded X.509 SubjectPublicKeyInfo.
//
// # Safety
// As `kp_data_key_pair_key_id`.
struct kp_bytes kp_data_key_pair_public_key(const struct kp_data_key_pair *p);

// The private key in plaintext (PKCS#8 DER); empty for a pair made without it.
//
// # Safety
// As `kp_data_key_pair_key_id`.
struct kp_bytes kp_data_key_pair_private_key_plaintext(const struct kp_data_key_pair *p);

// The private key encrypted under `kp_data_key_pair_key_id`: a blob for `kp_decrypt`.
//
// # Safety
// As `kp_data_key_pair_key_id`.
struct kp_bytes kp_data_key_pair_private_key_ciphertext_blob(const struct kp_data_key_pair *p);

// Zeroizes and frees the pair in `*p` and sets `*p` to NULL; NULL or `*p` NULL: no-op.
//
// # Safety
// `p` is NULL or points to NULL or a live `kp_data_key_pair*`.
void kp_data_key_pair_free(struct kp_data_key_pair **p);

// Writes `number_of_bytes` (1 to 1024) bytes from the system's cryptographic random number
// generator into `out`. Errors: `KP_ERR_INVALID_INPUT` (length), `KP_ERR_BUFFER_TOO_SMALL`.
//
// # Safety
// `keyring` is NULL or live; `(out, out_cap, out_len)` as in `kp_encrypt`.
kp_status kp_generate_random(const struct kp_keyring *keyring,
                             size_t number_of_bytes,
                             uint8_t *out,
                             size_t out_cap,
                             size_t *out_len);

// The MAC length of `key_id`'s algorithm, into `*out_len`. Errors: `KP_ERR_NOT_FOUND`,
// `KP_ERR_INVALID_KEY_USAGE` (not an HMAC key).
//
// # Safety
// As `kp_ciphertext_len`.
kp_status kp_mac_len(const struct kp_keyring *keyring,
                     const char *key_id,
                     size_t key_id_len,
                     size_t *out_len);

// Writes the MAC of `message` under the HMAC key `key_id` into `out` (`kp_mac_len` bytes).
// Allocates nothing. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE` (not an HMAC key
// or another algorithm), `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`,
// `KP_ERR_BUFFER_TOO_SMALL`.
//
// # Safety
// As `kp_encrypt`.
kp_status kp_generate_mac(const struct kp_keyring *keyring,
                          const char *key_id,
                          size_t key_id_len,
                          const uint8_t *message,
                          size_t message_len,
                          kp_mac_algorithm algorithm,
                          uint8_t *out,
                          size_t out_cap,
                          size_t *out_len);

// Checks `mac` against the MAC of `message`: `*out_valid` is `true` or `false` (compared in
// constant time; a wrong length is `false`), and the status is `KP_OK` either way. Errors:
// as `kp_generate_mac`, without the buffer error.
//
// # Safety
// `keyring` is NULL or live; every `(ptr, len)` is valid; `out_valid` is NULL or writable.
kp_status kp_verify_mac(const struct kp_keyring *keyring,
                        const char *key_id,
                        size_t key_id_len,
                        const uint8_t *message,
                        size_t message_len,
                        kp_mac_algorithm algorithm,
                        const uint8_t *mac,
                        size_t mac_len,
                        bool *out_valid);

// The largest signature `kp_sign` can write for `key_id`, into `*out_len` (ECDSA signatures
// are often shorter). Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE`.
//
// # Safety
// As `kp_ciphertext_len`.
kp_status kp_max_signature_len(const struct kp_keyring *keyring,
                               const char *key_id,
                               size_t key_id_len,
                               size_t *out_len);

// Signs `message` (or, with `KP_MESSAGE_TYPE_DIGEST`, the caller's digest) with `algorithm`,
// writing the signature (DER for ECDSA) into `out`, which needs `kp_max_signature_len` bytes.
// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE`, `KP_ERR_KEY_DISABLED`,
// `KP_ERR_INVALID_KEY_STATE`, `KP_ERR_INVALID_INPUT` (digest length),
// `KP_ERR_BUFFER_TOO_SMALL`.
//
// # Safety
// As `kp_encrypt`.
kp_status kp_sign(const struct kp_keyring *keyring,
                  const char *key_id,
                  size_t key_id_len,
                  const uint8_t *message,
                  size_t message_len,
                  kp_message_type message_type,
                  kp_signing_algorithm algorithm,
                  uint8_t *out,
                  size_t out_cap,
                  size_t *out_len);

// Checks a signature: `*out_valid` is `true` or `false` (any invalid or malformed signature),
// and the status is `KP_OK` either way. Errors: as `kp_sign`, without the buffer error.
//
// # Safety
// As `kp_verify_mac`.
kp_status kp_verify(const struct kp_keyring *keyring,
                    const char *key_id,
                    size_t key_id_len,
                    const uint8_t *message,
                    size_t message_len,
                    kp_message_type message_type,
                    kp_signing_algorithm algorithm,
                    const uint8_t *signature,
                    size_t signature_len,
                    bool *out_valid);

// The public key of an asymmetric key into a new `kp_public_key` in `*out`. Errors:
// `KP_ERR_NOT_FOUND`, `KP_ERR_UNSUPPORTED_ALGORITHM` (symmetric and HMAC keys),
// `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`.
//
// # Safety
// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out` is NULL or writable.
kp_status kp_get_public_key(const struct kp_keyring *keyring,
                            const char *key_id,
                            size_t key_id_len,
                            struct kp_public_key **out);

// The key id.
//
// # Safety
// `p` is NULL or a live `kp_public_key`; so for every `kp_public_key_*` accessor.
struct kp_str kp_public_key_key_id(const struct kp_public_key *p);

// The key spec.
//
// # Safety
// As `kp_public_key_key_id`.
kp_key_spec kp_public_key_key_spec(const struct kp_public_key *p);

// The key usage.
//
// # Safety
// As `kp_public_key_key_id`.
kp_key_usage kp_public_key_key_usage(const struct kp_public_key *p);

// The public key, DER-encoded X.509 SubjectPublicKeyInfo.
//
// # Safety
// As `kp_public_key_key_id`.
struct kp_bytes kp_public_key_der(const struct kp_public_key *p);

// The public key as PEM (`-----BEGIN PUBLIC KEY-----`), NUL-terminated.
//
// # Safety
// As `kp_public_key_key_id`.
struct kp_str kp_public_key_pem(const struct kp_public_key *p);

// The number of signing algorithms the key allows (0 unless it signs).
//
// # Safety
// As `kp_public_key_key_id`.
size_t kp_public_key_signing_algorithm_count(const struct kp_public_key *p);

// Signing algorithm `index` (0 when out of range).
//
// # Safety
// As `kp_public_key_key_id`.
kp_signing_algorithm kp_public_key_signing_algorithm(const struct kp_public_key *p, size_t index);

// The number of encryption algorithms the key allows (0 unless it encrypts).
//
// # Safety
// As `kp_public_key_key_id`.
size_t kp_public_key_encryption_algorithm_count(const struct kp_public_key *p);

// Encryption algorithm `index` (0 when out of range).
//
// # Safety
// As `kp_public_key_key_id`.
kp_encryption_algorithm kp_public_key_encryption_algorithm(const struct kp_public_key *p,
                                                           size_t index);

// Frees the public key in `*p` and sets `*p` to NULL; NULL or `*p` NULL: no-op.
//
// # Safety
// `p` is NULL or points to NULL or a live `kp_public_key*`.
void kp_public_key_free(struct kp_public_key **p);

// The largest plaintext `algorithm` can encrypt under the RSA key `key_id` (AWS KMS's limits,
// e.g. 190 bytes for RSA_2048 with RSAES_OAEP_SHA_256), into `*out_len`. A buffer of this
// size always holds what `kp_decrypt_asymmetric` writes. Errors: `KP_ERR_NOT_FOUND`,
// `KP_ERR_INVALID_KEY_USAGE`.
//
// # Safety
// As `kp_ciphertext_len`.
kp_status kp_max_asymmetric_plaintext_len(const struct kp_keyring *keyring,
                                          const char *key_id,
                                          size_t key_id_len,
                                          kp_encryption_algorithm algorithm,
                                          size_t *out_len);

// Encrypts `plaintext` with the public half of an RSA `ENCRYPT_DECRYPT` key (RSA-OAEP),
// writing the bare OAEP ciphertext (the modulus length) into `out`. A size query encrypts
// once and discards the result. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE`,
// `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`, `KP_ERR_INVALID_INPUT` (plaintext over
// the limit), `KP_ERR_BUFFER_TOO_SMALL`.
//
// # Safety
// As `kp_encrypt`.
kp_status kp_encrypt_asymmetric(const struct kp_keyring *keyring,
                                const char *key_id,
                                size_t key_id_len,
                                const uint8_t *plaintext,
                                size_t plaintext_len,
                                kp_encryption_algorithm algorithm,
                                uint8_t *out,
                                size_t out_cap,
                                size_t *out_len);

// Decrypts an RSA-OAEP `ciphertext` made with the public half of `key_id`, writing the
// plaintext into `out` (`kp_max_asymmetric_plaintext_len` bytes always suffice). A size query
// decrypts once and discards the result. On failure `out` is zeroed. Errors:
// `KP_ERR_INVALID_CIPHERTEXT` (one error for every cause), otherwise as
// `kp_encrypt_asymmetric`.
//
// # Safety
// As `kp_encrypt`.
kp_status kp_decrypt_asymmetric(const struct kp_keyring *keyring,
                                const char *key_id,
                                size_t key_id_len,
                                const uint8_t *ciphertext,
                                size_t ciphertext_len,
                                kp_encryption_algorithm algorithm,
                                uint8_t *out,
                                size_t out_cap,
                                size_t *out_len);

// A root key named `root_id` (UTF-8, 1 to 255 bytes, written in the clear in each record)
// from `material` (32 bytes; keep it as secret as every key sealed under it), in `*out`.
//
// # Safety
// `(root_id, root_id_len)` and `(material, material_len)` are valid; `out` is NULL or
// writable.
kp_status kp_root_key_new(const char *root_id,
                          size_t root_id_len,
                          const uint8_t *material,
                          size_t material_len,
                          struct kp_root_key **out);

// Frees the root key in `*root` (its material is wiped) and sets `*root` to NULL. NULL: no-op.
//
// # Safety
// `root` is NULL or points to NULL or a live `kp_root_key*` no other thread is using.
void kp_root_key_free(struct kp_root_key **root);

// Writes 32 bytes of fresh root material (from aws-lc's DRBG) into `(out, cap)`, `*out_len`
// = 32.
//
// # Safety
// `(out, cap)` is writable; `out_len` is NULL or writable.
kp_status kp_root_key_generate_material(uint8_t *out, size_t cap, size_t *out_len);

// Writes `key_id` (id or `alias/...`) as a sealed record under `root` into `(out, cap)`:
// every version, its metadata, state, aliases, rotation policy and counters, encrypted and
// authenticated (format in FORMAT.md). Output convention: a size query (`cap` too small)
// seals the record to learn its size (and is audited as an export); the size holds for the
// next call unless the key changes meanwhile (a rotation, an alias). Records are re-sealed on
// each call, so two calls give different bytes.
//
// # Safety
// `keyring` and `root` are NULL or live; `(key_id, key_id_len)` is valid; `(out, cap)` is
// writable; `out_len` is NULL or writable.
kp_status kp_export_sealed(const struct kp_keyring *keyring,
                           const char *key_id,
                           size_t key_id_len,
                           const struct kp_root_key *root,
                           uint8_t *out,
                           size_t cap,
                           size_t *out_len);

// Opens `record` with `root` and adds its key to the keyring with its id, versions, state
// and aliases; its metadata goes to `*out_metadata` unless that is NULL. A record that does
// not authenticate under `root` (tampered, truncated, another root with the same id) is
// `KP_ERR_INVALID_CIPHERTEXT`; one sealed under a root with another id, or bytes that are not
// a record, `KP_ERR_INVALID_INPUT`; a key id or alias taken here, `KP_ERR_ALREADY_EXISTS`.
//
// # Safety
// `keyring` and `root` are NULL or live; `(record, record_len)` is valid; `out_metadata` is
// NULL or writable.
kp_status kp_import_sealed(const struct kp_keyring *keyring,
                           const uint8_t *record,
                           size_t record_len,
                           const struct kp_root_key *root,
                           struct kp_key_metadata **out_metadata);

// Moves `record` from root `old` to root `new` (root rotation) without loading the key
// anywhere; the new record goes to `(out, cap)` with the output convention. Errors as
// `kp_import_sealed` for `old`; `KP_ERR_INVALID_INPUT` when `out` overlaps `record`.
//
// # Safety
// `(record, record_len)` is valid; `old` and `new` are NULL or live; `(out, cap)` is
// writable; `out_len` is NULL or writable.
kp_status kp_reseal(const uint8_t *record,
                    size_t record_len,
                    const struct kp_root_key *old,
                    const struct kp_root_key *new_,
                    uint8_t *out,
                    size_t cap,
                    size_t *out_len);

// Reads the clear header of `record` into `*out` without any root key: the key id inside
// (to pick the keyring or check for a clash before importing) and the id of the root key that
// sealed it (to find that root). `KP_ERR_INVALID_INPUT` for bytes that are not a sealed
// record of a known format. A record that inspects fine may still fail to open.
//
// # Safety
// `(record, record_len)` is valid; `out` is NULL or writable.
kp_status kp_sealed_inspect(const uint8_t *record,
                            size_t record_len,
                            struct kp_sealed_record_info *out);

// Opens (creating it if needed) the keyring persisted in directory `store_dir` (UTF-8,
// `(ptr, len)`): every key whose sealed record opens with `root` is loaded, and every later
// change (create, import, rotate, state, alias) is written there, durably, before the call
// that makes it returns. The store is locked while the keyring lives: a second open, from
// this process or another, is `KP_ERR_STORAGE` after waiting up to 1 s for the lock, as is a directory that cannot be created or
// read. Records that cannot be loaded are left out and counted in `*out_load_problems` (NULL:
// not wanted; `kp_keyring_load_problem_count` gives it later); `kp_keyring_load_problem`
// names them. `options` as for `kp_keyring_new_with_options` (NULL: the defaults), audit
// included: loading the store's keys is not audited, every later operation is. The keyring
// keeps its own reference to `root`, which may be freed after this call.
// `KP_ERR_UNSUPPORTED_ALGORITHM` in a FIPS build whose module is not in FIPS mode (see
// `kp_fips_mode`), before the directory is created.
//
// # Safety
// `options` is NULL or points to a `kp_keyring_options` whose `audit` is NULL or valid as
// documented in `kp_audit_options`; `(store_dir, store_dir_len)` is valid; `root` is NULL or
// live; `out` and `out_load_problems` are NULL or writable.
kp_status kp_keyring_open(const struct kp_keyring_options *options,
                          const char *store_dir,
                          size_t store_dir_len,
                          const struct kp_root_key *root,
                          struct kp_keyring **out,
                          size_t *out_load_problems);

// The `index`-th record (from 0) that `kp_keyring_open` could not load: its file in
// `*out_path` (valid until the keyring handle is freed) and why in `*out_status`
// (`KP_ERR_INVALID_CIPHERTEXT` for a damaged record or one sealed under another root,
// `KP_ERR_INVALID_INPUT` for a file that is not a record, `KP_ERR_STORAGE` for one that
// cannot be read, `KP_ERR_ALREADY_EXISTS` for a second record of one key). An `index` past
// the last is `KP_ERR_INVALID_INPUT`. A key whose record did not load keeps its id: creating
// or importing another under it is `KP_ERR_ALREADY_EXISTS`, so the record is never
// overwritten.
//
// # Safety
// `keyring` is NULL or live; `out_path` and `out_status` are NULL or writable.
kp_status kp_keyring_load_problem(const struct kp_keyring *keyring,
                                  size_t index,
                                  struct kp_str *out_path,
                                  kp_status *out_status);

// The number of records `kp_keyring_open` could not load (0 for a NULL keyring or one not
// opened on a store). Handles made with `kp_keyring_with_caller` share the keyring's.
//
// # Safety
// `keyring` is NULL or live.
size_t kp_keyring_load_problem_count(const struct kp_keyring *keyring);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* KEYPLANE_H */
