// createApp(deps) → the server's request listener: the raw routes (the JWKS and the two
// token endpoints, see http/raw-routes.ts) first, everything else by the express app. It never
// listens; server.ts and the tests do.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createTokenAuthority, createTokenVerifier } from './domain/access-tokens.js';
import type { Clock } from './domain/clock.js';
import { createArgon2Queue } from './domain/argon2-queue.js';
import { createExchange } from './domain/exchange.js';
import { createIntrospection } from './domain/introspection.js';
import { estimatedVerifySeconds, type SecretHasher } from './domain/hashing.js';
import type { Keyring } from './domain/keyring.js';
import type { LastUsedRecorder } from './domain/last-used.js';
import type { RefusalAudit } from './domain/refusal-audit.js';
import type { Catalog } from './domain/scopes.js';
import type { Throttle } from './domain/throttle.js';
import type { Csrf } from './domain/sessions.js';
import { createVerifiedCache } from './domain/verified-cache.js';
import { authenticate } from './http/bearer-auth.js';
import { exactPath, methodGuard, routerPaths, type KnownPath } from './http/allowed-methods.js';
import { refuseUnreadableBodies } from './http/body-gate.js';
import { notFound, problemErrorHandler } from './http/error-handler.js';
import type { Metrics } from './http/metrics.js';
import type { Lifecycle } from './http/lifecycle.js';
import { requestLogger } from './http/request-logger.js';
import { setRouteTemplate } from './http/request-durations.js';
import type { RawRoute } from './http/raw-routes.js';
import { trustFunction } from './http/request-context.js';
import { setSecurityHeaders } from './http/security-headers.js';
import { healthRoutes } from './routes/health.js';
import { introspectRoutes } from './routes/introspect.js';
import { JWKS_PATH, jwksRoute } from './routes/jwks.js';
import { metadataPaths, metadataRoutes } from './routes/metadata.js';
import { openApiRoutes } from './routes/openapi.js';
import { openApiDocument } from './openapi/document.js';
import { packageVersion } from './version.js';
import { OAUTH_TOKEN_PATH, oauthRoute } from './routes/oauth.js';
import { TOKEN_PATH, tokenRoute } from './routes/token.js';
import { appsRoutes } from './routes/apps.js';
import { auditRoutes } from './routes/audit.js';
import { keysRoutes } from './routes/keys.js';
import { orgsRoutes } from './routes/orgs.js';
import { scopesRoutes } from './routes/scopes.js';
import { invitationsRoutes } from './routes/invitations.js';
import { meRoutes } from './routes/me.js';
import { mfaRoutes } from './routes/mfa.js';
import { sessionsRoutes } from './routes/sessions.js';
import { usersRoutes } from './routes/users.js';
import { webhooksRoutes } from './routes/webhooks.js';
import { adminAuthenticate } from './http/admin-auth.js';
import { originOf } from './http/csrf.js';
import { sessionCookie } from './http/session-cookie.js';
import { createSessionAuthority, sessionSettings } from './domain/sessions.js';
import { createSignIn } from './domain/sign-in.js';
import { createSecondFactorCheck } from './domain/second-factor-check.js';
import type { PeriodicJob } from './domain/periodic-job.js';
import type { LeakSignatures } from './domain/leak-signatures.js';
import type { SecretDigest } from './domain/secret-digest.js';
import { leaksRoutes } from './routes/leaks.js';
import type { Db } from './store/database.js';
import { createConsole } from './console/index.js';

export interface AppDeps {
  readonly config: Config;
  readonly db: Db;
  readonly catalog: Catalog;
  readonly keyring: Keyring;
  readonly hasher: SecretHasher;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly throttle: Throttle;
  readonly lastUsed: LastUsedRecorder;
  readonly metrics: Metrics;
  readonly lifecycle: Lifecycle;
  readonly refusalAudit: RefusalAudit;
  /** Sign-in and sessions: their throttle and refusal audit (started and stopped with the others), and more. */
  readonly people: PeopleServices;
  /** The lookup digest of new keys' secrets (domain/secret-digest.ts), under a key derived from the KEK. */
  readonly secretDigest: SecretDigest;
  /** Leak reports (POST /v1/leaks): their throttle (started and stopped with the others) and GitHub's signatures. */
  readonly leaks: LeakServices;
  /** Background jobs (each on one instance at a time, domain/periodic-job.ts), started and stopped by the server. */
  readonly jobs: readonly PeriodicJob[];
}

