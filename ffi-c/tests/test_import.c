/* Importing key material through the C ABI: material wrapped by an independent implementation
 * (the openssl command line) imports into an EXTERNAL key and works; wrong tokens, other keys,
 * bad wrappings, expiry in the past and different material on re-import are refused. In FIPS
 * mode, where the import's RSA-OAEP wrapping is not approved, the import is refused instead. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kp_test.h"

static char dir[] = "/tmp/keyplane-c-import-XXXXXX";

static void create_external(kp_keyring *ring, const char *id) {
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = id;
  o.key_id_len = strlen(id);
  o.origin = KP_ORIGIN_EXTERNAL;
  kp_key_metadata *m = NULL;
  OK(kp_create_key(ring, &o, &m));
  CHECK(kp_key_metadata_key_state(m) == KP_KEY_STATE_PENDING_IMPORT);
  CHECK(kp_key_metadata_origin(m) == KP_ORIGIN_EXTERNAL);
  kp_key_metadata_free(&m);
}

static int write_file(const char *path, const unsigned char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return 0;
  size_t n = fwrite(data, 1, len, f);
  fclose(f);
  return n == len;
}

/* Wraps `material` for the parameters' public key with RSAES_OAEP_SHA_256, by openssl. */
static size_t openssl_wrap(const kp_import_parameters *p, const unsigned char *material,
                           size_t material_len, unsigned char *out, size_t cap) {
  char pub[96], in[96], wrapped[96], command[512];
  snprintf(pub, sizeof pub, "%s/wrapping.der", dir);
  snprintf(in, sizeof in, "%s/material.bin", dir);
  snprintf(wrapped, sizeof wrapped, "%s/wrapped.bin", dir);
  kp_bytes der = kp_import_parameters_public_key(p);
  if (!write_file(pub, der.data, der.len) || !write_file(in, material, material_len)) return 0;
  snprintf(command, sizeof command,
           "openssl pkeyutl -encrypt -pubin -keyform DER -inkey '%s' -in '%s' -out '%s' "
           "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 "
           "-pkeyopt rsa_mgf1_md:sha256",
           pub, in, wrapped);
  if (system(command) != 0) return 0;
  FILE *f = fopen(wrapped, "rb");
  if (f == NULL) return 0;
  size_t n = fread(out, 1, cap, f);
  fclose(f);
  return n;
}

