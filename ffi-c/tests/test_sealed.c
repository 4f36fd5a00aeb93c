/* Sealed key records through the C ABI: a key exported under a root key imports into another
 * keyring with the same id and versions (old blobs decrypt there), a record's clear header is
 * inspected, a record moves to a new root, and tampered, truncated and wrong-root records,
 * short buffers and NULLs are refused. */
#include <stdlib.h>

#include "kp_test.h"

static kp_root_key *root_from(const char *id, unsigned char fill) {
  unsigned char material[32];
  memset(material, fill, sizeof material);
  kp_root_key *root = NULL;
  OK(kp_root_key_new(S(id), material, sizeof material, &root));
  return root;
}

static void test_round_trip(void) {
  kp_keyring *a = NULL, *b = NULL;
  OK(kp_keyring_new(&a));
  OK(kp_keyring_new(&b));
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = "backed-up";
  o.key_id_len = strlen(o.key_id);
  o.alias = "alias/backup";
  o.alias_len = strlen(o.alias);
  OK(kp_create_key(a, &o, NULL));
  unsigned char blob1[256], blob2[256], plain[64];
  size_t blob1_len = 0, blob2_len = 0, plain_len = 0;
  OK(kp_encrypt(a, S("backed-up"), (const uint8_t *)"one", 3, NULL, 0, blob1, sizeof blob1,
                &blob1_len));
  uint32_t version = 0;
  OK(kp_rotate_key(a, S("backed-up"), &version));
  CHECK(version == 2);
  OK(kp_encrypt(a, S("alias/backup"), (const uint8_t *)"two", 3, NULL, 0, blob2, sizeof blob2,
                &blob2_len));

  kp_root_key *root = root_from("c-root", 1);
  size_t needed = 0;
  CHECK_STATUS(kp_export_sealed(a, S("backed-up"), root, NULL, 0, &needed),
               KP_ERR_BUFFER_TOO_SMALL);
  CHECK(needed > 100);
  unsigned char *record = malloc(needed);
  size_t record_len = 0;
  OK(kp_export_sealed(a, S("alias/backup"), root, record, needed, &record_len));
  CHECK(record_len == needed);

  /* The clear header names the key and the root, without any key. */
  kp_sealed_record_info info;
  memset(&info, 0x55, sizeof info);
  OK(kp_sealed_inspect(record, record_len, &info));
  CHECK(info.format == 1);
  CHECK(info.key_id_len == 9 && strcmp(info.key_id, "backed-up") == 0);
  CHECK(info.root_id_len == 6 && strcmp(info.root_id, "c-root") == 0);

  kp_key_metadata *m = NULL;
  OK(kp_import_sealed(b, record, record_len, root, &m));
  CHECK(kp_str_eq(kp_key_metadata_key_id(m), "backed-up"));
  CHECK(kp_key_metadata_current_version(m) == 2);
  CHECK(kp_key_metadata_alias_count(m) == 1);
  kp_key_metadata_free(&m);
  OK(kp_decrypt(b, blob1, blob1_len, NULL, 0, plain, sizeof plain, &plain_len));
  CHECK(plain_len == 3 && memcmp(plain, "one", 3) == 0);
  OK(kp_decrypt(b, blob2, blob2_len, NULL, 0, plain, sizeof plain, &plain_len));
  CHECK(plain_len == 3 && memcmp(plain, "two", 3) == 0);
  CHECK_STATUS(kp_import_sealed(b, record, record_len, root, NULL), KP_ERR_ALREADY_EXISTS);

  /* Root rotation: the record moves to a new root; the old root no longer opens it. */
  unsigned char fresh[32];
  size_t fresh_len = 0;
  OK(kp_root_key_generate_material(fresh, sizeof fresh, &fresh_len));
  CHECK(fresh_len == 32 && !all_zero(fresh, 32));
  kp_root_key *next = NULL;
  OK(kp_root_key_new(S("c-root-2"), fresh, sizeof fresh, &next));
  size_t moved_len = 0;
  CHECK_STATUS(kp_reseal(record, record_len, root, next, NULL, 0, &moved_len),
               KP_ERR_BUFFER_TOO_SMALL);
  size_t moved_needed = moved_len;
  CHECK(moved_needed > 100);
  unsigned char *moved = malloc(moved_needed + 64);
  memset(moved, 0xaa, moved_needed + 64);
  CHECK_STATUS(kp_reseal(record, record_len, root, next, moved, moved_needed - 1, &moved_len),
               KP_ERR_BUFFER_TOO_SMALL);
  CHECK(moved_len == moved_needed && all_zero(moved, moved_needed - 1));
  CHECK(moved[moved_needed - 1] == 0xaa);
  OK(kp_reseal(record, record_len, root, next, moved, moved_needed + 64, &moved_len));
  CHECK(moved_len == moved_needed);
  OK(kp_sealed_inspect(moved, moved_len, &info));
  CHECK(strcmp(info.key_id, "backed-up") == 0 && strcmp(info.root_id, "c-root-2") == 0);
  kp_keyring *c = NULL;
  OK(kp_keyring_new(&c));
  CHECK_STATUS(kp_import_sealed(c, moved, moved_len, root, NULL), KP_ERR_INVALID_INPUT);
  OK(kp_import_sealed(c, moved, moved_len, next, NULL));
  OK(kp_decrypt(c, blob1, blob1_len, NULL, 0, plain, sizeof plain, &plain_len));

  /* Tampered, truncated, same-id wrong root, and not a record at all. */
  kp_keyring *d = NULL;
  OK(kp_keyring_new(&d));
  record[record_len - 1] ^= 1;
  CHECK_STATUS(kp_import_sealed(d, record, record_len, root, NULL), KP_ERR_INVALID_CIPHERTEXT);
  record[record_len - 1] ^= 1;
  CHECK_STATUS(kp_import_sealed(d, record, record_len - 20, root, NULL),
               KP_ERR_INVALID_CIPHERTEXT);
  kp_root_key *impostor = root_from("c-root", 2);
  CHECK_STATUS(kp_import_sealed(d, record, record_len, impostor, NULL),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK_STATUS(kp_import_sealed(d, (const uint8_t *)"nonsense", 8, root, NULL),
               KP_ERR_INVALID_INPUT);
  /* Reseal refuses what import refuses: a tampered record, the wrong root. */
  size_t tmp_len = 0;
  record[record_len - 1] ^= 1;
  CHECK_STATUS(kp_reseal(record, record_len, root, next, moved, moved_needed + 64, &tmp_len),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK(tmp_len == 0 && all_zero(moved, moved_needed + 64));
  record[record_len - 1] ^= 1;
  CHECK_STATUS(kp_reseal(record, record_len, impostor, next, moved, moved_needed + 64, &tmp_len),
               KP_ERR_INVALID_CIPHERTEXT);
  CHECK_STATUS(kp_reseal(record, record_len, next, root, moved, moved_needed + 64, &tmp_len),
               KP_ERR_INVALID_INPUT);
  /* Inspection reads the clear header only: a tampered body still inspects. */
  record[record_len - 1] ^= 1;
  OK(kp_sealed_inspect(record, record_len, &info));
  record[record_len - 1] ^= 1;
  OK(kp_import_sealed(d, record, record_len, root, NULL));

  free(record);
  free(moved);
  kp_root_key_free(&root);
  kp_root_key_free(&next);
  kp_root_key_free(&impostor);
  CHECK(root == NULL && next == NULL);
  kp_keyring_free(&a);
  kp_keyring_free(&b);
  kp_keyring_free(&c);
  kp_keyring_free(&d);
}

static void test_bad_input(void) {
  unsigned char material[32] = {0};
  kp_root_key *root = NULL;
  CHECK_STATUS(kp_root_key_new(S(""), material, 32, &root), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_root_key_new(S("r"), material, 31, &root), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_root_key_new(S("r"), NULL, 32, &root), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_root_key_new("\xff", 1, material, 32, &root), KP_ERR_INVALID_UTF8);
  CHECK_STATUS(kp_root_key_new(S("r"), material, 32, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK(root == NULL);
  size_t len = 0;
  unsigned char small[8];
  CHECK_STATUS(kp_root_key_generate_material(small, sizeof small, &len), KP_ERR_BUFFER_TOO_SMALL);
  CHECK(len == 32 && all_zero(small, sizeof small));

  OK(kp_root_key_new(S("r"), material, 32, &root));
  kp_keyring *ring = NULL;
  OK(kp_keyring_new(&ring));
  unsigned char out[64];
  memset(out, 0xee, sizeof out);
  CHECK_STATUS(kp_export_sealed(ring, S("missing"), root, out, sizeof out, &len),
               KP_ERR_NOT_FOUND);
  CHECK(all_zero(out, sizeof out)); /* a failure zeroes the output */
  memset(out, 0xee, sizeof out);
  CHECK_STATUS(kp_reseal((const uint8_t *)"nonsense", 8, root, root, out, sizeof out, &len),
               KP_ERR_INVALID_INPUT);
  CHECK(all_zero(out, sizeof out));
  CHECK_STATUS(kp_export_sealed(NULL, S("missing"), root, out, sizeof out, &len),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_export_sealed(ring, S("missing"), NULL, out, sizeof out, &len),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_sealed(ring, NULL, 10, root, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_sealed(ring, NULL, 0, root, NULL), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_reseal(NULL, 0, root, root, out, sizeof out, &len), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_reseal((const uint8_t *)"x", 1, root, NULL, out, sizeof out, &len),
               KP_ERR_NULL_ARGUMENT);
  kp_sealed_record_info info;
  CHECK_STATUS(kp_sealed_inspect(NULL, 10, &info), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_sealed_inspect(NULL, 0, &info), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_sealed_inspect((const uint8_t *)"KPSR", 4, &info), KP_ERR_INVALID_INPUT);
  CHECK_STATUS(kp_sealed_inspect((const uint8_t *)"nonsense", 8, &info), KP_ERR_INVALID_INPUT);
  CHECK(info.key_id_len == 0 && info.key_id[0] == '\0');
  CHECK_STATUS(kp_sealed_inspect((const uint8_t *)"x", 1, NULL), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_reseal((const uint8_t *)"x", 1, NULL, root, out, sizeof out, &len),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_reseal(NULL, 5, root, root, out, sizeof out, &len), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_reseal((const uint8_t *)"x", 1, root, root, out, sizeof out, NULL),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_export_sealed(ring, NULL, 3, root, out, sizeof out, &len),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_export_sealed(ring, S("missing"), root, NULL, 8, &len), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_sealed(NULL, (const uint8_t *)"x", 1, root, NULL),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_import_sealed(ring, (const uint8_t *)"x", 1, NULL, NULL),
               KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_root_key_generate_material(NULL, 32, &len), KP_ERR_NULL_ARGUMENT);
  CHECK_STATUS(kp_root_key_generate_material(small, sizeof small, NULL), KP_ERR_NULL_ARGUMENT);
  kp_root_key_free(&root);
  kp_root_key_free(&root); /* a second free is a no-op */
  kp_root_key_free(NULL);
  kp_keyring_free(&ring);
}

int main(void) {
  test_round_trip();
  test_bad_input();
  return kp_summary("test_sealed");
}
