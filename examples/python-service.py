#!/usr/bin/env python3
"""A downstream service in Python that verifies scope-auth access tokens with PyJWT.

POST /v1/runs answers 201 for a token holding `runtime:run`, 401 without a valid token,
403 for a valid token lacking the scope, as the Express example does.

    SCOPE_AUTH_ISSUER=http://127.0.0.1:8080 PORT=3001 python3 examples/python-service.py

Needs PyJWT with its crypto support: `pip install 'pyjwt[crypto]'`
(Debian and Ubuntu: `apt-get install python3-jwt python3-cryptography`).
"""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

ISSUER = os.environ.get("SCOPE_AUTH_ISSUER", "http://localhost:8080")  # exactly SCOPE_AUTH_ISSUER
AUDIENCE = os.environ.get("SCOPE_AUTH_AUDIENCE", ISSUER)  # the app's audience; by default the issuer
REQUIRED_SCOPE = "runtime:run"
# The server's SCOPE_AUTH_SIGNING_ALG (ES256 by default). Never accept "none" or HS*.
ALGORITHMS = ["ES256"]

# Fetches and caches the server's public keys; a token with an unknown `kid` (after a
# signing-key rotation) makes it fetch them again.
jwks = jwt.PyJWKClient(f"{ISSUER}/.well-known/jwks.json")


class Refused(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.status, self.error = status, error


def verify(authorization):
    """The token's claims, or Refused with the status to answer."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Refused(401, None, "a bearer token is required")
    token = authorization[len("Bearer "):]
    try:
        # PyJWT does not check the `typ` header: without this, any other JWT signed with the
        # same keys would pass as an access token (RFC 9068 §4 asks for at+jwt).
        if jwt.get_unverified_header(token).get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
            raise Refused(401, "invalid_token", "not an access token (typ must be at+jwt)")
        key = jwks.get_signing_key_from_jwt(token).key
        # Checks the signature, `iss`, `aud`, `exp` (5 seconds of clock leeway) and that they are there.
        claims = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=5,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as err:
        raise Refused(401, "invalid_token", str(err)) from err
    # `scope` is space-separated.
    if REQUIRED_SCOPE not in claims.get("scope", "").split():
        raise Refused(403, "insufficient_scope", f"this requires the scope {REQUIRED_SCOPE}")
    return claims


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/v1/runs":
            return self.answer(404, {"error": "not_found"})
        try:
            claims = verify(self.headers.get("Authorization"))
        except Refused as refused:
            challenge = 'Bearer realm="python-service"'
            if refused.error:
                challenge += f', error="{refused.error}"'
            return self.answer(refused.status, {"error": refused.error or "unauthenticated"}, {"WWW-Authenticate": challenge})
        # The tenant is org_id, the key is sub.
        self.answer(201, {"run": "started", "org_id": claims["org_id"], "key_id": claims["sub"]})

    def answer(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # one line per request, never the token
        sys.stderr.write(f"python-service: {self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "3001"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"python-service: listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
