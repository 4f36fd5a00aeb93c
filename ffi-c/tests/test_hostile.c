/* Hostile input through the C ABI, as an attacker or a careless caller would send it: early
 * failures must leave every output buffer zeroed, a call that fails must change nothing, huge
 * counts and lengths are refused before anything is allocated, every string argument refuses
 * invalid UTF-8, outputs may not overlap inputs, an audit callback that calls back into its
 * own keyring gets an error instead of a deadlock, and a process exits with audit events still
 * queued. Every failure is a status, never a crash. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kp_test.h"

static kp_keyring *ring;
static kp_root_key *root;
static const uint8_t MSG[] = "hostile input";
static const kp_context_entry CTX[] = {{"tenant", 6, "acme", 4}};
static unsigned char blob[256];
static size_t blob_len;
static unsigned char record[4096];
static size_t record_len;

/* Ill-formed UTF-8 of every kind: a stray continuation byte, an invalid byte, an overlong
 * NUL, a UTF-16 surrogate, a code point above U+10FFFF, a truncated sequence. */
static const char *const BAD_UTF8[] = {"\x80", "k\xff", "\xc0\x80", "\xed\xa0\x80",
                                       "\xf4\x90\x80\x80", "\xe2\x82"};
#define BAD_UTF8_COUNT (sizeof BAD_UTF8 / sizeof BAD_UTF8[0])

static void create(const char *id, kp_key_spec spec) { OK(kp_test_create_key(ring, id, spec)); }

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void remove_tree(const char *dir) {
  char command[320];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  CHECK(system(command) == 0);
}

/* ----- every byte output is zeroed on every early failure ------------------------------------ */

/* Fills `out` with 0xAA, runs the call, and checks the status, that out[0..sizeof out] is all
 * zero and (when the call was given `&n`) that *out_len is 0. */
#define ZEROED(expected, call)                \
  do {                                        \
    memset(out, 0xAA, sizeof out);            \
    n = 12345;                                \
    CHECK_STATUS(call, expected);             \
    CHECK(all_zero(out, sizeof out));         \
  } while (0)

#define ZEROED_N(expected, call) \
  do {                           \
    ZEROED(expected, call);      \
    CHECK(n == 0);               \
  } while (0)