export interface LeakServices {
  /** Of kind `leak`: every unsigned report counts, per client. */
  readonly throttle: Throttle;
  readonly signatures: LeakSignatures;
}

export interface PeopleServices {
  /** Of kind `signin`: counters of its own, the same limits as exchanges. */
  readonly throttle: Throttle;
  /** `session.refused` events that anybody can cause for free (throttled callers), aggregated. */
  readonly refusalAudit: RefusalAudit;
  readonly dummyPasswordHash: string;
  readonly csrf: Csrf;
  /** The key-encryption key: seals the second factor's TOTP secrets, as it does the signing keys. */
  readonly kek: Buffer;
}

/** A Node request listener: `http.createServer(app)`, or supertest's `request(app)`. */
export type App = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** Every path it answers and the methods each takes (405 + Allow for any other method). */
  readonly knownPaths: readonly KnownPath[];
};

export function createApp(deps: AppDeps): App {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const trust = trustFunction(config.trustProxy);
  app.set('trust proxy', trust);
  app.set('query parser', 'simple');

  // One queue for every argon2 verification, exchanges' and sign-ins', served by client in turn.
  const argon2Queue = createArgon2Queue({
    concurrency: config.argon2.concurrency,
    limit: config.argon2.queueLimit,
    onDepth: deps.metrics.argon2QueueDepth,
    initialEstimateSeconds: estimatedVerifySeconds(config.argon2),
  });
  const exchange = createExchange({
    db: deps.db,
    hasher: deps.hasher,
    keyring: deps.keyring,
    catalog: deps.catalog,
    clock: deps.clock,
    throttle: deps.throttle,
    lastUsed: deps.lastUsed,
    observer: deps.metrics.observer,
    refusalAudit: deps.refusalAudit,
    logger,
    issuer: config.issuer,
    audience: config.audience,
    ttl: { defaultSeconds: config.tokenTtlSeconds, minSeconds: config.tokenTtlMinSeconds, maxSeconds: config.tokenTtlMaxSeconds },
    verifiedCache: createVerifiedCache({
      maxEntries: config.verifiedCache.maxEntries,
      maxAgeMs: config.verifiedCache.maxAgeSeconds * 1000,
      clock: deps.clock,
    }),
    argon2Queue,
  });

  // Bearer auth for every protected route: a token of this server whose key is still active,
  // with the scopes its app still grants.
  const verifyToken = createTokenVerifier({ keyring: deps.keyring, issuer: config.issuer, clock: deps.clock });
  const auth = authenticate({ verify: verifyToken, authority: createTokenAuthority({ db: deps.db, clock: deps.clock, catalog: deps.catalog }) });

  // The admin API takes a bearer token or a person's session: the tenant of every call is the
  // token's org or the person's.
  const settings = sessionSettings(config.people);
  const cookie = sessionCookie(config.issuer);
  const origin = originOf(config.issuer);
  const adminAuthDeps = {
    bearer: auth,
    sessions: createSessionAuthority({ db: deps.db, clock: deps.clock, catalog: deps.catalog, settings }),
    csrf: deps.people.csrf,
    cookie,
    origin,
  };
  const adminAuth = adminAuthenticate(adminAuthDeps);
  // For what an enrolment-only session (an org's require_mfa) may do: its person, enrolment, signing out.
  const enrolmentAuth = adminAuthenticate(adminAuthDeps, { allowEnrolment: true });
  const signIn = createSignIn({
    db: deps.db,
    hasher: deps.hasher,
    clock: deps.clock,
    logger,
    throttle: deps.people.throttle,
    argon2Queue,
    refusalAudit: deps.people.refusalAudit,
    dummyPasswordHash: deps.people.dummyPasswordHash,
    sessions: settings,
    secondFactor: createSecondFactorCheck({ db: deps.db, clock: deps.clock, kek: deps.people.kek }),
  });
  const answer = { csrf: deps.people.csrf, cookie, clock: deps.clock };
  const admin = { auth: adminAuth, admin: deps };
  const routers = [
    healthRoutes({ db: deps.db, keyring: deps.keyring, metrics: config.metrics === null ? deps.metrics : null, lifecycle: deps.lifecycle }),
    metadataRoutes({ config, catalog: deps.catalog }),
    openApiRoutes({ document: openApiDocument({ version: packageVersion(), tokenTtlMaxSeconds: config.tokenTtlMaxSeconds, sessionCookieName: cookie.name }) }),
    introspectRoutes({ auth, introspect: createIntrospection({ verify: verifyToken, db: deps.db, clock: deps.clock }) }),
    scopesRoutes({ auth: adminAuth, catalog: deps.catalog, defaultAudience: config.audience }),
    appsRoutes(admin),
    keysRoutes(admin),
    auditRoutes(admin),
    orgsRoutes(admin),
    usersRoutes(admin),
    webhooksRoutes({ auth: adminAuth, webhooks: { ...deps, kek: deps.people.kek } }),
    sessionsRoutes({ ...admin, auth: enrolmentAuth, signIn, answer, origin }),
    // Before /v1/me's router, whose authentication would otherwise run for these paths too.
    mfaRoutes({ secondFactor: { ...deps, kek: deps.people.kek }, auth: enrolmentAuth, verifySecondFactor: signIn.verifySecondFactor }),
    meRoutes({ ...admin, auth: enrolmentAuth, csrf: deps.people.csrf, cookie, verifyCurrentPassword: signIn.verifyCurrentPassword }),
    invitationsRoutes({ admin: deps, answer, origin }),
    leaksRoutes({ ...deps, argon2Queue }),
  ];
  // The admin console: its pages call the same use cases through the same authentication.
  const adminConsole = config.console ? createConsole({ admin: deps, config, adminAuth, enrolmentAuth, signIn, cookie, csrf: deps.people.csrf, origin, keyring: deps.keyring, kek: deps.people.kek }) : null;
  if (adminConsole !== null) routers.push(...adminConsole.routers);
  // Every path the server answers, with its methods: the raw routes' and the metadata
  // document's by hand (they match paths themselves), the routers' read from them.
  const knownPaths: readonly KnownPath[] = [
    exactPath(TOKEN_PATH, ['POST'], 'oauth'),
    exactPath(OAUTH_TOKEN_PATH, ['POST'], 'oauth'),
    exactPath(JWKS_PATH, ['GET']),
    ...metadataPaths(config.issuer).map((path) => exactPath(path, ['GET'])),
    ...routerPaths(...routers),
  ];
  // Before any router (and so before authentication): a method the path does not take, and
  // a body no route could read, are refused from the request line and headers alone.
  if (adminConsole !== null) app.use(adminConsole.headers);
  app.use(methodGuard(knownPaths));
  app.use(refuseUnreadableBodies);
  for (const router of routers) app.use(router);
  if (adminConsole !== null) app.use('/console', ...adminConsole.fallbacks);

  app.use(notFound);
  app.use(problemErrorHandler(logger));

  // Every response gets the security headers and a log line, whoever answers it, and its
  // duration is recorded under its route template.
  const logRequest = requestLogger(logger, { onFinish: deps.metrics.requestFinished });
  const rawRoutes: readonly (readonly [string, RawRoute])[] = [
    [JWKS_PATH, jwksRoute({ keyring: deps.keyring, maxAgeSeconds: config.jwksMaxAgeSeconds })],
    [TOKEN_PATH, tokenRoute({ exchange, logger, trust })],
    [OAUTH_TOKEN_PATH, oauthRoute({ exchange, logger, trust })],
  ];
  const { lifecycle } = deps;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    lifecycle.track(res);
    setSecurityHeaders(res);
    logRequest(req, res);
    for (const [path, route] of rawRoutes) {
      if (route(req, res)) {
        // In time: 'finish', which reads it, comes after the answer is written, never during route().
        setRouteTemplate(res, path);
        return;
      }
    }
    app(req, res);
  };
  return Object.assign(listener, { knownPaths });
}
