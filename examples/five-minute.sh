#!/usr/bin/env bash
# The five-minute path, end to end: start scope-auth, create an app granted `runtime:run`
# and a key for it through the admin API, run the example downstream service, and call it
# with the example client: 201 with that key's token, 403 with the token of a key whose app
# lacks the scope. Everything runs on 127.0.0.1 from a temporary folder; everything it
# starts is stopped, and the folder removed, when it ends (or fails, or is interrupted).
#
#   npm install && bash examples/five-minute.sh
#
# AUTH_PORT (8080) and SERVICE_PORT (3000) choose the ports; SERVER_LOG where the server logs.
set -euo pipefail
cd "$(dirname "$0")/.."

AUTH_PORT=${AUTH_PORT:-8080}
SERVICE_PORT=${SERVICE_PORT:-3000}
WORK=$(mktemp -d)
SERVER_LOG=${SERVER_LOG:-$WORK/server.log}
PIDS=()
stop() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap stop EXIT

# One field of the JSON on stdin: `json key.id` (node is here anyway; jq works as well).
json() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(process.argv[1].split(".").reduce((v, k) => v[k], JSON.parse(s))))' "$1"; }
# Waits up to 60 s for a URL to answer 200.
wait_for() { for _ in $(seq 1 120); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.5; done; echo "no answer from $1" >&2; return 1; }

# The server's configuration: a SQLite database and the keys in the temporary folder.
export SCOPE_AUTH_DATABASE_URL="sqlite:$WORK/scope-auth.sqlite"
export SCOPE_AUTH_KEYS_DIR="$WORK/keys"
export SCOPE_AUTH_PORT=$AUTH_PORT
export SCOPE_AUTH_ISSUER="http://127.0.0.1:$AUTH_PORT"
AUTH=$SCOPE_AUTH_ISSUER

echo "1. scope-auth init: the root organization and its admin key (its secret is shown this once)"
INIT=$(node bin/scope-auth.js init --json)
ORG_ID=$(json org.id <<<"$INIT")
ADMIN_KEY_ID=$(json key.id <<<"$INIT")
ADMIN_SECRET=$(json secret <<<"$INIT")
echo "   org $ORG_ID, admin key $ADMIN_KEY_ID"

echo "2. start the server on $AUTH"
node bin/serve.cjs >"$SERVER_LOG" 2>&1 &
PIDS+=($!)
wait_for "$AUTH/readyz"

echo "3. an admin token: the admin key exchanged at POST /v1/token"
ADMIN_TOKEN=$(curl -fsS "$AUTH/v1/token" -H 'Content-Type: application/json' \
  -d "{\"org_id\":\"$ORG_ID\",\"key_id\":\"$ADMIN_KEY_ID\",\"secret\":\"$ADMIN_SECRET\"}" | json access_token)

# A POST to the admin API, as the admin: `admin_post PATH JSON`.
admin_post() { curl -fsS "$AUTH$1" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d "$2"; }

echo "4. an app granted runtime:run, and a key for it (the key's secret is shown this once)"
APP_ID=$(admin_post /v1/apps '{"name":"runner","scopes":["runtime:run"]}' | json id)
KEY=$(admin_post "/v1/apps/$APP_ID/keys" '{"name":"runner key"}')
KEY_ID=$(json key.id <<<"$KEY")
KEY_SECRET=$(json secret <<<"$KEY")
echo "   app $APP_ID, key $KEY_ID"

echo "5. an app without runtime:run (only agents:view), and a key for it"
READER_APP_ID=$(admin_post /v1/apps '{"name":"reader","scopes":["agents:view"]}' | json id)
READER_KEY=$(admin_post "/v1/apps/$READER_APP_ID/keys" '{"name":"reader key"}')
READER_KEY_ID=$(json key.id <<<"$READER_KEY")
READER_SECRET=$(json secret <<<"$READER_KEY")
echo "   app $READER_APP_ID, key $READER_KEY_ID"

echo "6. start the example downstream service on http://127.0.0.1:$SERVICE_PORT"
PORT=$SERVICE_PORT node examples/express-service.mjs &
PIDS+=($!)
for _ in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$SERVICE_PORT/" && break; sleep 0.5; done

export SCOPE_AUTH_API_URL=$AUTH SERVICE_URL="http://127.0.0.1:$SERVICE_PORT"
echo "7. the example client with the runner key: expect 201"
SCOPE_ORG_ID=$ORG_ID SCOPE_API_KEY=$KEY_ID SCOPE_API_SECRET=$KEY_SECRET node examples/client.mjs | tee "$WORK/right.txt"
echo "8. the example client with the reader key: expect 403"
SCOPE_ORG_ID=$ORG_ID SCOPE_API_KEY=$READER_KEY_ID SCOPE_API_SECRET=$READER_SECRET node examples/client.mjs | tee "$WORK/wrong.txt"

if grep -q '→ 201' "$WORK/right.txt" && grep -q '→ 403' "$WORK/wrong.txt"; then
  echo "five-minute path: OK (201 for the right token, 403 for a token without the scope)"
else
  echo "five-minute path: FAILED (see above)" >&2
  exit 1
fi
