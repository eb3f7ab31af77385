#!/usr/bin/env bash
# wine-exec.sh: run a Windows build of a Go program on Linux, under Wine.
# It is what `go test -exec` calls for the Windows tests (scripts/windows-test.sh):
#
#   GOOS=windows go test -exec "$PWD/scripts/wine-exec.sh" ./platform/windows/...
#   scripts/wine-exec.sh PROGRAM.exe [ARGS...]    # any Windows program
#   scripts/wine-exec.sh --prepare                 # make the Wine prefix ready now
#   scripts/wine-exec.sh --server start|stop       # a wineserver kept for a test run
#
# Needs wine64 and the mingw-w64 C compiler (Debian packages wine64 and
# gcc-mingw-w64-x86-64; scripts/test-deps.sh installs them as root). It
# installs nothing itself.
#
# The Wine prefix is $WINEPREFIX, by default one per user under $TMPDIR
# (/tmp). On first use in a prefix it is created and the ProcessPrng shim is
# put in its system32: Go >= 1.22 programs need ProcessPrng from
# bcryptprimitives.dll, which Wine 8 lacks; scripts/processprng.c provides
# it and is compiled here with mingw (again whenever the C file changes).
# Several go test binaries start at once: the preparation runs under a lock.
#
# --server start keeps one wineserver and Wine's own services running for the
# prefix, their output on /dev/null. Without it the first test binary starts
# them, and they hold that binary's output pipe open until the last Wine
# program of the run exits: go test then reports "Test I/O incomplete" for a package that passed
# when another package runs for more than a minute.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export WINEPREFIX=${WINEPREFIX:-${TMPDIR:-/tmp}/imapd-wine.$(id -u)}
export WINEDEBUG=${WINEDEBUG:--all}
# Wine must not try to install Mono or Gecko (no network, not needed).
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}

die() { echo "wine-exec.sh: $*" >&2; exit 127; }

find_wine() {
  if [ -n "${WINE:-}" ]; then
    [ -x "$WINE" ] || die "WINE=$WINE is not an executable"
    echo "$WINE"
    return
  fi
  local c
  for c in /usr/lib/wine/wine64 "$(command -v wine64 || true)" "$(command -v wine || true)"; do
    if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return; fi
  done
  die "no wine64 found (install the Debian package wine64, or run scripts/test-deps.sh as root)"
}
wine=$(find_wine)
shim_src=$here/processprng.c
shim_dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
# The checksum of the C file the DLL was built from: a changed file means a
# new build (a fresh clone's files are all new, so times would not do).
shim_stamp=$WINEPREFIX/.imapd-processprng.sha256
shim_sum=$(sha256sum <"$shim_src" | cut -d' ' -f1)

ready() { [ -f "$shim_dll" ] && [ "$(cat "$shim_stamp" 2>/dev/null)" = "$shim_sum" ]; }

prepare() {
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 ||
    die "no x86_64-w64-mingw32-gcc (install the Debian package gcc-mingw-w64-x86-64) to build the ProcessPrng shim"
  mkdir -p "$(dirname "$WINEPREFIX")"
  exec 9>"$WINEPREFIX.lock"
  flock 9
  if ready; then return; fi # another process did it while we waited
  if ! [ -d "$WINEPREFIX/drive_c/windows/system32" ]; then
    echo "wine-exec.sh: creating the Wine prefix $WINEPREFIX" >&2
    "$wine" wineboot --init >/dev/null 2>&1 || true
    [ -d "$WINEPREFIX/drive_c/windows/system32" ] || die "wine did not create the prefix $WINEPREFIX"
  fi
  local out
  out=$(mktemp "$WINEPREFIX.shim.XXXXXX")
  x86_64-w64-mingw32-gcc -shared -O2 -o "$out" "$shim_src" -lbcrypt ||
    { rm -f "$out"; die "building the ProcessPrng shim from $shim_src failed"; }
  mv -f "$out" "$shim_dll"
  echo "$shim_sum" >"$shim_stamp"
  exec 9>&-
}

case "${1:-}" in
'' | -h | --help)
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
--prepare)
  ready || prepare
  echo "wine-exec.sh: Wine prefix $WINEPREFIX ready ($wine)"
  exit 0
  ;;
--server)
  ready || prepare
  server=${WINESERVER:-$(dirname "$wine")/wineserver64}
  [ -x "$server" ] || server=$(command -v wineserver || true)
  [ -n "$server" ] || die "no wineserver next to $wine"
  case "${2:-}" in
  start)
    "$server" -p </dev/null >/dev/null 2>&1
    # Wine's own services (services.exe, winedevice.exe...) live as long as
    # the server and keep the output of the program that started them.
    "$wine" wineboot </dev/null >/dev/null 2>&1 || true
    ;;
  stop) "$server" -k </dev/null >/dev/null 2>&1 || true ;;
  *) die "--server start or --server stop" ;;
  esac
  exit 0
  ;;
esac
ready || prepare
exec "$wine" "$@"
