// keyplane.hpp: a header-only C++17 wrapper over keyplane.h. Licensed Apache-2.0 OR MIT.
//
// RAII handles (move-only; the destructor frees), std::string_view and keyplane::byte_view
// inputs, std::vector<uint8_t> outputs (keyplane::secret_bytes, zeroized when freed, for
// plaintexts and keys), and exceptions: every failing call throws keyplane::error, which
// carries the kp_status (status()), its stable code (code(), "KP_INVALID_CIPHERTEXT") and the
// library's message (what()). Verification returns bool rather than throwing. Thread safety is
// the C library's: a keyring may be used from many threads at once.
#ifndef KEYPLANE_HPP
#define KEYPLANE_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyplane.h"

namespace keyplane {

// A failed call: the status, its stable code and the message.
class error : public std::runtime_error {
 public:
  error(kp_status status, const char *message)
      : std::runtime_error(std::string(kp_status_str(static_cast<uint32_t>(status))) + ": " +
                           message),
        status_(status) {}
  kp_status status() const noexcept { return status_; }
  const char *code() const noexcept { return kp_status_str(static_cast<uint32_t>(status_)); }

 private:
  kp_status status_;
};

namespace detail {
inline void check(kp_status status) {
  if (status != KP_OK) throw error(status, kp_last_error_message());
}
}  // namespace detail

// An allocator that zeroes memory before releasing it.
template <class T>
struct zeroizing_allocator {
  using value_type = T;
  zeroizing_allocator() noexcept = default;
  template <class U>
  zeroizing_allocator(const zeroizing_allocator<U> &) noexcept {}
  T *allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_alloc();
    return static_cast<T *>(::operator new(n * sizeof(T)));
  }
  void deallocate(T *p, std::size_t n) noexcept {
    volatile unsigned char *bytes = reinterpret_cast<volatile unsigned char *>(p);
    for (std::size_t i = 0; i < n * sizeof(T); i++) bytes[i] = 0;
    ::operator delete(p);
  }
  template <class U>
  bool operator==(const zeroizing_allocator<U> &) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const zeroizing_allocator<U> &) const noexcept {
    return false;
  }
};

using bytes = std::vector<uint8_t>;
// Secret output (plaintexts, data keys, private keys, random bytes): zeroized when freed.
using secret_bytes = std::vector<uint8_t, zeroizing_allocator<uint8_t>>;

// A borrowed run of bytes: from a vector, a string_view, an array, or (pointer, length).
class byte_view {
 public:
  constexpr byte_view() noexcept = default;
  constexpr byte_view(const uint8_t *data, std::size_t size) noexcept : data_(data), size_(size) {}
  template <class A>
  byte_view(const std::vector<uint8_t, A> &v) noexcept : data_(v.data()), size_(v.size()) {}
  template <std::size_t N>
  byte_view(const std::array<uint8_t, N> &a) noexcept : data_(a.data()), size_(N) {}
  byte_view(std::string_view s) noexcept
      : data_(reinterpret_cast<const uint8_t *>(s.data())), size_(s.size()) {}
  byte_view(const char *s) noexcept : byte_view(std::string_view(s)) {}
  byte_view(kp_bytes b) noexcept : data_(b.data), size_(b.len) {}
  const uint8_t *data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bytes to_vector() const { return bytes(data_, data_ + size_); }

 private:
  const uint8_t *data_ = nullptr;
  std::size_t size_ = 0;
};

inline std::string_view to_string_view(kp_str s) { return std::string_view(s.data, s.len); }

// Whether this library is a FIPS build whose AWS-LC FIPS module is in FIPS mode (kp_fips_mode).
// There, services the module does not approve throw keyplane::error with
// KP_ERR_UNSUPPORTED_ALGORITHM ("not approved in FIPS mode: ...").
inline bool fips_mode() noexcept { return kp_fips_mode() == 1; }

// The module and its version, e.g. "AWS-LC FIPS 4.2.0" or "AWS-LC 5.12.0" (kp_fips_module).
inline std::string_view fips_module() noexcept { return std::string_view(kp_fips_module()); }

// An encryption context: UTF-8 key/value pairs, copied in.
class context {
 public:
  context() = default;
  context(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
    for (const auto &p : pairs) pairs_.emplace_back(std::string(p.first), std::string(p.second));
    rebuild();
  }
  template <class Map>
  static context from(const Map &map) {
    context c;
    for (const auto &p : map) c.pairs_.emplace_back(std::string(p.first), std::string(p.second));
    c.rebuild();
    return c;
  }
  context(const context &o) : pairs_(o.pairs_) { rebuild(); }
  context &operator=(const context &o) {
    pairs_ = o.pairs_;
    rebuild();
    return *this;
  }
  context(context &&o) noexcept : pairs_(std::move(o.pairs_)) { rebuild(); }
  context &operator=(context &&o) noexcept {
    pairs_ = std::move(o.pairs_);
    rebuild();
    return *this;
  }
  const kp_context_entry *data() const noexcept { return entries_.data(); }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  void rebuild() {
    entries_.clear();
    for (const auto &p : pairs_) {
      entries_.push_back({p.first.data(), p.first.size(), p.second.data(), p.second.size()});
    }
  }
  std::vector<std::pair<std::string, std::string>> pairs_;
  std::vector<kp_context_entry> entries_;
};

