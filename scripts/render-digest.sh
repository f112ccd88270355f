#!/bin/sh
# Render the sample (mixed Arabic/French/English) digest HTML to a PNG with
# headless Chromium, to eyeball what the HTML part looks like.
#
# Usage: scripts/render-digest.sh [OUT.png]   (default: target/digest-sample.png)
#
# The HTML comes from the `write_sample` test in tests/digest_render.rs, which
# writes it to $NEWSWATCH_RENDER_OUT. Installs Debian's `chromium` if missing
# (needs root for apt-get).
set -eu

cd "$(dirname "$0")/.."
out=${1:-target/digest-sample.png}
html="$(pwd)/target/digest-sample.html"

if ! command -v chromium >/dev/null 2>&1; then
    echo "chromium not found; installing it with apt-get" >&2
    apt-get install -y chromium
fi

mkdir -p "$(dirname "$out")" target
NEWSWATCH_RENDER_OUT="$html" cargo test --quiet --test digest_render write_sample
test -s "$html" || { echo "render-digest: $html was not written" >&2; exit 1; }

# A throwaway profile so the screenshot does not depend on (or touch) ~/.config.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --disable-gpu --no-sandbox --hide-scrollbars \
    --user-data-dir="$profile" \
    --screenshot="$(realpath -m "$out")" --window-size=800,1400 \
    "file://$html" 2>/dev/null
echo "wrote $out"
