/* The bad-input matrix: NULL handles, NULL buffers with non-zero lengths, size queries, short
 * buffers, unknown keys, wrong usage, tampered blobs, invalid UTF-8, unknown enumeration
 * values, and what freeing twice does. Every failure must be a status, never a crash. */
#include <stdlib.h>

#include "kp_test.h"

static kp_keyring *ring;
static const uint8_t MSG[] = "bad input matrix";
static const kp_context_entry CTX[] = {{"tenant", 6, "acme", 4}};
static unsigned char blob[256];
static size_t blob_len;

static void create(const char *id, kp_key_spec spec) { OK(kp_test_create_key(ring, id, spec)); }

static void test_null_handles_and_outs(void) {
  unsigned char out[128];
  size_t n = 0;
  bool valid = false;
  kp_key_metadata *m = NULL;
  kp_batch_result *r = NULL;
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;

  /* NULL keyring everywhere. */
  CHECK_STATUS(kp_keyring_new(NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_new_with_options(NULL, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_create_key(NULL, &o, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK(kp_last_error_contains("keyring"));
  CHECK_STATUS(kp_describe_key(NULL, S("aes"), &m), KP_ERR_NULL_ARGUMENT);
  CHECK(m == NULL);
  CHECK_STATUS(kp_encrypt(NULL, S("aes"), MSG, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_decrypt(NULL, blob, blob_len, NULL, 0, out, sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_sign(NULL, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW,
                       KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_verify_mac(NULL, S("mac"), MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_256, out, 32,
                             &valid),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_generate_random(NULL, 8, out, sizeof out, &n), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_enable_key(NULL, S("aes")), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_rotate_key(NULL, S("aes"), NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_create_alias(NULL, S("alias/x"), S("aes")), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_encrypt_many(NULL, NULL, 0, &r), KP_ERR_NULL_ARGUMENT);

  /* NULL options, outputs, out_len and handle out-parameters. */
  CHECK_STATUS(kp_create_key(ring, NULL, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK(kp_last_error_contains("options"));
  CHECK_STATUS(kp_describe_key(ring, S("aes"), NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_list_keys(ring, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_list_aliases(ring, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, NULL, 0, out, sizeof out, NULL),
               KP_ERR_NULL_ARGUMENT);
  CHECK(strcmp(kp_last_error_message(), "NULL argument: out_len") == 0);
  CHECK_STATUS(kp_verify(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW,
                         KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, 8, NULL),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_ciphertext_len(ring, S("aes"), 5, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_generate_data_key(ring, S("aes"), KP_DATA_KEY_SPEC_AES_256, 0, NULL, 0, NULL),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_get_public_key(ring, S("ec"), NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_encrypt_many(ring, NULL, 0, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_batch_result_item(NULL, 0, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_key_metadata_version(NULL, 0, NULL), KP_ERR_NULL_ARGUMENT);

  /* Accessors on NULL handles: zero values, never a crash. */
  CHECK(kp_key_metadata_key_id(NULL).len == 0 && kp_key_metadata_key_id(NULL).data[0] == '\0');
  CHECK(kp_key_metadata_key_spec(NULL) == 0);
  CHECK(kp_key_metadata_alias_count(NULL) == 0);
  CHECK(!kp_key_metadata_rotate_on_budget(NULL));
  CHECK(kp_string_list_count(NULL) == 0);
  CHECK(kp_alias_list_name(NULL, 0).len == 0);
  CHECK(kp_data_key_plaintext(NULL).data == NULL);
  CHECK(kp_data_key_pair_public_key(NULL).len == 0);
  CHECK(kp_public_key_pem(NULL).len == 0);
  CHECK(kp_batch_result_count(NULL) == 0);
}

static void test_null_buffers_with_lengths(void) {
  unsigned char out[128];
  size_t n = 0;
  bool valid = false;
  CHECK_STATUS(kp_encrypt(ring, NULL, 3, MSG, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK(kp_last_error_contains("key_id"));
  CHECK_STATUS(kp_encrypt(ring, S("aes"), NULL, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK(kp_last_error_contains("plaintext"));
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, NULL, 2, out, sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK(kp_last_error_contains("context"));
  kp_context_entry bad_key = {NULL, 3, "v", 1}, bad_value = {"k", 1, NULL, 2};
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, &bad_key, 1, out, sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, &bad_value, 1, out, sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, NULL, 0, NULL, 64, &n), KP_ERR_NULL_ARGUMENT);
  CHECK(n == 0);
  CHECK_STATUS(kp_decrypt(ring, NULL, 10, NULL, 0, out, sizeof out, &n), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_generate_mac(ring, S("mac"), NULL, 1, KP_MAC_ALGORITHM_HMAC_SHA_256, out,
                               sizeof out, &n),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_verify_mac(ring, S("mac"), MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_256, NULL, 32,
                             &valid),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_verify(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW,
                         KP_SIGNING_ALGORITHM_ECDSA_SHA_256, NULL, 70, &valid),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_describe_key(ring, NULL, 1, &(kp_key_metadata *){NULL}), KP_ERR_NULL_ARGUMENT);
  kp_batch_result *r = NULL;
  CHECK_STATUS(kp_decrypt_many(ring, NULL, 2, &r), KP_ERR_NULL_ARGUMENT);
  CHECK(r == NULL);

  /* (NULL, 0) is the empty input everywhere. */
  OK(kp_encrypt(ring, S("aes"), NULL, 0, NULL, 0, out, sizeof out, &n));
  OK(kp_generate_mac(ring, S("mac"), NULL, 0, KP_MAC_ALGORITHM_HMAC_SHA_256, out, sizeof out, &n));
  CHECK(n == 32);
  /* A key id of length 0 is an empty id, refused by the core, not a NULL. */
  CHECK_STATUS(kp_encrypt(ring, NULL, 0, MSG, 5, NULL, 0, out, sizeof out, &n), KP_ERR_NOT_FOUND);
}

/* Fills `out`, runs the call with capacity `cap`, and checks the status, the size reported,
 * that out[0..cap] is all zeros afterwards and that nothing past it was touched. */
#define SHORT(capacity, call, expected_needed)                      \
  do {                                                              \
    cap = (capacity);                                               \
    memset(out, 0xAA, sizeof out);                                  \
    n = 12345;                                                      \
    CHECK_STATUS(call, KP_ERR_BUFFER_TOO_SMALL);                    \
    CHECK(n == (expected_needed));                                  \
    CHECK(all_zero(out, cap));                                      \
    CHECK(cap == sizeof out || out[cap] == 0xAA);                   \
  } while (0)

static void test_size_queries_and_short_buffers(void) {
  unsigned char out[40];
  size_t n = 0, cap = 0, ct_len = 0, mac_len = 0, sig_len = 0;
  OK(kp_ciphertext_len(ring, S("aes"), sizeof MSG, &ct_len));
  OK(kp_mac_len(ring, S("mac"), &mac_len));
  OK(kp_max_signature_len(ring, S("ec"), &sig_len));

  /* Zero capacity: a size query, even with a non-NULL pointer. */
  n = 0;
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, sizeof MSG, NULL, 0, out, 0, &n),
               KP_ERR_BUFFER_TOO_SMALL);
  CHECK(n == ct_len);
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, CTX, 1, NULL, 0, &n), KP_ERR_BUFFER_TOO_SMALL);
  CHECK(n == sizeof MSG);

  /* One byte short: BUFFER_TOO_SMALL, the size needed, and nothing left in out. */
  SHORT(sizeof out, kp_encrypt(ring, S("aes"), MSG, sizeof MSG, NULL, 0, out, cap, &n), ct_len);
  SHORT(sizeof MSG - 1, kp_decrypt(ring, blob, blob_len, CTX, 1, out, cap, &n), sizeof MSG);
  SHORT(mac_len - 1,
        kp_generate_mac(ring, S("mac"), MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_256, out, cap, &n),
        mac_len);
  SHORT(sizeof out,
        kp_sign(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW, KP_SIGNING_ALGORITHM_ECDSA_SHA_256,
                out, cap, &n),
        sig_len);
  SHORT(sizeof out, kp_generate_random(ring, 64, out, cap, &n), 64);
  SHORT(sizeof out,
        kp_re_encrypt(ring, blob, blob_len, CTX, 1, S("aes"), NULL, 0, out, cap, &n), ct_len);
  size_t dk_len = 0;
  OK(kp_ciphertext_len(ring, S("aes"), 32, &dk_len));
  SHORT(sizeof out,
        kp_generate_data_key_without_plaintext(ring, S("aes"), KP_DATA_KEY_SPEC_AES_256, 0, NULL,
                                               0, out, cap, &n),
        dk_len);
  /* A failure other than size: *out_len is 0. */
  n = 99;
  CHECK_STATUS(kp_encrypt(ring, S("nope"), MSG, 5, NULL, 0, out, sizeof out, &n), KP_ERR_NOT_FOUND);
  CHECK(n == 0);
}

static void test_unknown_keys_and_wrong_usage(void) {
  unsigned char out[600];
  size_t n = 0;
  bool valid = true;
  kp_key_metadata *m = NULL;
  kp_public_key *pk = NULL;
  CHECK_STATUS(kp_encrypt(ring, S("nope"), MSG, 5, NULL, 0, out, sizeof out, &n), KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_encrypt(ring, S("alias/nope"), MSG, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_describe_key(ring, S("nope"), &m), KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_sign(ring, S("nope"), MSG, 5, KP_MESSAGE_TYPE_RAW,
                       KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, sizeof out, &n),
               KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_disable_key(ring, S("nope")), KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_delete_alias(ring, S("alias/nope")), KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_create_alias(ring, S("alias/x"), S("nope")), KP_ERR_NOT_FOUND);

  /* Wrong usage or algorithm for the key. */
  CHECK_STATUS(kp_encrypt(ring, S("mac"), MSG, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_encrypt(ring, S("ec"), MSG, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_sign(ring, S("aes"), MSG, 5, KP_MESSAGE_TYPE_RAW,
                       KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, sizeof out, &n),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_sign(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW,
                       KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_256, out, sizeof out, &n),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_generate_mac(ring, S("ec"), MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_256, out,
                               sizeof out, &n),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_generate_mac(ring, S("mac"), MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_512, out,
                               sizeof out, &n),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_verify_mac(ring, S("aes"), MSG, 5, KP_MAC_ALGORITHM_HMAC_SHA_256, out, 32,
                             &valid),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_encrypt_asymmetric(ring, S("aes"), MSG, 5,
                                     KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256, out, sizeof out,
                                     &n),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_decrypt_asymmetric(ring, S("ec"), MSG, 5,
                                     KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256, out, sizeof out,
                                     &n),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK_STATUS(kp_get_public_key(ring, S("aes"), &pk), KP_ERR_UNSUPPORTED_ALGORITHM);
  CHECK(pk == NULL);
  CHECK_STATUS(kp_rotate_key(ring, S("ec"), NULL), KP_ERR_UNSUPPORTED_ALGORITHM);
  kp_data_key *dk = NULL;
  CHECK_STATUS(kp_generate_data_key(ring, S("ec"), KP_DATA_KEY_SPEC_AES_256, 0, NULL, 0, &dk),
               KP_ERR_INVALID_KEY_USAGE);
  CHECK(dk == NULL);
  /* A digest of the wrong length (FIPS mode refuses every digest first). */
  CHECK_STATUS(kp_sign(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_DIGEST,
                       KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, sizeof out, &n),
               kp_fips_mode() ? KP_ERR_UNSUPPORTED_ALGORITHM : KP_ERR_INVALID_INPUT);

  /* Disabled keys. */
  OK(kp_disable_key(ring, S("ec")));
  CHECK_STATUS(kp_sign(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW,
                       KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, sizeof out, &n),
               KP_ERR_KEY_DISABLED);
  OK(kp_enable_key(ring, S("ec")));
  OK(kp_disable_key(ring, S("aes")));
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, CTX, 1, out, sizeof out, &n), KP_ERR_KEY_DISABLED);
  OK(kp_enable_key(ring, S("aes")));
}

static void test_tampered_blobs(void) {
  unsigned char out[64], bad[256];
  size_t n = 0;
  OK(kp_decrypt(ring, blob, blob_len, CTX, 1, out, sizeof out, &n));
  /* Every bit flip, every byte. */
  int rejected = 0;
  for (size_t i = 0; i < blob_len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      memcpy(bad, blob, blob_len);
      bad[i] ^= (unsigned char)(1u << bit);
      memset(out, 0xAA, sizeof out);
      kp_status s = kp_decrypt(ring, bad, blob_len, CTX, 1, out, sizeof out, &n);
      rejected += s == KP_ERR_INVALID_CIPHERTEXT && all_zero(out, sizeof out) && n == 0;
    }
  }
  CHECK(rejected == (int)(blob_len * 8));
  /* Every truncation. */
  rejected = 0;
  for (size_t len = 0; len < blob_len; len++) {
    kp_status s = kp_decrypt(ring, blob, len, CTX, 1, out, sizeof out, &n);
    rejected += s == KP_ERR_INVALID_CIPHERTEXT;
  }
  CHECK(rejected == (int)blob_len);
  /* Wrong or missing context, the same single error. */
  const kp_context_entry wrong[] = {{"tenant", 6, "acme2", 5}};
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, wrong, 1, out, sizeof out, &n),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, NULL, 0, out, sizeof out, &n),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK(strcmp(kp_last_error_message(), "invalid ciphertext") == 0);
  /* Another keyring's blob. */
  kp_keyring *other = NULL;
  OK(kp_keyring_new(&other));
  CHECK_STATUS(kp_decrypt(other, blob, blob_len, CTX, 1, out, sizeof out, &n),
               KP_ERR_INVALID_CIPHERTEXT);
  kp_keyring_free(&other);
  size_t plen = 0;
  CHECK_STATUS(kp_plaintext_len(ring, blob, 3, &plen), KP_ERR_INVALID_CIPHERTEXT);
}

static void test_invalid_utf8_and_values(void) {
  unsigned char out[128];
  size_t n = 0;
  const char bad_utf8[] = {'k', (char)0xff, (char)0xfe};
  kp_key_metadata *m = NULL;
  CHECK_STATUS(kp_encrypt(ring, bad_utf8, 3, MSG, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_INVALID_UTF8);
  CHECK(strcmp(kp_last_error_message(), "key_id is not valid UTF-8") == 0);
  CHECK_STATUS(kp_describe_key(ring, bad_utf8, 3, &m), KP_ERR_INVALID_UTF8);
  kp_context_entry bad_key = {bad_utf8, 3, "v", 1}, bad_value = {"k", 1, bad_utf8, 3};
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, &bad_key, 1, out, sizeof out, &n),
               KP_ERR_INVALID_UTF8);
  CHECK(kp_last_error_contains("context key"));
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, &bad_value, 1, out, sizeof out, &n),
               KP_ERR_INVALID_UTF8);
  CHECK(kp_last_error_contains("context value"));
  CHECK_STATUS(kp_create_alias(ring, bad_utf8, 3, S("aes")), KP_ERR_INVALID_UTF8);
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.description = bad_utf8;
  o.description_len = 3;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_UTF8);
  /* A truncated multi-byte character. */
  const char cut[] = {(char)0xc3};
  CHECK_STATUS(kp_encrypt(ring, cut, 1, MSG, 5, NULL, 0, out, sizeof out, &n), KP_ERR_INVALID_UTF8);

  /* Valid UTF-8 that the core refuses. */
  CHECK_STATUS(kp_encrypt(ring, S("key with spaces"), MSG, 5, NULL, 0, out, sizeof out, &n),
               KP_ERR_NOT_FOUND);
  o.description = NULL;
  o.description_len = 0;
  o.key_id = "bad id!";
  o.key_id_len = 7;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_INPUT);
  o.key_id = "aes";
  o.key_id_len = 3;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_ALREADY_EXISTS);
  o.key_id = "fresh";
  o.key_id_len = 5;
  o.rotation_period_days = 10;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_INPUT);
  o.rotation_period_days = 90;
  o.rotation_period_seconds = 60;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_INPUT);
  o.rotation_period_days = 0;
  o.rotation_period_seconds = 0;
  o.key_spec = KP_KEY_SPEC_RSA_2048; /* no usage given */
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_INPUT);
  o.key_spec = KP_KEY_SPEC_HMAC_256;
  o.key_usage = KP_KEY_USAGE_SIGN_VERIFY;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_KEY_USAGE);
  o.key_spec = KP_KEY_SPEC_ECC_NIST_P256;
  o.key_usage = KP_KEY_USAGE_KEY_AGREEMENT;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_UNSUPPORTED_ALGORITHM);

  /* Unknown enumeration values. */
  o.key_spec = 999;
  o.key_usage = KP_KEY_USAGE_DEFAULT;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_INPUT);
  CHECK(strcmp(kp_last_error_message(), "invalid input: unknown kp_key_spec") == 0);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_usage = 77;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_generate_mac(ring, S("mac"), MSG, 5, 0, out, sizeof out, &n), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_sign(ring, S("ec"), MSG, 5, 3, KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out,
                       sizeof out, &n),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_sign(ring, S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW, 0xffffffffu, out, sizeof out,
                       &n),
               KP_ERR_INVALID_INPUT);
  kp_data_key *dk = NULL;
  CHECK_STATUS(kp_generate_data_key(ring, S("aes"), 42, 0, NULL, 0, &dk), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_generate_data_key(ring, S("aes"), KP_DATA_KEY_SPEC_AES_256, 16, NULL, 0, &dk),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_generate_data_key(ring, S("aes"), KP_DATA_KEY_SPEC_NUMBER_OF_BYTES, 0, NULL, 0,
                                    &dk),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_generate_data_key(ring, S("aes"), KP_DATA_KEY_SPEC_NUMBER_OF_BYTES, 1025, NULL,
                                    0, &dk),
               KP_ERR_INVALID_INPUT);
  CHECK(dk == NULL);
  kp_data_key_pair *pair = NULL;
  CHECK_STATUS(kp_generate_data_key_pair(ring, S("aes"), 0, NULL, 0, &pair), KP_ERR_INVALID_INPUT);

  /* Out-of-range values. */
  CHECK_STATUS(kp_generate_random(ring, 0, out, sizeof out, &n), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_generate_random(ring, 1025, out, sizeof out, &n), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_set_min_decryption_version(ring, S("aes"), 9), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_schedule_key_deletion(ring, S("aes"), 3, NULL), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_enable_key_rotation(ring, S("aes"), 0, 0), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_create_alias(ring, S("no-prefix"), S("aes")), KP_ERR_INVALID_INPUT);
  kp_key_metadata_free(&m);
  OK(kp_describe_key(ring, S("aes"), &m));
  kp_key_version v;
  CHECK_STATUS(kp_key_metadata_version(m, 5, &v), KP_ERR_INVALID_INPUT);
  kp_key_metadata_free(&m);

  /* Contexts the core refuses. */
  const kp_context_entry dup[] = {{"a", 1, "1", 1}, {"a", 1, "2", 1}};
  const kp_context_entry empty_key[] = {{"", 0, "1", 1}};
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, dup, 2, out, sizeof out, &n), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, empty_key, 1, out, sizeof out, &n),
               KP_ERR_INVALID_INPUT);
  static char big[9000];
  memset(big, 'x', sizeof big);
  const kp_context_entry huge[] = {{"k", 1, big, sizeof big}};
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, huge, 1, out, sizeof out, &n),
               KP_ERR_LIMIT_EXCEEDED);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), MSG, 5, huge, 100000, out, sizeof out, &n),
               KP_ERR_LIMIT_EXCEEDED);

  /* Output overlapping the input. */
  unsigned char buf[128];
  memset(buf, 1, sizeof buf);
  CHECK_STATUS(kp_encrypt(ring, S("aes"), buf, 16, NULL, 0, buf + 8, 100, &n),
               KP_ERR_INVALID_INPUT);
  CHECK(kp_last_error_contains("overlaps"));
}

