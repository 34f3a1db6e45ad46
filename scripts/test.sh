#!/usr/bin/env bash
# Second README command: install what is missing, then run the whole test suite (unit,
# render snapshots, and integration tests that start real ZooKeeper and MariaDB servers), and
# the tests of the two patched crates (vendor/*/PATCH.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo test --locked
# ratatui-textarea: its unit tests and upstream tests/, its doctests, and tests/serde.rs (compiled
# only with the serde feature), all with the search feature myzoo uses, against the dependency
# versions in myzoo's Cargo.lock (copied there; git ignores vendor/*/Cargo.lock).
textarea=(--manifest-path vendor/ratatui-textarea/Cargo.toml)
cp Cargo.lock vendor/ratatui-textarea/Cargo.lock
CARGO_TARGET_DIR=target/vendor cargo test "${textarea[@]}" --features search --lib --tests
CARGO_TARGET_DIR=target/vendor cargo test "${textarea[@]}" --features search --doc
CARGO_TARGET_DIR=target/vendor cargo test "${textarea[@]}" --features search,serde --test serde
CARGO_TARGET_DIR=target/vendor cargo test --manifest-path vendor/zookeeper-client/Cargo.toml --lib
