#!/usr/bin/env bash
# Generates the man pages and shell completions from the clap definitions (src/cli.rs):
#   target/docs/newswatch.1, target/docs/newswatch-<command>.1,
#   target/docs/completions/{newswatch.bash,_newswatch,newswatch.fish}
# Usage: scripts/gen-docs.sh [OUT_DIR]   (default target/docs)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/docs}
cargo run --locked --quiet --example gen-docs -- "$out"
if command -v groff >/dev/null 2>&1; then
  groff -man -Tutf8 -ww "$out/newswatch.1" >/dev/null
fi
ls -1 "$out" "$out/completions"