static void test_batch_bad_items(void) {
  const char bad_utf8[] = {(char)0xff};
  kp_encrypt_request reqs[4] = {
      {S("aes"), MSG, 5, CTX, 1},
      {NULL, 3, MSG, 5, NULL, 0},
      {bad_utf8, 1, MSG, 5, NULL, 0},
      {S("aes"), MSG, 5, NULL, 7},
  };
  kp_batch_result *r = NULL;
  OK(kp_encrypt_many(ring, reqs, 4, &r));
  kp_batch_item item;
  OK(kp_batch_result_item(r, 0, &item));
  CHECK(item.status == KP_OK && item.output.len > 0);
  OK(kp_batch_result_item(r, 1, &item));
  CHECK(item.status == KP_ERR_NULL_ARGUMENT && item.output.data == NULL);
  CHECK(kp_str_eq(item.message, "NULL argument: key_id"));
  OK(kp_batch_result_item(r, 2, &item));
  CHECK(item.status == KP_ERR_INVALID_UTF8);
  OK(kp_batch_result_item(r, 3, &item));
  CHECK(item.status == KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_batch_result_item(r, 4, &item), KP_ERR_INVALID_INPUT);
  kp_batch_result_free(&r);

  kp_sign_request sr[2] = {
      {S("ec"), MSG, 5, 9, KP_SIGNING_ALGORITHM_ECDSA_SHA_256},
      {S("ec"), MSG, 5, KP_MESSAGE_TYPE_RAW, KP_SIGNING_ALGORITHM_ECDSA_SHA_256},
  };
  OK(kp_sign_many(ring, sr, 2, &r));
  OK(kp_batch_result_item(r, 0, &item));
  CHECK(item.status == KP_ERR_INVALID_INPUT);
  OK(kp_batch_result_item(r, 1, &item));
  CHECK(item.status == KP_OK);
  kp_batch_result_free(&r);

  /* Tampered blobs in a batch: each item fails alone. */
  unsigned char bad[256];
  memcpy(bad, blob, blob_len);
  bad[blob_len - 1] ^= 1;
  kp_decrypt_request dr[2] = {{bad, blob_len, CTX, 1}, {blob, blob_len, CTX, 1}};
  OK(kp_decrypt_many(ring, dr, 2, &r));
  OK(kp_batch_result_item(r, 0, &item));
  CHECK(item.status == KP_ERR_INVALID_CIPHERTEXT && item.output.len == 0);
  OK(kp_batch_result_item(r, 1, &item));
  CHECK(kp_bytes_eq(item.output, MSG, sizeof MSG));
  kp_batch_result_free(&r);
}

