/* The audit trail through the C ABI: a callback receives every operation (success and failure,
 * with the handle's caller and the context, never a plaintext), flushing (refused from inside
 * a callback), per-key last usage, counters, a file log in several files that verifies (by
 * directory and by file list) and a tampered, truncated or incomplete one that does not, and
 * the bad-input matrix. */
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
  int not_terminated;
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void reset_seen(void) {
  pthread_mutex_lock(&seen.lock);
  seen.count = 0;
  seen.secret_seen = seen.fields_missing = seen.not_terminated = 0;
  pthread_mutex_unlock(&seen.lock);
}

static void copy(char *dst, kp_str s) {
  size_t n = s.len < 39 ? s.len : 39;
  memcpy(dst, s.data, n);
  dst[n] = '\0';
}

/* Whether `(p, n)` holds any part of the plaintext. */
static int contains_secret(const char *p, size_t n) {
  static const char needle[] = "plaintext";
  for (size_t i = 0; i + sizeof needle - 1 <= n; i++) {
    if (memcmp(p + i, needle, sizeof needle - 1) == 0) return 1;
  }
  return 0;
}

static int str_secret(kp_str s) { return contains_secret(s.data, s.len); }

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
  const kp_str strings[] = {e->request_id, e->operation, e->key_id, e->caller, e->error_code};
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
    if (str_secret(strings[i])) seen.secret_seen = 1;
    if (strings[i].data == NULL || strings[i].data[strings[i].len] != '\0') {
      seen.not_terminated = 1;
    }
  }
  for (size_t i = 0; i < e->context_len; i++) {
    if (contains_secret(e->context[i].key, e->context[i].key_len) ||
        contains_secret(e->context[i].value, e->context[i].value_len)) {
      seen.secret_seen = 1;
    }
  }
  pthread_mutex_unlock(&seen.lock);
}

static kp_audit_options callback_options(int *calls) {
  kp_audit_options a;
  memset(&a, 0, sizeof a);
  a.callback = on_event;
  a.user_data = calls;
  return a;
}

/* A keyring audited as `a` says. */
static kp_status audited(const kp_audit_options *a, kp_keyring **out) {
  kp_keyring_options o;
  memset(&o, 0, sizeof o);
  o.audit = a;
  return kp_keyring_new_with_options(&o, out);
}

static void create(kp_keyring *ring, const char *id) {
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = id;
  o.key_id_len = strlen(id);
  OK(kp_create_key(ring, &o, NULL));
}