static void test_outputs_zeroed_on_early_failures(void) {
  unsigned char out[512];
  size_t n = 0;
  const char *bad = "k\xff";
  const kp_context_entry bad_ctx[] = {{"tenant", 6, "\xff", 1}};
  const kp_context_entry bad_ctx_key[] = {{"\xc0\x80", 2, "v", 1}};
  const kp_key_spec RSA_OAEP = KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256;
  /* Misaligned `out_len`: inside a buffer, one byte past an aligned address. */
  _Alignas(size_t) unsigned char slot[2 * sizeof(size_t)];
  size_t *misaligned = (size_t *)(void *)(slot + 1);

  /* kp_encrypt */
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_encrypt(NULL, S("aes"), MSG, 5, NULL, 0, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8, kp_encrypt(ring, S(bad), MSG, 5, NULL, 0, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8,
           kp_encrypt(ring, S("aes"), MSG, 5, bad_ctx, 1, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8,
           kp_encrypt(ring, S("aes"), MSG, 5, bad_ctx_key, 1, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_encrypt(ring, S("aes"), NULL, 5, NULL, 0, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_encrypt(ring, NULL, 3, MSG, 5, NULL, 0, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_encrypt(ring, S("aes"), MSG, 5, NULL, 1, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT, kp_encrypt(ring, S("aes"), MSG, 5, NULL, 0, out, sizeof out, NULL));
  CHECK(strcmp(kp_last_error_message(), "NULL argument: out_len") == 0);
  ZEROED(KP_ERR_INVALID_INPUT,
         kp_encrypt(ring, S("aes"), MSG, 5, NULL, 0, out, sizeof out, misaligned));
  ZEROED_N(KP_ERR_INVALID_INPUT,
           kp_encrypt(ring, S("aes"), MSG, SIZE_MAX, NULL, 0, out, sizeof out, &n));

  /* kp_decrypt */
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_decrypt(NULL, blob, blob_len, CTX, 1, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8, kp_decrypt(ring, blob, blob_len, bad_ctx, 1, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_decrypt(ring, NULL, blob_len, CTX, 1, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT, kp_decrypt(ring, blob, blob_len, CTX, 1, out, sizeof out, NULL));
  ZEROED(KP_ERR_INVALID_INPUT,
         kp_decrypt(ring, blob, blob_len, CTX, 1, out, sizeof out, misaligned));

  /* kp_re_encrypt */
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_re_encrypt(NULL, blob, blob_len, CTX, 1, S("aes"), NULL, 0,
                                               out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8, kp_re_encrypt(ring, blob, blob_len, CTX, 1, S(bad), NULL, 0, out,
                                              sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8, kp_re_encrypt(ring, blob, blob_len, bad_ctx, 1, S("aes"), NULL, 0,
                                              out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8, kp_re_encrypt(ring, blob, blob_len, CTX, 1, S("aes"), bad_ctx, 1,
                                              out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_re_encrypt(ring, NULL, 9, CTX, 1, S("aes"), NULL, 0, out,
                                               sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT, kp_re_encrypt(ring, blob, blob_len, CTX, 1, S("aes"), NULL, 0, out,
                                             sizeof out, NULL));

  /* kp_generate_data_key_without_plaintext */
  ZEROED_N(KP_ERR_NULL_ARGUMENT,
           kp_generate_data_key_without_plaintext(NULL, S("aes"), KP_DATA_KEY_SPEC_AES_256, 0,
                                                  NULL, 0, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8,
           kp_generate_data_key_without_plaintext(ring, S(bad), KP_DATA_KEY_SPEC_AES_256, 0, NULL,
                                                  0, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8,
           kp_generate_data_key_without_plaintext(ring, S("aes"), KP_DATA_KEY_SPEC_AES_256, 0,
                                                  bad_ctx, 1, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_INPUT,
           kp_generate_data_key_without_plaintext(ring, S("aes"), 77, 0, NULL, 0, out, sizeof out,
                                                  &n));
  ZEROED_N(KP_ERR_INVALID_INPUT,
           kp_generate_data_key_without_plaintext(ring, S("aes"), KP_DATA_KEY_SPEC_NUMBER_OF_BYTES,
                                                  SIZE_MAX, NULL, 0, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT,
         kp_generate_data_key_without_plaintext(ring, S("aes"), KP_DATA_KEY_SPEC_AES_256, 0, NULL,
                                                0, out, sizeof out, NULL));

  /* kp_generate_random */
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_generate_random(NULL, 16, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_INPUT, kp_generate_random(ring, 0, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_INPUT, kp_generate_random(ring, SIZE_MAX, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT, kp_generate_random(ring, 16, out, sizeof out, NULL));
  ZEROED(KP_ERR_INVALID_INPUT, kp_generate_random(ring, 16, out, sizeof out, misaligned));

  /* kp_generate_mac */
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_generate_mac(NULL, S("mac"), MSG, 5,
                                                 KP_MAC_ALGORITHM_HMAC_SHA_256, out, sizeof out,
                                                 &n));
  ZEROED_N(KP_ERR_INVALID_UTF8, kp_generate_mac(ring, S(bad), MSG, 5,
                                                KP_MAC_ALGORITHM_HMAC_SHA_256, out, sizeof out,
                                                &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_generate_mac(ring, S("mac"), NULL, 5,
                                                 KP_MAC_ALGORITHM_HMAC_SHA_256, out, sizeof out,
                                                 &n));
  ZEROED_N(KP_ERR_INVALID_INPUT,
           kp_generate_mac(ring, S("mac"), MSG, 5, 0xdead, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT, kp_generate_mac(ring, S("mac"), MSG, 5,
                                               KP_MAC_ALGORITHM_HMAC_SHA_256, out, sizeof out,
                                               NULL));

  /* kp_sign */
  ZEROED_N(KP_ERR_NULL_ARGUMENT,
           kp_sign(NULL, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW, KP_SIGNING_ALGORITHM_ECDSA_SHA_256,
                   out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8,
           kp_sign(ring, S(bad), MSG, 5, KP_MESSAGE_TYPE_RAW, KP_SIGNING_ALGORITHM_ECDSA_SHA_256,
                   out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT,
           kp_sign(ring, S("ec"), NULL, 5, KP_MESSAGE_TYPE_RAW, KP_SIGNING_ALGORITHM_ECDSA_SHA_256,
                   out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_INPUT,
           kp_sign(ring, S("ec"), MSG, 5, 9, KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, sizeof out,
                   &n));
  ZEROED_N(KP_ERR_INVALID_INPUT,
           kp_sign(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW, 0xffffffffu, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT,
         kp_sign(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW, KP_SIGNING_ALGORITHM_ECDSA_SHA_256,
                 out, sizeof out, NULL));

  /* kp_encrypt_asymmetric and kp_decrypt_asymmetric: every failure here comes before the key
   * is looked up, so no RSA key is needed. */
  ZEROED_N(KP_ERR_NULL_ARGUMENT,
           kp_encrypt_asymmetric(NULL, S("rsa"), MSG, 5, RSA_OAEP, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8,
           kp_encrypt_asymmetric(ring, S(bad), MSG, 5, RSA_OAEP, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT,
           kp_encrypt_asymmetric(ring, S("rsa"), NULL, 5, RSA_OAEP, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_INPUT,
           kp_encrypt_asymmetric(ring, S("rsa"), MSG, 5, 99, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT,
         kp_encrypt_asymmetric(ring, S("rsa"), MSG, 5, RSA_OAEP, out, sizeof out, NULL));
  ZEROED_N(KP_ERR_NULL_ARGUMENT,
           kp_decrypt_asymmetric(NULL, S("rsa"), MSG, 5, RSA_OAEP, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8,
           kp_decrypt_asymmetric(ring, S(bad), MSG, 5, RSA_OAEP, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT,
           kp_decrypt_asymmetric(ring, S("rsa"), NULL, 5, RSA_OAEP, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_INPUT,
           kp_decrypt_asymmetric(ring, S("rsa"), MSG, 5, 99, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT,
         kp_decrypt_asymmetric(ring, S("rsa"), MSG, 5, RSA_OAEP, out, sizeof out, NULL));

  /* Sealed records and root material. */
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_export_sealed(NULL, S("aes"), root, out, sizeof out, &n));
  ZEROED_N(KP_ERR_INVALID_UTF8, kp_export_sealed(ring, S(bad), root, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_export_sealed(ring, S("aes"), NULL, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT, kp_export_sealed(ring, S("aes"), root, out, sizeof out, NULL));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_reseal(NULL, 9, root, root, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_reseal(record, record_len, NULL, root, out, sizeof out, &n));
  ZEROED_N(KP_ERR_NULL_ARGUMENT, kp_reseal(record, record_len, root, NULL, out, sizeof out, &n));
  ZEROED(KP_ERR_NULL_ARGUMENT, kp_reseal(record, record_len, root, root, out, sizeof out, NULL));
  ZEROED(KP_ERR_NULL_ARGUMENT, kp_root_key_generate_material(out, sizeof out, NULL));
  ZEROED(KP_ERR_INVALID_INPUT, kp_root_key_generate_material(out, sizeof out, misaligned));

  /* `out_len` inside the output buffer: refused, and the buffer is still zeroed. */
  _Alignas(size_t) unsigned char both[128];
  memset(both, 0xAA, sizeof both);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, NULL, 0, both, sizeof both,
                          (size_t *)(void *)(both + 2 * sizeof(size_t))),
               KP_ERR_INVALID_INPUT);
  CHECK(all_zero(both, sizeof both));
}

/* Struct and handle outputs: an early failure leaves them zeroed (NULL handles). */
static void test_struct_outputs_zeroed(void) {
  kp_key_metadata *m = (kp_key_metadata *)(uintptr_t)0x1234;
  CHECK_STATUS(kp_describe_key(NULL, S("aes"), &m), KP_ERR_NULL_ARGUMENT);
  CHECK(m == NULL);
  kp_sealed_record_info info;
  memset(&info, 0xAA, sizeof info);
  CHECK_STATUS(kp_sealed_inspect(NULL, 5, &info), KP_ERR_NULL_ARGUMENT);
  CHECK(all_zero((const unsigned char *)&info, sizeof info));
  kp_audit_report report;
  memset(&report, 0xAA, sizeof report);
  CHECK_STATUS(kp_audit_verify(NULL, 3, (const uint8_t *)"k", 1, &report), KP_ERR_NULL_ARGUMENT);
  CHECK(all_zero((const unsigned char *)&report, sizeof report));
  size_t len = 99;
  CHECK_STATUS(kp_ciphertext_len(NULL, S("aes"), 5, &len), KP_ERR_NULL_ARGUMENT);
  CHECK(len == 0);
  bool valid = true;
  CHECK_STATUS(kp_verify_mac(NULL, S("mac"), MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_256, MSG, 5, &valid),
               KP_ERR_NULL_ARGUMENT);
  CHECK(!valid);
}

/* ----- outputs overlapping inputs ------------------------------------------------------------ */

static void test_overlap(void) {
  size_t n = 0;
  /* kp_reseal reads the record while it writes the new one. */
  static unsigned char buf[8192];
  memcpy(buf, record, record_len);
  CHECK_STATUS(kp_reseal(buf, record_len, root, root, buf + 8, sizeof buf - 8, &n),
               KP_ERR_INVALID_INPUT);
  CHECK(kp_last_error_contains("overlaps"));
  CHECK(n == 0);
  memcpy(buf, record, record_len);
  CHECK_STATUS(kp_reseal(buf + 16, record_len, root, root, buf, 32, &n), KP_ERR_INVALID_INPUT);
  /* Side by side is fine. */
  memcpy(buf, record, record_len);
  OK(kp_reseal(buf, record_len, root, root, buf + record_len, sizeof buf - record_len, &n));
  CHECK(n > 0);

  /* Every input read while the output is written: key ids, contexts (the entry array, keys
   * and values), blobs and messages. Each is refused, and the output is zeroed. */
  static unsigned char out[1024];
#define OVERLAP(call)                                 \
  do {                                                \
    n = 7;                                            \
    CHECK_STATUS(call, KP_ERR_INVALID_INPUT);         \
    CHECK(kp_last_error_contains("overlaps") && n == 0); \
    CHECK(all_zero(out, sizeof out));                 \
  } while (0)
  memcpy(out, "aes", 3);
  OVERLAP(kp_encrypt(ring, (const char *)out, 3, MSG, 5, NULL, 0, out, sizeof out, &n));
  memcpy(out + 100, "aes", 3);
  OVERLAP(kp_export_sealed(ring, (const char *)out + 100, 3, root, out, sizeof out, &n));
  memcpy(out + 10, "mac", 3);
  OVERLAP(kp_generate_mac(ring, (const char *)out + 10, 3, MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_256,
                          out, sizeof out, &n));
  memcpy(out + 10, "ec", 2);
  OVERLAP(kp_sign(ring, (const char *)out + 10, 2, MSG, 5, KP_MESSAGE_TYPE_RAW,
                  KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, sizeof out, &n));
  memcpy(out + 10, "aes", 3);
  OVERLAP(kp_generate_data_key_without_plaintext(ring, (const char *)out + 10, 3,
                                                 KP_DATA_KEY_SPEC_AES_256, 0, NULL, 0, out,
                                                 sizeof out, &n));
  memcpy(out + 10, "aes", 3);
  OVERLAP(kp_re_encrypt(ring, blob, blob_len, CTX, 1, (const char *)out + 10, 3, NULL, 0, out,
                        sizeof out, &n));
  memcpy(out + 10, "acme", 4);
  const kp_context_entry value_inside[] = {{"tenant", 6, (const char *)out + 10, 4}};
  OVERLAP(kp_decrypt(ring, blob, blob_len, value_inside, 1, out, sizeof out, &n));
  memcpy(out + 10, "tenant", 6);
  const kp_context_entry key_inside[] = {{(const char *)out + 10, 6, "acme", 4}};
  OVERLAP(kp_encrypt(ring, S("aes"), MSG, 5, key_inside, 1, out, sizeof out, &n));
  OVERLAP(kp_re_encrypt(ring, blob, blob_len, CTX, 1, S("aes"), key_inside, 1, out, sizeof out,
                        &n));
  memcpy(out + 64, CTX, sizeof CTX);
  OVERLAP(kp_decrypt(ring, blob, blob_len, (const kp_context_entry *)(void *)(out + 64), 1, out,
                     sizeof out, &n));
  memcpy(out + 8, MSG, 5);
  OVERLAP(kp_encrypt_asymmetric(ring, S("rsa"), out + 8, 5,
                                KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256, out, sizeof out, &n));
  OVERLAP(kp_decrypt_asymmetric(ring, S("rsa"), out + 8, 5,
                                KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256, out, sizeof out, &n));
#undef OVERLAP
}

/* ----- a call that fails has no effect -------------------------------------------------------- */

static size_t version_count(const char *key) {
  kp_key_metadata *m = NULL;
  OK(kp_describe_key(ring, key, strlen(key), &m));
  size_t count = kp_key_metadata_version_count(m);
  kp_key_metadata_free(&m);
  return count;
}

static kp_key_state state_of(const char *key) {
  kp_key_metadata *m = NULL;
  OK(kp_describe_key(ring, key, strlen(key), &m));
  kp_key_state state = kp_key_metadata_key_state(m);
  kp_key_metadata_free(&m);
  return state;
}

static void test_failed_calls_change_nothing(void) {
  _Alignas(16) unsigned char raw[64];
  kp_key_metadata *m = NULL;

  /* kp_create_key with a misaligned out-parameter: refused, no key made. */
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "made-by-failed-call";
  o.key_id_len = strlen(o.key_id);
  o.alias = "alias/made-by-failed-call";
  o.alias_len = strlen(o.alias);
  CHECK_STATUS(kp_create_key(ring, &o, (kp_key_metadata **)(void *)(raw + 1)),
               KP_ERR_INVALID_INPUT);
  CHECK(kp_last_error_contains("misaligned"));
  CHECK_STATUS(kp_describe_key(ring, S("made-by-failed-call"), &m), KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_describe_key(ring, S("alias/made-by-failed-call"), &m), KP_ERR_NOT_FOUND);
  /* ... and a misaligned options struct is refused, not read. */
  CHECK_STATUS(kp_create_key(ring, (const kp_create_key_options *)(const void *)(raw + 1), NULL),
               KP_ERR_INVALID_INPUT);
  /* The same call with a good out-parameter works (the id was never taken). */
  OK(kp_create_key(ring, &o, &m));
  kp_key_metadata_free(&m);

  /* kp_rotate_key with a misaligned out-parameter: no new version. */
  size_t versions = version_count("aes");
  CHECK_STATUS(kp_rotate_key(ring, S("aes"), (uint32_t *)(void *)(raw + 1)),
               KP_ERR_INVALID_INPUT);
  CHECK(version_count("aes") == versions);
  uint32_t v = 0;
  OK(kp_rotate_key(ring, S("aes"), &v));
  CHECK(v == versions + 1 && version_count("aes") == versions + 1);

  /* kp_schedule_key_deletion likewise: the key stays enabled. */
  CHECK_STATUS(kp_schedule_key_deletion(ring, S("made-by-failed-call"), 7,
                                        (int64_t *)(void *)(raw + 3)),
               KP_ERR_INVALID_INPUT);
  CHECK(state_of("made-by-failed-call") == KP_KEY_STATE_ENABLED);
  /* An invalid UTF-8 key id or a bad window changes nothing either. */
  CHECK_STATUS(kp_schedule_key_deletion(ring, "\xff", 1, 7, NULL), KP_ERR_INVALID_UTF8);
  CHECK_STATUS(kp_schedule_key_deletion(ring, S("made-by-failed-call"), 3, NULL),
               KP_ERR_INVALID_INPUT);
  CHECK(state_of("made-by-failed-call") == KP_KEY_STATE_ENABLED);

  /* kp_import_sealed with a misaligned out-parameter: nothing imported. */
  kp_keyring *other = NULL;
  OK(kp_keyring_new(&other));
  CHECK_STATUS(kp_import_sealed(other, record, record_len, root,
                                (kp_key_metadata **)(void *)(raw + 1)),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_describe_key(other, S("sealed"), &m), KP_ERR_NOT_FOUND);
  OK(kp_import_sealed(other, record, record_len, root, NULL));
  OK(kp_describe_key(other, S("sealed"), &m));
  kp_key_metadata_free(&m);
  kp_keyring_free(&other);

  /* kp_keyring_open: a bad out-parameter or bad options fail before the store directory is
   * created or an audit log started. */
  char base[] = "/tmp/keyplane-c-hostile-XXXXXX";
  CHECK(mkdtemp(base) != NULL);
  char store[96], log[96];
  snprintf(store, sizeof store, "%s/store", base);
  snprintf(log, sizeof log, "%s/log", base);
  kp_keyring *opened = NULL;
  CHECK_STATUS(kp_keyring_open(NULL, store, strlen(store), root, &opened,
                               (size_t *)(void *)(raw + 1)),
               KP_ERR_INVALID_INPUT);
  CHECK(opened == NULL && !exists(store));
  unsigned char audit_key[32];
  memset(audit_key, 7, sizeof audit_key);
  kp_audit_options audit;
  memset(&audit, 0, sizeof audit);
  audit.log_dir = log;
  audit.log_dir_len = strlen(log);
  audit.audit_key = audit_key;
  audit.audit_key_len = sizeof audit_key;
  kp_keyring_options options;
  memset(&options, 0, sizeof options);
  options.audit = &audit;
  options.batch_threads = SIZE_MAX;
  CHECK_STATUS(kp_keyring_open(&options, store, strlen(store), root, &opened, NULL),
               KP_ERR_INVALID_INPUT);
  CHECK(opened == NULL && !exists(store) && !exists(log));
  options.batch_threads = 0;
  audit.context_logging = 42;
  CHECK_STATUS(kp_keyring_open(&options, store, strlen(store), root, &opened, NULL),
               KP_ERR_INVALID_INPUT);
  CHECK(opened == NULL && !exists(store) && !exists(log));
  audit.context_logging = KP_CONTEXT_LOGGING_FULL;
  audit.queue_capacity = (size_t)1 << 30;
  CHECK_STATUS(kp_keyring_open(&options, store, strlen(store), root, &opened, NULL),
               KP_ERR_INVALID_INPUT);
  CHECK(opened == NULL && !exists(store) && !exists(log));
  audit.queue_capacity = 0;
  audit.audit_key_len = 31;
  CHECK_STATUS(kp_keyring_open(&options, store, strlen(store), root, &opened, NULL),
               KP_ERR_INVALID_INPUT);
  CHECK(opened == NULL && !exists(store) && !exists(log));
  /* Made with the same keyring options, no log directory either. */
  CHECK_STATUS(kp_keyring_new_with_options(&options, &opened), KP_ERR_INVALID_INPUT);
  CHECK(opened == NULL && !exists(log));
  audit.audit_key_len = sizeof audit_key;
  size_t problems = 99;
  OK(kp_keyring_open(&options, store, strlen(store), root, &opened, &problems));
  CHECK(problems == 0 && exists(store) && exists(log));
  kp_keyring_free(&opened);
  remove_tree(base);
}

/* ----- misaligned arrays and structs: refused, never read ------------------------------------- */

static void test_misaligned_inputs(void) {
  _Alignas(16) static unsigned char raw[512];
  unsigned char out[128];
  size_t n = 0;
  kp_batch_result *r = NULL;
  const void *odd = raw + 1;
  CHECK_STATUS(kp_encrypt_many(ring, (const kp_encrypt_request *)odd, 2, &r), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_decrypt_many(ring, (const kp_decrypt_request *)odd, 2, &r), KP_ERR_INVALID_INPUT);
  CHECK(r == NULL);
  ZEROED_N(KP_ERR_INVALID_INPUT, kp_encrypt(ring, S("aes"), MSG, 5, (const kp_context_entry *)odd,
                                            1, out, sizeof out, &n));
  kp_audit_report report;
  unsigned char key[32] = {0};
  CHECK_STATUS(kp_audit_verify_files((const kp_audit_file *)odd, 1, key, 32, &report),
               KP_ERR_INVALID_INPUT);
  kp_keyring *k = NULL;
  CHECK_STATUS(kp_keyring_new_with_options((const kp_keyring_options *)odd, &k),
               KP_ERR_INVALID_INPUT);
  CHECK(k == NULL);
  kp_keyring_options options;
  memset(&options, 0, sizeof options);
  options.audit = (const kp_audit_options *)odd;
  CHECK_STATUS(kp_keyring_new_with_options(&options, &k), KP_ERR_INVALID_INPUT);
  CHECK(k == NULL);
}

/* ----- batch threads ------------------------------------------------------------------------ */

static void test_batch_threads_bound(void) {
  kp_keyring_options options;
  memset(&options, 0, sizeof options);
  kp_keyring *k = NULL;
  const size_t refused[] = {SIZE_MAX, SIZE_MAX / 2, (size_t)1 << 32, 1025};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    options.batch_threads = refused[i];
    CHECK_STATUS(kp_keyring_new_with_options(&options, &k), KP_ERR_INVALID_INPUT);
    CHECK(k == NULL && kp_last_error_contains("1024"));
  }
  options.batch_threads = 1024;
  OK(kp_keyring_new_with_options(&options, &k));
  /* A pool of 1024 threads starts at the first batch; valgrind runs at most 500 threads. */
  if (k != NULL && getenv("KEYPLANE_TEST_UNDER_VALGRIND") == NULL) {
    kp_create_key_options o;
    memset(&o, 0, sizeof o);
    o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
    o.key_id = "t";
    o.key_id_len = 1;
    OK(kp_create_key(k, &o, NULL));
    kp_encrypt_request reqs[4];
    for (int i = 0; i < 4; i++) {
      reqs[i] = (kp_encrypt_request){S("t"), MSG, sizeof MSG, NULL, 0};
    }
    kp_batch_result *r = NULL;
    OK(kp_encrypt_many(k, reqs, 4, &r));
    CHECK(kp_batch_result_count(r) == 4);
    kp_batch_item item;
    for (size_t i = 0; i < 4; i++) {
      OK(kp_batch_result_item(r, i, &item));
      CHECK(item.status == KP_OK);
    }
    kp_batch_result_free(&r);
  }
  kp_keyring_free(&k);
}

/* ----- huge counts and lengths ------------------------------------------------------------- */

static void test_huge_counts(void) {
  unsigned char out[64];
  size_t n = 0;
  kp_batch_result *r = NULL;
  kp_encrypt_request one = {S("aes"), MSG, 5, NULL, 0};
  kp_data_key_request dk = {S("aes"), KP_DATA_KEY_SPEC_AES_256, 0, NULL, 0};
  const size_t huge[] = {SIZE_MAX, SIZE_MAX / 2, (size_t)1000000000000ull, 100001};
  /* Batch sizes are checked against the keyring's limit before the array is read. */
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
    CHECK_STATUS(kp_encrypt_many(ring, &one, huge[i], &r), KP_ERR_LIMIT_EXCEEDED);
    CHECK(r == NULL);
    CHECK_STATUS(kp_generate_data_key_many(ring, &dk, huge[i], &r), KP_ERR_LIMIT_EXCEEDED);
    CHECK_STATUS(kp_generate_data_key_without_plaintext_many(ring, &dk, huge[i], &r),
                 KP_ERR_LIMIT_EXCEEDED);
    CHECK_STATUS(kp_decrypt_many(ring, NULL, huge[i], &r), KP_ERR_LIMIT_EXCEEDED);
    CHECK(r == NULL);
  }
  /* With no limit of its own, a count no array can have is refused before it is read. */
  kp_keyring_options options;
  memset(&options, 0, sizeof options);
  options.max_batch_items = SIZE_MAX;
  kp_keyring *unlimited = NULL;
  OK(kp_keyring_new_with_options(&options, &unlimited));
  CHECK_STATUS(kp_encrypt_many(unlimited, &one, SIZE_MAX, &r), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_generate_data_key_many(unlimited, &dk, SIZE_MAX / 8, &r), KP_ERR_INVALID_INPUT);
  CHECK(r == NULL);
  kp_keyring_free(&unlimited);

  /* Data key sizes, random lengths, contexts, strings and buffers. */
  kp_data_key *key = NULL;
  CHECK_STATUS(kp_generate_data_key(ring, S("aes"), KP_DATA_KEY_SPEC_NUMBER_OF_BYTES, SIZE_MAX,
                                    NULL, 0, &key),
               KP_ERR_INVALID_INPUT);
  CHECK(key == NULL);
  kp_data_key_request dk_huge = {S("aes"), KP_DATA_KEY_SPEC_NUMBER_OF_BYTES, SIZE_MAX, NULL, 0};
  OK(kp_generate_data_key_many(ring, &dk_huge, 1, &r));
  kp_batch_item item;
  OK(kp_batch_result_item(r, 0, &item));
  CHECK(item.status == KP_ERR_INVALID_INPUT);
  kp_batch_result_free(&r);
  CHECK_STATUS(kp_generate_random(ring, SIZE_MAX, out, sizeof out, &n), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_generate_random(ring, (size_t)1 << 40, NULL, 0, &n), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, CTX, SIZE_MAX, out, sizeof out, &n),
               KP_ERR_LIMIT_EXCEEDED);
  CHECK_STATUS(kp_encrypt(ring, "aes", SIZE_MAX, MSG, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_decrypt(ring, blob, SIZE_MAX, NULL, 0, out, sizeof out, &n),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, NULL, 0, out, SIZE_MAX, &n),
               KP_ERR_INVALID_INPUT);
  CHECK(n == 0);
  size_t len = 0;
  CHECK_STATUS(kp_ciphertext_len(ring, S("aes"), SIZE_MAX, &len), KP_ERR_LIMIT_EXCEEDED);

  /* Indexes past the end. */
  kp_key_metadata *m = NULL;
  OK(kp_describe_key(ring, S("aes"), &m));
  kp_key_version v;
  CHECK_STATUS(kp_key_metadata_version(m, SIZE_MAX, &v), KP_ERR_INVALID_INPUT);
  CHECK(kp_key_metadata_alias(m, SIZE_MAX).len == 0);
  kp_key_metadata_free(&m);
  kp_str path;
  kp_status status;
  CHECK_STATUS(kp_keyring_load_problem(ring, SIZE_MAX, &path, &status), KP_ERR_INVALID_INPUT);

  /* Audit: the queue capacity and the number of log files. */
  char base[] = "/tmp/keyplane-c-hostile-XXXXXX";
  CHECK(mkdtemp(base) != NULL);
  char log[96];
  snprintf(log, sizeof log, "%s/log", base);
  kp_audit_options audit;
  memset(&audit, 0, sizeof audit);
  audit.log_dir = log;
  audit.log_dir_len = strlen(log);
  unsigned char audit_key[32] = {0};
  audit.audit_key = audit_key;
  audit.audit_key_len = 32;
  audit.queue_capacity = SIZE_MAX;
  memset(&options, 0, sizeof options);
  options.audit = &audit;
  kp_keyring *k = NULL;
  CHECK_STATUS(kp_keyring_new_with_options(&options, &k), KP_ERR_INVALID_INPUT);
  audit.queue_capacity = ((size_t)1 << 20) + 1;
  CHECK_STATUS(kp_keyring_new_with_options(&options, &k), KP_ERR_INVALID_INPUT);
  CHECK(k == NULL && !exists(log));
  remove_tree(base);
  kp_audit_report report;
  kp_audit_file file = {S("/tmp/none.jsonl")};
  CHECK_STATUS(kp_audit_verify_files(&file, SIZE_MAX, audit_key, 32, &report),
               KP_ERR_INVALID_INPUT);
}

/* ----- invalid UTF-8 in every string argument ------------------------------------------------ */

static void test_invalid_utf8_everywhere(void) {
  unsigned char out[600];
  size_t n = 0;
  bool valid = false;
  kp_key_metadata *m = NULL;
  kp_data_key *dk = NULL;
  kp_data_key_pair *pair = NULL;
  kp_public_key *pk = NULL;
  kp_import_parameters *params = NULL;
  kp_key_last_usage *usage = NULL;
  kp_keyring *k = NULL;
  kp_root_key *rk = NULL;
  kp_batch_result *r = NULL;
  kp_audit_report report;
  unsigned char key32[32] = {1};
  for (size_t i = 0; i < BAD_UTF8_COUNT; i++) {
    const char *b = BAD_UTF8[i];
    size_t bl = strlen(b);
    const kp_context_entry bad_key[] = {{b, bl, "v", 1}};
    const kp_context_entry bad_value[] = {{"k", 1, b, bl}};
    const int before = kp_failed;

    /* Key ids. */
    CHECK_STATUS(kp_describe_key(ring, b, bl, &m), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_enable_key(ring, b, bl), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_disable_key(ring, b, bl), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_cancel_key_deletion(ring, b, bl), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_rotate_key(ring, b, bl, NULL), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_enable_key_rotation(ring, b, bl, 90, 0), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_disable_key_rotation(ring, b, bl), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_set_rotate_on_budget(ring, b, bl, true), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_set_min_decryption_version(ring, b, bl, 1), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_ciphertext_len(ring, b, bl, 5, &n), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_encrypt(ring, b, bl, MSG, 5, NULL, 0, out, sizeof out, &n),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_generate_data_key(ring, b, bl, KP_DATA_KEY_SPEC_AES_256, 0, NULL, 0, &dk),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_generate_data_key_pair(ring, b, bl, KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P256, NULL,
                                           0, &pair),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_generate_data_key_pair_without_plaintext(
                     ring, b, bl, KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P256, NULL, 0, &pair),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_mac_len(ring, b, bl, &n), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_verify_mac(ring, b, bl, MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_256, MSG, 5, &valid),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_max_signature_len(ring, b, bl, &n), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_verify(ring, b, bl, MSG, 5, KP_MESSAGE_TYPE_RAW,
                           KP_SIGNING_ALGORITHM_ECDSA_SHA_256, MSG, 5, &valid),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_get_public_key(ring, b, bl, &pk), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_max_asymmetric_plaintext_len(ring, b, bl,
                                                 KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256, &n),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_get_parameters_for_import(ring, b, bl, KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_256,
                                              KP_WRAPPING_KEY_SPEC_RSA_2048, &params),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_import_key_material(ring, b, bl, MSG, 5, MSG, 5, 0), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_delete_imported_key_material(ring, b, bl), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_keyring_key_last_usage(ring, b, bl, &usage), KP_ERR_INVALID_UTF8);
    /* Aliases, both places. */
    CHECK_STATUS(kp_create_alias(ring, b, bl, S("aes")), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_create_alias(ring, S("alias/x"), b, bl), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_update_alias(ring, b, bl, S("aes")), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_update_alias(ring, S("alias/x"), b, bl), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_delete_alias(ring, b, bl), KP_ERR_INVALID_UTF8);
    /* Key creation: id, description, alias. */
    kp_create_key_options o;
    memset(&o, 0, sizeof o);
    o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
    o.key_id = b;
    o.key_id_len = bl;
    CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_UTF8);
    o.key_id = NULL;
    o.key_id_len = 0;
    o.description = b;
    o.description_len = bl;
    CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_UTF8);
    o.description = NULL;
    o.description_len = 0;
    o.alias = b;
    o.alias_len = bl;
    CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_UTF8);
    /* Context keys and values, in every function that takes a context. */
    CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, bad_key, 1, out, sizeof out, &n),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, bad_value, 1, out, sizeof out, &n),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_decrypt(ring, blob, blob_len, bad_value, 1, out, sizeof out, &n),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_re_encrypt(ring, blob, blob_len, CTX, 1, b, bl, NULL, 0, out, sizeof out, &n),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_re_encrypt(ring, blob, blob_len, CTX, 1, S("aes"), bad_key, 1, out,
                               sizeof out, &n),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_generate_data_key(ring, S("aes"), KP_DATA_KEY_SPEC_AES_256, 0, bad_value, 1,
                                      &dk),
                 KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_generate_data_key_pair(ring, S("aes"), KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P256,
                                           bad_key, 1, &pair),
                 KP_ERR_INVALID_UTF8);
    CHECK(dk == NULL && pair == NULL && pk == NULL && params == NULL && usage == NULL);
    /* Handles made from strings: callers, roots, stores, log directories and files. */
    CHECK_STATUS(kp_keyring_with_caller(ring, b, bl, &k), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_root_key_new(b, bl, key32, 32, &rk), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_export_sealed(ring, b, bl, root, out, sizeof out, &n), KP_ERR_INVALID_UTF8);
    CHECK_STATUS(kp_keyring_open(NULL, b, bl, root, &k, NULL), KP_ERR_INVALID_UTF8);
    kp_audit_options audit;
    memset(&audit, 0, sizeof audit);
    audit.log_dir = b;
    audit.log_dir_len = bl;
    audit.audit_key = key32;
    audit.audit_key_len = 32;
    kp_keyring_options options;
    memset(&options, 0, sizeof options);
    options.audit = &audit;
    CHECK_STATUS(kp_keyring_new_with_options(&options, &k), KP_ERR_INVALID_UTF8);
    CHECK(k == NULL && rk == NULL);
    CHECK_STATUS(kp_audit_verify(b, bl, key32, 32, &report), KP_ERR_INVALID_UTF8);
    kp_audit_file files[2] = {{S("/tmp/a.jsonl")}, {b, bl}};
    CHECK_STATUS(kp_audit_verify_files(files, 2, key32, 32, &report), KP_ERR_INVALID_UTF8);
    /* Batch requests: the item fails alone. */
    kp_encrypt_request reqs[2] = {{b, bl, MSG, 5, NULL, 0}, {S("aes"), MSG, 5, bad_value, 1}};
    OK(kp_encrypt_many(ring, reqs, 2, &r));
    kp_batch_item item;
    OK(kp_batch_result_item(r, 0, &item));
    CHECK(item.status == KP_ERR_INVALID_UTF8);
    OK(kp_batch_result_item(r, 1, &item));
    CHECK(item.status == KP_ERR_INVALID_UTF8);
    kp_batch_result_free(&r);
    if (kp_failed != before) fprintf(stderr, "  (with invalid UTF-8 sequence %zu)\n", i);
  }
}

/* ----- re-entrancy: an audit callback calling into its own keyring ---------------------------- */

struct reentry {
  kp_keyring *ring;
  int calls;
  kp_status status;
};

static void reenter(const kp_audit_event *event, void *user_data) {
  struct reentry *r = user_data;
  (void)event;
  if (r->calls++ > 0) return;
  unsigned char out[128];
  size_t n = 0;
  /* With a one-event queue and KP_BACK_PRESSURE_BLOCK, this call's own event could only be
   * delivered by this thread: it must fail at once. */
  r->status = kp_encrypt(r->ring, S("aes"), MSG, 5, NULL, 0, out, sizeof out, &n);
}

/* Runs in a child process, so that a deadlock is a killed child rather than a hung test. */
static int reentry_child(void) {
  struct reentry state = {NULL, 0, KP_OK};
  kp_audit_options audit;
  memset(&audit, 0, sizeof audit);
  audit.callback = reenter;
  audit.user_data = &state;
  audit.queue_capacity = 1;
  audit.back_pressure = KP_BACK_PRESSURE_BLOCK;
  kp_keyring_options options;
  memset(&options, 0, sizeof options);
  options.audit = &audit;
  kp_keyring *k = NULL;
  if (kp_keyring_new_with_options(&options, &k) != KP_OK) return 10;
  state.ring = k;
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "aes";
  o.key_id_len = 3;
  if (kp_create_key(k, &o, NULL) != KP_OK) return 11;
  unsigned char out[128];
  size_t n = 0;
  for (int i = 0; i < 8; i++) {
    if (kp_encrypt(k, S("aes"), MSG, 5, NULL, 0, out, sizeof out, &n) != KP_OK) return 12;
  }
  if (kp_keyring_flush_audit(k) != KP_OK) return 13;
  kp_keyring_free(&k);
  if (state.calls == 0) return 14;
  /* An error, and not one that blames the library. */
  if (state.status == KP_OK || state.status == KP_ERR_INTERNAL || state.status == KP_ERR_PANIC) {
    return 15;
  }
  return 0;
}

/* Waits up to `seconds` for `pid`; kills it if it is still running then. Returns its exit
 * status, or -1 if it had to be killed. */
static int wait_bounded(pid_t pid, int seconds) {
  const struct timespec tick = {0, 10 * 1000 * 1000};
  for (long waited = 0; waited < (long)seconds * 100; waited++) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0 && errno != EINTR) return -2;
    nanosleep(&tick, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

static void test_reentrant_audit_callback(void) {
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(reentry_child());
  int code = wait_bounded(pid, 120);
  if (code != 0) {
    fprintf(stderr, "re-entrant audit callback: child %s (code %d)\n",
            code == -1 ? "hung and was killed" : "failed", code);
  }
  CHECK(code == 0);
}

/* ----- exit with audit events still queued ---------------------------------------------------- */

static kp_keyring *exiting; /* global, so that what it holds stays reachable at exit */

static void count_event(const kp_audit_event *event, void *user_data) {
  (void)event;
  (*(long *)user_data)++;
}

/* An audited keyring with a small queue and 2,000 encryptions not flushed; then the process
 * exits, freeing the keyring first (every event is delivered) or not (exit must not wait). */
static int exit_child(int free_first) {
  static long events;
  kp_audit_options audit;
  memset(&audit, 0, sizeof audit);
  audit.callback = count_event;
  audit.user_data = &events;
  audit.queue_capacity = 16;
  kp_keyring_options options;
  memset(&options, 0, sizeof options);
  options.audit = &audit;
  if (kp_keyring_new_with_options(&options, &exiting) != KP_OK) return 20;
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "aes";
  o.key_id_len = 3;
  if (kp_create_key(exiting, &o, NULL) != KP_OK) return 21;
  unsigned char out[128];
  size_t n = 0;
  for (int i = 0; i < 2000; i++) {
    if (kp_encrypt(exiting, S("aes"), MSG, 5, NULL, 0, out, sizeof out, &n) != KP_OK) return 22;
  }
  if (!free_first) exit(0);
  kp_keyring_free(&exiting);
  /* Freeing the last handle delivers what was queued: the creation and every encryption. */
  exit(events == 2001 ? 0 : 23);
}

static void test_exit_with_events_queued(void) {
  /* Under valgrind only with the keyring freed: a process that exits with the writer thread
   * still running has that thread's storage reported "possibly lost" there. */
  int first = getenv("KEYPLANE_TEST_UNDER_VALGRIND") != NULL ? 1 : 0;
  for (int free_first = first; free_first < 2; free_first++) {
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) exit_child(free_first);
    int code = wait_bounded(pid, 120);
    if (code != 0) {
      fprintf(stderr, "exit with events queued (%s): child %s (code %d)\n",
              free_first ? "keyring freed" : "keyring not freed",
              code == -1 ? "hung and was killed" : "failed", code);
    }
    CHECK(code == 0);
  }
}

/* ----- a file listed twice in an audit log ---------------------------------------------------- */

static void test_audit_file_listed_twice(void) {
  char dir[] = "/tmp/keyplane-c-hostile-audit-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  unsigned char audit_key[32];
  memset(audit_key, 9, sizeof audit_key);
  kp_audit_options audit;
  memset(&audit, 0, sizeof audit);
  audit.log_dir = dir;
  audit.log_dir_len = strlen(dir);
  audit.audit_key = audit_key;
  audit.audit_key_len = sizeof audit_key;
  audit.max_file_bytes = 1; /* a new file after every line */
  kp_keyring_options options;
  memset(&options, 0, sizeof options);
  options.audit = &audit;
  kp_keyring *k = NULL;
  OK(kp_keyring_new_with_options(&options, &k));
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "aes";
  o.key_id_len = 3;
  OK(kp_create_key(k, &o, NULL));
  kp_keyring_free(&k);
  char paths[2][160];
  kp_audit_file files[3];
  for (int i = 0; i < 2; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/audit-%06d.jsonl", dir, i + 1);
    files[i].path = paths[i];
    files[i].path_len = strlen(paths[i]);
  }
  files[2] = files[0];
  kp_audit_report report;
  OK(kp_audit_verify_files(files, 2, audit_key, sizeof audit_key, &report));
  /* The first file again, third: the chain breaks at its first line, in file 2, not file 0. */
  CHECK_STATUS(kp_audit_verify_files(files, 3, audit_key, sizeof audit_key, &report),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK(report.broken_line == 1);
  if (report.broken_file != 2) {
    fprintf(stderr, "a file listed twice: broken_file %zu, expected 2\n", report.broken_file);
  }
  CHECK(report.broken_file == 2);
  remove_tree(dir);
}

int main(void) {
  /* First, while this process has no other thread: they fork. */
  test_reentrant_audit_callback();
  test_exit_with_events_queued();

  OK(kp_keyring_new(&ring));
  create("aes", KP_KEY_SPEC_SYMMETRIC_DEFAULT);
  create("sealed", KP_KEY_SPEC_SYMMETRIC_DEFAULT);
  create("mac", KP_KEY_SPEC_HMAC_256);
  create("ec", KP_KEY_SPEC_ECC_NIST_P256);
  OK(kp_encrypt(ring, S("aes"), MSG, sizeof MSG, CTX, 1, blob, sizeof blob, &blob_len));
  unsigned char material[32];
  memset(material, 0x42, sizeof material);
  OK(kp_root_key_new(S("root-1"), material, sizeof material, &root));
  OK(kp_export_sealed(ring, S("sealed"), root, record, sizeof record, &record_len));

  test_outputs_zeroed_on_early_failures();
  test_struct_outputs_zeroed();
  test_overlap();
  test_failed_calls_change_nothing();
  test_misaligned_inputs();
  test_batch_threads_bound();
  test_huge_counts();
  test_invalid_utf8_everywhere();
  test_audit_file_listed_twice();

  kp_root_key_free(&root);
  kp_keyring_free(&ring);
  return kp_summary("test_hostile");
}