static void test_free_twice(void) {
  /* Freeing through the same variable twice is a no-op: free sets it to NULL. Freeing a copy
   * of a freed pointer is not defended (undefined behaviour, as with free()). */
  kp_keyring *k = NULL;
  OK(kp_keyring_new(&k));
  kp_keyring *copy = k;
  kp_keyring_free(&k);
  CHECK(k == NULL);
  kp_keyring_free(&k);
  kp_keyring_free(NULL);
  (void)copy;
  kp_key_metadata *m = NULL;
  OK(kp_describe_key(ring, S("aes"), &m));
  kp_key_metadata_free(&m);
  kp_key_metadata_free(&m);
  kp_string_list *l = NULL;
  kp_string_list_free(&l);
  kp_alias_list_free(NULL);
  kp_public_key_free(NULL);
  kp_data_key_pair_free(NULL);
  kp_batch_result_free(NULL);
  CHECK(m == NULL && l == NULL);
}

int main(void) {
  OK(kp_keyring_new(&ring));
  create("aes", KP_KEY_SPEC_SYMMETRIC_DEFAULT);
  create("mac", KP_KEY_SPEC_HMAC_256);
  create("ec", KP_KEY_SPEC_ECC_NIST_P256);
  OK(kp_encrypt(ring, S("aes"), MSG, sizeof MSG, CTX, 1, blob, sizeof blob, &blob_len));

  test_null_handles_and_outs();
  test_null_buffers_with_lengths();
  test_size_queries_and_short_buffers();
  test_unknown_keys_and_wrong_usage();
  test_tampered_blobs();
  test_invalid_utf8_and_values();
  test_batch_bad_items();
  test_free_twice();
  kp_keyring_free(&ring);
  return kp_summary("test_bad_input");
}