namespace detail {
// Runs a (out, cap, *out_len) call: a size query, then the call into a buffer of that size.
template <class Vec, class F>
Vec output(F &&call) {
  std::size_t needed = 0;
  kp_status status = call(nullptr, 0, &needed);
  for (int attempt = 0; attempt < 3; attempt++) {
    if (status == KP_OK) return Vec();
    if (status != KP_ERR_BUFFER_TOO_SMALL) check(status);
    Vec out(needed);
    std::size_t n = 0;
    status = call(out.data(), out.size(), &n);
    if (status == KP_OK) {
      out.resize(n);
      return out;
    }
    needed = n;  // the size moved (an alias re-pointed): try again
  }
  check(status);
  return Vec();
}

// Runs a call into a buffer of a known largest size.
template <class Vec, class F>
Vec output_max(std::size_t max, F &&call) {
  Vec out(max);
  std::size_t n = 0;
  check(call(out.data(), out.size(), &n));
  out.resize(n);
  return out;
}

template <class T, void (*Free)(T **)>
struct deleter {
  void operator()(T *p) const noexcept { Free(&p); }
};
template <class T, void (*Free)(T **)>
using owned = std::unique_ptr<T, deleter<T, Free>>;
}  // namespace detail

// A snapshot of a key's metadata.
class key_metadata {
 public:
  explicit key_metadata(kp_key_metadata *m) : m_(m) {}
  std::string_view key_id() const { return to_string_view(kp_key_metadata_key_id(get())); }
  kp_key_spec key_spec() const { return kp_key_metadata_key_spec(get()); }
  kp_key_usage key_usage() const { return kp_key_metadata_key_usage(get()); }
  kp_key_state key_state() const { return kp_key_metadata_key_state(get()); }
  kp_origin origin() const { return kp_key_metadata_origin(get()); }
  int64_t creation_date() const { return kp_key_metadata_creation_date(get()); }
  std::string_view description() const {
    return to_string_view(kp_key_metadata_description(get()));
  }
  int64_t deletion_date() const { return kp_key_metadata_deletion_date(get()); }
  std::vector<std::string_view> aliases() const {
    std::vector<std::string_view> v;
    for (std::size_t i = 0; i < kp_key_metadata_alias_count(get()); i++) {
      v.push_back(to_string_view(kp_key_metadata_alias(get(), i)));
    }
    return v;
  }
  std::vector<kp_encryption_algorithm> encryption_algorithms() const {
    std::vector<kp_encryption_algorithm> v;
    for (std::size_t i = 0; i < kp_key_metadata_encryption_algorithm_count(get()); i++) {
      v.push_back(kp_key_metadata_encryption_algorithm(get(), i));
    }
    return v;
  }
  std::vector<kp_signing_algorithm> signing_algorithms() const {
    std::vector<kp_signing_algorithm> v;
    for (std::size_t i = 0; i < kp_key_metadata_signing_algorithm_count(get()); i++) {
      v.push_back(kp_key_metadata_signing_algorithm(get(), i));
    }
    return v;
  }
  std::vector<kp_mac_algorithm> mac_algorithms() const {
    std::vector<kp_mac_algorithm> v;
    for (std::size_t i = 0; i < kp_key_metadata_mac_algorithm_count(get()); i++) {
      v.push_back(kp_key_metadata_mac_algorithm(get(), i));
    }
    return v;
  }
  uint64_t rotation_period_seconds() const {
    return kp_key_metadata_rotation_period_seconds(get());
  }
  int64_t next_rotation_date() const { return kp_key_metadata_next_rotation_date(get()); }
  uint32_t current_version() const { return kp_key_metadata_current_version(get()); }
  uint32_t min_decryption_version() const { return kp_key_metadata_min_decryption_version(get()); }
  bool rotate_on_budget() const { return kp_key_metadata_rotate_on_budget(get()); }
  std::vector<kp_key_version> versions() const {
    std::vector<kp_key_version> v(kp_key_metadata_version_count(get()));
    for (std::size_t i = 0; i < v.size(); i++) detail::check(kp_key_metadata_version(get(), i, &v[i]));
    return v;
  }
  const kp_key_metadata *get() const noexcept { return m_.get(); }

 private:
  detail::owned<kp_key_metadata, kp_key_metadata_free> m_;
};