static void test_callback(void) {
  reset_seen();
  int calls = 0;
  kp_audit_options a = callback_options(&calls);
  kp_keyring *ring = NULL, *billing = NULL;
  OK(audited(&a, &ring));
  OK(kp_keyring_with_caller(ring, S("billing"), &billing));
  create(ring, "audited");
  OK(kp_create_alias(ring, S("alias/audited"), S("audited")));

  unsigned char blob[256], plain[128];
  size_t blob_len = 0, plain_len = 0;
  OK(kp_encrypt(billing, S("alias/audited"), (const uint8_t *)SECRET, strlen(SECRET), CTX, 1,
                blob, sizeof blob, &blob_len));
  OK(kp_decrypt(billing, blob, blob_len, CTX, 1, plain, sizeof plain, &plain_len));
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, NULL, 0, plain, sizeof plain, &plain_len),
               KP_ERR_INVALID_CIPHERTEXT);
  OK(kp_keyring_flush_audit(billing));

  pthread_mutex_lock(&seen.lock);
  CHECK(seen.count == 5 && calls == 5);
  CHECK(strcmp(seen.operation[0], "CreateKey") == 0 && seen.caller[0][0] == '\0');
  CHECK(strcmp(seen.operation[1], "CreateAlias") == 0);
  /* The real key id, not the alias the call named. */
  CHECK(strcmp(seen.operation[2], "Encrypt") == 0 && strcmp(seen.key_id[2], "audited") == 0);
  CHECK(seen.key_version[2] == 1 && strcmp(seen.caller[2], "billing") == 0);
  CHECK(seen.context_ok[2] && seen.error_code[2][0] == '\0');
  CHECK(strcmp(seen.operation[3], "Decrypt") == 0 && seen.context_ok[3]);
  CHECK(strcmp(seen.operation[4], "Decrypt") == 0);
  CHECK(strcmp(seen.error_code[4], "KP_INVALID_CIPHERTEXT") == 0 && seen.context_len[4] == 0);
  CHECK(seen.sequence[0] == 1 && seen.sequence[4] == 5);
  CHECK(!seen.secret_seen && !seen.fields_missing && !seen.not_terminated);
  pthread_mutex_unlock(&seen.lock);
  CHECK(kp_keyring_audit_dropped(ring) == 0);
  CHECK(kp_keyring_audit_failures(ring) == 0);

  /* Last usage, through either handle and an alias: failures count too. */
  kp_key_last_usage *u = NULL;
  OK(kp_keyring_key_last_usage(billing, S("alias/audited"), &u));
  CHECK(kp_str_eq(kp_key_last_usage_last_operation(u), "Decrypt"));
  uint64_t last = kp_key_last_usage_last_used_unix_nanos(u);
  CHECK(last > 1600000000ull * 1000000000ull);
  size_t n = kp_key_last_usage_operation_count(u);
  uint64_t encrypts = 0, decrypts = 0, creates = 0;
  for (size_t i = 0; i < n; i++) {
    kp_str name = kp_key_last_usage_operation(u, i);
    if (kp_str_eq(name, "Encrypt")) encrypts = kp_key_last_usage_uses(u, i);
    if (kp_str_eq(name, "Decrypt")) decrypts = kp_key_last_usage_uses(u, i);
    if (kp_str_eq(name, "CreateKey")) creates = kp_key_last_usage_uses(u, i);
  }
  CHECK(encrypts == 1 && decrypts == 2 && creates == 1);
  CHECK(kp_str_eq(kp_key_last_usage_operation(u, n), "") && kp_key_last_usage_uses(u, n) == 0);
  kp_key_last_usage_free(&u);
  CHECK(u == NULL);
  kp_key_last_usage_free(&u);
  create(ring, "unused");
  OK(kp_keyring_key_last_usage(ring, S("unused"), &u));
  OK(kp_keyring_flush_audit(ring));
  kp_key_last_usage_free(&u);
  OK(kp_keyring_key_last_usage(ring, S("unused"), &u));
  CHECK(kp_key_last_usage_operation_count(u) == 1);
  kp_key_last_usage_free(&u);
  CHECK_STATUS(kp_keyring_key_last_usage(ring, S("missing"), &u), KP_ERR_NOT_FOUND);
  CHECK(u == NULL);

  /* Size queries are answered without performing, so without auditing, the operation; a
   * size query that fails for another reason is the operation failing, and is audited. */
  reset_seen();
  size_t needed = 0;
  CHECK_STATUS(kp_encrypt(ring, S("audited"), (const uint8_t *)"x", 1, NULL, 0, NULL, 0,
                          &needed),
               KP_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(kp_decrypt(ring, blob, blob_len, CTX, 1, NULL, 0, &needed),
               KP_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(kp_generate_data_key_without_plaintext(ring, S("audited"),
                                                      KP_DATA_KEY_SPEC_AES_256, 0, NULL, 0,
                                                      NULL, 0, &needed),
               KP_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(kp_re_encrypt(ring, blob, blob_len, CTX, 1, S("audited"), NULL, 0, NULL, 0,
                             &needed),
               KP_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(kp_encrypt(ring, S("missing"), (const uint8_t *)"x", 1, NULL, 0, NULL, 0,
                          &needed),
               KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_generate_data_key_without_plaintext(ring, S("missing"),
                                                      KP_DATA_KEY_SPEC_AES_256, 0, NULL, 0,
                                                      NULL, 0, &needed),
               KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_re_encrypt(ring, (const uint8_t *)"junk", 4, NULL, 0, S("audited"), NULL, 0,
                             blob, sizeof blob, &needed),
               KP_ERR_INVALID_CIPHERTEXT);
  OK(kp_keyring_flush_audit(ring));
  pthread_mutex_lock(&seen.lock);
  CHECK(seen.count == 3);
  CHECK(strcmp(seen.operation[0], "Encrypt") == 0 && strcmp(seen.key_id[0], "missing") == 0);
  CHECK(strcmp(seen.error_code[0], "KP_NOT_FOUND") == 0);
  CHECK(strcmp(seen.operation[1], "GenerateDataKeyWithoutPlaintext") == 0);
  CHECK(strcmp(seen.error_code[1], "KP_NOT_FOUND") == 0);
  CHECK(strcmp(seen.operation[2], "ReEncrypt") == 0);
  CHECK(strcmp(seen.error_code[2], "KP_INVALID_CIPHERTEXT") == 0);
  pthread_mutex_unlock(&seen.lock);

  /* Freeing the caller's handle leaves the keyring; the last handle closes the trail. */
  kp_keyring_free(&billing);
  CHECK(billing == NULL);
  OK(kp_encrypt(ring, S("audited"), (const uint8_t *)"x", 1, NULL, 0, blob, sizeof blob,
                &blob_len));
  int before = calls;
  kp_keyring_free(&ring);
  CHECK(calls == before + 1);
}

/* A callback that tries to flush the keyring it audits. */
static struct {
  kp_keyring *ring;
  kp_status status;
  int calls;
} reentrant;

static void flushing_callback(const kp_audit_event *e, void *user_data) {
  (void)e;
  (void)user_data;
  if (reentrant.calls++ == 0) reentrant.status = kp_keyring_flush_audit(reentrant.ring);
}

static void test_flush_from_callback(void) {
  kp_audit_options a;
  memset(&a, 0, sizeof a);
  a.callback = flushing_callback;
  reentrant.status = KP_OK;
  OK(audited(&a, &reentrant.ring));
  create(reentrant.ring, "k");
  OK(kp_keyring_flush_audit(reentrant.ring));
  CHECK(reentrant.calls == 1);
  CHECK(reentrant.status == KP_ERR_INVALID_INPUT);
  kp_keyring_free(&reentrant.ring);
}

/* Drops events with a one-slot queue and a callback held shut until the calls are made, so
 * the queue is full for certain, whatever the machine's load; the count is reported. */
static int gate_open;

static void gated_callback(const kp_audit_event *e, void *user_data) {
  (void)e;
  (void)user_data;
  /* Bounded: a test that forgot to open the gate still ends (after 60 s). */
  for (int i = 0; i < 600000 && !__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE); i++) usleep(100);
}

static void test_drop(void) {
  kp_audit_options a;
  memset(&a, 0, sizeof a);
  a.callback = gated_callback;
  a.back_pressure = KP_BACK_PRESSURE_DROP;
  a.queue_capacity = 1;
  a.context_logging = KP_CONTEXT_LOGGING_NONE;
  kp_keyring *ring = NULL;
  OK(audited(&a, &ring));
  create(ring, "k");
  unsigned char out[16];
  size_t len = 0;
  __atomic_store_n(&gate_open, 0, __ATOMIC_RELEASE);
  for (int i = 0; i < 200; i++) OK(kp_generate_random(ring, 8, out, sizeof out, &len));
  __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
  OK(kp_keyring_flush_audit(ring));
  CHECK(kp_keyring_audit_dropped(ring) > 0);
  kp_keyring_free(&ring);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  static char text[1 << 16];
  *len = fread(text, 1, sizeof text - 1, f);
  text[*len] = '\0';
  fclose(f);
  return text;
}

static int write_file(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return 0;
  size_t n = fwrite(text, 1, len, f);
  fclose(f);
  return n == len;
}

/* The number of audit-*.jsonl files in `dir`, assumed numbered from 1 without gaps. */
static int count_files(const char *dir) {
  int n = 0;
  for (;;) {
    char path[192];
    snprintf(path, sizeof path, "%s/audit-%06d.jsonl", dir, n + 1);
    if (access(path, F_OK) != 0) return n;
    n++;
  }
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
  a.max_file_bytes = 900; /* several files */
  a.checkpoint_every = 4;
  kp_keyring *ring = NULL;
  OK(audited(&a, &ring));
  create(ring, "logged");
  unsigned char blob[256];
  size_t blob_len = 0;
  for (int i = 0; i < 10; i++) {
    OK(kp_encrypt(ring, S("logged"), (const uint8_t *)SECRET, strlen(SECRET), CTX, 1, blob,
                  sizeof blob, &blob_len));
  }
  OK(kp_keyring_flush_audit(ring));
  /* A log directory serves one keyring: a second one there is refused. */
  kp_keyring *second = NULL;
  CHECK_STATUS(audited(&a, &second), KP_ERR_STORAGE);
  CHECK(second == NULL);

  /* While the keyring is open the log verifies but is not closed. */
  kp_audit_report report;
  OK(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &report));
  CHECK(report.records == 11 && !report.closed);
  kp_keyring_free(&ring);

  int files = count_files(log_dir);
  CHECK(files >= 3);
  memset(&report, 0xff, sizeof report);
  OK(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &report));
  CHECK(report.records == 11 && report.closed && !report.incomplete_tail);
  CHECK(report.end_file == (size_t)files - 1 && report.end_line >= 1);
  CHECK(report.checkpoint_file == report.end_file && report.checkpoint_line == report.end_line);
  CHECK(report.checkpoint_time_unix_nanos > 1600000000ull * 1000000000ull);
  CHECK(report.broken_file == 0 && report.broken_line == 0);

  /* The same log as a list of files. */
  char paths[8][160];
  kp_audit_file list[8];
  int listed = files < 8 ? files : 8;
  for (int i = 0; i < listed; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/audit-%06d.jsonl", log_dir, i + 1);
    list[i].path = paths[i];
    list[i].path_len = strlen(paths[i]);
  }
  if (listed == files) {
    OK(kp_audit_verify_files(list, (size_t)files, key, sizeof key, &report));
    CHECK(report.records == 11 && report.closed);
  }
  /* Files out of order, or the first one missing, break the chain. */
  kp_audit_file swapped[2] = {list[1], list[0]};
  CHECK_STATUS(kp_audit_verify_files(swapped, 2, key, sizeof key, &report),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK(report.broken_file == 0 && report.broken_line == 1);
  CHECK_STATUS(kp_audit_verify_files(list + 1, (size_t)files - 1, key, sizeof key, &report),
               KP_ERR_INVALID_CIPHERTEXT);

  /* The log holds the context's keys but not its values, and never the plaintext. */
  char first[160];
  snprintf(first, sizeof first, "%s/audit-000001.jsonl", log_dir);
  size_t n = 0;
  char *text = read_file(first, &n);
  CHECK(text != NULL);
  if (text != NULL) {
    CHECK(strstr(text, "\"tenant\"") != NULL && strstr(text, "acme") == NULL);
    CHECK(strstr(text, "plaintext") == NULL);
    /* Change one byte of the third line: the chain breaks there. */
    char *third = strchr(strchr(text, '\n') + 1, '\n') + 1;
    char *digit = strstr(third, "\"seq\":3") + 6;
    *digit = '4';
    CHECK(write_file(first, text, n));
    CHECK_STATUS(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &report),
                 KP_ERR_INVALID_CIPHERTEXT);
    CHECK(report.broken_file == 0 && report.broken_line == 3 && report.records == 0);
    CHECK(strstr(kp_last_error_message(), "audit-000001.jsonl:3: ") != NULL);
    *digit = '3';
    CHECK(write_file(first, text, n));
    OK(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &report));
  }

  /* A cut-off tail: the log's last line (the checkpoint written at close) is gone. The chain
   * still holds, but the log is no longer closed; half a line is an incomplete tail. */
  char last[160];
  snprintf(last, sizeof last, "%s/audit-%06d.jsonl", log_dir, files);
  text = read_file(last, &n);
  CHECK(text != NULL && n > 0 && n < 4096);
  if (text != NULL && n > 0 && n < 4096) {
    char saved[4096];
    memcpy(saved, text, n);
    size_t saved_len = n;
    size_t keep = n - 1; /* the start of the last line */
    while (keep > 0 && saved[keep - 1] != '\n') keep--;
    CHECK(write_file(last, saved, keep));
    OK(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &report));
    CHECK(report.records == 11 && !report.closed && !report.incomplete_tail);
    CHECK(write_file(last, saved, keep + 5));
    OK(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &report));
    CHECK(report.records == 11 && !report.closed && report.incomplete_tail);
    CHECK(write_file(last, saved, saved_len));
    OK(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &report));
    CHECK(report.closed);
  }

  /* Another key does not verify the checkpoints; a missing directory is a storage error,
   * and so is a directory without a log. */
  unsigned char other[32];
  memset(other, 8, sizeof other);
  CHECK_STATUS(kp_audit_verify(log_dir, strlen(log_dir), other, sizeof other, &report),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK(report.broken_line > 0 && strstr(kp_last_error_message(), "MAC") != NULL);
  CHECK_STATUS(kp_audit_verify(S("/nonexistent/keyplane"), key, sizeof key, &report),
               KP_ERR_STORAGE);
  CHECK_STATUS(kp_audit_verify(dir, strlen(dir), key, sizeof key, &report), KP_ERR_STORAGE);
  kp_audit_file missing = {S("/nonexistent/keyplane/audit-000001.jsonl")};
  CHECK_STATUS(kp_audit_verify_files(&missing, 1, key, sizeof key, &report), KP_ERR_STORAGE);
  CHECK(report.broken_file == 0 && report.broken_line == 0);

  char command[192];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  CHECK(system(command) == 0);
}

