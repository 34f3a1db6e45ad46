#!/usr/bin/env bash
# Second README command: install what is missing, then run the whole test suite (unit,
# render snapshots, and integration tests that start real ZooKeeper and MariaDB servers), and
# the unit tests of the two patched crates (vendor/*/PATCH.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo test --locked
CARGO_TARGET_DIR=target/vendor cargo test --manifest-path vendor/ratatui-textarea/Cargo.toml --lib
CARGO_TARGET_DIR=target/vendor cargo test --manifest-path vendor/zookeeper-client/Cargo.toml --lib