static void test_import(void) {
  kp_keyring *ring = NULL;
  OK(kp_keyring_new(&ring));
  create_external(ring, "byok");
  create_external(ring, "other");

  kp_import_parameters *p = NULL;
  OK(kp_get_parameters_for_import(ring, S("byok"), KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_256,
                                  KP_WRAPPING_KEY_SPEC_RSA_2048, &p));
  CHECK(kp_import_parameters_public_key(p).len > 256);
  kp_bytes token = kp_import_parameters_import_token(p);
  CHECK(token.len > 0);
  CHECK(kp_import_parameters_valid_to(p) > 23 * 3600 + (int64_t)time(NULL));

  unsigned char material[32], wrapped[512];
  memset(material, 0x5a, sizeof material);
  size_t wrapped_len = openssl_wrap(p, material, sizeof material, wrapped, sizeof wrapped);
  CHECK(wrapped_len == 256);

  /* Another key's token, a damaged token, damaged material, a past expiry. */
  CHECK_STATUS(kp_import_key_material(ring, S("other"), token.data, token.len, wrapped,
                                      wrapped_len, 0),
               KP_ERR_INVALID_INPUT);
  unsigned char *bad_token = malloc(token.len);
  memcpy(bad_token, token.data, token.len);
  bad_token[token.len - 1] ^= 1;
  CHECK_STATUS(kp_import_key_material(ring, S("byok"), bad_token, token.len, wrapped,
                                      wrapped_len, 0),
               KP_ERR_INVALID_INPUT);
  free(bad_token);
  wrapped[7] ^= 1;
  CHECK_STATUS(kp_import_key_material(ring, S("byok"), token.data, token.len, wrapped,
                                      wrapped_len, 0),
               KP_ERR_INVALID_CIPHERTEXT);
  wrapped[7] ^= 1;
  CHECK_STATUS(kp_import_key_material(ring, S("byok"), token.data, token.len, wrapped,
                                      wrapped_len, 1000),
               KP_ERR_INVALID_INPUT);

  /* The real thing: the key works; deleting the material returns it to PendingImport. */
  OK(kp_import_key_material(ring, S("byok"), token.data, token.len, wrapped, wrapped_len,
                            (int64_t)time(NULL) + 86400));
  unsigned char blob[128], plain[32];
  size_t blob_len = 0, plain_len = 0;
  OK(kp_encrypt(ring, S("byok"), (const uint8_t *)"imported", 8, NULL, 0, blob, sizeof blob,
                &blob_len));
  OK(kp_decrypt(ring, blob, blob_len, NULL, 0, plain, sizeof plain, &plain_len));
  CHECK(plain_len == 8 && memcmp(plain, "imported", 8) == 0);
  OK(kp_delete_imported_key_material(ring, S("byok")));
  /* Without its material the key cannot authenticate the blob: the one decryption error, as
   * for any blob that does not authenticate (no word about the key's state). */
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, NULL, 0, plain, sizeof plain, &plain_len),
               KP_ERR_INVALID_CIPHERTEXT);

  /* Only the same material is taken again. */
  unsigned char different[32];
  memset(different, 0x33, sizeof different);
  size_t other_len = openssl_wrap(p, different, sizeof different, wrapped, sizeof wrapped);
  CHECK(other_len == 256);
  CHECK_STATUS(kp_import_key_material(ring, S("byok"), token.data, token.len, wrapped,
                                      other_len, 0),
               KP_ERR_INVALID_INPUT);
  wrapped_len = openssl_wrap(p, material, sizeof material, wrapped, sizeof wrapped);
  OK(kp_import_key_material(ring, S("byok"), token.data, token.len, wrapped, wrapped_len, 0));
  OK(kp_decrypt(ring, blob, blob_len, NULL, 0, plain, sizeof plain, &plain_len));
  kp_import_parameters_free(&p);
  CHECK(p == NULL);

  /* A key made here takes no parameters; bad enumerations and NULLs. */
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "native";
  o.key_id_len = 6;
  OK(kp_create_key(ring, &o, NULL));
  CHECK_STATUS(kp_get_parameters_for_import(ring, S("native"),
                                            KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_256,
                                            KP_WRAPPING_KEY_SPEC_RSA_2048, &p),
               KP_ERR_UNSUPPORTED_ALGORITHM);
  CHECK_STATUS(kp_get_parameters_for_import(ring, S("other"), 99, KP_WRAPPING_KEY_SPEC_RSA_2048,
                                            &p),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_get_parameters_for_import(ring, S("other"),
                                            KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_1, 0, &p),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_get_parameters_for_import(ring, S("other"),
                                            KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_1,
                                            KP_WRAPPING_KEY_SPEC_RSA_2048, NULL),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_key_material(ring, S("other"), NULL, 4, wrapped, wrapped_len, 0),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_key_material(ring, S("other"), wrapped, 4, NULL, 256, 0),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_key_material(NULL, S("other"), wrapped, 4, wrapped, 256, 0),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_key_material(ring, NULL, 5, wrapped, 4, wrapped, 256, 0),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_key_material(ring, S("missing"), wrapped, 4, wrapped, 256, 0),
               KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_import_key_material(ring, S("other"), NULL, 0, NULL, 0, 0),
               KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_get_parameters_for_import(NULL, S("other"),
                                            KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_1,
                                            KP_WRAPPING_KEY_SPEC_RSA_2048, &p),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_get_parameters_for_import(ring, NULL, 3,
                                            KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_1,
                                            KP_WRAPPING_KEY_SPEC_RSA_2048, &p),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_get_parameters_for_import(ring, S("missing"),
                                            KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_1,
                                            KP_WRAPPING_KEY_SPEC_RSA_2048, &p),
               KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_delete_imported_key_material(ring, S("missing")), KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_delete_imported_key_material(ring, S("native")),
               KP_ERR_UNSUPPORTED_ALGORITHM);
  CHECK_STATUS(kp_delete_imported_key_material(NULL, S("other")), KP_ERR_NULL_ARGUMENT);
  o.key_id = "bad-origin";
  o.key_id_len = strlen(o.key_id);
  o.origin = 9;
  CHECK_STATUS(kp_create_key(ring, &o, NULL), KP_ERR_INVALID_INPUT);
  CHECK(p == NULL && kp_import_parameters_public_key(NULL).len == 0);
  CHECK(kp_import_parameters_valid_to(NULL) == 0);
  kp_import_parameters_free(NULL);
  kp_keyring_free(&ring);
}

/* FIPS mode: no EXTERNAL key and no import parameters. */
static void test_refused_in_fips_mode(void) {
  kp_keyring *ring = NULL;
  OK(kp_keyring_new(&ring));
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "byok";
  o.key_id_len = 4;
  o.origin = KP_ORIGIN_EXTERNAL;
  kp_key_metadata *m = NULL;
  CHECK_STATUS(kp_create_key(ring, &o, &m), KP_ERR_UNSUPPORTED_ALGORITHM);
  CHECK(m == NULL);
  CHECK(kp_last_error_contains("not approved in FIPS mode: "));
  CHECK_STATUS(kp_describe_key(ring, S("byok"), &m), KP_ERR_NOT_FOUND);
  o.origin = KP_ORIGIN_KEYPLANE;
  OK(kp_create_key(ring, &o, NULL));
  kp_import_parameters *p = NULL;
  CHECK_STATUS(kp_get_parameters_for_import(ring, S("byok"),
                                            KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_256,
                                            KP_WRAPPING_KEY_SPEC_RSA_2048, &p),
               KP_ERR_UNSUPPORTED_ALGORITHM);
  CHECK(p == NULL);
  kp_keyring_free(&ring);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL);
  if (kp_fips_mode()) {
    test_refused_in_fips_mode();
  } else {
    test_import();
  }
  char command[96];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  CHECK(system(command) == 0);
  return kp_summary("test_import");
}
