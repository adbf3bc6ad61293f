// A client: exchanges its API key for an access token with the SDK client, then calls the
// example service with it (POST /v1/runs) and prints the answer's status and body.
//
//   SCOPE_ORG_ID=org_… SCOPE_API_KEY=key_… SCOPE_API_SECRET=secret_… \
//   SCOPE_AUTH_API_URL=http://127.0.0.1:8080 SERVICE_URL=http://127.0.0.1:3000 node examples/client.mjs
//
// The key must be one of an app of yours (created through the admin API or the CLI), not the
// root admin key: the token carries the app's scopes, and only an app granted runtime:run gets
// a 201 from the service. In your own project: `npm install @scope-auth/sdk` and import from
// '@scope-auth/sdk/client'.
import { ScopeAuthClient, ScopeAuthError } from 'scope-auth/client'

const service = process.env.SERVICE_URL ?? 'http://127.0.0.1:3000'
// Reads SCOPE_ORG_ID, SCOPE_API_KEY, SCOPE_API_SECRET and SCOPE_AUTH_API_URL; asks for all the app's scopes.
const auth = new ScopeAuthClient()

try {
  // Adds `Authorization: Bearer …` (getting and caching the token first); on a 401 it gets a new token and retries once.
  const res = await auth.fetch(`${service}/v1/runs`, { method: 'POST' })
  console.log(`POST ${service}/v1/runs → ${res.status} ${await res.text()}`)
} catch (err) {
  // invalid_client: a wrong or revoked key; invalid_scope: a scope the app does not grant.
  if (err instanceof ScopeAuthError) console.error(`client: no token (${err.code}): ${err.message}`)
  else console.error(err)
  process.exitCode = 1
}
