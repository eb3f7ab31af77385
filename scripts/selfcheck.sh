#!/usr/bin/env bash
# selfcheck.sh: the repository stands alone. Fails (exit 1, naming file and
# line) when a tracked file points outside the checkout:
#   - a path to a directory beside the checkout (the notes directory that
#     some build machines keep next to it),
#   - an absolute path of a build machine: anything under /work or /root,
#     or below a home directory (a user's directory under /home or /Users,
#     and something in it); a home directory alone, as in a passwd line,
#     is an example, not a path we use,
#   - a symbolic link whose target is absolute or climbs out of the checkout,
#   - a go.mod replace directive pointing at a directory,
#   - a citation of a research note that is not in the repository (the
#     facts the code relies on are in docs/formats.md and
#     docs/compatibility.md, which comments cite instead).
# The tests themselves are proven to need nothing beside the checkout by
# `make test`, which runs them in a fresh clone (scripts/clone-test.sh).
# The patterns below are written so that this file does not match them.
set -euo pipefail
cd "$(dirname "$0")/.."

bad=0
report() { echo "selfcheck: $*" >&2; bad=1; }

# Tracked (and untracked, not ignored) files that exist in the working tree.
files=()
while IFS= read -r -d '' f; do
  [ -f "$f" ] && ! [ -L "$f" ] && files+=("$f")
done < <(git ls-files -z --cached --others --exclude-standard)

# The bracketed letters keep these patterns from matching this file.
patterns=(
  '\.\./share[d]([/"'"'"' ]|$)'
  '(^|[^A-Za-z0-9_.-])/wor[k]/'
  '(^|[^A-Za-z0-9_.-])/roo[t]/'
  '(^|[^A-Za-z0-9_.:-])/hom[e]/[^/[:space:]:"'"'"'`]+/'
  '(^|[^A-Za-z0-9_.-])/User[s]/[^/[:space:]]+/'
  'uw-observe[d]|uw-goima[p]|(^|[^A-Za-z])dmail\.m[d]|DESIGN\.m[d]|researc[h]/'
)
for p in "${patterns[@]}"; do
  if hits=$(grep -nIE -- "$p" "${files[@]}"); then
    while IFS= read -r line; do report "reference outside the repository: $line"; done <<<"$hits"
  fi
done

# Symbolic links must stay inside the checkout.
while IFS= read -r -d '' f; do
  if [ -L "$f" ]; then
    target=$(readlink "$f")
    case "$target" in
    /*) report "$f: symbolic link to an absolute path ($target)" ;;
    *)
      dir=$(dirname "$f")
      resolved=$(cd "$dir" && realpath -m -- "$target")
      case "$resolved" in
      "$PWD"/*) ;;
      *) report "$f: symbolic link leaves the repository ($target)" ;;
      esac
      ;;
    esac
  fi
done < <(git ls-files -z --cached --others --exclude-standard)

if grep -nE '^[[:space:]]*(replace[[:space:]].*)?=>[[:space:]]*(\.|/)' go.mod >/dev/null 2>&1; then
  report "go.mod: a replace directive points at a directory: $(grep -nE '=>[[:space:]]*(\.|/)' go.mod)"
fi

if [ "$bad" != 0 ]; then
  echo "selfcheck: FAIL: the repository must not refer to files outside it (see docs/formats.md and docs/compatibility.md for the facts the code relies on)" >&2
  exit 1
fi
echo "selfcheck: ${#files[@]} files, no reference leaves the repository"
