/* fork() while another thread is changing keys, as a pre-forking server (or a multiprocessing
 * pool) does to a process that already serves: a thread creates and rotates keys, creates and
 * deletes aliases, disables and enables keys, and encrypts under a tiny budget (so that
 * rotations also happen inside encrypt), while the main thread forks 200 times. Each child
 * encrypts and decrypts once through an alias with the keyring it inherited (the key and alias
 * maps), encrypts once under the budget-rotated key (that key's lock, and a rotation inside
 * encrypt when its budget is spent) and _exits; the parent waits for each child with a bounded
 * wait and kills one that hangs (a lock held by the working thread at the fork would never be
 * released in the child, which has no such thread). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kp_test.h"

static kp_keyring *ring;
static atomic_bool stop;
static atomic_long rounds;
static const uint8_t MSG[] = "forked";

/* The most versions the working thread adds by itself, so that memory stays bounded however
 * long the forks take; disabling, enabling and aliases go on without bound. */
enum { MAX_ROTATIONS = 4000, MAX_CREATED = 4000, MAX_BUDGET_ENCRYPTIONS = 50000 };

static void create(const char *id) {
  kp_create_key_options o;
  memset(&o, 0, sizeof o);
  o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
  o.key_id = id;
  o.key_id_len = strlen(id);
  OK(kp_create_key(ring, &o, NULL));
}

static void *work(void *arg) {
  (void)arg;
  unsigned char out[128];
  size_t n = 0;
  long failures = 0;
  for (long i = 0; !atomic_load(&stop); i++) {
    if (i < MAX_ROTATIONS && kp_rotate_key(ring, S("spin"), NULL) != KP_OK) failures++;
    if (i < MAX_CREATED) {
      char id[32];
      snprintf(id, sizeof id, "made-%ld", i);
      kp_create_key_options o;
      memset(&o, 0, sizeof o);
      o.key_spec = KP_KEY_SPEC_SYMMETRIC_DEFAULT;
      o.key_id = id;
      o.key_id_len = strlen(id);
      if (kp_create_key(ring, &o, NULL) != KP_OK) failures++;
    }
    if (kp_disable_key(ring, S("toggle")) != KP_OK) failures++;
    if (kp_enable_key(ring, S("toggle")) != KP_OK) failures++;
    if (kp_create_alias(ring, S("alias/moving"), S("spin")) != KP_OK) failures++;
    if (kp_delete_alias(ring, S("alias/moving")) != KP_OK) failures++;
    for (int j = 0; j < 8 && i * 8 + j < MAX_BUDGET_ENCRYPTIONS; j++) {
      if (kp_encrypt(ring, S("budget"), MSG, sizeof MSG, NULL, 0, out, sizeof out, &n) != KP_OK) {
        failures++;
      }
    }
    atomic_fetch_add(&rounds, 1);
  }
  return (void *)(intptr_t)failures;
}

/* The child: one encryption through an alias and its decryption, one encryption under the
 * key the worker spends, with the inherited keyring. */
static int child(void) {
  unsigned char blob[128], plain[64];
  size_t blob_len = 0, plain_len = 0;
  if (kp_encrypt(ring, S("budget"), MSG, sizeof MSG, NULL, 0, blob, sizeof blob, &blob_len) !=
      KP_OK) {
    return 5;
  }
  if (kp_encrypt(ring, S("alias/child"), MSG, sizeof MSG, NULL, 0, blob, sizeof blob,
                 &blob_len) != KP_OK) {
    return 2;
  }
  if (kp_decrypt(ring, blob, blob_len, NULL, 0, plain, sizeof plain, &plain_len) != KP_OK) {
    return 3;
  }
  return plain_len == sizeof MSG && memcmp(plain, MSG, sizeof MSG) == 0 ? 0 : 4;
}

/* Waits up to `seconds` for `pid`; kills it if it is still running then. Returns 0 once it
 * has ended, or -1 if it hung and was killed. */
static int wait_bounded(pid_t pid, int seconds) {
  const struct timespec tick = {0, 5 * 1000 * 1000};
  for (long waited = 0; waited < (long)seconds * 200; waited++) {
    pid_t done = waitpid(pid, NULL, WNOHANG);
    if (done == pid) return 0;
    if (done < 0 && errno != EINTR) return -2;
    nanosleep(&tick, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

/* Forks a child that runs `child()` and sends its result through a pipe: its exit status is
 * not used, because the child has the parent's heap but not the worker thread, whose stack
 * held pointers into it, so a leak check at the child's exit (valgrind follows forks; the
 * script runs this test with --child-silent-after-fork=yes) would only report that. Returns
 * the child's result, 100 if it died without one, -1 if it hung. */
static int run_child(void) {
  int fds[2];
  if (pipe(fds) != 0) return 101;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return 102;
  if (pid == 0) {
    close(fds[0]);
    unsigned char result = (unsigned char)child();
    ssize_t written = write(fds[1], &result, 1);
    _exit(written == 1 ? 0 : 1);
  }
  close(fds[1]);
  int waited = wait_bounded(pid, 60);
  unsigned char result = 100;
  ssize_t got = read(fds[0], &result, 1);
  close(fds[0]);
  if (waited != 0) return -1;
  return got == 1 ? result : 100;
}

int main(void) {
  /* 200 forks; 20 under valgrind, where each child takes about two seconds. */
  const char *env = getenv("KEYPLANE_TEST_FORKS");
  int forks = env != NULL ? atoi(env) : getenv("KEYPLANE_TEST_UNDER_VALGRIND") != NULL ? 20 : 200;
  if (forks <= 0) forks = 200;

  kp_keyring_options options;
  memset(&options, 0, sizeof options);
  options.encryption_budget = 16; /* "budget" rotates inside encrypt every 16 encryptions */
  OK(kp_keyring_new_with_options(&options, &ring));
  create("spin");
  create("toggle");
  create("budget");
  create("child");
  OK(kp_create_alias(ring, S("alias/child"), S("child")));

  pthread_t worker;
  CHECK(pthread_create(&worker, NULL, work, NULL) == 0);
  /* Fork only once the worker is running: wait for its first rounds (bounded). */
  const struct timespec tick = {0, 1000 * 1000};
  for (int i = 0; i < 60000 && atomic_load(&rounds) < 10; i++) nanosleep(&tick, NULL);
  CHECK(atomic_load(&rounds) >= 10);

  int hung = 0, failed = 0, done = 0;
  for (int i = 0; i < forks && hung < 3; i++) {
    int code = run_child();
    done++;
    if (code == -1) {
      hung++;
      fprintf(stderr, "fork %d: the child hung and was killed\n", i);
    } else if (code != 0) {
      failed++;
      fprintf(stderr, "fork %d: the child failed (code %d)\n", i, code);
    }
  }
  atomic_store(&stop, true);
  void *worker_failures = NULL;
  CHECK(pthread_join(worker, &worker_failures) == 0);
  CHECK(worker_failures == NULL);
  printf("%d forks while the worker ran %ld rounds: %d hung, %d failed\n", done,
         atomic_load(&rounds), hung, failed);
  CHECK(done == forks);
  CHECK(hung == 0);
  CHECK(failed == 0);
  /* The parent's keyring is whole: the worker's keys still work. */
  unsigned char blob[128];
  size_t n = 0;
  OK(kp_encrypt(ring, S("spin"), MSG, sizeof MSG, NULL, 0, blob, sizeof blob, &n));
  kp_keyring_free(&ring);
  return kp_summary("test_fork");
}
