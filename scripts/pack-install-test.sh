#!/usr/bin/env bash
# The two packages as a new user gets them: packs the server (scope-auth) and the SDK
# (@scope-auth/sdk) as `npm publish` would, installs each tarball into an empty project of its
# own from the registry — the server with the production install, `npm ci --omit=dev` — and
# runs what the README says: `scope-auth --help`, `scope-auth init --json` on a fresh SQLite
# database and keys folder, the server with the start command, a real exchange at
# POST /v1/token, and, in the SDK's project, a plain .mjs file that exchanges with the SDK's
# client and verifies the token against the server's JWKS with its verifier.
#
# Slow (better-sqlite3 compiles from source, about a minute) and needs the npm registry, so it
# is not part of `npm test`: CI runs it (.ci/run), and so can you: `npm run test:pack`.
# Everything lives in one temporary folder, removed at the end; the only process it starts
# in the background is its own server, stopped by its PID; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scope-auth-pack-test-XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'pack-install-test: FAILED: %s\n' "$*" >&2; exit 1; }
# Installed size of a project: the packages in its node_modules, and their MB on disk.
measure() {
  local packages mb
  packages=$( (cd "$1" && npm ls --all --parseable 2>/dev/null || true) | tail -n +2 | wc -l)
  mb=$(du -sk "$1/node_modules" | awk '{ printf "%.1f", $1 / 1024 }')
  echo "$packages packages, $mb MB"
}

step "npm pack (each package builds itself first: prepack)"
mkdir -p "$WORK/tarballs"
npm pack --silent --pack-destination "$WORK/tarballs" >/dev/null
(cd sdk && npm pack --silent --pack-destination "$WORK/tarballs" >/dev/null)
SERVER_TGZ=$(ls "$WORK"/tarballs/scope-auth-[0-9]*.tgz)
SDK_TGZ=$(ls "$WORK"/tarballs/scope-auth-sdk-*.tgz)
for tgz in "$SERVER_TGZ" "$SDK_TGZ"; do
  tar tzf "$tgz" > "$tgz.files"
  extra=$(grep -E '^package/(src|test|sdk|scripts|db)/|\.ts$|\.map$' < "$tgz.files" | grep -v '\.d\.ts$' || true)
  [ -z "$extra" ] || fail "$(basename "$tgz") ships sources, tests or source maps: $extra"
  grep -qx 'package/LICENSE' "$tgz.files" || fail "$(basename "$tgz") has no LICENSE"
done
grep -qx 'package/dist/src/main.js' "$SERVER_TGZ.files" || fail "the server tarball has no dist/src/main.js"

step "the server: npm ci --omit=dev in an empty project"
mkdir -p "$WORK/server"
cat > "$WORK/server/package.json" <<EOF
{ "private": true, "dependencies": { "scope-auth": "file:$SERVER_TGZ" } }
EOF
(cd "$WORK/server" && timeout 300 npm install --package-lock-only --no-audit --no-fund --silent)
(cd "$WORK/server" && timeout 900 npm ci --omit=dev --no-audit --no-fund --silent)
SERVER_SIZE=$(measure "$WORK/server")
[ -e "$WORK/server/node_modules/typescript" ] && fail "the production install pulled in TypeScript"

