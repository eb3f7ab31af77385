#!/usr/bin/env bash
# Installs what the tests drive for real: IMAP clients (mbsync, mutt,
# fetchmail), inetd, crypt tools, systemd's socket activator, Wine and the
# mingw C compiler for the Windows tests (scripts/wine-exec.sh), unshare and
# mount for the two-host cluster test (e2e/cluster_test.go). Debian
# packages only; a no-op when everything is there.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have mbsync || need+=(isync)
have mutt || need+=(mutt)
have fetchmail || need+=(fetchmail)
have mkpasswd || need+=(whois)
have openssl || need+=(openssl)
have python3 || need+=(python3)
have unzip || need+=(unzip)
have rpm || need+=(rpm)
have tmux || need+=(tmux)
have flock || need+=(util-linux)
have unshare || need+=(util-linux)
have mount || need+=(mount)
[ -x /usr/sbin/inetd ] || need+=(openbsd-inetd)
[ -x /usr/sbin/tcpd ] || need+=(tcpd)
have systemd-socket-activate || need+=(systemd)
have systemd-analyze || need+=(systemd)
have fail2ban-regex || need+=(fail2ban)
if [ "${IMAPD_SKIP_WINE:-}" != 1 ]; then
  [ -x /usr/lib/wine/wine64 ] || need+=(wine64)
  have x86_64-w64-mingw32-gcc || need+=(gcc-mingw-w64-x86-64)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-deps: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt (a package manager run elsewhere) instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
# openbsd-inetd's package starts a system inetd; the tests run their own.
if have service && [ "$(id -u)" = 0 ]; then service openbsd-inetd stop >/dev/null 2>&1 || true; fi
# fail2ban's package may start its daemon; the tests only use fail2ban-regex.
if have service && [ "$(id -u)" = 0 ]; then service fail2ban stop >/dev/null 2>&1 || true; fi
