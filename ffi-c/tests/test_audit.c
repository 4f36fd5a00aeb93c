/* The audit trail through the C ABI: a callback receives every operation (success and failure,
 * with the handle's caller and the context, never a plaintext), flushing, a file log that
 * verifies and a tampered one that does not, and the bad-input matrix. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "kp_test.h"

#define MAX_EVENTS 64
#define SECRET "the plaintext must never appear in an event"

static const kp_context_entry CTX[] = {{"tenant", 6, "acme", 4}};

/* What the callback saw; it runs on the audit writer thread. */
static struct {
  pthread_mutex_t lock;
  int count;
  char operation[MAX_EVENTS][40];
  char key_id[MAX_EVENTS][40];
  char caller[MAX_EVENTS][40];
  char error_code[MAX_EVENTS][40];
  uint32_t key_version[MAX_EVENTS];
  size_t context_len[MAX_EVENTS];
  int context_ok[MAX_EVENTS];
  uint64_t sequence[MAX_EVENTS];
  int secret_seen;
  int fields_missing;
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void copy(char *dst, kp_str s) {
  size_t n = s.len < 39 ? s.len : 39;
  memcpy(dst, s.data, n);
  dst[n] = '\0';
}

static int contains_secret(kp_str s) {
  return s.len > 0 && strstr(s.data, "plaintext") != NULL;
}

static void on_event(const kp_audit_event *e, void *user_data) {
  int *calls = user_data;
  pthread_mutex_lock(&seen.lock);
  (*calls)++;
  if (seen.count < MAX_EVENTS) {
    int i = seen.count++;
    copy(seen.operation[i], e->operation);
    copy(seen.key_id[i], e->key_id);
    copy(seen.caller[i], e->caller);
    copy(seen.error_code[i], e->error_code);
    seen.key_version[i] = e->key_version;
    seen.sequence[i] = e->sequence;
    seen.context_len[i] = e->context_len;
    seen.context_ok[i] = e->context_len == 1 && e->context[0].key_len == 6 &&
                         memcmp(e->context[0].key, "tenant", 6) == 0 &&
                         e->context[0].value_len == 4 &&
                         memcmp(e->context[0].value, "acme", 4) == 0;
    if (e->time_unix_nanos == 0 || e->request_id.len == 0) seen.fields_missing = 1;
  }
  if (contains_secret(e->operation) || contains_secret(e->key_id) || contains_secret(e->caller))
    seen.secret_seen = 1;
  pthread_mutex_unlock(&seen.lock);
}

static kp_audit_options callback_options(int *calls) {
  kp_audit_options a;
  memset(&a, 0, sizeof a);
  a.callback = on_event;
  a.user_data = calls;
  return a;
}

static void test_callback(void) {
  int calls = 0;
  kp_audit_options a = callback_options(&calls);
  kp_keyring *ring = NULL, *billing = NULL;
  OK(kp_keyring_new_audited(NULL, &a, &ring));
  OK(kp_keyring_with_caller(ring, S("billing"), &billing));

  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "audited";
  o.key_id_len = strlen(o.key_id);
  OK(kp_create_key(ring, &o, NULL));

  unsigned char blob[256], plain[128];
  size_t blob_len = 0, plain_len = 0;
  OK(kp_encrypt(billing, S("audited"), (const uint8_t *)SECRET, strlen(SECRET), CTX, 1, blob,
                sizeof blob, &blob_len));
  OK(kp_decrypt(billing, blob, blob_len, CTX, 1, plain, sizeof plain, &plain_len));
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, NULL, 0, plain, sizeof plain, &plain_len),
               KP_ERR_INVALID_CIPHERTEXT);
  OK(kp_keyring_flush_audit(billing));

  pthread_mutex_lock(&seen.lock);
  CHECK(seen.count == 4 && calls == 4);
  CHECK(strcmp(seen.operation[0], "CreateKey") == 0 && seen.caller[0][0] == '\0');
  CHECK(strcmp(seen.operation[1], "Encrypt") == 0 && strcmp(seen.key_id[1], "audited") == 0);
  CHECK(seen.key_version[1] == 1 && strcmp(seen.caller[1], "billing") == 0);
  CHECK(seen.context_ok[1] && seen.error_code[1][0] == '\0');
  CHECK(strcmp(seen.operation[2], "Decrypt") == 0 && seen.context_ok[2]);
  CHECK(strcmp(seen.operation[3], "Decrypt") == 0);
  CHECK(strcmp(seen.error_code[3], "KP_INVALID_CIPHERTEXT") == 0 && seen.context_len[3] == 0);
  CHECK(seen.sequence[0] == 1 && seen.sequence[3] == 4);
  CHECK(!seen.secret_seen && !seen.fields_missing);
  pthread_mutex_unlock(&seen.lock);
  CHECK(kp_keyring_audit_dropped(ring) == 0);

  /* Freeing the caller's handle leaves the keyring; the last handle closes the trail. */
  kp_keyring_free(&billing);
  CHECK(billing == NULL);
  OK(kp_encrypt(ring, S("audited"), (const uint8_t *)"x", 1, NULL, 0, blob, sizeof blob,
                &blob_len));
  kp_keyring_free(&ring);
  CHECK(calls == 5);
}