// A data key: plaintext (zeroized when freed) and the blob.
class data_key {
 public:
  explicit data_key(kp_data_key *d) : d_(d) {}
  std::string_view key_id() const { return to_string_view(kp_data_key_key_id(d_.get())); }
  byte_view plaintext() const { return kp_data_key_plaintext(d_.get()); }
  byte_view ciphertext_blob() const { return kp_data_key_ciphertext_blob(d_.get()); }

 private:
  detail::owned<kp_data_key, kp_data_key_free> d_;
};

// A data key pair: DER public key, PKCS#8 private key (zeroized when freed; empty when made
// without plaintext) and the private key's blob.
class data_key_pair {
 public:
  explicit data_key_pair(kp_data_key_pair *p) : p_(p) {}
  std::string_view key_id() const { return to_string_view(kp_data_key_pair_key_id(p_.get())); }
  kp_data_key_pair_spec key_pair_spec() const { return kp_data_key_pair_key_pair_spec(p_.get()); }
  byte_view public_key() const { return kp_data_key_pair_public_key(p_.get()); }
  byte_view private_key_plaintext() const {
    return kp_data_key_pair_private_key_plaintext(p_.get());
  }
  byte_view private_key_ciphertext_blob() const {
    return kp_data_key_pair_private_key_ciphertext_blob(p_.get());
  }

 private:
  detail::owned<kp_data_key_pair, kp_data_key_pair_free> p_;
};

// The public half of an asymmetric key.
class public_key {
 public:
  explicit public_key(kp_public_key *p) : p_(p) {}
  std::string_view key_id() const { return to_string_view(kp_public_key_key_id(p_.get())); }
  kp_key_spec key_spec() const { return kp_public_key_key_spec(p_.get()); }
  kp_key_usage key_usage() const { return kp_public_key_key_usage(p_.get()); }
  byte_view der() const { return kp_public_key_der(p_.get()); }
  std::string_view pem() const { return to_string_view(kp_public_key_pem(p_.get())); }

 private:
  detail::owned<kp_public_key, kp_public_key_free> p_;
};

// The results of a batch call, one item per request in input order.
class batch_result {
 public:
  explicit batch_result(kp_batch_result *r) : r_(r) {}
  std::size_t size() const { return kp_batch_result_count(r_.get()); }
  kp_batch_item operator[](std::size_t i) const {
    kp_batch_item item;
    detail::check(kp_batch_result_item(r_.get(), i, &item));
    return item;
  }

 private:
  detail::owned<kp_batch_result, kp_batch_result_free> r_;
};

// Options for keyring::create_key.
struct create_key_options {
  kp_key_spec key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  kp_key_usage key_usage = KP_KEY_USAGE_DEFAULT;
  std::string_view key_id;
  std::string_view description;
  std::string_view alias;
  uint32_t rotation_period_days = 0;
  uint64_t rotation_period_seconds = 0;
  bool refuse_on_budget = false;
  // KP_ORIGIN_EXTERNAL: the key waits in PendingImport for import_key_material.
  kp_origin origin = 0;
};

// A root key held in this process (32 bytes of material): seals and opens key records.
class root_key {
 public:
  root_key(std::string_view root_id, byte_view material) {
    kp_root_key *r = nullptr;
    detail::check(kp_root_key_new(root_id.data(), root_id.size(), material.data(),
                                  material.size(), &r));
    r_.reset(r);
  }
  // 32 bytes of fresh root material.
  static secret_bytes generate_material() {
    return detail::output_max<secret_bytes>(32, [](uint8_t *o, std::size_t c, std::size_t *n) {
      return kp_root_key_generate_material(o, c, n);
    });
  }
  const kp_root_key *get() const noexcept { return r_.get(); }

 private:
  detail::owned<kp_root_key, kp_root_key_free> r_;
};

// What a sealed record says in the clear (inspect_sealed); nothing in it is authenticated
// until the record is opened.
struct sealed_record_info {
  uint8_t format;
  std::string key_id;   // the key inside
  std::string root_id;  // the root key that sealed it
};

// The clear header of a sealed record, read without any key.
inline sealed_record_info inspect_sealed(byte_view record) {
  kp_sealed_record_info info;
  detail::check(kp_sealed_inspect(record.data(), record.size(), &info));
  return {info.format, std::string(info.key_id, info.key_id_len),
          std::string(info.root_id, info.root_id_len)};
}

