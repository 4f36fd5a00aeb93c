/* Several pthreads share one kp_keyring: encryption, decryption, signing, MACs and batches run
 * concurrently with rotation, alias moves and describes on the same keys. Each thread also
 * checks that its last-error message is its own. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "kp_test.h"

enum { THREADS = 6, ITERATIONS = 150 };

static kp_keyring *ring;

typedef struct {
  int id;
  int failures;
  int done;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  char tenant[16];
  int tenant_len = snprintf(tenant, sizeof tenant, "tenant-%d", w->id);
  const kp_context_entry ctx[] = {{"tenant", 6, tenant, (size_t)tenant_len}};
  unsigned char pt[100], blob[256], out[256], sig[72], mac[32];
  size_t n = 0, m = 0;
  for (int i = 0; i < ITERATIONS; i++) {
    memset(pt, (w->id * 31 + i) & 0xff, sizeof pt);
    size_t len = (size_t)(i % (int)sizeof pt);
    /* Through the alias, which another thread keeps re-pointing between two keys. */
    if (kp_encrypt(ring, S("alias/shared"), pt, len, ctx, 1, blob, sizeof blob, &n) != KP_OK) {
      w->failures++;
      continue;
    }
    if (kp_decrypt(ring, blob, n, ctx, 1, out, sizeof out, &m) != KP_OK || m != len ||
        memcmp(out, pt, len) != 0) {
      w->failures++;
    }
    if (i % 10 == 0) {
      bool valid = false;
      if (kp_sign(ring, S("signer"), pt, len, KP_MESSAGE_TYPE_RAW,
                  KP_SIGNING_ALGORITHM_ECDSA_SHA_256, sig, sizeof sig, &n) != KP_OK ||
          kp_verify(ring, S("signer"), pt, len, KP_MESSAGE_TYPE_RAW,
                    KP_SIGNING_ALGORITHM_ECDSA_SHA_256, sig, n, &valid) != KP_OK ||
          !valid) {
        w->failures++;
      }
    }
    bool mac_ok = false;
    if (kp_generate_mac(ring, S("mac"), pt, len, KP_MAC_ALGORITHM_HMAC_SHA_256, mac, sizeof mac,
                        &n) != KP_OK ||
        kp_verify_mac(ring, S("mac"), pt, len, KP_MAC_ALGORITHM_HMAC_SHA_256, mac, n, &mac_ok) !=
            KP_OK ||
        !mac_ok) {
      w->failures++;
    }
    if (i % 25 == 0) {
      kp_encrypt_request reqs[40];
      for (int j = 0; j < 40; j++) {
        reqs[j] = (kp_encrypt_request){"k1", 2, pt, len, ctx, 1};
      }
      kp_batch_result *r = NULL;
      if (kp_encrypt_many(ring, reqs, 40, &r) != KP_OK || kp_batch_result_count(r) != 40) {
        w->failures++;
      } else {
        kp_decrypt_request dreqs[40];
        kp_batch_item item;
        for (size_t j = 0; j < 40; j++) {
          kp_batch_result_item(r, j, &item);
          dreqs[j] = (kp_decrypt_request){item.output.data, item.output.len, ctx, 1};
        }
        kp_batch_result *d = NULL;
        if (kp_decrypt_many(ring, dreqs, 40, &d) != KP_OK) {
          w->failures++;
        } else {
          for (size_t j = 0; j < 40; j++) {
            kp_batch_result_item(d, j, &item);
            if (item.status != KP_OK || !kp_bytes_eq(item.output, pt, len)) w->failures++;
          }
        }
        kp_batch_result_free(&d);
      }
      kp_batch_result_free(&r);
    }
    /* A failure of this thread's own: the message must be this one, whatever the others do. */
    char wrong_id[32];
    int wrong_len = snprintf(wrong_id, sizeof wrong_id, "bad id %d", w->id);
    kp_key_metadata *md = NULL;
    kp_create_key_options o;
    memset(&o, 0, sizeof o);
    o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
    o.key_id = wrong_id;
    o.key_id_len = (size_t)wrong_len;
    if (w->id % 2 == 0) {
      if (kp_create_key(ring, &o, &md) != KP_ERR_INVALID_INPUT ||
          strstr(kp_last_error_message(), "key id must be") == NULL) {
        w->failures++;
      }
    } else {
      if (kp_describe_key(ring, wrong_id, (size_t)wrong_len, &md) != KP_ERR_NOT_FOUND ||
          strcmp(kp_last_error_message(), "key not found") != 0) {
        w->failures++;
      }
    }
    w->done++;
  }
  return NULL;
}

static void *admin(void *arg) {
  worker *w = arg;
  for (int i = 0; i < ITERATIONS; i++) {
    const char *target = i % 2 ? "k1" : "k2";
    if (kp_update_alias(ring, S("alias/shared"), target, 2) != KP_OK) w->failures++;
    if (i % 15 == 0 && kp_rotate_key(ring, S("k1"), NULL) != KP_OK) w->failures++;
    kp_key_metadata *m = NULL;
    if (kp_describe_key(ring, S("k1"), &m) != KP_OK || kp_key_metadata_current_version(m) < 1) {
      w->failures++;
    }
    kp_key_metadata_free(&m);
    kp_string_list *keys = NULL;
    if (kp_list_keys(ring, &keys) != KP_OK || kp_string_list_count(keys) != 4) w->failures++;
    kp_string_list_free(&keys);
    w->done++;
  }
  return NULL;
}

static void create(const char *id, kp_key_spec spec) { OK(kp_test_create_key(ring, id, spec)); }

int main(void) {
  OK(kp_keyring_new(&ring));
  create("k1", KP_KEY_SPEC_SYMMETRIC_DEFAULT);
  create("k2", KP_KEY_SPEC_SYMMETRIC_DEFAULT);
  create("signer", KP_KEY_SPEC_ECC_NIST_P256);
  create("mac", KP_KEY_SPEC_HMAC_256);
  OK(kp_create_alias(ring, S("alias/shared"), S("k1")));

  pthread_t threads[THREADS + 1];
  worker workers[THREADS + 1];
  for (int i = 0; i <= THREADS; i++) {
    workers[i] = (worker){i, 0, 0};
    CHECK(pthread_create(&threads[i], NULL, i == THREADS ? admin : work, &workers[i]) == 0);
  }
  for (int i = 0; i <= THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(workers[i].failures == 0);
    CHECK(workers[i].done == ITERATIONS);
  }
  kp_key_metadata *m = NULL;
  OK(kp_describe_key(ring, S("k1"), &m));
  CHECK(kp_key_metadata_current_version(m) == 1 + (ITERATIONS + 14) / 15);
  kp_key_metadata_free(&m);
  kp_keyring_free(&ring);
  return kp_summary("test_threads");
}
