#!/usr/bin/env bash
# clone-test.sh TARGET...: run `make TARGET...` in a clone of this checkout
# that has nothing beside it, so that a test needing anything outside the
# repository fails here as it would for someone who cloned it alone.
# `make test` runs `make test-inner` this way.
#
# The clone is <tmp>/imapd-clone.<uid>/imapd, made afresh each time and
# removed at the end. Its path is fixed so that Go's build cache (whose keys
# include the package directory) stays warm from one run to the next; a lock
# makes a second run of the same user wait for the first. It holds HEAD plus
# the checkout's uncommitted changes and untracked, not ignored files, so
# `make test` tests the tree as it is, not only what is committed.
#
# Inside such a clone (IMAPD_CLONE is set), it runs make in place: no clone
# of a clone.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
make=${MAKE:-make}
[ $# -gt 0 ] || { echo "usage: scripts/clone-test.sh TARGET..." >&2; exit 2; }

if [ -n "${IMAPD_CLONE:-}" ] && [ "$IMAPD_CLONE" = "$src" ]; then
  exec "$make" "$@"
fi

base=${TMPDIR:-/tmp}/imapd-clone.$(id -u)
mkdir -p "$base"
exec 9>"$base.lock"
if ! flock -n 9; then
  echo "clone-test: another test run holds $base.lock; waiting for it" >&2
  flock 9
fi
dst=$base/imapd
rm -rf "$dst"
trap 'rm -rf "$dst"' EXIT

# A clone has every branch and tag; HEAD may be a commit no branch names
# (a detached checkout), so it is pushed into the clone under a name too.
git clone --quiet --no-checkout "$src" "$dst"
git -C "$dst" config receive.shallowUpdate true
git push --quiet "$dst" "HEAD:refs/heads/imapd-under-test"
git -C "$dst" checkout --quiet --detach imapd-under-test
git -C "$dst" branch --quiet -D imapd-under-test

# The uncommitted state: files changed or deleted since HEAD, new files.
changed=0
while IFS= read -r -d '' f; do
  changed=$((changed + 1))
  if [ -e "$f" ] || [ -L "$f" ]; then
    mkdir -p "$dst/$(dirname "$f")"
    cp -a -- "$f" "$dst/$f"
  else
    rm -f -- "$dst/$f"
  fi
done < <(git diff -z --name-only --no-renames HEAD; git ls-files -z --others --exclude-standard)
if [ "$changed" -gt 0 ]; then
  echo "clone-test: $changed uncommitted or untracked file(s) copied into the clone as they are"
fi

echo "clone-test: make $* in $dst (HEAD $(git rev-parse --short HEAD))"
set +e
(cd "$dst" && IMAPD_CLONE=$dst "$make" "$@" 9>&-)
rc=$?
set -e
exit $rc