// One audited operation, as an audit callback sees it. The views are valid only during the
// callback; copy what you keep.
class audit_event {
 public:
  explicit audit_event(const kp_audit_event &e) noexcept : e_(e) {}
  uint64_t sequence() const noexcept { return e_.sequence; }
  uint64_t time_unix_nanos() const noexcept { return e_.time_unix_nanos; }
  std::string_view request_id() const noexcept { return to_string_view(e_.request_id); }
  std::string_view operation() const noexcept { return to_string_view(e_.operation); }
  std::string_view key_id() const noexcept { return to_string_view(e_.key_id); }
  uint32_t key_version() const noexcept { return e_.key_version; }
  std::string_view caller() const noexcept { return to_string_view(e_.caller); }
  // Empty for success, else the error's code ("KP_INVALID_CIPHERTEXT").
  std::string_view error_code() const noexcept { return to_string_view(e_.error_code); }
  std::vector<std::pair<std::string_view, std::string_view>> context() const {
    std::vector<std::pair<std::string_view, std::string_view>> v;
    for (std::size_t i = 0; i < e_.context_len; i++) {
      const kp_context_entry &c = e_.context[i];
      v.emplace_back(std::string_view(c.key, c.key_len), std::string_view(c.value, c.value_len));
    }
    return v;
  }
  const kp_audit_event &get() const noexcept { return e_; }

 private:
  const kp_audit_event &e_;
};

// The audit callback: called on the keyring's audit writer thread, in order. It must return
// promptly and must not use the keyring it audits (see kp_audit_callback in keyplane.h). An
// exception it throws is caught and dropped: it cannot cross the C library.
using audit_callback = std::function<void(const audit_event &)>;

// How a keyring audits: exactly one of `callback` and `log_dir` (with `audit_key`, 32 bytes).
// 0 and the enumerations' first values are the defaults.
struct audit_options {
  audit_callback callback;
  std::string log_dir;
  byte_view audit_key;  // read while the keyring is made
  kp_context_logging context_logging = KP_CONTEXT_LOGGING_FULL;
  kp_back_pressure back_pressure = KP_BACK_PRESSURE_BLOCK;
  std::size_t queue_capacity = 0;
  uint64_t max_file_bytes = 0;    // log_dir only
  uint64_t checkpoint_every = 0;  // log_dir only
};

// The usage of a key as the audit trail saw it (keyring::key_last_usage).
struct last_usage {
  uint64_t last_used_unix_nanos = 0;  // 0: never
  std::string last_operation;         // empty: never
  std::vector<std::pair<std::string, uint64_t>> counts;  // per operation, in name order
};

// A broken audit log: status() is KP_ERR_INVALID_CIPHERTEXT, what() names the file, line and
// reason, and report() holds broken_file (an index into the files checked) and broken_line.
class audit_log_broken : public error {
 public:
  audit_log_broken(kp_status status, const char *message, const kp_audit_report &report)
      : error(status, message), report_(report) {}
  std::size_t file() const noexcept { return report_.broken_file; }
  uint64_t line() const noexcept { return report_.broken_line; }
  const kp_audit_report &report() const noexcept { return report_; }

 private:
  kp_audit_report report_;
};

namespace detail {
inline kp_audit_report verified(kp_status status, const kp_audit_report &report) {
  if (status == KP_ERR_INVALID_CIPHERTEXT) {
    throw audit_log_broken(status, kp_last_error_message(), report);
  }
  check(status);
  return report;
}
}  // namespace detail

// Checks the audit log in `log_dir`: the chain, every checkpoint's MAC under `audit_key` and the
// sequence numbers. Returns what it found (check `closed` when the log must be complete);
// throws audit_log_broken for a broken log, error otherwise.
inline kp_audit_report verify_audit_log(std::string_view log_dir, byte_view audit_key) {
  kp_audit_report report;
  kp_status status = kp_audit_verify(log_dir.data(), log_dir.size(), audit_key.data(),
                                     audit_key.size(), &report);
  return detail::verified(status, report);
}

// The same for a log given as its files, in order.
inline kp_audit_report verify_audit_log(const std::vector<std::string> &files,
                                        byte_view audit_key) {
  std::vector<kp_audit_file> c;
  c.reserve(files.size());
  for (const auto &f : files) c.push_back({f.data(), f.size()});
  kp_audit_report report;
  kp_status status =
      kp_audit_verify_files(c.data(), c.size(), audit_key.data(), audit_key.size(), &report);
  return detail::verified(status, report);
}

namespace detail {
// Forwards an event to the C++ callback; nothing may unwind into the C library.
inline void audit_trampoline(const kp_audit_event *event, void *user_data) noexcept {
  try {
    (*static_cast<audit_callback *>(user_data))(audit_event(*event));
  } catch (...) {
  }
}

// C audit options from C++ ones, and the callback the keyring must keep alive.
struct c_audit {
  kp_audit_options options{};
  std::shared_ptr<audit_callback> callback;
  explicit c_audit(audit_options &a) {
    if (a.callback) {
      callback = std::make_shared<audit_callback>(std::move(a.callback));
      options.callback = audit_trampoline;
      options.user_data = callback.get();
    }
    options.log_dir = a.log_dir.data();
    options.log_dir_len = a.log_dir.size();
    options.audit_key = a.audit_key.data();
    options.audit_key_len = a.audit_key.size();
    options.context_logging = a.context_logging;
    options.back_pressure = a.back_pressure;
    options.queue_capacity = a.queue_capacity;
    options.max_file_bytes = a.max_file_bytes;
    options.checkpoint_every = a.checkpoint_every;
  }
};
}  // namespace detail

