#!/usr/bin/env bash
# The README's walk, as a new user pastes it: every ```sh block of
# "Five minutes from first start to a verified token" and of "Keeping
# configuration in Git", in order, in one shell, in a fresh copy of this
# checkout (so the binary and ./gatehouse-data land there, not here).
#
# Two things differ from pasting, and only these: 127.0.0.1:8080 becomes a
# free port (a CI machine runs other servers), and after `serve &` the
# script waits for /readyz where a person would wait a second. Checks of
# what the walk produced follow the README's blocks.
#
#   bash scripts/readme-walk.sh        (about half a minute with a warm Go cache)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

# A free loopback port.
for _ in $(seq 1 50); do
  port=$((20000 + RANDOM % 30000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
done

# The checkout as a new user has it: tracked and new files, nothing ignored.
mkdir "$work/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$repo" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$work/src"

# The walk: the README's blocks, then the checks.
awk -v port="$port" '
  BEGIN {
    print "set -euo pipefail"
    print "trap '\''if [ -n \"${GATEHOUSE_WALK_PID:-}\" ]; then kill \"$GATEHOUSE_WALK_PID\"; wait \"$GATEHOUSE_WALK_PID\" 2>/dev/null || true; fi'\'' EXIT"
  }
  /^## / { walk = ($0 ~ /^## Five minutes from first start/ || $0 ~ /^## Keeping configuration in Git/) }
  walk && /^```sh$/ { block = 1; blocks++; print "printf '\''\\n== README block " blocks "\\n'\''"; next }
  block && /^```$/ { block = 0; next }
  block {
    gsub(/127\.0\.0\.1:8080/, "127.0.0.1:" port)
    print
    if ($0 ~ /gatehouse serve &/) {
      print "GATEHOUSE_WALK_PID=$!"
      print "for _ in $(seq 1 300); do curl -fsS -o /dev/null http://127.0.0.1:" port "/readyz 2>/dev/null && break; sleep 0.1; done"
    }
  }
  END { print "WALK_BLOCKS=" blocks }
' "$repo/README.md" > "$work/walk.sh"
cat >> "$work/walk.sh" <<EOF
echo "== checks"
[ "\$WALK_BLOCKS" -ge 6 ] || { echo "found only \$WALK_BLOCKS sh blocks in the README's walk" >&2; exit 1; }
payload=\$(echo "\$TOKEN" | cut -d. -f2 | tr '_-' '/+' | awk '{while (length(\$0) % 4) \$0 = \$0 "="; print}' | base64 -d)
case "\$payload" in
  *'"tenant":"acme"'*'"scope":"personalize.flows:manage"'* | *'"scope":"personalize.flows:manage"'*'"tenant":"acme"'*) ;;
  *) echo "the decoded token lacks the walk's tenant or scope: \$payload" >&2; exit 1 ;;
esac
gatehouse apply -f gatehouse-config.yaml | grep -q '^no changes' || { echo "applying the README's file again changed something" >&2; exit 1; }
grep -q 'client_id: deploy-bot' exported.yaml || { echo "export lacks the applied client" >&2; exit 1; }
! grep -q 'gatehouse_\|an-old-vendor-secret' exported.yaml || { echo "export holds a secret" >&2; exit 1; }
curl -fsS -o /dev/null -d client_id=legacy-exporter --data-urlencode "client_secret=\$LEGACY_EXPORTER_SECRET" \
  -d grant_type=client_credentials -d audience=https://api.example.io http://127.0.0.1:$port/oauth/token ||
  { echo "the imported secret does not get a token" >&2; exit 1; }
EOF

# A fresh machine's environment: none of gatehouse's settings, the port.
for v in $(env | awk -F= '/^GATEHOUSE_/ {print $1}'); do unset "$v"; done
export GATEHOUSE_ADDR="127.0.0.1:$port" GATEHOUSE_URL="http://127.0.0.1:$port"
export GATEHOUSE_TOKEN_CACHE="$work/token-cache" PATH="$work/src:$PATH"
if ! (cd "$work/src" && bash "$work/walk.sh") > "$work/walk.log" 2>&1; then
  tail -n 60 "$work/walk.log" >&2
  echo "README walk FAILED (above: the end of its output; the script it ran was built from README.md's sh blocks)" >&2
  exit 1
fi
echo "README walk: ok ($(grep -c '^== README block' "$work/walk.log") blocks, $(($(date +%s) - start))s)"