/* A log that can no longer be written counts failures; the keyring goes on. */
static void test_failures(void) {
  char dir[] = "/tmp/keyplane-c-audit-fail-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  unsigned char key[32];
  memset(key, 7, sizeof key);
  kp_audit_options a;
  memset(&a, 0, sizeof a);
  a.log_dir = dir;
  a.log_dir_len = strlen(dir);
  a.audit_key = key;
  a.audit_key_len = sizeof key;
  a.max_file_bytes = 1; /* a new file after every line */
  kp_keyring *ring = NULL;
  OK(audited(&a, &ring));
  create(ring, "k");
  OK(kp_keyring_flush_audit(ring));
  char command[128];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  CHECK(system(command) == 0);
  unsigned char out[16];
  size_t len = 0;
  OK(kp_generate_random(ring, 8, out, sizeof out, &len));
  OK(kp_keyring_flush_audit(ring));
  CHECK(kp_keyring_audit_failures(ring) > 0);
  kp_keyring_free(&ring);
}

static void test_bad_input(void) {
  int calls = 0;
  kp_audit_options a = callback_options(&calls);
  kp_keyring *ring = NULL;
  a.context_logging = 3;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_INPUT);
  a.context_logging = KP_CONTEXT_LOGGING_NONE;
  a.back_pressure = 7;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_INPUT);
  a.back_pressure = KP_BACK_PRESSURE_DROP;
  a.log_dir = "/tmp/x";
  a.log_dir_len = 6;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_INPUT);
  a = callback_options(&calls);
  a.checkpoint_every = 5;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_INPUT);
  a = callback_options(&calls);
  a.max_file_bytes = 5;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_INPUT);
  unsigned char key32[32] = {0};
  a = callback_options(&calls);
  a.audit_key = key32;
  a.audit_key_len = sizeof key32;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_INPUT);
  a = callback_options(&calls);
  a.log_dir = NULL;
  a.log_dir_len = 4;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_NULL_ARGUMENT);
  memset(&a, 0, sizeof a);
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_INPUT);
  a.log_dir = "/tmp/keyplane-c-audit-no-key";
  a.log_dir_len = strlen(a.log_dir);
  a.audit_key_len = 32;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_NULL_ARGUMENT);
  unsigned char short_key[16] = {0};
  a.audit_key = short_key;
  a.audit_key_len = sizeof short_key;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_INPUT);
  a.log_dir = "\xff\xfe";
  a.log_dir_len = 2;
  CHECK_STATUS(audited(&a, &ring), KP_ERR_INVALID_UTF8);
  CHECK(ring == NULL);

  a = callback_options(&calls);
  OK(audited(&a, &ring));
  kp_keyring *other = NULL;
  CHECK_STATUS(kp_keyring_with_caller(NULL, S("x"), &other), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_with_caller(ring, NULL, 3, &other), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_with_caller(ring, "\xff\xfe", 2, &other), KP_ERR_INVALID_UTF8);
  CHECK_STATUS(kp_keyring_with_caller(ring, S("x"), NULL), KP_ERR_NULL_ARGUMENT);
  CHECK(other == NULL);
  CHECK_STATUS(kp_keyring_flush_audit(NULL), KP_ERR_NULL_ARGUMENT);
  CHECK(kp_keyring_audit_dropped(NULL) == 0);
  CHECK(kp_keyring_audit_failures(NULL) == 0);

  kp_key_last_usage *u = NULL;
  create(ring, "k");
  CHECK_STATUS(kp_keyring_key_last_usage(NULL, S("k"), &u), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_key_last_usage(ring, NULL, 1, &u), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_key_last_usage(ring, NULL, 0, &u), KP_ERR_NOT_FOUND);
  CHECK_STATUS(kp_keyring_key_last_usage(ring, "\xff", 1, &u), KP_ERR_INVALID_UTF8);
  CHECK_STATUS(kp_keyring_key_last_usage(ring, S("k"), NULL), KP_ERR_NULL_ARGUMENT);
  CHECK(u == NULL);
  CHECK(kp_key_last_usage_last_used_unix_nanos(NULL) == 0);
  CHECK(kp_str_eq(kp_key_last_usage_last_operation(NULL), ""));
  CHECK(kp_key_last_usage_operation_count(NULL) == 0);
  CHECK(kp_str_eq(kp_key_last_usage_operation(NULL, 0), ""));
  CHECK(kp_key_last_usage_uses(NULL, 0) == 0);
  kp_key_last_usage_free(NULL);

  kp_audit_report report;
  unsigned char key[32] = {0};
  CHECK_STATUS(kp_audit_verify(NULL, 4, key, 32, &report), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_audit_verify(NULL, 0, key, 32, &report), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_audit_verify(S("/tmp"), key, 31, &report), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_audit_verify(S("/tmp"), NULL, 32, &report), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_audit_verify(S("/tmp"), key, 32, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_audit_verify("\xff", 1, key, 32, &report), KP_ERR_INVALID_UTF8);
  kp_audit_file files[2] = {{S("/tmp/a")}, {NULL, 3}};
  CHECK_STATUS(kp_audit_verify_files(NULL, 0, key, 32, &report), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_audit_verify_files(NULL, 2, key, 32, &report), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_audit_verify_files(files, 2, key, 32, &report), KP_ERR_NULL_ARGUMENT);
  files[1].path = "";
  files[1].path_len = 0;
  CHECK_STATUS(kp_audit_verify_files(files, 2, key, 32, &report), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_audit_verify_files(files, 1, key, 16, &report), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_audit_verify_files(files, 1, key, 32, NULL), KP_ERR_NULL_ARGUMENT);
  kp_keyring_free(&ring);

  /* A keyring without audit: flushing does nothing, counters are 0, no usage is kept. */
  OK(kp_keyring_new(&ring));
  OK(kp_keyring_flush_audit(ring));
  CHECK(kp_keyring_audit_dropped(ring) == 0 && kp_keyring_audit_failures(ring) == 0);
  create(ring, "plain");
  CHECK_STATUS(kp_keyring_key_last_usage(ring, S("plain"), &u), KP_ERR_INVALID_INPUT);
  kp_keyring_free(&ring);
}

int main(void) {
  test_callback();
  test_flush_from_callback();
  test_drop();
  test_file_log();
  test_failures();
  test_bad_input();
  return kp_summary("test_audit");
}