// What get_parameters_for_import returns.
struct import_parameters {
  bytes public_key;    // RSA, DER SubjectPublicKeyInfo
  bytes import_token;  // pass back to import_key_material
  int64_t valid_to;    // Unix seconds
};

// One request of keyring::encrypt_many.
struct encrypt_item {
  std::string_view key_id;
  byte_view plaintext;
  const context *ctx = nullptr;
};

// One request of keyring::decrypt_many.
struct decrypt_item {
  byte_view blob;
  const context *ctx = nullptr;
};

// A keyring. Move-only; thread-safe.
class keyring {
 public:
  keyring() {
    kp_keyring *k = nullptr;
    detail::check(kp_keyring_new(&k));
    k_.reset(k);
  }
  explicit keyring(const kp_keyring_options &options) {
    kp_keyring *k = nullptr;
    detail::check(kp_keyring_new_with_options(&options, &k));
    k_.reset(k);
  }
  // Moving frees the target's keyring before its audit callback.
  keyring(keyring &&) noexcept = default;
  keyring &operator=(keyring &&o) noexcept {
    if (this != &o) {
      k_ = std::move(o.k_);
      callback_ = std::move(o.callback_);
    }
    return *this;
  }
  // A keyring that audits every operation (a C++ callback or a log directory). The keyring
  // keeps the callback alive until its last handle (with_caller handles included) is gone.
  static keyring audited(audit_options audit, kp_keyring_options options = {}) {
    detail::c_audit c(audit);
    options.audit = &c.options;
    kp_keyring *k = nullptr;
    detail::check(kp_keyring_new_with_options(&options, &k));
    return keyring(k, std::move(c.callback));
  }
  // The keyring persisted in directory `store_dir` (every change written before it returns).
  static keyring open(std::string_view store_dir, const root_key &root,
                      const kp_keyring_options *options = nullptr) {
    kp_keyring *k = nullptr;
    detail::check(kp_keyring_open(options, store_dir.data(), store_dir.size(), root.get(), &k,
                                  nullptr));
    return keyring(k);
  }
  // The same, audited.
  static keyring open(std::string_view store_dir, const root_key &root, audit_options audit,
                      kp_keyring_options options = {}) {
    detail::c_audit c(audit);
    options.audit = &c.options;
    kp_keyring *k = nullptr;
    detail::check(kp_keyring_open(&options, store_dir.data(), store_dir.size(), root.get(), &k,
                                  nullptr));
    return keyring(k, std::move(c.callback));
  }
  // The records open() could not load: file and why.
  std::vector<std::pair<std::string, kp_status>> load_problems() const {
    std::vector<std::pair<std::string, kp_status>> out;
    for (std::size_t i = 0; i < kp_keyring_load_problem_count(get()); i++) {
      kp_str path;
      kp_status why;
      detail::check(kp_keyring_load_problem(get(), i, &path, &why));
      out.emplace_back(std::string(path.data, path.len), why);
    }
    return out;
  }
  // A handle on the same keyring whose operations the audit trail attributes to `caller`.
  keyring with_caller(std::string_view caller) const {
    kp_keyring *k = nullptr;
    detail::check(kp_keyring_with_caller(get(), caller.data(), caller.size(), &k));
    return keyring(k, callback_);
  }
  void flush_audit() const { detail::check(kp_keyring_flush_audit(get())); }
  uint64_t audit_dropped() const noexcept { return kp_keyring_audit_dropped(get()); }
  uint64_t audit_failures() const noexcept { return kp_keyring_audit_failures(get()); }
  // When `key_id` was last used and how often by each operation (AWS KMS's GetKeyLastUsage),
  // as far as the audit writer has got: flush_audit() first to include queued operations.
  last_usage key_last_usage(std::string_view key_id) const {
    kp_key_last_usage *u = nullptr;
    detail::check(kp_keyring_key_last_usage(get(), key_id.data(), key_id.size(), &u));
    detail::owned<kp_key_last_usage, kp_key_last_usage_free> owned(u);
    last_usage out;
    out.last_used_unix_nanos = kp_key_last_usage_last_used_unix_nanos(u);
    out.last_operation = std::string(to_string_view(kp_key_last_usage_last_operation(u)));
    for (std::size_t i = 0; i < kp_key_last_usage_operation_count(u); i++) {
      out.counts.emplace_back(std::string(to_string_view(kp_key_last_usage_operation(u, i))),
                              kp_key_last_usage_uses(u, i));
    }
    return out;
  }
  const kp_keyring *get() const noexcept { return k_.get(); }

