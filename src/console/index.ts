// The admin console at /console: server-rendered pages, one router per page group. Signed-in
// pages go through consoleSession (the admin API's own authentication and CSRF check) and
// call the admin use cases as the API's routes do. createApp mounts what this returns:
// `headers` before everything, `routers` with the API's, `fallbacks` after them.
import { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Config } from '../config.js';
import type { AdminDeps } from '../domain/actor.js';
import type { Keyring } from '../domain/keyring.js';
import type { Csrf } from '../domain/sessions.js';
import type { SignIn } from '../domain/sign-in.js';
import type { WebhookDeps } from '../domain/webhooks.js';
import type { SessionCookie } from '../http/session-cookie.js';
import { accountRoutes } from './account.js';
import { appKeysRoutes } from './app-keys.js';
import { appPageRoutes } from './app-pages.js';
import { appsRoutes } from './apps.js';
import { auditRoutes } from './audit.js';
import { keysRoutes } from './keys.js';
import { assetRoutes, loadAssets } from './assets.js';
import { consoleErrors, consoleNotFound } from './errors.js';
import { consoleHeaders } from './headers.js';
import { invitationRoutes } from './invitations.js';
import { orgsRoutes } from './orgs.js';
import { peopleChangeRoutes } from './people-changes.js';
import { peopleRoutes } from './people.js';
import { signingKeyRoutes } from './signing-keys.js';
import { webhookPageRoutes } from './webhook-pages.js';
import { webhooksRoutes } from './webhooks.js';
import { createLayout, type Layout } from './layout.js';
import { consoleSession } from './session.js';
import { secondFactorRoutes } from './second-factor.js';
import { signInRoutes } from './sign-in.js';

export interface ConsoleDeps {
  readonly admin: AdminDeps;
  readonly config: Config;
  /** The admin API's authentication (http/admin-auth.ts). */
  readonly adminAuth: RequestHandler;
  /** The same, open to an enrolment-only session (an org's require_mfa): for enrolling and signing out. */
  readonly enrolmentAuth: RequestHandler;
  /** The key-encryption key, which seals second-factor secrets. */
  readonly kek: Buffer;
  readonly signIn: SignIn;
  readonly cookie: SessionCookie;
  readonly csrf: Csrf;
  /** The issuer's origin. */
  readonly origin: string;
  readonly keyring: Pick<Keyring, 'list' | 'rotate'>;
}

/** What every page group's router is built from. */
export interface PageDeps {
  readonly admin: AdminDeps;
  readonly config: Config;
  readonly layout: Layout;
  /** consoleSession: signed in, or redirected to the sign-in page. */
  readonly session: RequestHandler;
  readonly keyring: Pick<Keyring, 'list' | 'rotate'>;
  /** The webhooks' use cases: the admin deps with the KEK that seals their secrets. */
  readonly webhooks: WebhookDeps;
}

/** The page groups; a new group is one more entry (see src/console/README.md). */
// appPageRoutes before appsRoutes' /console/apps/:app_id/…: /console/apps/new is a page, not an app id;
// webhooksRoutes (which has /console/webhooks/new) before webhookPageRoutes for the same reason.
const PAGE_GROUPS: readonly ((deps: PageDeps) => Router)[] = [
  appPageRoutes,
  appsRoutes,
  appKeysRoutes,
  keysRoutes,
  auditRoutes,
  peopleRoutes,
  peopleChangeRoutes,
  orgsRoutes,
  signingKeyRoutes,
  webhooksRoutes,
  webhookPageRoutes,
];

export interface Console {
  readonly headers: RequestHandler;
  readonly routers: Router[];
  /** A 404 page for unknown /console paths, and the error pages. */
  readonly fallbacks: [RequestHandler, ErrorRequestHandler];
}

export function createConsole(deps: ConsoleDeps): Console {
  const assets = loadAssets();
  const layout = createLayout(assets);
  const session = consoleSession(deps);
  const enrolmentSession = consoleSession({ ...deps, adminAuth: deps.enrolmentAuth });
  const webhooks: WebhookDeps = { db: deps.admin.db, clock: deps.admin.clock, kek: deps.kek, config: deps.config };
  const pages: PageDeps = { admin: deps.admin, config: deps.config, layout, session, keyring: deps.keyring, webhooks };
  const home = Router();
  home.get('/', (_req, res) => res.redirect(303, '/console'));
  return {
    headers: consoleHeaders,
    routers: [
      home,
      assetRoutes(assets),
      signInRoutes({ ...pages, session: enrolmentSession, signIn: deps.signIn, cookie: deps.cookie, origin: deps.origin }),
      secondFactorRoutes({ ...pages, session: enrolmentSession, secondFactor: { ...deps.admin, kek: deps.kek }, verifySecondFactor: deps.signIn.verifySecondFactor }),
      invitationRoutes({ admin: deps.admin, layout, cookie: deps.cookie, origin: deps.origin }),
      accountRoutes({ ...pages, signIn: deps.signIn, cookie: deps.cookie }),
      ...PAGE_GROUPS.map((group) => group(pages)),
    ],
    fallbacks: [consoleNotFound(), consoleErrors(layout)],
  };
}
