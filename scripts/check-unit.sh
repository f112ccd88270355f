#!/usr/bin/env bash
# Checks systemd/newswatch.service the way an operator's systemd would see it:
#
#   1. `systemd-analyze verify` must print nothing (unknown keys, bad values and missing
#      binaries are all printed, some only as warnings with exit code 0, so any output fails);
#   2. `systemd-analyze security --offline=true` must rate the exposure 2.0 or lower (SPEC);
#   3. every credential newswatch reads (the `pub const …CREDENTIAL` names in src/:
#      smtp-password, database-password) is loaded with `LoadCredential=`, and every
#      `LoadCredential=` has a `SetCredential=` of the same name, its fallback when the file is
#      missing (systemd.exec(5)), so a fresh install starts without the password files
#      (issues 22 and 17).
#
# verify resolves ExecStart=/usr/bin/newswatch, ExecReload=/bin/kill and the units the service
# depends on (sysinit.target, network-online.target, ...). To check the unit file byte for byte
# without installing anything on this machine, it runs against a throwaway --root: the host's
# unit directory copied in, the unit under /etc/systemd/system, and a stand-in executable at
# every path the unit runs. `--man=no` skips resolving Documentation=man:newswatch(1), which
# exists only once the package (or scripts/gen-docs.sh) installed the man page.
#
# If systemd-analyze is missing it installs Debian's `systemd` package (needs root and apt).
# Usage: scripts/check-unit.sh [UNIT]   (default systemd/newswatch.service)
set -euo pipefail
cd "$(dirname "$0")/.."

unit=${1:-systemd/newswatch.service}
max_exposure=2.0
name=$(basename "$unit")

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-unit: systemd-analyze not found; installing Debian's systemd package" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "check-unit: FAIL: no systemd-analyze and no apt-get to install it (install the 'systemd' package)" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "check-unit: FAIL: installing systemd needs root" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends systemd; } >&2; then
    echo "check-unit: FAIL: apt-get could not install systemd (is a package mirror reachable?)" >&2
    exit 1
  fi
  command -v systemd-analyze >/dev/null 2>&1 || {
    echo "check-unit: FAIL: systemd installed but systemd-analyze still missing" >&2
    exit 1
  }
fi
echo "check-unit: $(systemd-analyze --version | head -n1)"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd"
for d in /usr/lib/systemd/system /lib/systemd/system; do
  if [ -d "$d" ]; then
    # Errors ignored: a concurrent dpkg run leaves short-lived *.dpkg-tmp entries behind.
    cp -a "$d" "$root/usr/lib/systemd/" 2>/dev/null || true
    break
  fi
done
cp "$unit" "$root/etc/systemd/system/$name"
# Stand-ins for every absolute executable path in Exec*= lines (prefixes like '-' or '!' removed).
sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' "$unit" | sort -u | while read -r exe; do
  mkdir -p "$root$(dirname "$exe")"
  cp "$(type -P true)" "$root$exe"
done

status=0

echo "--- systemd-analyze verify $unit"
verify_out=$(systemd-analyze verify --man=no --root="$root" "$name" 2>&1) || status=1
if [ -n "$verify_out" ]; then
  printf '%s\n' "$verify_out" | sed "s|$root||g"
  status=1
fi
if [ "$status" -eq 0 ]; then echo "verify: clean"; else echo "check-unit: FAIL: verify is not clean" >&2; fi

echo "--- optional credentials"
wanted=$(grep -rh '^pub const [A-Z_]*CREDENTIAL: &str = "' src | sed -n 's/.*= "\([^"]*\)";.*/\1/p' | sort -u)
if [ -z "$wanted" ]; then
  echo "check-unit: FAIL: no *CREDENTIAL names found in src/" >&2
  status=1
fi
for cred in $wanted; do
  if ! grep -q "^LoadCredential=$cred:" "$unit"; then
    echo "check-unit: FAIL: newswatch reads the credential $cred but the unit has no LoadCredential=$cred:" >&2
    status=1
  fi
done
for cred in $(sed -n 's/^LoadCredential=\([^:]*\):.*/\1/p' "$unit"); do
  if grep -q "^SetCredential=$cred:" "$unit"; then
    echo "credential $cred: optional (SetCredential= fallback)"
  else
    echo "check-unit: FAIL: LoadCredential=$cred has no SetCredential=$cred: fallback; a missing file stops the start" >&2
    status=1
  fi
done

echo "--- systemd-analyze security --offline=true $unit"
security_out=$(systemd-analyze security --offline=true --root="$root" "$name" 2>&1) || true
exposure=$(printf '%s\n' "$security_out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' | tail -n1)
if [ -z "$exposure" ]; then
  printf '%s\n' "$security_out"
  echo "check-unit: FAIL: no exposure level in systemd-analyze security output" >&2
  exit 1
fi
if awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e > m) }'; then
  printf '%s\n' "$security_out" | grep '✗' || true
  echo "check-unit: FAIL: exposure $exposure > $max_exposure" >&2
  status=1
else
  echo "exposure: $exposure (limit $max_exposure)"
fi
exit "$status"
