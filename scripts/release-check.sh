#!/usr/bin/env bash
# release-check: what CI does with the release configuration.
#   1. goreleaser check          (goreleaser.yaml is valid)
#   2. goreleaser release --snapshot --clean   (every archive, checksums, deb, rpm)
#   3. the archives and packages hold what they must (binaries, README.md,
#      LICENSE, docs/, deploy/; the deb installs /usr/local/dmail/imapd as
#      root, mode 6755, and nothing under /etc)
#   4. the linux/amd64 archive's own binaries, run from a temporary directory:
#      imapd -version prints the snapshot version; on a tiny DMail site
#      (cryptauth password file, a drop file with one message) imapd -check
#      passes and an inetd-mode session over a pipe does LOGIN, SELECT INBOX
#      (1 message) and LOGOUT.
# Exits non-zero on the first failure. Needs go, tar, unzip, dpkg-deb (rpm
# is checked too when the rpm tool is installed).
#
# GORELEASER may name another goreleaser command (e.g. an installed binary);
# the default builds the pinned version through the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER=${GORELEASER:-"go run github.com/goreleaser/goreleaser/v2@v2.15.1"}
# Every platform goreleaser.yaml builds; keep in step with its targets.
PLATFORMS="linux_amd64 linux_arm64 linux_386 solaris_amd64 illumos_amd64 freebsd_amd64 freebsd_arm64 darwin_amd64 darwin_arm64 windows_amd64 windows_arm64"
BINARIES="imapd cryptauth"
if [ -d cmd/imapdsvc ]; then BINARIES="$BINARIES imapdsvc"; fi

fail() { echo "release-check: FAIL: $*" >&2; exit 1; }
step() { echo "release-check: $*"; }

step "goreleaser check"
$GORELEASER check

step "goreleaser release --snapshot --clean"
$GORELEASER release --snapshot --clean

version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
[ -n "$version" ] || fail "no version in dist/metadata.json"
step "snapshot version $version"

# --- 3. what was built -------------------------------------------------------
for p in $PLATFORMS; do
  case $p in windows_*) ext=zip ;; *) ext=tar.gz ;; esac
  a="dist/imapd_${version}_${p}.${ext}"
  [ -f "$a" ] || fail "missing archive $a"
  if [ "$ext" = zip ]; then list=$(unzip -Z1 "$a"); else list=$(tar tzf "$a"); fi
  for f in README.md LICENSE docs/settings.md deploy/inetd.conf deploy/imapd.socket deploy/imapdsvc.wat; do
    grep -qx "[^/]*/$f" <<<"$list" || fail "$a lacks $f"
  done
  for b in $BINARIES; do
    [ "$ext" = zip ] && b="$b.exe"
    grep -qx "[^/]*/$b" <<<"$list" || fail "$a lacks $b"
  done
  grep -q " $(basename "$a")\$" dist/checksums.txt || fail "checksums.txt lacks $(basename "$a")"
done
(cd dist && sha256sum --quiet -c checksums.txt) || fail "checksums.txt does not match the files"

for arch in amd64 arm64 386; do
  deb="dist/imapd_${version}_linux_${arch}.deb"
  [ -f "$deb" ] || fail "missing $deb"
  [ -f "dist/imapd_${version}_linux_${arch}.rpm" ] || fail "missing rpm for linux_$arch"
  contents=$(dpkg-deb -c "$deb")
  grep -Eq '^-rwsr-sr-x root/root .* \./usr/local/dmail/imapd$' <<<"$contents" ||
    fail "$deb: /usr/local/dmail/imapd is not root-owned mode 6755"
  grep -Eq ' \./usr/local/dmail/cryptauth$' <<<"$contents" || fail "$deb lacks /usr/local/dmail/cryptauth"
  grep -Eq ' \./usr/share/doc/imapd/docs/settings\.md$' <<<"$contents" || fail "$deb lacks the manual"
  if grep -Eq ' \./etc(/|$)' <<<"$contents"; then fail "$deb installs files under /etc"; fi
  if dpkg-deb -I "$deb" | grep -Eq '^ *[0-9]+ bytes, +[0-9]+ lines +\*? *(pre|post)(inst|rm) '; then
    fail "$deb has maintainer scripts (it must not touch the system beyond its files)"
  fi
done
if command -v rpm >/dev/null 2>&1; then
  rpm -qlvp "dist/imapd_${version}_linux_amd64.rpm" | grep -Eq '^-rwsr-sr-x +[0-9]+ +root +root .* /usr/local/dmail/imapd$' ||
    fail "rpm: /usr/local/dmail/imapd is not root-owned mode 6755"
fi

# --- 4. run the linux/amd64 archive's binaries ---------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf "dist/imapd_${version}_linux_amd64.tar.gz"
bin="$tmp/imapd_${version}_linux_amd64"
[ -x "$bin/imapd" ] && [ -x "$bin/cryptauth" ] || fail "archive binaries not found in $bin"

got=$("$bin/imapd" -version)
[ "$got" = "imapd $version" ] || fail "imapd -version printed '$got', want 'imapd $version'"
step "imapd -version: $got"

site="$tmp/site"
mkdir -p "$site/spool" "$site/log"
"$bin/cryptauth" -add "$site/passwd" alice alice-secret || fail "cryptauth -add"
cat >"$site/spool/alice" <<'EOF'
From carol@example.com Mon Nov 23 10:00:00 2026
From: carol@example.com
To: alice@demo.example
Subject: release check
Message-ID: <release-check@example.com>
Date: Mon, 23 Nov 2026 10:00:00 +0000

Hello from the release check.

EOF
cat >"$site/dmail.conf" <<EOF
host_domain demo.example
drop_path $site/spool
log_path $site/log
authent_method external
authent_process $bin/cryptauth -file $site/passwd -drop_path $site/spool
EOF

"$bin/imapd" -i "$site/dmail.conf" -check >"$tmp/check.out" 2>&1 || {
  cat "$tmp/check.out" >&2; fail "imapd -check failed on the release-check site"; }

out=$(printf 'a LOGIN alice alice-secret\r\nb SELECT INBOX\r\nc LOGOUT\r\n' |
  timeout 60 "$bin/imapd" -i "$site/dmail.conf" 2>"$tmp/stderr" | tr -d '\r') || true
echo "$out" | sed 's/^/  S: /'
expect() { grep -Eq "$1" <<<"$out" || { cat "$tmp/stderr" >&2; cat "$site"/log/* >&2 2>/dev/null || true; fail "no line matching '$1' in the session"; }; }
expect "^\* OK .* IMAP4rev1 v${version//./\\.} server ready$"
expect '^a OK'
expect '^\* 1 EXISTS$'
expect '^b OK \[READ-WRITE\]'
expect '^\* BYE '
expect '^c OK'
step "linux/amd64 archive: LOGIN + SELECT INBOX + LOGOUT in inetd mode: ok"
step "all passed"
