/* Replays the project's known-answer corpus (the JSON files in vectors/, reformatted into lines by
 * vectors_to_lines.py) through the C ABI: decrypts every symmetric blob, verifies every
 * signature and MAC, decrypts every RSA-OAEP ciphertext, and checks every public key.
 * Built against the library with the insecure test hooks (keys from known material). In FIPS
 * mode, the records of services the module does not approve (a caller's digest, secp256k1,
 * RSA-OAEP) must be refused with KP_ERR_UNSUPPORTED_ALGORITHM instead. */
#define _POSIX_C_SOURCE 200809L
#define KEYPLANE_INSECURE_TEST_HOOKS 1

#include <stdlib.h>

#include "kp_test.h"

typedef struct {
  unsigned char *data;
  size_t len;
} buf;

static buf hex(const char *s) {
  buf b = {NULL, 0};
  if (s == NULL || strcmp(s, "-") == 0) return b;
  size_t n = strlen(s) / 2;
  b.data = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned int byte = 0;
    sscanf(s + 2 * i, "%2x", &byte);
    b.data[i] = (unsigned char)byte;
  }
  b.data[n] = 0; /* so that text can be printed */
  b.len = n;
  return b;
}

/* The number whose name (by the library's own *_str function) is `name`, or 0. */
static uint32_t by_name(const char *(*str)(uint32_t), const char *name) {
  for (uint32_t i = 1; i < 64; i++) {
    const char *s = str(i);
    if (s != NULL && strcmp(s, name) == 0) return i;
  }
  return 0;
}

static uint32_t message_type(const char *name) {
  return strcmp(name, "RAW") == 0 ? KP_MESSAGE_TYPE_RAW
         : strcmp(name, "DIGEST") == 0 ? KP_MESSAGE_TYPE_DIGEST
                                       : 0;
}

static int line_no;
static const char *current_name;