  // ----- sealed records and imported material
  bytes export_sealed(std::string_view key_id, const root_key &root) const {
    return detail::output<bytes>([&](uint8_t *o, std::size_t c, std::size_t *n) {
      return kp_export_sealed(get(), key_id.data(), key_id.size(), root.get(), o, c, n);
    });
  }
  key_metadata import_sealed(byte_view record, const root_key &root) const {
    kp_key_metadata *m = nullptr;
    detail::check(kp_import_sealed(get(), record.data(), record.size(), root.get(), &m));
    return key_metadata(m);
  }
  static bytes reseal(byte_view record, const root_key &old_root, const root_key &new_root) {
    return detail::output<bytes>([&](uint8_t *o, std::size_t c, std::size_t *n) {
      return kp_reseal(record.data(), record.size(), old_root.get(), new_root.get(), o, c, n);
    });
  }
  import_parameters get_parameters_for_import(std::string_view key_id,
                                              kp_wrapping_algorithm algorithm,
                                              kp_wrapping_key_spec spec) const {
    kp_import_parameters *p = nullptr;
    detail::check(
        kp_get_parameters_for_import(get(), key_id.data(), key_id.size(), algorithm, spec, &p));
    detail::owned<kp_import_parameters, kp_import_parameters_free> owned(p);
    return {byte_view(kp_import_parameters_public_key(p)).to_vector(),
            byte_view(kp_import_parameters_import_token(p)).to_vector(),
            kp_import_parameters_valid_to(p)};
  }
  // valid_to: Unix seconds when the material expires; 0: never.
  void import_key_material(std::string_view key_id, byte_view import_token, byte_view wrapped,
                           int64_t valid_to = 0) const {
    detail::check(kp_import_key_material(get(), key_id.data(), key_id.size(),
                                         import_token.data(), import_token.size(),
                                         wrapped.data(), wrapped.size(), valid_to));
  }
  void delete_imported_key_material(std::string_view key_id) const {
    detail::check(kp_delete_imported_key_material(get(), key_id.data(), key_id.size()));
  }

  // ----- key management
  key_metadata create_key(const create_key_options &o) const {
    kp_create_key_options c{};
    c.key_spec = o.key_spec;
    c.key_usage = o.key_usage;
    c.key_id = o.key_id.data();
    c.key_id_len = o.key_id.size();
    c.description = o.description.data();
    c.description_len = o.description.size();
    c.alias = o.alias.data();
    c.alias_len = o.alias.size();
    c.rotation_period_days = o.rotation_period_days;
    c.rotation_period_seconds = o.rotation_period_seconds;
    c.refuse_on_budget = o.refuse_on_budget;
    c.origin = o.origin;
    kp_key_metadata *m = nullptr;
    detail::check(kp_create_key(get(), &c, &m));
    return key_metadata(m);
  }
  key_metadata describe_key(std::string_view key_id) const {
    kp_key_metadata *m = nullptr;
    detail::check(kp_describe_key(get(), key_id.data(), key_id.size(), &m));
    return key_metadata(m);
  }
  std::vector<std::string> list_keys() const {
    kp_string_list *l = nullptr;
    detail::check(kp_list_keys(get(), &l));
    detail::owned<kp_string_list, kp_string_list_free> list(l);
    std::vector<std::string> v;
    for (std::size_t i = 0; i < kp_string_list_count(l); i++) {
      v.emplace_back(to_string_view(kp_string_list_get(l, i)));
    }
    return v;
  }
  std::vector<std::pair<std::string, std::string>> list_aliases() const {
    kp_alias_list *l = nullptr;
    detail::check(kp_list_aliases(get(), &l));
    detail::owned<kp_alias_list, kp_alias_list_free> list(l);
    std::vector<std::pair<std::string, std::string>> v;
    for (std::size_t i = 0; i < kp_alias_list_count(l); i++) {
      v.emplace_back(to_string_view(kp_alias_list_name(l, i)),
                     to_string_view(kp_alias_list_target(l, i)));
    }
    return v;
  }
  void enable_key(std::string_view id) const {
    detail::check(kp_enable_key(get(), id.data(), id.size()));
  }
  void disable_key(std::string_view id) const {
    detail::check(kp_disable_key(get(), id.data(), id.size()));
  }
  int64_t schedule_key_deletion(std::string_view id, uint32_t pending_window_days = 0) const {
    int64_t date = 0;
    detail::check(kp_schedule_key_deletion(get(), id.data(), id.size(), pending_window_days, &date));
    return date;
  }
  void cancel_key_deletion(std::string_view id) const {
    detail::check(kp_cancel_key_deletion(get(), id.data(), id.size()));
  }
  void create_alias(std::string_view alias, std::string_view key_id) const {
    detail::check(kp_create_alias(get(), alias.data(), alias.size(), key_id.data(), key_id.size()));
  }
  void update_alias(std::string_view alias, std::string_view key_id) const {
    detail::check(kp_update_alias(get(), alias.data(), alias.size(), key_id.data(), key_id.size()));
  }
  void delete_alias(std::string_view alias) const {
    detail::check(kp_delete_alias(get(), alias.data(), alias.size()));
  }
  uint32_t rotate_key(std::string_view id) const {
    uint32_t version = 0;
    detail::check(kp_rotate_key(get(), id.data(), id.size(), &version));
    return version;
  }
  void enable_key_rotation(std::string_view id, uint32_t days, uint64_t seconds = 0) const {
    detail::check(kp_enable_key_rotation(get(), id.data(), id.size(), days, seconds));
  }
  void disable_key_rotation(std::string_view id) const {
    detail::check(kp_disable_key_rotation(get(), id.data(), id.size()));
  }
  void set_rotate_on_budget(std::string_view id, bool rotate) const {
    detail::check(kp_set_rotate_on_budget(get(), id.data(), id.size(), rotate));
  }
  void set_min_decryption_version(std::string_view id, uint32_t version) const {
    detail::check(kp_set_min_decryption_version(get(), id.data(), id.size(), version));
  }

