#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keyplane.h>

/* Prints the failure and exits; real code would handle the status. */
static void check(kp_status status, const char *what) {
  if (status != KP_OK) {
    fprintf(stderr, "%s: %s (%s)\n", what, kp_status_str(status), kp_last_error_message());
    exit(1);
  }
}

int main(void) {
  kp_keyring *ring = NULL;
  check(kp_keyring_new(&ring), "kp_keyring_new");

  /* A symmetric key with an alias; zero-initialized options are the defaults. */
  kp_create_key_options options = {0};
  options.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  options.alias = "alias/orders";
  options.alias_len = strlen(options.alias);
  kp_key_metadata *metadata = NULL;
  check(kp_create_key(ring, &options, &metadata), "kp_create_key");
  kp_str key_id = kp_key_metadata_key_id(metadata);
  printf("created key %s\n", key_id.data);

  /* Encrypt under an encryption context: ask for the size, then encrypt into a buffer. */
  const kp_context_entry context[] = {{"tenant", 6, "acme", 4}};
  const uint8_t plaintext[] = "card 4111";
  size_t blob_len = 0;
  kp_status status = kp_encrypt(ring, "alias/orders", 12, plaintext, 9, context, 1, NULL, 0,
                                &blob_len);
  if (status != KP_ERR_BUFFER_TOO_SMALL) check(status, "size query");
  uint8_t *blob = malloc(blob_len);
  check(kp_encrypt(ring, "alias/orders", 12, plaintext, 9, context, 1, blob, blob_len, &blob_len),
        "kp_encrypt");

  /* Decrypt: the blob names its key; the context must be the same. */
  uint8_t out[64];
  size_t out_len = 0;
  check(kp_decrypt(ring, blob, blob_len, context, 1, out, sizeof out, &out_len), "kp_decrypt");
  printf("decrypted \"%.*s\"\n", (int)out_len, (const char *)out);

  /* A wrong context is refused, with one error for every cause, and out is left zeroed. */
  const kp_context_entry wrong[] = {{"tenant", 6, "globex", 6}};
  status = kp_decrypt(ring, blob, blob_len, wrong, 1, out, sizeof out, &out_len);
  printf("wrong context: %s\n", kp_status_str(status));

  free(blob);
  kp_key_metadata_free(&metadata);
  kp_keyring_free(&ring);
  return status == KP_ERR_INVALID_CIPHERTEXT ? 0 : 1;
}
