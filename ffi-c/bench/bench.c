/* The C benchmark: encrypt 64 B and 4 KiB, ECDSA P-256 sign and a 1024-item encrypt_many through
 * the C ABI, with the loop of the Rust baseline (bench/rust_baseline.rs): a warm-up, then
 * rounds of a fixed number of calls timed with clock_gettime(CLOCK_MONOTONIC), the median
 * round reported. Prints `name<TAB>nanoseconds per call` (per item for batches).
 *
 *   bench [--quick]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyplane.h"

enum { ROUNDS = 7, BATCH = 1024 };

static kp_keyring *ring;
static unsigned char out[8192];
static volatile size_t sink;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void check(kp_status s) {
  if (s != KP_OK) {
    fprintf(stderr, "bench: %s: %s\n", kp_status_str(s), kp_last_error_message());
    exit(1);
  }
}

typedef void (*op_fn)(const void *arg);

static double measure(unsigned iters, unsigned items, op_fn op, const void *arg) {
  for (unsigned i = 0; i < (iters + 3) / 4; i++) op(arg);
  double rounds[ROUNDS];
  for (int r = 0; r < ROUNDS; r++) {
    double start = now_ns();
    for (unsigned i = 0; i < iters; i++) op(arg);
    rounds[r] = (now_ns() - start) / iters / items;
  }
  qsort(rounds, ROUNDS, sizeof rounds[0], cmp);
  return rounds[ROUNDS / 2];
}

typedef struct {
  const uint8_t *data;
  size_t len;
} input;

static void encrypt(const void *arg) {
  const input *in = arg;
  size_t n = 0;
  check(kp_encrypt(ring, "bench-aes", 9, in->data, in->len, NULL, 0, out, sizeof out, &n));
  sink = n;
}

static void sign(const void *arg) {
  const input *in = arg;
  size_t n = 0;
  check(kp_sign(ring, "bench-p256", 10, in->data, in->len, KP_MESSAGE_TYPE_RAW,
                KP_SIGNING_ALGORITHM_ECDSA_SHA_256, out, sizeof out, &n));
  sink = n;
}

static void encrypt_many(const void *arg) {
  kp_batch_result *r = NULL;
  check(kp_encrypt_many(ring, arg, BATCH, &r));
  sink = kp_batch_result_count(r);
  kp_batch_result_free(&r);
}

static void create(const char *id, kp_key_spec spec) {
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = spec;
  o.key_id = id;
  o.key_id_len = strlen(id);
  check(kp_create_key(ring, &o, NULL));
}

int main(int argc, char **argv) {
  unsigned scale = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 10 : 1;
  check(kp_keyring_new(&ring));
  create("bench-aes", KP_KEY_SPEC_SYMMETRIC_DEFAULT);
  create("bench-p256", KP_KEY_SPEC_ECC_NIST_P256);

  static uint8_t small[64], large[4096];
  memset(small, 0x5a, sizeof small);
  memset(large, 0x5a, sizeof large);
  input in64 = {small, sizeof small}, in4k = {large, sizeof large};
  printf("encrypt_64\t%.1f\n", measure(200000 / scale, 1, encrypt, &in64));
  printf("encrypt_4096\t%.1f\n", measure(50000 / scale, 1, encrypt, &in4k));
  const char *msg = "Keyplane C benchmark message";
  input in_msg = {(const uint8_t *)msg, strlen(msg)};
  printf("sign_p256\t%.1f\n", measure(2000 / scale, 1, sign, &in_msg));

  static kp_encrypt_request reqs[BATCH];
  for (int i = 0; i < BATCH; i++) reqs[i] = (kp_encrypt_request){"bench-aes", 9, small, 64, NULL, 0};
  printf("encrypt_many_64\t%.1f\n", measure(200 / scale, BATCH, encrypt_many, reqs));
  kp_keyring_free(&ring);
  return 0;
}