step "the SDK: npm install in an empty project"
mkdir -p "$WORK/service"
echo '{ "private": true, "type": "module" }' > "$WORK/service/package.json"
(cd "$WORK/service" && timeout 300 npm install --no-audit --no-fund --silent "$SDK_TGZ")
SDK_SIZE=$(measure "$WORK/service")
installed=$(cd "$WORK/service/node_modules" && ls -d @*/* [!@]* 2>/dev/null | sort | tr '\n' ' ')
[ "$installed" = "@scope-auth/sdk jose " ] || fail "the SDK pulled in more than jose: $installed"
if find "$WORK/service/node_modules" -name '*.node' | grep -q .; then fail "the SDK's install has a native module"; fi

step "scope-auth --help"
BIN="$WORK/server/node_modules/.bin/scope-auth"
"$BIN" --help > "$WORK/help.txt"
grep -q 'serve' "$WORK/help.txt" || fail "scope-auth --help does not list serve"

step "scope-auth init --json on a fresh database, then the server"
PORT=$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export SCOPE_AUTH_HOST=127.0.0.1 SCOPE_AUTH_PORT="$PORT" SCOPE_AUTH_ISSUER="http://127.0.0.1:$PORT"
export SCOPE_AUTH_DATABASE_URL="sqlite:$WORK/data/scope-auth.sqlite" SCOPE_AUTH_KEYS_DIR="$WORK/keys"
mkdir -p "$WORK/data"
(cd "$WORK/server" && "$BIN" init --json) > "$WORK/root.json"
field() { node -e 'const j=require(process.argv[1]); console.log(process.argv[2].split(".").reduce((o,k)=>o[k],j))' "$WORK/root.json" "$1"; }
ORG_ID=$(field org.id) KEY_ID=$(field key.id) SECRET=$(field secret)

# What `npm start` runs (its Node options and bin/serve.cjs), read from the installed package.
START=$(node -e 'const p=require(process.argv[1]); console.log(p.scripts.start.replace(/^node /,"").replace(/bin\/serve\.cjs$/, process.argv[2]+"/bin/serve.cjs"))' \
  "$WORK/server/node_modules/scope-auth/package.json" "$WORK/server/node_modules/scope-auth")
# shellcheck disable=SC2086 # the options are separate words
(cd "$WORK/server" && exec node $START) > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  if curl -fsS --max-time 5 "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "the server exited"; }
  sleep 0.2
done
curl -fsS --max-time 5 "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$WORK/server.log" >&2; fail "the server is not ready after 60 s"; }

step "POST /v1/token"
status=$(curl -sS --max-time 30 -o "$WORK/token.json" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/v1/token" \
  -H 'content-type: application/json' \
  -d "{\"org_id\":\"$ORG_ID\",\"key_id\":\"$KEY_ID\",\"secret\":\"$SECRET\"}")
[ "$status" = 200 ] || fail "POST /v1/token answered $status: $(cat "$WORK/token.json")"
ACCESS_TOKEN=$(node -e 'const t=require(process.argv[1]).access_token; if (typeof t !== "string" || t === "") process.exit(1); console.log(t)' "$WORK/token.json") \
  || fail "POST /v1/token answered no access_token"

step "the SDK from a plain .mjs file: the client exchanges, the verifier checks both tokens"
cat > "$WORK/service/check.mjs" <<'EOF'
import { ScopeAuthClient } from '@scope-auth/sdk/client';
import { createVerifier } from '@scope-auth/sdk/verifier';

const { SCOPE_AUTH_ISSUER: issuer, SCOPE_ORG_ID: orgId, TOKEN_FROM_CURL } = process.env;
const client = new ScopeAuthClient(); // SCOPE_ORG_ID, SCOPE_API_KEY, SCOPE_API_SECRET, SCOPE_AUTH_API_URL
const verifier = createVerifier({ issuer, audience: issuer, orgId });
for (const token of [await client.getToken(), TOKEN_FROM_CURL]) {
  const claims = await verifier.verify(token);
  if (claims.org_id !== orgId || !claims.scope.split(' ').includes('admin.apps:view')) throw new Error(`unexpected claims ${JSON.stringify(claims)}`);
}
client.close();
console.log('verified with the JWKS of', issuer);
EOF
(cd "$WORK/service" && SCOPE_ORG_ID="$ORG_ID" SCOPE_API_KEY="$KEY_ID" SCOPE_API_SECRET="$SECRET" \
  SCOPE_AUTH_API_URL="$SCOPE_AUTH_ISSUER" TOKEN_FROM_CURL="$ACCESS_TOKEN" timeout 60 node check.mjs)

step "stop the server (SIGTERM drains and exits 0)"
kill "$SERVER_PID"
code=0
for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && { kill -9 "$SERVER_PID"; fail "the server did not stop within 10 s of SIGTERM"; }
wait "$SERVER_PID" || code=$?
SERVER_PID=
[ "$code" = 0 ] || { cat "$WORK/server.log" >&2; fail "the server exited $code after SIGTERM"; }
if grep -qF -e "$SECRET" -e "$ACCESS_TOKEN" "$WORK/server.log"; then fail "the server's log has the secret or a token"; fi

step "installed sizes"
echo "scope-auth (npm ci --omit=dev): $SERVER_SIZE"
echo "@scope-auth/sdk (npm install):  $SDK_SIZE"
echo "pack-install-test: passed"