  // ----- symmetric
  bytes encrypt(std::string_view key_id, byte_view plaintext, const context &ctx = {}) const {
    return detail::output<bytes>([&](uint8_t *out, std::size_t cap, std::size_t *len) {
      return kp_encrypt(get(), key_id.data(), key_id.size(), plaintext.data(), plaintext.size(),
                        ctx.data(), ctx.size(), out, cap, len);
    });
  }
  secret_bytes decrypt(byte_view blob, const context &ctx = {}) const {
    return detail::output<secret_bytes>([&](uint8_t *out, std::size_t cap, std::size_t *len) {
      return kp_decrypt(get(), blob.data(), blob.size(), ctx.data(), ctx.size(), out, cap, len);
    });
  }
  bytes re_encrypt(byte_view blob, const context &source, std::string_view destination_key_id,
                   const context &destination = {}) const {
    return detail::output<bytes>([&](uint8_t *out, std::size_t cap, std::size_t *len) {
      return kp_re_encrypt(get(), blob.data(), blob.size(), source.data(), source.size(),
                           destination_key_id.data(), destination_key_id.size(),
                           destination.data(), destination.size(), out, cap, len);
    });
  }

  // ----- data keys and random bytes
  data_key generate_data_key(std::string_view key_id, kp_data_key_spec spec,
                             const context &ctx = {}, std::size_t number_of_bytes = 0) const {
    kp_data_key *d = nullptr;
    detail::check(kp_generate_data_key(get(), key_id.data(), key_id.size(), spec, number_of_bytes,
                                       ctx.data(), ctx.size(), &d));
    return data_key(d);
  }
  bytes generate_data_key_without_plaintext(std::string_view key_id, kp_data_key_spec spec,
                                            const context &ctx = {},
                                            std::size_t number_of_bytes = 0) const {
    return detail::output<bytes>([&](uint8_t *out, std::size_t cap, std::size_t *len) {
      return kp_generate_data_key_without_plaintext(get(), key_id.data(), key_id.size(), spec,
                                                    number_of_bytes, ctx.data(), ctx.size(), out,
                                                    cap, len);
    });
  }
  data_key_pair generate_data_key_pair(std::string_view key_id, kp_data_key_pair_spec spec,
                                       const context &ctx = {}) const {
    kp_data_key_pair *p = nullptr;
    detail::check(kp_generate_data_key_pair(get(), key_id.data(), key_id.size(), spec, ctx.data(),
                                            ctx.size(), &p));
    return data_key_pair(p);
  }
  data_key_pair generate_data_key_pair_without_plaintext(std::string_view key_id,
                                                         kp_data_key_pair_spec spec,
                                                         const context &ctx = {}) const {
    kp_data_key_pair *p = nullptr;
    detail::check(kp_generate_data_key_pair_without_plaintext(get(), key_id.data(), key_id.size(),
                                                              spec, ctx.data(), ctx.size(), &p));
    return data_key_pair(p);
  }
  secret_bytes generate_random(std::size_t number_of_bytes) const {
    return detail::output_max<secret_bytes>(
        number_of_bytes, [&](uint8_t *out, std::size_t cap, std::size_t *len) {
          return kp_generate_random(get(), number_of_bytes, out, cap, len);
        });
  }

