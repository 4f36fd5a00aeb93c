// The C++17 wrapper (keyplane.hpp): RAII handles, views in, vectors out, exceptions.
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "keyplane.hpp"

static int passed, failed;
#define CHECK(cond)                                                               \
  do {                                                                            \
    if (cond) {                                                                   \
      passed++;                                                                   \
    } else {                                                                      \
      failed++;                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                             \
  } while (0)

template <class F>
static kp_status status_of(F &&f) {
  try {
    f();
  } catch (const keyplane::error &e) {
    return e.status();
  }
  return KP_OK;
}

int main() {
  using namespace keyplane;
  // The module's status, as kp_fips_mode / kp_fips_module say it.
  CHECK(fips_mode() == (kp_fips_mode() == 1));
  CHECK(fips_module().substr(0, 7) == "AWS-LC ");
  CHECK((fips_module().find("FIPS") != std::string_view::npos) == fips_mode());

  keyring ring;
  key_metadata meta = ring.create_key({KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT,
                                       "orders", "orders table", "alias/orders", 365, 0, false});
  CHECK(meta.key_id() == "orders");
  CHECK(meta.description() == "orders table");
  CHECK(meta.aliases().size() == 1 && meta.aliases()[0] == "alias/orders");
  CHECK(meta.key_state() == KP_KEY_STATE_ENABLED);
  CHECK(meta.versions().size() == 1);

  const context ctx{{"tenant", "acme"}, {"table", "orders"}};
  bytes blob = ring.encrypt("alias/orders", "card 4111", ctx);
  secret_bytes plain = ring.decrypt(blob, ctx);
  CHECK(std::string(plain.begin(), plain.end()) == "card 4111");
  CHECK(ring.decrypt(ring.encrypt("orders", "")).empty());

  // Contexts from a map, copied and moved.
  std::map<std::string, std::string> m{{"tenant", "acme"}, {"table", "orders"}};
  context from_map = context::from(m);
  context moved = std::move(from_map);
  CHECK(ring.decrypt(blob, moved).size() == 9);

  // Errors are exceptions carrying the status and code.
  try {
    ring.decrypt(blob, context{{"tenant", "globex"}});
    CHECK(false);
  } catch (const error &e) {
    CHECK(e.status() == KP_ERR_INVALID_CIPHERTEXT);
    CHECK(std::string(e.code()) == "KP_INVALID_CIPHERTEXT");
    CHECK(std::string(e.what()).find("invalid ciphertext") != std::string::npos);
  }
  CHECK(status_of([&] { ring.encrypt("missing", "x"); }) == KP_ERR_NOT_FOUND);
  CHECK(status_of([&] { ring.describe_key(std::string_view("\xff", 1)); }) == KP_ERR_INVALID_UTF8);
  CHECK(status_of([&] { ring.generate_random(0); }) == KP_ERR_INVALID_INPUT);

  // Rotation and re-encryption.
  CHECK(ring.rotate_key("orders") == 2);
  ring.create_key({KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT, "archive", "", "", 0, 0,
                   false});
  bytes moved_blob = ring.re_encrypt(blob, ctx, "archive");
  CHECK(ring.decrypt(moved_blob).size() == 9);
  ring.set_min_decryption_version("orders", 2);
  CHECK(status_of([&] { ring.decrypt(blob, ctx); }) == KP_ERR_VERSION_RETIRED);
  ring.set_min_decryption_version("orders", 1);
  ring.disable_key("archive");
  CHECK(status_of([&] { ring.decrypt(moved_blob); }) == KP_ERR_KEY_DISABLED);
  ring.enable_key("archive");
  ring.enable_key_rotation("archive", 0, 3600);
  CHECK(ring.describe_key("archive").rotation_period_seconds() == 3600);
  ring.disable_key_rotation("archive");
  ring.set_rotate_on_budget("archive", false);
  CHECK(!ring.describe_key("archive").rotate_on_budget());
  CHECK(ring.schedule_key_deletion("archive", 7) > 0);
  ring.cancel_key_deletion("archive");
  CHECK(ring.describe_key("archive").key_state() == KP_KEY_STATE_DISABLED);

  // Aliases and listings.
  ring.create_alias("alias/archive", "archive");
  ring.update_alias("alias/archive", "orders");
  auto aliases = ring.list_aliases();
  CHECK(aliases.size() == 2 && aliases[0].first == "alias/archive" && aliases[0].second == "orders");
  ring.delete_alias("alias/archive");
  CHECK(ring.list_keys() == (std::vector<std::string>{"archive", "orders"}));

  // Data keys and random bytes.
  data_key dk = ring.generate_data_key("orders", KP_DATA_KEY_SPEC_AES_256, ctx);
  CHECK(dk.plaintext().size() == 32 && dk.key_id() == "orders");
  secret_bytes dk_plain = ring.decrypt(dk.ciphertext_blob(), ctx);
  CHECK(bytes(dk_plain.begin(), dk_plain.end()) == dk.plaintext().to_vector());
  CHECK(ring.decrypt(ring.generate_data_key_without_plaintext("orders", KP_DATA_KEY_SPEC_NUMBER_OF_BYTES, {}, 24)).size() == 24);
  data_key_pair pair = ring.generate_data_key_pair("orders", KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P256);
  CHECK(pair.public_key().size() == 91 && pair.private_key_plaintext().size() > 0);
  CHECK(ring.decrypt(pair.private_key_ciphertext_blob()).size() == pair.private_key_plaintext().size());
  if (fips_mode()) {
    // secp256k1 is not an approved curve there: the refusal is an exception like any error.
    CHECK(status_of([&] {
            ring.generate_data_key_pair_without_plaintext("orders", KP_DATA_KEY_PAIR_SPEC_ECC_SECG_P256K1);
          }) == KP_ERR_UNSUPPORTED_ALGORITHM);
  } else {
    CHECK(ring.generate_data_key_pair_without_plaintext("orders", KP_DATA_KEY_PAIR_SPEC_ECC_SECG_P256K1)
              .private_key_plaintext().size() == 0);
  }
  CHECK(ring.generate_random(48).size() == 48);

  // MACs and signatures.
  ring.create_key({KP_KEY_SPEC_HMAC_384, KP_KEY_USAGE_DEFAULT, "mac", "", "", 0, 0, false});
  bytes tag = ring.generate_mac("mac", "session=42", KP_MAC_ALGORITHM_HMAC_SHA_384);
  CHECK(tag.size() == 48);
  CHECK(ring.verify_mac("mac", "session=42", KP_MAC_ALGORITHM_HMAC_SHA_384, tag));
  CHECK(!ring.verify_mac("mac", "session=43", KP_MAC_ALGORITHM_HMAC_SHA_384, tag));
  ring.create_key({KP_KEY_SPEC_ECC_NIST_P384, KP_KEY_USAGE_DEFAULT, "signer", "", "", 0, 0, false});
  bytes sig = ring.sign("signer", "release", KP_SIGNING_ALGORITHM_ECDSA_SHA_384);
  CHECK(sig.size() > 8 && sig.size() <= 104);
  CHECK(ring.verify("signer", "release", KP_SIGNING_ALGORITHM_ECDSA_SHA_384, sig));
  CHECK(!ring.verify("signer", "releasE", KP_SIGNING_ALGORITHM_ECDSA_SHA_384, sig));
  CHECK(status_of([&] { ring.sign("signer", "x", KP_SIGNING_ALGORITHM_ECDSA_SHA_256); }) ==
        KP_ERR_INVALID_KEY_USAGE);
  public_key pk = ring.get_public_key("signer");
  CHECK(pk.key_spec() == KP_KEY_SPEC_ECC_NIST_P384 && pk.der().size() == 120);
  CHECK(pk.pem().substr(0, 26) == "-----BEGIN PUBLIC KEY-----");
  CHECK(status_of([&] { ring.decrypt_asymmetric("signer", "x", KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256); }) ==
        KP_ERR_INVALID_KEY_USAGE);

  // Batches.
  std::vector<encrypt_item> items{{"orders", "one", &ctx}, {"missing", "two", nullptr}, {"orders", "three", nullptr}};
  batch_result enc = ring.encrypt_many(items);
  CHECK(enc.size() == 3);
  CHECK(enc[0].status == KP_OK && enc[1].status == KP_ERR_NOT_FOUND && enc[2].status == KP_OK);
  batch_result dec = ring.decrypt_many({{enc[0].output, &ctx}, {enc[2].output, nullptr}});
  CHECK(byte_view(dec[0].output).to_vector() == byte_view("one").to_vector());
  CHECK(byte_view(dec[1].output).to_vector() == byte_view("three").to_vector());
  CHECK(status_of([&] { dec[2]; }) == KP_ERR_INVALID_INPUT);
  std::vector<kp_sign_request> sreqs{{"signer", 6, reinterpret_cast<const uint8_t *>("m"), 1,
                                      KP_MESSAGE_TYPE_RAW, KP_SIGNING_ALGORITHM_ECDSA_SHA_384}};
  batch_result signed_ = ring.many(kp_sign_many, sreqs);
  CHECK(signed_[0].status == KP_OK);
  CHECK(ring.verify("signer", "m", KP_SIGNING_ALGORITHM_ECDSA_SHA_384, signed_[0].output));

  // A keyring with options, moved.
  kp_keyring_options opts{};
  opts.max_batch_items = 1;
  keyring small(opts);
  keyring moved_ring = std::move(small);
  CHECK(moved_ring.get() != nullptr && small.get() == nullptr);
  CHECK(status_of([&] { moved_ring.encrypt_many(items); }) == KP_ERR_LIMIT_EXCEEDED);

  // Sealed records, the store, audit.
  {
    root_key root("cpp-root", root_key::generate_material());
    bytes record = ring.export_sealed("orders", root);
    keyring copy;
    CHECK(copy.import_sealed(record, root).key_id() == "orders");
    CHECK(copy.decrypt(blob, ctx) == ring.decrypt(blob, ctx));
    root_key next("cpp-root-2", root_key::generate_material());
    keyring third;
    CHECK(third.import_sealed(keyring::reseal(record, root, next), next).key_id() == "orders");
    CHECK(status_of([&] { copy.import_sealed(record, root); }) == KP_ERR_ALREADY_EXISTS);
    CHECK(status_of([&] { root_key bad("r", "short"); }) == KP_ERR_INVALID_INPUT);

    char dir[] = "/tmp/keyplane-cpp-store-XXXXXX";
    CHECK(mkdtemp(dir) != nullptr);
    {
      keyring stored = keyring::open(dir, root);
      stored.create_key({KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT, "kept", "", "", 0,
                         0, false, 0});
      CHECK(stored.load_problems().empty());
      CHECK(status_of([&] { keyring::open(dir, root); }) == KP_ERR_STORAGE);
    }
    keyring reopened = keyring::open(dir, root);
    CHECK(reopened.describe_key("kept").key_id() == "kept");
    std::string command = std::string("rm -rf '") + dir + "'";
    CHECK(std::system(command.c_str()) == 0);

    // A C++ callback (a capturing lambda), kept alive by the keyring and its caller handles.
    struct seen_t {
      int events = 0;
      std::string last_caller, last_operation, last_error;
      std::vector<std::pair<std::string, std::string>> last_context;
    };
    auto seen = std::make_shared<seen_t>();
    audit_options callback_audit;
    callback_audit.callback = [seen](const audit_event &e) {
      seen->events++;
      seen->last_caller = std::string(e.caller());
      seen->last_operation = std::string(e.operation());
      seen->last_error = std::string(e.error_code());
      seen->last_context.clear();
      for (const auto &p : e.context()) seen->last_context.emplace_back(p.first, p.second);
      if (e.sequence() == 2) throw std::runtime_error("dropped, not propagated");
    };
    keyring audited = keyring::audited(std::move(callback_audit));
    keyring billing = audited.with_caller("billing");
    billing.create_key({KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT, "a", "", "", 0, 0,
                        false, 0});
    audited.flush_audit();
    CHECK(seen->events == 1 && seen->last_caller == "billing");
    bytes audited_blob = billing.encrypt("a", "secret", ctx);
    CHECK(status_of([&] { audited.decrypt(audited_blob); }) == KP_ERR_INVALID_CIPHERTEXT);
    billing.flush_audit();
    CHECK(seen->events == 3 && seen->last_operation == "Decrypt" && seen->last_caller.empty());
    CHECK(seen->last_error == "KP_INVALID_CIPHERTEXT" && seen->last_context.empty());
    last_usage usage = audited.key_last_usage("a");
    CHECK(usage.last_operation == "Decrypt" && usage.last_used_unix_nanos > 0);
    CHECK(usage.counts.size() == 3 && usage.counts[0].first == "CreateKey" &&
          usage.counts[1] == (std::pair<std::string, uint64_t>("Decrypt", 1)));
    CHECK(audited.audit_dropped() == 0 && audited.audit_failures() == 0);
    CHECK(status_of([&] { ring.key_last_usage("orders"); }) == KP_ERR_INVALID_INPUT);
    // A moved-to keyring drops its old keyring before the old callback.
    {
      audit_options counting;
      counting.callback = [seen](const audit_event &) { seen->events += 100; };
      keyring other = keyring::audited(std::move(counting));
      other.create_key({KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT, "o", "", "", 0, 0,
                        false, 0});
      other = keyring();
      CHECK(seen->events == 103);
    }
    CHECK(status_of([&] { keyring::audited(audit_options{}); }) == KP_ERR_INVALID_INPUT);

    // The sealed record's clear header.
    sealed_record_info info = inspect_sealed(record);
    CHECK(info.format == 1 && info.key_id == "orders" && info.root_id == "cpp-root");
    CHECK(status_of([&] { inspect_sealed("nonsense"); }) == KP_ERR_INVALID_INPUT);

    // A log directory: several files, verified by directory and by file list; a flipped byte
    // is located.
    char log_parent[] = "/tmp/keyplane-cpp-audit-XXXXXX";
    CHECK(mkdtemp(log_parent) != nullptr);
    std::string log_dir = std::string(log_parent) + "/log";
    const std::array<uint8_t, 32> audit_key{1, 2, 3};
    {
      audit_options file_audit;
      file_audit.log_dir = log_dir;
      file_audit.audit_key = audit_key;
      file_audit.max_file_bytes = 600;
      file_audit.checkpoint_every = 2;
      file_audit.context_logging = KP_CONTEXT_LOGGING_NONE;
      char store_dir[] = "/tmp/keyplane-cpp-store-audit-XXXXXX";
      CHECK(mkdtemp(store_dir) != nullptr);
      {
        keyring logged = keyring::open(store_dir, root, std::move(file_audit));
        logged.create_key({KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT, "l", "", "", 0,
                           0, false, 0});
        for (int i = 0; i < 5; i++) logged.encrypt("l", "x", ctx);
      }
      CHECK(std::system((std::string("rm -rf '") + store_dir + "'").c_str()) == 0);
    }
    kp_audit_report report = verify_audit_log(log_dir, audit_key);
    CHECK(report.records == 6 && report.closed && report.end_file >= 1);
    std::vector<std::string> files;
    for (std::size_t i = 0; i <= report.end_file; i++) {
      char name[32];
      std::snprintf(name, sizeof name, "/audit-%06zu.jsonl", i + 1);
      files.push_back(log_dir + name);
    }
    CHECK(verify_audit_log(files, audit_key).records == 6);
    const std::array<uint8_t, 32> wrong_key{9};
    try {
      verify_audit_log(log_dir, wrong_key);
      CHECK(false);
    } catch (const audit_log_broken &e) {
      CHECK(e.status() == KP_ERR_INVALID_CIPHERTEXT && e.line() > 0 && e.file() == 0);
      CHECK(std::string(e.what()).find("audit-000001.jsonl:") != std::string::npos);
    }
    CHECK(status_of([&] { verify_audit_log("/nonexistent/keyplane", audit_key); }) ==
          KP_ERR_STORAGE);
    CHECK(std::system((std::string("rm -rf '") + log_parent + "'").c_str()) == 0);

    const create_key_options external{KP_KEY_SPEC_SYMMETRIC_DEFAULT, KP_KEY_USAGE_DEFAULT,
                                      "ext", "", "", 0, 0, false, KP_ORIGIN_EXTERNAL};
    if (fips_mode()) {
      // The import wraps with RSA-OAEP, which FIPS mode refuses.
      CHECK(status_of([&] { audited.create_key(external); }) == KP_ERR_UNSUPPORTED_ALGORITHM);
    } else {
      audited.create_key(external);
      import_parameters params = audited.get_parameters_for_import(
          "ext", KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_256, KP_WRAPPING_KEY_SPEC_RSA_2048);
      CHECK(params.public_key.size() > 256 && !params.import_token.empty() && params.valid_to > 0);
      CHECK(status_of([&] { audited.import_key_material("ext", params.import_token, "junk"); }) ==
            KP_ERR_INVALID_CIPHERTEXT);
    }
    CHECK(status_of([&] { audited.delete_imported_key_material("a"); }) ==
          KP_ERR_UNSUPPORTED_ALGORITHM);
  }

  std::printf("test_wrapper: %d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
