#!/bin/sh
# Builds the behaviour-test handler on AWS's Rust runtime client (lambda_runtime from crates.io, pinned by
# Cargo.lock) into ./build/bootstrap, a provided.al2023 bootstrap. The first build takes about 2 minutes
# on 2 cores (80 crates); the binary is kept, and skipped while newer than every source.
set -eu
cd "$(dirname "$0")"
if [ -f build/bootstrap ] && [ -z "$(find src Cargo.toml Cargo.lock -newer build/bootstrap)" ]; then
    exit 0
fi
cargo=$(command -v cargo || echo "$HOME/.cargo/bin/cargo")
[ -x "$cargo" ] || { echo "cargo is missing (https://rustup.rs): the Rust runtime test needs it" >&2; exit 1; }
echo "rust: building lambda_runtime's bootstrap (about 2 minutes the first time)" >&2
"$cargo" build --release --locked --quiet --target-dir build/target
cp build/target/release/bootstrap build/bootstrap
