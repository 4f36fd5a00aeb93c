/* The embedded store through the C ABI: keys survive a reopen, one open at a time, a damaged
 * record is named while the other keys load (and its id stays taken), a store-backed keyring
 * with an audit trail, and bad input. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdlib.h>
#include <unistd.h>

#include "kp_test.h"

static char dir[] = "/tmp/keyplane-c-store-XXXXXX";

static void create(kp_keyring *ring, const char *id, kp_status expected) {
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = id;
  o.key_id_len = strlen(id);
  CHECK_STATUS(kp_create_key(ring, &o, NULL), expected);
}

static void test_store(kp_root_key *root) {
  size_t problems = 99;
  kp_keyring *ring = NULL;
  OK(kp_keyring_open(NULL, S(dir), root, &ring, &problems));
  CHECK(problems == 0 && kp_keyring_load_problem_count(ring) == 0);
  create(ring, "one", KP_OK);
  create(ring, "two", KP_OK);
  unsigned char blob[256], plain[64];
  size_t blob_len = 0, plain_len = 0;
  OK(kp_encrypt(ring, S("two"), (const uint8_t *)"kept", 4, NULL, 0, blob, sizeof blob,
                &blob_len));

  /* One open at a time. */
  kp_keyring *second = NULL;
  CHECK_STATUS(kp_keyring_open(NULL, S(dir), root, &second, NULL), KP_ERR_STORAGE);
  CHECK(second == NULL);
  kp_keyring_free(&ring);

  /* Damage key "one"'s record (hex file name): it is named, "two" still loads. */
  char path[128];
  snprintf(path, sizeof path, "%s/keys/6f6e65.kpr", dir);
  FILE *f = fopen(path, "r+");
  CHECK(f != NULL);
  if (f != NULL) {
    fseek(f, -5, SEEK_END);
    int c = fgetc(f);
    fseek(f, -5, SEEK_END);
    fputc(c ^ 1, f);
    fclose(f);
  }
  OK(kp_keyring_open(NULL, S(dir), root, &ring, &problems));
  CHECK(problems == 1 && kp_keyring_load_problem_count(ring) == 1);
  kp_str where;
  kp_status why = KP_OK;
  OK(kp_keyring_load_problem(ring, 0, &where, &why));
  CHECK(strcmp(where.data, path) == 0 && where.len == strlen(path));
  CHECK(why == KP_ERR_INVALID_CIPHERTEXT);
  CHECK_STATUS(kp_keyring_load_problem(ring, 1, &where, &why), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_keyring_load_problem(ring, 0, NULL, &why), KP_ERR_NULL_ARGUMENT);
  OK(kp_decrypt(ring, blob, blob_len, NULL, 0, plain, sizeof plain, &plain_len));
  CHECK(plain_len == 4 && memcmp(plain, "kept", 4) == 0);
  /* The damaged key's id stays taken, so its record is never overwritten. */
  create(ring, "one", KP_ERR_ALREADY_EXISTS);
  /* A handle made with a caller sees the same problems. */
  kp_keyring *billing = NULL;
  OK(kp_keyring_with_caller(ring, S("billing"), &billing));
  OK(kp_keyring_load_problem(billing, 0, &where, &why));
  CHECK(kp_keyring_load_problem_count(billing) == 1);
  kp_keyring_free(&billing);
  kp_keyring_free(&ring);

  /* Another root key opens none of the records. */
  unsigned char other[32];
  memset(other, 9, sizeof other);
  kp_root_key *wrong = NULL;
  OK(kp_root_key_new(S("c-store-root"), other, sizeof other, &wrong));
  OK(kp_keyring_open(NULL, S(dir), wrong, &ring, &problems));
  CHECK(problems == 2);
  kp_keyring_free(&ring);
  kp_root_key_free(&wrong);
}

static int events;
static char first_operation[32];

static void on_event(const kp_audit_event *e, void *user_data) {
  (void)user_data;
  if (events++ == 0) {
    size_t n = e->operation.len < 31 ? e->operation.len : 31;
    memcpy(first_operation, e->operation.data, n);
    first_operation[n] = '\0';
  }
}

/* A store-backed keyring with an audit trail: loading is not audited, what follows is; bad
 * audit options fail the open and leave the store free. */
