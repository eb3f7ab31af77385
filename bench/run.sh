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
#   PARTS    what to run, comma list (default steps,mixed,logins):
#              steps   the single-session steps and the concurrent step on COUNT
#                      messages (imapd, imapd-inproc, dovecot)
#              mixed   the multi-user mixed load, -listen servers (USERS users,
#                      CLIENTS clients, CYCLES cycles each), commands/s
#              logins  LOGIN+LOGOUT per second, -listen servers (external
#                      authenticator pool for imapd-inproc, passwd-file for dovecot)
#              inetd   imapd under systemd-socket-activate --inetd with real unix
#                      users (yescrypt, unix_user) against Dovecot with the same
#                      users: greeting and LOGIN latency, PSS of a session
#                      process, the mixed load (INETD_USERS, INETD_CLIENTS)
#              big     BIG_COUNT messages (default 50000, ~575 MB): first SELECT,
#                      repeat SELECT, UID FETCH 1:* (FLAGS) (BIG_SERVERS)
#   USERS CLIENTS CYCLES   the -listen mixed load (default 100 10 10)
#   LOGIN_CLIENTS LOGINS   the logins part (default 10 clients x 50)
#   INETD_USERS INETD_CLIENTS INETD_CYCLES   the inetd mixed load (default 20 5 8)
#   MIXED_COUNT  messages in each user's INBOX (default 50)
#   BIG_COUNT BIG_SERVERS  the big part (default 50000, imapd-inproc,dovecot)
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
PARTS=${PARTS:-steps,mixed,logins}
USERS=${USERS:-100}
CLIENTS=${CLIENTS:-10}
CYCLES=${CYCLES:-10}
LOGIN_CLIENTS=${LOGIN_CLIENTS:-10}
LOGINS=${LOGINS:-50}
INETD_USERS=${INETD_USERS:-20}
INETD_CLIENTS=${INETD_CLIENTS:-5}
INETD_CYCLES=${INETD_CYCLES:-8}
MIXED_COUNT=${MIXED_COUNT:-50}
BIG_COUNT=${BIG_COUNT:-50000}
BIG_SERVERS=${BIG_SERVERS:-imapd-inproc,dovecot}
GO=${GO:-go}
has() { case ",$PARTS," in *,"$1",*) return 0 ;; esac; return 1; }

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: run as root (dovecot switches its mail processes to 'nobody'; apt-get installs it)" >&2
	exit 1
fi
case ",$SERVERS,$BIG_SERVERS,$PARTS," in
*,dovecot,* | *,inetd,*)
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
(cd "$repo" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$tmp/bin/" ./cmd/imapd ./cmd/cryptauth ./bench/driver ./bench/genmbox)

# driver NAME ARGS...: one driver run; its table goes to standard output and,
# with OUT / JSON, to OUT.NAME / JSON.NAME (OUT itself for steps).
driver() {
	local name=$1 out="" json=""
	shift
	if [ -n "${OUT:-}" ]; then out=$OUT; [ "$name" = steps ] || out=$OUT.$name; fi
	if [ -n "${JSON:-}" ]; then json=$JSON; [ "$name" = steps ] || json=$JSON.$name; fi
	echo "bench/run.sh: part $name" >&2
	printf '\n## %s\n\n' "$name"
	# shellcheck disable=SC2086 # DRIVER_FLAGS is a list of flags
	"$tmp/bin/driver" \
		-imapd "$tmp/bin/imapd" -cryptauth "$tmp/bin/cryptauth" -dovecot "$DOVECOT" \
		-runs "$RUNS" -conc "$CONC" -seed "$SEED" -workdir "$tmp/work" \
		${out:+-out "$out"} ${json:+-json "$json"} "$@" ${DRIVER_FLAGS:-}
}

if has steps; then
	echo "bench/run.sh: generating $COUNT messages (seed $SEED)" >&2
	"$tmp/bin/genmbox" -n "$COUNT" -seed "$SEED" -o "$tmp/mail.mbox"
	driver steps -mbox "$tmp/mail.mbox" -servers "$SERVERS" -suites steps
	rm -f "$tmp/mail.mbox"
fi
if has mixed || has logins || has inetd; then
	"$tmp/bin/genmbox" -n "$MIXED_COUNT" -seed "$((SEED + 1))" -o "$tmp/user.mbox"
fi
if has mixed || has logins; then
	suites=$(echo "mixed logins" | tr ' ' '\n' | while read -r p; do if has "$p"; then echo "$p"; fi; done | paste -sd, -)
	driver "$suites" -mixed-mbox "$tmp/user.mbox" -servers "$SERVERS" -suites "$suites,conn" \
		-users "$USERS" -clients "$CLIENTS" -cycles "$CYCLES" \
		-login-clients "$LOGIN_CLIENTS" -logins "$LOGINS"
fi
if has inetd; then
	# real unix users (useradd imapdb000...; removed at the end by the driver)
	driver inetd -mixed-mbox "$tmp/user.mbox" -servers imapd-inetd,dovecot-unix -suites conn,mixed \
		-users "$INETD_USERS" -clients "$INETD_CLIENTS" -cycles "$INETD_CYCLES"
fi
if has big; then
	echo "bench/run.sh: generating $BIG_COUNT messages (seed $SEED)" >&2
	"$tmp/bin/genmbox" -n "$BIG_COUNT" -seed "$SEED" -o "$tmp/big.mbox"
	driver big -mbox "$tmp/big.mbox" -servers "$BIG_SERVERS" -suites big
fi
