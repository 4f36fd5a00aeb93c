/* FIPS mode through the C ABI: kp_fips_mode / kp_fips_module, and in a FIPS build every
 * service the module does not approve refused with KP_ERR_UNSUPPORTED_ALGORITHM and a message
 * naming FIPS, while the approved ones still work. In a non-FIPS build the same calls succeed,
 * so the test cannot pass vacuously either way. KEYPLANE_EXPECT_FIPS=1 in the environment (what
 * `scripts/test --fips` sets) makes a library that is not in FIPS mode a failure. */
#include <stdlib.h>

#include "kp_test.h"

static kp_keyring *ring;
static int fips;

/* The call was refused as FIPS mode refuses (fips), or succeeded (not fips). */
#define REFUSED_IN_FIPS(expr)                                                  \
  do {                                                                         \
    if (fips) {                                                                \
      CHECK_STATUS(expr, KP_ERR_UNSUPPORTED_ALGORITHM);                        \
      CHECK(kp_last_error_contains("not approved in FIPS mode: "));            \
    } else {                                                                   \
      OK(expr);                                                                \
    }                                                                          \
  } while (0)

static kp_status create(const char *id, kp_key_spec spec, kp_key_usage usage, kp_origin origin) {
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = spec;
  o.key_usage = usage;
  o.origin = origin;
  o.key_id = id;
  o.key_id_len = strlen(id);
  return kp_create_key(ring, &o, NULL);
}

static void test_status(void) {
  const char *module = kp_fips_module();
  CHECK(module != NULL);
  if (module == NULL) return;
  CHECK(kp_fips_module() == module);
  CHECK(strncmp(module, "AWS-LC ", 7) == 0);
  CHECK(strlen(module) > 7);
  if (fips) {
    CHECK(strncmp(module, "AWS-LC FIPS ", 12) == 0);
  } else {
    CHECK(strstr(module, "FIPS") == NULL);
  }
  CHECK(kp_fips_mode() == fips);
  printf("module: %s, FIPS mode: %d\n", module, fips);
}

static void test_refusals(void) {
  /* Keys the module cannot serve at all: nothing is created. */
  REFUSED_IN_FIPS(create("k1", KP_KEY_SPEC_ECC_SECG_P256K1, KP_KEY_USAGE_DEFAULT, 0));
  if (fips) CHECK(kp_last_error_contains("secp256k1"));
  if (fips || getenv("KEYPLANE_TEST_SKIP_RSA_KEYGEN") == NULL) {
    /* Refused before any key is generated; only the non-FIPS build generates one. */
    REFUSED_IN_FIPS(create("oaep", KP_KEY_SPEC_RSA_2048, KP_KEY_USAGE_ENCRYPT_DECRYPT, 0));
    if (fips) CHECK(kp_last_error_contains("RSA-OAEP"));
  }
  REFUSED_IN_FIPS(create("byok", KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT,
                         KP_ORIGIN_EXTERNAL));
  if (fips) {
    CHECK(kp_last_error_contains("import"));
    kp_key_metadata *m = NULL;
    CHECK_STATUS(kp_describe_key(ring, S("k1"), &m), KP_ERR_NOT_FOUND);
    CHECK_STATUS(kp_describe_key(ring, S("byok"), &m), KP_ERR_NOT_FOUND);
    CHECK(m == NULL);
  }

  /* A caller's digest, signed or verified with an approved key. */
  OK(create("p256", KP_KEY_SPEC_ECC_NIST_P256, KP_KEY_USAGE_DEFAULT, 0));
  uint8_t digest[32];
  for (int i = 0; i < 32; i++) digest[i] = (uint8_t)(i * 11);
  unsigned char sig[72];
  size_t n = 0;
  memset(sig, 0xAA, sizeof sig);
  REFUSED_IN_FIPS(kp_sign(ring, S("p256"), digest, sizeof digest, KP_MESSAGE_TYPE_DIGEST,
                          KP_SIGNING_ALGORITHM_ECDSA_SHA_256, sig, sizeof sig, &n));
  if (fips) {
    CHECK(kp_last_error_contains("DIGEST"));
    CHECK(all_zero(sig, sizeof sig) && n == 0);
    /* A signature over the digest made here as RAW would be one over SHA-256(digest); any
     * bytes will do to show the verification is refused before it runs. */
    bool valid = true;
    CHECK_STATUS(kp_verify(ring, S("p256"), digest, sizeof digest, KP_MESSAGE_TYPE_DIGEST,
                           KP_SIGNING_ALGORITHM_ECDSA_SHA_256, sig, 8, &valid),
                 KP_ERR_UNSUPPORTED_ALGORITHM);
    CHECK(!valid);
    CHECK(kp_last_error_contains("not approved in FIPS mode: "));
  } else {
    bool valid = false;
    OK(kp_verify(ring, S("p256"), digest, sizeof digest, KP_MESSAGE_TYPE_DIGEST,
                 KP_SIGNING_ALGORITHM_ECDSA_SHA_256, sig, n, &valid));
    CHECK(valid);
  }

  /* A secp256k1 data key pair under an approved symmetric key. */
  OK(create("aes", KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT, 0));
  kp_data_key_pair *pair = NULL;
  REFUSED_IN_FIPS(kp_generate_data_key_pair(ring, S("aes"), KP_DATA_KEY_PAIR_SPEC_ECC_SECG_P256K1,
                                            NULL, 0, &pair));
  if (fips) {
    CHECK(pair == NULL);
    CHECK(kp_last_error_contains("secp256k1"));
  } else {
    CHECK(pair != NULL && kp_data_key_pair_public_key(pair).len > 0);
  }
  kp_data_key_pair_free(&pair);
  REFUSED_IN_FIPS(kp_generate_data_key_pair_without_plaintext(
      ring, S("aes"), KP_DATA_KEY_PAIR_SPEC_ECC_SECG_P256K1, NULL, 0, &pair));
  kp_data_key_pair_free(&pair);
}

