#!/usr/bin/env bash
# A first keyplane session: a home with its root key, a key, a file encrypted with an encryption
# context, a rotation, the file decrypted, and an ECC signature made and verified.
#
#   bash cli/examples/session.sh               # uses `keyplane` from PATH
#   KEYPLANE=target/debug/keyplane bash cli/examples/session.sh
#
# It works in a fresh temporary KEYPLANE_HOME unless you set one, so it never touches ~/.keyplane.
set -euo pipefail

keyplane_bin=${KEYPLANE:-keyplane}
export KEYPLANE_HOME=${KEYPLANE_HOME:-$(mktemp -d)/keyplane}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Shows each command before running it, as if typed.
keyplane() {
  local shown=() arg
  for arg in "$@"; do
    if [[ $arg == *[[:space:]]* ]]; then shown+=("\"$arg\""); else shown+=("$arg"); fi
  done
  echo "\$ keyplane ${shown[*]}"
  "$keyplane_bin" "$@"
}

keyplane init
keyplane create-key --alias alias/notes --description "my first key"

echo "meet at the north gate at noon" > note.txt
keyplane encrypt --key alias/notes --context project=apollo --in note.txt --out note.enc
keyplane rotate-key --key alias/notes
keyplane decrypt --in note.enc --context project=apollo --out -

# The context is part of the ciphertext's authentication: another one is refused (exit code 1).
if keyplane decrypt --in note.enc --context project=gemini --out -; then
  echo "a wrong context was accepted" >&2
  exit 1
fi
echo "(refused, as it should be)"

keyplane create-key --key-spec ECC_NIST_P256 --alias alias/signer
keyplane sign --key alias/signer --in note.txt --out note.sig
keyplane verify --key alias/signer --in note.txt --signature note.sig
keyplane get-public-key --key alias/signer --output pem
