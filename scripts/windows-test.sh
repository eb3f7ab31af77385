#!/usr/bin/env bash
# The Windows tests, for `make test`: the real Windows APIs under Wine.
#
#   1. Wine ready (scripts/wine-exec.sh --prepare: a Wine prefix with the
#      ProcessPrng shim built from scripts/processprng.c; wine64 and mingw
#      come from scripts/test-deps.sh).
#   2. platform/windows and cmd/imapdsvc built and vetted for windows, and
#      their tests run as Windows programs under Wine: sharing-mode holds,
#      drop-file lock, MAILBOX.LST, LogonUser, the spawner relaying to child
#      processes, maildir storage (';2,' names, renames and removals of
#      files being read, the uid list lock), the dot-lock (platform/dotlock).
#   3. imapdsvc as a real service under Wine's service manager (install,
#      start, a session, stop, remove), in a Wine prefix of its own
#      ($IMAPDSVC_SCM_PREFIX), because an installed auto-start service would
#      start with every Wine program of a shared prefix.
#   4. End to end from Linux: imapdsvc (Linux, both connection modes) and
#      imapdsvc.exe in a console under Wine, spawning the real imapd /
#      imapd.exe on the demo spool, with a Linux IMAP client (LOGIN, SELECT,
#      FETCH, LOGOUT); plus the second-session-gets-READ-ONLY rule across two
#      imapd.exe processes.
#   5. GOOS=windows GOARCH=arm64 go build ./...
#
# IMAPD_SKIP_WINE=1 skips what needs Wine (1-3 and the Wine half of 4).
# Takes about a minute once Wine is installed and the build cache is warm.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
WINE_EXEC=${WINE_EXEC:-$PWD/scripts/wine-exec.sh}
SCM_PREFIX=${IMAPDSVC_SCM_PREFIX:-/tmp/wineprefix-imapdsvc-scm}
skip_wine=${IMAPD_SKIP_WINE:-}

step() { printf '\n== windows-test: %s\n' "$*"; }

if [ "$skip_wine" != 1 ]; then
  step "wine setup"
  "$WINE_EXEC" --prepare || {
    echo "windows-test: Wine is not ready (run scripts/test-deps.sh as root, or set IMAPD_SKIP_WINE=1)" >&2
    exit 1
  }

  # One wineserver for the run, with no test's output pipe (wine-exec.sh).
  "$WINE_EXEC" --server start
  trap '"$WINE_EXEC" --server stop' EXIT

  step "vet for windows"
  GOOS=windows $GO vet ./platform/windows/... ./cmd/imapdsvc/...

  step "windows tests under wine"
  GOOS=windows $GO test -count=1 -exec "$WINE_EXEC" ./platform/windows/... ./platform/filelock ./cmd/imapdsvc/... ./mailbox/maildir ./platform/dotlock

  step "imapdsvc under the service manager (prefix $SCM_PREFIX)"
  WINEPREFIX=$SCM_PREFIX IMAPDSVC_TEST_SCM=1 GOOS=windows \
    $GO test -count=1 -run '^TestServiceControl$' -exec "$WINE_EXEC" ./cmd/imapdsvc
fi

step "build the programs"
tmp=$(mktemp -d /tmp/imapd-windows-test.XXXXXX)
trap 'rm -rf "$tmp"; [ "$skip_wine" = 1 ] || "$WINE_EXEC" --server stop' EXIT
mkdir -p "$tmp/linux" "$tmp/windows"
$GO build -o "$tmp/linux/" ./cmd/imapdsvc ./cmd/imapd ./cmd/cryptauth
export IMAPDSVC_E2E_BIN=$tmp/linux
if [ "$skip_wine" != 1 ]; then
  GOOS=windows $GO build -o "$tmp/windows/" ./cmd/imapdsvc ./cmd/imapd ./cmd/cryptauth
  GOOS=windows $GO test -c -o "$tmp/windows/standin.exe" ./cmd/imapdsvc
  export IMAPDSVC_E2E_WINBIN=$tmp/windows IMAPDSVC_E2E_WINE=$WINE_EXEC
  export IMAPDSVC_E2E_STANDIN=$tmp/windows/standin.exe
fi

step "end to end from linux"
$GO test -count=1 -v -run '^TestE2E' ./cmd/imapdsvc

step "windows/arm64 build"
GOOS=windows GOARCH=arm64 $GO build ./...

step "all passed"