static void test_approved(void) {
  /* Symmetric encryption round trip (the key made above). */
  const kp_context_entry ctx[] = {{"tenant", 6, "acme", 4}};
  const uint8_t pt[] = "approved in both builds";
  size_t pt_len = sizeof pt - 1, n = 0, out_len = 0;
  unsigned char blob[256], out[64];
  OK(kp_encrypt(ring, S("aes"), pt, pt_len, ctx, 1, blob, sizeof blob, &n));
  OK(kp_decrypt(ring, blob, n, ctx, 1, out, sizeof out, &out_len));
  CHECK(out_len == pt_len && memcmp(out, pt, pt_len) == 0);
  CHECK_STATUS(kp_decrypt(ring, blob, n, NULL, 0, out, sizeof out, &out_len),
               KP_ERR_INVALID_CIPHERTEXT);

  /* A data key pair on an approved curve. */
  kp_data_key_pair *pair = NULL;
  OK(kp_generate_data_key_pair(ring, S("aes"), KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P256, NULL, 0,
                               &pair));
  kp_data_key_pair_free(&pair);

  /* HMAC. */
  OK(create("mac", KP_KEY_SPEC_HMAC_256, KP_KEY_USAGE_DEFAULT, 0));
  unsigned char mac[32];
  bool valid = false;
  OK(kp_generate_mac(ring, S("mac"), pt, pt_len, KP_MAC_ALGORITHM_HMAC_SHA_256, mac, sizeof mac,
                     &n));
  CHECK(n == 32);
  OK(kp_verify_mac(ring, S("mac"), pt, pt_len, KP_MAC_ALGORITHM_HMAC_SHA_256, mac, n, &valid));
  CHECK(valid);

  /* P-256 signature of a RAW message. */
  unsigned char sig[512];
  OK(kp_sign(ring, S("p256"), pt, pt_len, KP_MESSAGE_TYPE_RAW, KP_SIGNING_ALGORITHM_ECDSA_SHA_256,
             sig, sizeof sig, &n));
  valid = false;
  OK(kp_verify(ring, S("p256"), pt, pt_len, KP_MESSAGE_TYPE_RAW,
               KP_SIGNING_ALGORITHM_ECDSA_SHA_256, sig, n, &valid));
  CHECK(valid);
  OK(kp_verify(ring, S("p256"), pt, pt_len - 1, KP_MESSAGE_TYPE_RAW,
               KP_SIGNING_ALGORITHM_ECDSA_SHA_256, sig, n, &valid));
  CHECK(!valid);

  /* RSA-2048 PSS signature (RSA key generation takes 20-40 s under valgrind). */
  if (getenv("KEYPLANE_TEST_SKIP_RSA_KEYGEN") == NULL) {
    OK(create("rsa-pss", KP_KEY_SPEC_RSA_2048, KP_KEY_USAGE_SIGN_VERIFY, 0));
    OK(kp_sign(ring, S("rsa-pss"), pt, pt_len, KP_MESSAGE_TYPE_RAW,
               KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_256, sig, sizeof sig, &n));
    CHECK(n == 256);
    valid = false;
    OK(kp_verify(ring, S("rsa-pss"), pt, pt_len, KP_MESSAGE_TYPE_RAW,
                 KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_256, sig, n, &valid));
    CHECK(valid);
  }
}

int main(int argc, char **argv) {
  const char *expect = getenv("KEYPLANE_EXPECT_FIPS");
  int expect_fips = (expect != NULL && strcmp(expect, "1") == 0) ||
                    (argc > 1 && strcmp(argv[1], "--expect-fips") == 0);
  fips = kp_fips_mode();
  CHECK(fips == 0 || fips == 1);
  if (expect_fips) CHECK(fips == 1);
  test_status();
  OK(kp_keyring_new(&ring));
  if (ring == NULL) return kp_summary("test_fips");
  test_refusals();
  test_approved();
  kp_keyring_free(&ring);
  return kp_summary("test_fips");
}
