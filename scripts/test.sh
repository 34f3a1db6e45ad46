#!/usr/bin/env bash
# Second README command: install what is missing, then run the whole test suite (unit,
# render snapshots, and integration tests that start real ZooKeeper and MariaDB servers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo test --locked
