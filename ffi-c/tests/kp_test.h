/* A tiny test harness for the C tests: checks count, failures print where and why, and the
 * program ends with one "name: N passed, N failed" line. */
#ifndef KP_TEST_H
#define KP_TEST_H

#include <stdio.h>
#include <string.h>

#include "keyplane.h"

static int kp_passed, kp_failed;

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (cond) {                                                                       \
      kp_passed++;                                                                    \
    } else {                                                                          \
      kp_failed++;                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
    }                                                                                 \
  } while (0)

#define CHECK_STATUS(expr, expected)                                                  \
  do {                                                                                \
    kp_status s_ = (expr);                                                            \
    if (s_ == (kp_status)(expected)) {                                                \
      kp_passed++;                                                                    \
    } else {                                                                          \
      kp_failed++;                                                                    \
      fprintf(stderr, "%s:%d: %s returned %s (%s), expected %s\n", __FILE__, __LINE__, \
              #expr, kp_status_str(s_), kp_last_error_message(),                      \
              kp_status_str(expected));                                               \
    }                                                                                 \
  } while (0)

#define OK(expr) CHECK_STATUS(expr, KP_OK)

/* A string literal or NUL-terminated string as (ptr, len). */
#define S(str) (str), strlen(str)

static inline int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) return 0;
  }
  return 1;
}

static inline int kp_str_eq(kp_str s, const char *expected) {
  return s.data != NULL && s.len == strlen(expected) && memcmp(s.data, expected, s.len) == 0 &&
         s.data[s.len] == '\0';
}

static inline int kp_bytes_eq(kp_bytes b, const unsigned char *p, size_t n) {
  return b.len == n && (n == 0 || memcmp(b.data, p, n) == 0);
}

/* Creates key `id` of `spec` with every other option at its default. */
static inline kp_status kp_test_create_key(kp_keyring *ring, const char *id, kp_key_spec spec) {
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = spec;
  o.key_id = id;
  o.key_id_len = strlen(id);
  return kp_create_key(ring, &o, NULL);
}

/* Whether this thread's last error message mentions `needle`. */
static inline int kp_last_error_contains(const char *needle) {
  return strstr(kp_last_error_message(), needle) != NULL;
}

static inline int kp_summary(const char *name) {
  printf("%s: %d passed, %d failed\n", name, kp_passed, kp_failed);
  return kp_failed == 0 && kp_passed > 0 ? 0 : 1;
}

#endif
