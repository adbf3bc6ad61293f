// A downstream service: POST /v1/runs answers 201 only for a scope-auth access token that
// holds `runtime:run`; 401 without a valid token, 403 for a valid token lacking the scope.
// The token is checked offline against the server's JWKS (signature, issuer, audience,
// expiry, `typ: at+jwt`): the service never calls scope-auth per request.
//
//   SCOPE_AUTH_ISSUER=http://127.0.0.1:8080 PORT=3000 node examples/express-service.mjs
//
// In your own project: `npm install @scope-auth/sdk express` and import from
// '@scope-auth/sdk/verifier' (the same module; this clone's package serves it as scope-auth/verifier).
import express from 'express'
import { createVerifier } from 'scope-auth/verifier'

const issuer = process.env.SCOPE_AUTH_ISSUER ?? 'http://localhost:8080'
const auth = createVerifier({
  issuer, // exactly the server's SCOPE_AUTH_ISSUER
  audience: process.env.SCOPE_AUTH_AUDIENCE ?? issuer, // the app's audience; an app without one gets the issuer
})

const app = express()
app.post('/v1/runs', auth.require('runtime:run'), (req, res) => {
  // req.auth holds the verified claims: the tenant is org_id, the key is sub.
  res.status(201).json({ run: 'started', org_id: req.auth.org_id, key_id: req.auth.sub })
})

const port = Number(process.env.PORT ?? 3000)
const server = app.listen(port, '127.0.0.1', () => console.log(`express-service: listening on http://127.0.0.1:${port}`))
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0))
    server.closeAllConnections()
  })
}