#define EXPECT(cond)                                                                      \
  do {                                                                                    \
    if (cond) {                                                                           \
      kp_passed++;                                                                        \
    } else {                                                                              \
      kp_failed++;                                                                        \
      fprintf(stderr, "line %d (%s): failed: %s (last error: %s)\n", line_no,            \
              current_name, #cond, kp_last_error_message());                             \
    }                                                                                     \
  } while (0)

static int counts[5], seen[5];
static kp_keyring *signing_ring; /* every KEY record, for the SIG records */
static int fips, refused;        /* kp_fips_mode(); records refused as FIPS mode refuses them */

/* A refusal of FIPS mode: the status and the message that says why. */
#define EXPECT_REFUSED(expr)                                                 \
  do {                                                                       \
    EXPECT((expr) == KP_ERR_UNSUPPORTED_ALGORITHM);                          \
    EXPECT(kp_last_error_contains("not approved in FIPS mode: "));           \
  } while (0)

/* Whether FIPS mode refuses a signature record: a caller's digest, or a secp256k1 key. */
static int refused_in_fips(const buf *key_id, uint32_t type) {
  if (!fips) return 0;
  if (type == KP_MESSAGE_TYPE_DIGEST) return 1;
  kp_key_metadata *m = NULL;
  int k1 = kp_describe_key(signing_ring, (const char *)key_id->data, key_id->len, &m) == KP_OK &&
           kp_key_metadata_key_spec(m) == KP_KEY_SPEC_ECC_SECG_P256K1;
  kp_key_metadata_free(&m);
  return k1;
}

static void symmetric(char **tok, int ntok) {
  buf key_id = hex(tok[1]), roots = hex(tok[2]), blob = hex(tok[3]), plaintext = hex(tok[4]);
  int valid = atoi(tok[5]), pairs = atoi(tok[6]);
  EXPECT(ntok == 8 + 2 * pairs);
  if (ntok != 8 + 2 * pairs) return;
  buf name = hex(tok[7 + 2 * pairs]);
  current_name = (const char *)name.data;
  kp_context_entry ctx[16];
  buf ctx_bufs[32];
  for (int i = 0; i < pairs && i < 16; i++) {
    ctx_bufs[2 * i] = hex(tok[7 + 2 * i]);
    ctx_bufs[2 * i + 1] = hex(tok[8 + 2 * i]);
    ctx[i] = (kp_context_entry){(const char *)ctx_bufs[2 * i].data, ctx_bufs[2 * i].len,
                                (const char *)ctx_bufs[2 * i + 1].data, ctx_bufs[2 * i + 1].len};
  }
  kp_keyring *ring = NULL;
  EXPECT(kp_keyring_new(&ring) == KP_OK);
  EXPECT(kp_insecure_create_key_with_material(ring, (const char *)key_id.data, key_id.len,
                                              roots.data, roots.len) == KP_OK);
  unsigned char *out = malloc(blob.len + 1);
  size_t n = 0;
  memset(out, 0xAA, blob.len + 1);
  kp_status s = kp_decrypt(ring, blob.data, blob.len, ctx, (size_t)pairs, out, blob.len + 1, &n);
  if (valid) {
    EXPECT(s == KP_OK);
    EXPECT(n == plaintext.len && (n == 0 || memcmp(out, plaintext.data, n) == 0));
    /* And through the batch form. */
    kp_decrypt_request req = {blob.data, blob.len, ctx, (size_t)pairs};
    kp_batch_result *r = NULL;
    kp_batch_item item;
    EXPECT(kp_decrypt_many(ring, &req, 1, &r) == KP_OK);
    EXPECT(kp_batch_result_item(r, 0, &item) == KP_OK && item.status == KP_OK &&
           kp_bytes_eq(item.output, plaintext.data, plaintext.len));
    kp_batch_result_free(&r);
  } else {
    EXPECT(s == KP_ERR_INVALID_CIPHERTEXT);
    EXPECT(n == 0 && all_zero(out, blob.len + 1));
  }
  free(out);
  kp_keyring_free(&ring);
  for (int i = 0; i < 2 * pairs && i < 32; i++) free(ctx_bufs[i].data);
  free(key_id.data), free(roots.data), free(blob.data), free(plaintext.data), free(name.data);
  seen[0]++;
}

static void import_key(char **tok, int ntok) {
  EXPECT(ntok == 6);
  if (ntok != 6) return;
  buf key_id = hex(tok[1]), pkcs8 = hex(tok[4]), public_key = hex(tok[5]);
  current_name = (const char *)key_id.data;
  uint32_t spec = by_name(kp_key_spec_str, tok[2]), usage = by_name(kp_key_usage_str, tok[3]);
  EXPECT(spec != 0 && usage != 0);
  EXPECT(kp_insecure_import_key_material(signing_ring, (const char *)key_id.data, key_id.len,
                                         spec, usage, pkcs8.data, pkcs8.len) == KP_OK);
  kp_public_key *pk = NULL;
  EXPECT(kp_get_public_key(signing_ring, (const char *)key_id.data, key_id.len, &pk) == KP_OK);
  EXPECT(kp_bytes_eq(kp_public_key_der(pk), public_key.data, public_key.len));
  EXPECT(kp_public_key_key_spec(pk) == spec && kp_public_key_key_usage(pk) == usage);
  kp_public_key_free(&pk);
  free(key_id.data), free(pkcs8.data), free(public_key.data);
  seen[1]++;
}

static void signature(char **tok, int ntok) {
  EXPECT(ntok == 8);
  if (ntok != 8) return;
  buf key_id = hex(tok[1]), message = hex(tok[4]), sig = hex(tok[5]), name = hex(tok[7]);
  current_name = (const char *)name.data;
  uint32_t alg = by_name(kp_signing_algorithm_str, tok[2]), type = message_type(tok[3]);
  int valid = atoi(tok[6]);
  EXPECT(alg != 0 && type != 0);
  bool ok = !valid;
  if (refused_in_fips(&key_id, type)) {
    EXPECT_REFUSED(kp_verify(signing_ring, (const char *)key_id.data, key_id.len, message.data,
                             message.len, type, alg, sig.data, sig.len, &ok));
    unsigned char out[512];
    size_t n = 0;
    EXPECT_REFUSED(kp_sign(signing_ring, (const char *)key_id.data, key_id.len, message.data,
                           message.len, type, alg, out, sizeof out, &n));
    refused++;
  } else {
    EXPECT(kp_verify(signing_ring, (const char *)key_id.data, key_id.len, message.data,
                     message.len, type, alg, sig.data, sig.len, &ok) == KP_OK);
    EXPECT(ok == (valid != 0));
  }
  if (!refused_in_fips(&key_id, type) && valid && strncmp(tok[2], "RSASSA_PKCS1", 12) == 0) {
    /* PKCS#1 v1.5 is deterministic: signing again gives the same bytes. */
    unsigned char again[512];
    size_t n = 0;
    EXPECT(kp_sign(signing_ring, (const char *)key_id.data, key_id.len, message.data, message.len,
                   type, alg, again, sizeof again, &n) == KP_OK);
    EXPECT(n == sig.len && memcmp(again, sig.data, n) == 0);
  }
  free(key_id.data), free(message.data), free(sig.data), free(name.data);
  seen[2]++;
}

static void mac(char **tok, int ntok) {
  EXPECT(ntok == 8);
  if (ntok != 8) return;
  buf key = hex(tok[3]), message = hex(tok[4]), tag = hex(tok[5]), name = hex(tok[7]);
  current_name = (const char *)name.data;
  uint32_t spec = by_name(kp_key_spec_str, tok[1]), alg = by_name(kp_mac_algorithm_str, tok[2]);
  int valid = atoi(tok[6]);
  EXPECT(spec != 0 && alg != 0);
  kp_keyring *ring = NULL;
  EXPECT(kp_keyring_new(&ring) == KP_OK);
  EXPECT(kp_insecure_import_key_material(ring, S("mac"), spec, KP_KEY_USAGE_GENERATE_VERIFY_MAC,
                                         key.data, key.len) == KP_OK);
  bool ok = !valid;
  EXPECT(kp_verify_mac(ring, S("mac"), message.data, message.len, alg, tag.data, tag.len, &ok) ==
         KP_OK);
  EXPECT(ok == (valid != 0));
  if (valid) {
    unsigned char again[64];
    size_t n = 0;
    EXPECT(kp_generate_mac(ring, S("mac"), message.data, message.len, alg, again, sizeof again,
                           &n) == KP_OK);
    EXPECT(n == tag.len && memcmp(again, tag.data, n) == 0);
  }
  kp_keyring_free(&ring);
  free(key.data), free(message.data), free(tag.data), free(name.data);
  seen[3]++;
}

static void oaep(char **tok, int ntok) {
  EXPECT(ntok == 10);
  if (ntok != 10) return;
  buf key_id = hex(tok[1]), pkcs8 = hex(tok[4]), public_key = hex(tok[5]);
  buf ciphertext = hex(tok[6]), plaintext = hex(tok[7]), name = hex(tok[9]);
  current_name = (const char *)name.data;
  uint32_t spec = by_name(kp_key_spec_str, tok[2]);
  uint32_t alg = by_name(kp_encryption_algorithm_str, tok[3]);
  int valid = atoi(tok[8]);
  const char *id = (const char *)key_id.data;
  kp_keyring *ring = NULL;
  EXPECT(kp_keyring_new(&ring) == KP_OK);
  EXPECT(kp_insecure_import_key_material(ring, id, key_id.len, spec, KP_KEY_USAGE_ENCRYPT_DECRYPT,
                                         pkcs8.data, pkcs8.len) == KP_OK);
  kp_public_key *pk = NULL;
  EXPECT(kp_get_public_key(ring, id, key_id.len, &pk) == KP_OK);
  EXPECT(kp_bytes_eq(kp_public_key_der(pk), public_key.data, public_key.len));
  kp_public_key_free(&pk);
  unsigned char out[512];
  size_t n = 0;
  memset(out, 0xAA, sizeof out);
  kp_status s = kp_decrypt_asymmetric(ring, id, key_id.len, ciphertext.data, ciphertext.len, alg,
                                      out, sizeof out, &n);
  if (fips) {
    /* RSA-OAEP is not approved: refused both ways, the output left zeroed. */
    EXPECT(s == KP_ERR_UNSUPPORTED_ALGORITHM && n == 0 && all_zero(out, sizeof out));
    EXPECT(kp_last_error_contains("not approved in FIPS mode: "));
    unsigned char ct[512];
    EXPECT_REFUSED(kp_encrypt_asymmetric(ring, id, key_id.len, plaintext.data, plaintext.len, alg,
                                         ct, sizeof ct, &n));
    refused++;
  } else if (valid) {
    EXPECT(s == KP_OK && n == plaintext.len && (n == 0 || memcmp(out, plaintext.data, n) == 0));
    /* Encrypting with the same key round-trips (OAEP is randomized, so not the same bytes). */
    unsigned char ct[512], back[512];
    size_t ct_len = 0, back_len = 0;
    EXPECT(kp_encrypt_asymmetric(ring, id, key_id.len, plaintext.data, plaintext.len, alg, ct,
                                 sizeof ct, &ct_len) == KP_OK);
    EXPECT(ct_len == ciphertext.len);
    EXPECT(kp_decrypt_asymmetric(ring, id, key_id.len, ct, ct_len, alg, back, sizeof back,
                                 &back_len) == KP_OK);
    EXPECT(back_len == plaintext.len && (back_len == 0 || memcmp(back, plaintext.data, back_len) == 0));
  } else {
    EXPECT(s == KP_ERR_INVALID_CIPHERTEXT && n == 0 && all_zero(out, sizeof out));
  }
  kp_keyring_free(&ring);
  free(key_id.data), free(pkcs8.data), free(public_key.data), free(ciphertext.data);
  free(plaintext.data), free(name.data);
  seen[4]++;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s VECTORS.txt\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (f == NULL) {
    perror(argv[1]);
    return 2;
  }
  fips = kp_fips_mode();
  OK(kp_keyring_new(&signing_ring));
  static char line[1 << 16];
  while (fgets(line, sizeof line, f) != NULL) {
    line_no++;
    char *tok[64], *save = NULL;
    int ntok = 0;
    for (char *t = strtok_r(line, " \n", &save); t != NULL && ntok < 64;
         t = strtok_r(NULL, " \n", &save)) {
      tok[ntok++] = t;
    }
    if (ntok == 0) continue;
    current_name = tok[0];
    if (strcmp(tok[0], "COUNTS") == 0 && ntok == 6) {
      for (int i = 0; i < 5; i++) counts[i] = atoi(tok[i + 1]);
    } else if (strcmp(tok[0], "SYM") == 0) {
      symmetric(tok, ntok);
    } else if (strcmp(tok[0], "KEY") == 0) {
      import_key(tok, ntok);
    } else if (strcmp(tok[0], "SIG") == 0) {
      signature(tok, ntok);
    } else if (strcmp(tok[0], "MAC") == 0) {
      mac(tok, ntok);
    } else if (strcmp(tok[0], "OAEP") == 0) {
      oaep(tok, ntok);
    } else {
      EXPECT(!"unknown record");
    }
  }
  fclose(f);
  kp_keyring_free(&signing_ring);
  /* Every vector of the corpus was replayed, and the corpus is not empty. */
  line_no = 0;
  current_name = "counts";
  for (int i = 0; i < 5; i++) EXPECT(counts[i] > 0 && seen[i] == counts[i]);
  printf("replayed %d symmetric, %d keys, %d signatures, %d MACs, %d OAEP vectors", seen[0],
         seen[1], seen[2], seen[3], seen[4]);
  if (fips) printf(" (FIPS mode: %d of them refused, as it refuses them)", refused);
  printf("\n");
  /* In FIPS mode the corpus has records of each refused kind, and the others all ran. */
  if (fips) EXPECT(refused > 0 && refused < seen[2] + seen[4]);
  return kp_summary("test_vectors");
}
