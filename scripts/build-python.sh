#!/usr/bin/env bash
# Builds the Python package `edge-origin` (origin-sdk through PyO3) into an
# abi3 wheel for CPython >= 3.9 with maturin, then installs it, so the tests
# and examples import the wheel a user would get. Prints the wheel's size.
# Usage: scripts/build-python.sh [--no-install]
set -euo pipefail
cd "$(dirname "$0")/.."
# Its own workspace (origin-sdk/python/Cargo.toml), its own build directory.
export CARGO_TARGET_DIR="$PWD/target/python"
out=target/python-wheels
rm -f "$out"/edge_origin-*.whl
python3 -m maturin build --release -m origin-sdk/python/Cargo.toml --out "$out" >&2
wheel=$(ls "$out"/edge_origin-*.whl)
printf 'wheel: %s (%s bytes)\n' "$wheel" "$(stat -c %s "$wheel")"
if [ "${1:-}" != "--no-install" ]; then
  python3 -m pip install -q --force-reinstall --no-deps "$wheel" >&2
fi
