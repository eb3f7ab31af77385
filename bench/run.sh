#!/usr/bin/env bash
# bench/run.sh: imapd against Dovecot, same machine, same mailbox, same
# client workload, same run. See bench/README.md. Not part of `make test`.
#
#   bench/run.sh [COUNT [RUNS]]
#
# Environment (all optional):
#   COUNT    messages in the mbox bench/genmbox writes (default 2000; ~10 KB each)
#   RUNS     measured runs per server; the median is quoted (default 3)
#   CONC     concurrent connections in the last step (default 20)
#   SEED     seed of the generated mbox and of the random picks (default 1)
#   SERVERS  comma list of imapd, imapd-inproc, dovecot (default imapd,imapd-inproc,dovecot)
#   OUT      also write the Markdown table here
#   JSON     write every measurement as JSON here
#   DRIVER_FLAGS extra flags for bench/driver (e.g. "-bodies 50 -copy 200")
#
# Needs root: Dovecot's mail processes switch to the user "nobody", and
# dovecot-imapd is installed with apt-get when missing. Every server listens
# on 127.0.0.1 only, on a free high port; everything lives in one temporary
# directory that is removed at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
COUNT=${COUNT:-${1:-2000}}
RUNS=${RUNS:-${2:-3}}
CONC=${CONC:-20}
SEED=${SEED:-1}
SERVERS=${SERVERS:-imapd,imapd-inproc,dovecot}
GO=${GO:-go}

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: run as root (dovecot switches its mail processes to 'nobody'; apt-get installs it)" >&2
	exit 1
fi
case ",$SERVERS," in
*,dovecot,*)
	if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
		echo "bench/run.sh: installing dovecot-imapd" >&2
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dovecot-imapd >&2
	fi
	DOVECOT=$(command -v dovecot || echo /usr/sbin/dovecot)
	echo "bench/run.sh: $("$DOVECOT" --version | head -1 | sed 's/^/dovecot /')" >&2
	;;
*) DOVECOT=/usr/sbin/dovecot ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imapd-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # dovecot's auth and mail processes (users dovecot, nobody) walk down to their files
mkdir -p "$tmp/bin" "$tmp/work"

echo "bench/run.sh: building imapd, cryptauth, driver, genmbox" >&2
(cd "$repo" && CGO_ENABLED=0 "$GO" build -o "$tmp/bin/" ./cmd/imapd ./cmd/cryptauth ./bench/driver ./bench/genmbox)

echo "bench/run.sh: generating $COUNT messages (seed $SEED)" >&2
"$tmp/bin/genmbox" -n "$COUNT" -seed "$SEED" -o "$tmp/mail.mbox"

# shellcheck disable=SC2086 # DRIVER_FLAGS is a list of flags
"$tmp/bin/driver" \
	-imapd "$tmp/bin/imapd" -cryptauth "$tmp/bin/cryptauth" -dovecot "$DOVECOT" \
	-mbox "$tmp/mail.mbox" -runs "$RUNS" -conc "$CONC" -seed "$SEED" \
	-servers "$SERVERS" -workdir "$tmp/work" \
	${OUT:+-out "$OUT"} ${JSON:+-json "$JSON"} ${DRIVER_FLAGS:-}