  // ----- MAC and signatures
  bytes generate_mac(std::string_view key_id, byte_view message, kp_mac_algorithm alg) const {
    std::size_t max = 0;
    detail::check(kp_mac_len(get(), key_id.data(), key_id.size(), &max));
    return detail::output_max<bytes>(max, [&](uint8_t *out, std::size_t cap, std::size_t *len) {
      return kp_generate_mac(get(), key_id.data(), key_id.size(), message.data(), message.size(),
                             alg, out, cap, len);
    });
  }
  bool verify_mac(std::string_view key_id, byte_view message, kp_mac_algorithm alg,
                  byte_view mac) const {
    bool valid = false;
    detail::check(kp_verify_mac(get(), key_id.data(), key_id.size(), message.data(),
                                message.size(), alg, mac.data(), mac.size(), &valid));
    return valid;
  }
  bytes sign(std::string_view key_id, byte_view message, kp_signing_algorithm alg,
             kp_message_type type = KP_MESSAGE_TYPE_RAW) const {
    std::size_t max = 0;
    detail::check(kp_max_signature_len(get(), key_id.data(), key_id.size(), &max));
    return detail::output_max<bytes>(max, [&](uint8_t *out, std::size_t cap, std::size_t *len) {
      return kp_sign(get(), key_id.data(), key_id.size(), message.data(), message.size(), type,
                     alg, out, cap, len);
    });
  }
  bool verify(std::string_view key_id, byte_view message, kp_signing_algorithm alg,
              byte_view signature, kp_message_type type = KP_MESSAGE_TYPE_RAW) const {
    bool valid = false;
    detail::check(kp_verify(get(), key_id.data(), key_id.size(), message.data(), message.size(),
                            type, alg, signature.data(), signature.size(), &valid));
    return valid;
  }

  // ----- public keys and RSA-OAEP
  keyplane::public_key get_public_key(std::string_view key_id) const {
    kp_public_key *p = nullptr;
    detail::check(kp_get_public_key(get(), key_id.data(), key_id.size(), &p));
    return keyplane::public_key(p);
  }
  bytes encrypt_asymmetric(std::string_view key_id, byte_view plaintext,
                           kp_encryption_algorithm alg) const {
    return detail::output_max<bytes>(512, [&](uint8_t *out, std::size_t cap, std::size_t *len) {
      return kp_encrypt_asymmetric(get(), key_id.data(), key_id.size(), plaintext.data(),
                                   plaintext.size(), alg, out, cap, len);
    });
  }
  secret_bytes decrypt_asymmetric(std::string_view key_id, byte_view ciphertext,
                                  kp_encryption_algorithm alg) const {
    std::size_t max = 0;
    detail::check(kp_max_asymmetric_plaintext_len(get(), key_id.data(), key_id.size(), alg, &max));
    return detail::output_max<secret_bytes>(
        max, [&](uint8_t *out, std::size_t cap, std::size_t *len) {
          return kp_decrypt_asymmetric(get(), key_id.data(), key_id.size(), ciphertext.data(),
                                       ciphertext.size(), alg, out, cap, len);
        });
  }

  // ----- batches
  batch_result encrypt_many(const std::vector<encrypt_item> &items) const {
    std::vector<kp_encrypt_request> reqs;
    reqs.reserve(items.size());
    for (const auto &i : items) {
      reqs.push_back({i.key_id.data(), i.key_id.size(), i.plaintext.data(), i.plaintext.size(),
                      i.ctx ? i.ctx->data() : nullptr, i.ctx ? i.ctx->size() : 0});
    }
    return many(kp_encrypt_many, reqs);
  }
  batch_result decrypt_many(const std::vector<decrypt_item> &items) const {
    std::vector<kp_decrypt_request> reqs;
    reqs.reserve(items.size());
    for (const auto &i : items) {
      reqs.push_back({i.blob.data(), i.blob.size(), i.ctx ? i.ctx->data() : nullptr,
                      i.ctx ? i.ctx->size() : 0});
    }
    return many(kp_decrypt_many, reqs);
  }
  // Any batch form with the C request structs, e.g. many(kp_sign_many, sign_requests).
  template <class Request>
  batch_result many(kp_status (*fn)(const kp_keyring *, const Request *, std::size_t,
                                    kp_batch_result **),
                    const std::vector<Request> &requests) const {
    kp_batch_result *r = nullptr;
    detail::check(fn(get(), requests.data(), requests.size(), &r));
    return batch_result(r);
  }

 private:
  explicit keyring(kp_keyring *k, std::shared_ptr<audit_callback> callback = nullptr)
      : callback_(std::move(callback)), k_(k) {}
  // Declared first, destroyed last: the keyring's last handle delivers queued events.
  std::shared_ptr<audit_callback> callback_;
  detail::owned<kp_keyring, kp_keyring_free> k_;
};

}  // namespace keyplane

#endif  // KEYPLANE_HPP