static void test_audited_store(kp_root_key *root) {
  char audited_dir[] = "/tmp/keyplane-c-store-audit-XXXXXX";
  CHECK(mkdtemp(audited_dir) != NULL);
  kp_audit_options a;
  memset(&a, 0, sizeof a);
  a.callback = on_event;
  kp_keyring_options o;
  memset(&o, 0, sizeof o);
  o.audit = &a;
  kp_keyring *ring = NULL;
  OK(kp_keyring_open(&o, S(audited_dir), root, &ring, NULL));
  create(ring, "audited-key", KP_OK);
  OK(kp_keyring_flush_audit(ring));
  CHECK(events == 1 && strcmp(first_operation, "CreateKey") == 0);
  kp_keyring_free(&ring);

  events = 0;
  OK(kp_keyring_open(&o, S(audited_dir), root, &ring, NULL));
  OK(kp_keyring_flush_audit(ring));
  CHECK(events == 0);
  kp_key_metadata *m = NULL;
  OK(kp_describe_key(ring, S("audited-key"), &m));
  kp_key_metadata_free(&m);
  OK(kp_keyring_flush_audit(ring));
  CHECK(events == 1 && strcmp(first_operation, "DescribeKey") == 0);
  kp_keyring_free(&ring);

  a.back_pressure = 9;
  CHECK_STATUS(kp_keyring_open(&o, S(audited_dir), root, &ring, NULL), KP_ERR_INVALID_INPUT);
  CHECK(ring == NULL);
  a.back_pressure = KP_BACK_PRESSURE_BLOCK;
  /* A log directory that already holds a log. */
  char log_dir[128];
  snprintf(log_dir, sizeof log_dir, "%s/log", audited_dir);
  unsigned char key[32];
  memset(key, 1, sizeof key);
  kp_audit_options file_audit;
  memset(&file_audit, 0, sizeof file_audit);
  file_audit.log_dir = log_dir;
  file_audit.log_dir_len = strlen(log_dir);
  file_audit.audit_key = key;
  file_audit.audit_key_len = sizeof key;
  o.audit = &file_audit;
  OK(kp_keyring_open(&o, S(audited_dir), root, &ring, NULL));
  create(ring, "logged-key", KP_OK);
  kp_keyring_free(&ring);
  CHECK_STATUS(kp_keyring_open(&o, S(audited_dir), root, &ring, NULL), KP_ERR_STORAGE);
  kp_audit_report report;
  OK(kp_audit_verify(log_dir, strlen(log_dir), key, sizeof key, &report));
  CHECK(report.records == 1 && report.closed);
  /* The failed opens left the store unlocked. */
  size_t problems = 9;
  OK(kp_keyring_open(NULL, S(audited_dir), root, &ring, &problems));
  CHECK(problems == 0);
  kp_string_list *ids = NULL;
  OK(kp_list_keys(ring, &ids));
  CHECK(kp_string_list_count(ids) == 2);
  kp_string_list_free(&ids);
  kp_keyring_free(&ring);
  char command[96];
  snprintf(command, sizeof command, "rm -rf '%s'", audited_dir);
  CHECK(system(command) == 0);
}

static void test_bad_input(kp_root_key *root) {
  kp_keyring *ring = NULL;
  CHECK_STATUS(kp_keyring_open(NULL, S(dir), NULL, &ring, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_open(NULL, NULL, 5, root, &ring, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_open(NULL, NULL, 0, root, &ring, NULL), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_keyring_open(NULL, "\xff\xfe", 2, root, &ring, NULL), KP_ERR_INVALID_UTF8);
  CHECK_STATUS(kp_keyring_open(NULL, S(dir), root, NULL, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_keyring_open(NULL, S("/proc/keyplane-cannot-be-here"), root, &ring, NULL),
               KP_ERR_STORAGE);
  CHECK(ring == NULL);
  kp_str where;
  kp_status why;
  CHECK_STATUS(kp_keyring_load_problem(NULL, 0, &where, &why), KP_ERR_NULL_ARGUMENT);
  CHECK(kp_keyring_load_problem_count(NULL) == 0);
  OK(kp_keyring_new(&ring));
  CHECK(kp_keyring_load_problem_count(ring) == 0);
  CHECK_STATUS(kp_keyring_load_problem(ring, 0, &where, &why), KP_ERR_INVALID_INPUT);
  kp_keyring_free(&ring);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL);
  unsigned char material[32];
  memset(material, 4, sizeof material);
  kp_root_key *root = NULL;
  OK(kp_root_key_new(S("c-store-root"), material, sizeof material, &root));
  test_store(root);
  test_audited_store(root);
  test_bad_input(root);
  kp_root_key_free(&root);
  char command[96];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  CHECK(system(command) == 0);
  return kp_summary("test_store");
}