static void test_file_log(void) {
  char dir[] = "/tmp/keyplane-c-audit-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char log_dir[128];
  snprintf(log_dir, sizeof log_dir, "%s/log", dir);
  unsigned char key[32];
  memset(key, 7, sizeof key);

  kp_audit_options a;
  memset(&a, 0, sizeof a);
  a.log_dir = log_dir;
  a.log_dir_len = strlen(log_dir);
  a.audit_key = key;
  a.audit_key_len = sizeof key;
  a.context_logging = KP_CONTEXT_LOGGING_KEYS_ONLY;
  kp_keyring *ring = NULL;
  OK(kp_keyring_new_audited(NULL, &a, &ring));
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "logged";
  o.key_id_len = strlen(o.key_id);
  OK(kp_create_key(ring, &o, NULL));
  unsigned char blob[256];
  size_t blob_len = 0;
  for (int i = 0; i < 10; i++) {
    OK(kp_encrypt(ring, S("logged"), (const uint8_t *)SECRET, strlen(SECRET), CTX, 1, blob,
                  sizeof blob, &blob_len));
  }
  OK(kp_keyring_flush_audit(ring));
  /* A log directory serves one keyring: a second one there is refused. */
  kp_keyring *second = NULL;
  CHECK_STATUS(kp_keyring_new_audited(NULL, &a, &second), KP_ERR_STORAGE);
  CHECK(second == NULL);
  kp_keyring_free(&ring);

  uint64_t records = 0;
  OK(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &records));
  CHECK(records == 11);

  /* The log holds the context's keys but not its values, and never the plaintext. */
  char path[160];
  snprintf(path, sizeof path, "%s/audit-000001.jsonl", log_dir);
  FILE *f = fopen(path, "r+");
  CHECK(f != NULL);
  if (f != NULL) {
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    CHECK(strstr(text, "\"tenant\"") != NULL && strstr(text, "acme") == NULL);
    CHECK(strstr(text, "plaintext") == NULL);
    /* Flip one byte of the third line: the chain breaks there. */
    char *third = strchr(strchr(text, '\n') + 1, '\n') + 1;
    char *digit = strstr(third, "\"seq\":3") + 6;
    *digit = '4';
    fseek(f, 0, SEEK_SET);
    fwrite(text, 1, n, f);
    fclose(f);
  }
  CHECK_STATUS(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &records),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK(strstr(kp_last_error_message(), "audit-000001.jsonl:") != NULL);

  /* Another key does not verify the checkpoints; a missing directory is a storage error. */
  unsigned char other[32];
  memset(other, 8, sizeof other);
  CHECK_STATUS(kp_audit_verify(log_dir, strlen(log_dir), other, sizeof other, &records),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK_STATUS(kp_audit_verify(S("/nonexistent/keyplane"), key, sizeof key, &records),
               KP_ERR_STORAGE);
  remove(path);
  rmdir(log_dir);
  rmdir(dir);
}

static void test_bad_input(void) {
  int calls = 0;
  kp_audit_options a = callback_options(&calls);
  kp_keyring *ring = NULL;
  CHECK_STATUS(kp_keyring_new_audited(NULL, NULL, &ring), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_new_audited(NULL, &a, NULL), KP_ERR_NULL_ARGUMENT);
  a.context_logging = 3;
  CHECK_STATUS(kp_keyring_new_audited(NULL, &a, &ring), KP_ERR_INVALID_INPUT);
  a.context_logging = KP_CONTEXT_LOGGING_NONE;
  a.back_pressure = 7;
  CHECK_STATUS(kp_keyring_new_audited(NULL, &a, &ring), KP_ERR_INVALID_INPUT);
  a.back_pressure = KP_BACK_PRESSURE_DROP;
  a.log_dir = "/tmp/x";
  a.log_dir_len = 6;
  CHECK_STATUS(kp_keyring_new_audited(NULL, &a, &ring), KP_ERR_INVALID_INPUT);
  memset(&a, 0, sizeof a);
  CHECK_STATUS(kp_keyring_new_audited(NULL, &a, &ring), KP_ERR_INVALID_INPUT);
  a.log_dir = "/tmp/keyplane-c-audit-no-key";
  a.log_dir_len = strlen(a.log_dir);
  a.audit_key_len = 32;
  CHECK_STATUS(kp_keyring_new_audited(NULL, &a, &ring), KP_ERR_NULL_ARGUMENT);
  unsigned char short_key[16] = {0};
  a.audit_key = short_key;
  a.audit_key_len = sizeof short_key;
  CHECK_STATUS(kp_keyring_new_audited(NULL, &a, &ring), KP_ERR_INVALID_INPUT);
  CHECK(ring == NULL);

  a = callback_options(&calls);
  OK(kp_keyring_new_audited(NULL, &a, &ring));
  kp_keyring *other = NULL;
  CHECK_STATUS(kp_keyring_with_caller(NULL, S("x"), &other), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_with_caller(ring, NULL, 3, &other), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_with_caller(ring, "\xff\xfe", 2, &other), KP_ERR_INVALID_UTF8);
  CHECK_STATUS(kp_keyring_with_caller(ring, S("x"), NULL), KP_ERR_NULL_ARGUMENT);
  CHECK(other == NULL);
  CHECK_STATUS(kp_keyring_flush_audit(NULL), KP_ERR_NULL_ARGUMENT);
  CHECK(kp_keyring_audit_dropped(NULL) == 0);
  uint64_t records;
  unsigned char key[32] = {0};
  CHECK_STATUS(kp_audit_verify(NULL, 4, key, 32, &records), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_audit_verify(S("/tmp"), key, 31, &records), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_audit_verify(S("/tmp"), key, 32, NULL), KP_ERR_NULL_ARGUMENT);
  kp_keyring_free(&ring);

  /* A keyring without audit: flushing does nothing. */
  OK(kp_keyring_new(&ring));
  OK(kp_keyring_flush_audit(ring));
  kp_keyring_free(&ring);
}

int main(void) {
  test_callback();
  test_file_log();
  test_bad_input();
  return kp_summary("test_audit");
}
