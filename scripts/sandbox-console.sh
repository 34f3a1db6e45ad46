#!/usr/bin/env bash
# First README command: install what is missing, build, start the local sandbox (ZooKeeper +
# a MariaDB primary and two replicas), and open the console on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --locked
bin=target/release/myzoo
if ! out=$("$bin" sandbox up 2>&1); then
  if grep -q "sandbox down" <<<"$out"; then
    echo "sandbox already running; reusing it (stop it with: $bin sandbox down)" >&2
  else
    echo "$out" >&2
    exit 1
  fi
else
  echo "$out"
fi
exec "$bin"
