// People in tests: invited and signed in through the API as a person would, and requests
// sent with their session (the cookie, the CSRF token and this server's Origin).
import request from 'supertest';
import { cliActor } from '../../src/domain/actor.js';
import { inviteUser } from '../../src/domain/people.js';
import type { Role } from '../../src/domain/roles.js';
import type { App } from '../../src/app.js';
import type { TestContext } from './context.js';

/** A password every rule accepts. */
export const PASSWORD = 'correct horse battery staple';
/** The test issuer's origin (TEST_ENV's SCOPE_AUTH_ISSUER) and its cookie's name. */
export const ORIGIN = 'http://scope-auth.test';
export const COOKIE = 'scope-auth-session';

export interface SignedIn {
  readonly userId: string;
  readonly orgId: string;
  readonly email: string;
  /** `scope-auth-session=…`, for a Cookie header. */
  readonly cookie: string;
  readonly csrf: string;
}

let people = 0;

/** The cookie a response set, as a Cookie header value. */
export function cookieOf(res: request.Response): string {
  const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = set.find((c) => c.startsWith(`${COOKIE}=`) || c.startsWith(`__Host-${COOKIE}=`));
  if (!cookie) throw new Error(`no ${COOKIE} cookie in ${res.status} ${res.text}`);
  return cookie.split(';')[0]!;
}

/** The token at the end of an invitation or reset link. */
export const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** Invites (as the operator) and accepts: an active person with a session. */
export async function createPerson(
  ctx: TestContext,
  options: { role?: Role; orgId?: string; email?: string; name?: string; app?: App } = {},
): Promise<SignedIn> {
  const orgId = options.orgId ?? ctx.root.org.id;
  const email = options.email ?? `person${++people}.${Date.now()}@example.com`;
  const invited = await inviteUser(ctx.deps, cliActor(orgId), { email, role: options.role ?? 'owner' });
  const res = await request(options.app ?? ctx.app)
    .post(`/v1/invitations/${tokenOf(invited.invitationUrl)}`)
    .send({ name: options.name ?? 'Ada Lovelace', password: PASSWORD });
  if (res.status !== 201) throw new Error(`accepting the invitation failed with ${res.status}: ${res.text}`);
  return { userId: invited.user.id, orgId, email, cookie: cookieOf(res), csrf: res.body.csrf_token as string };
}

/** POST /v1/sessions. */
export function signIn(app: App, email: string, password = PASSWORD, extra: object = {}): request.Test {
  return request(app).post('/v1/sessions').send({ email, password, ...extra });
}

/** A request with the person's session, passing the CSRF check unless told otherwise. */
export function asPerson(req: request.Test, person: Pick<SignedIn, 'cookie' | 'csrf'>, options: { csrf?: boolean } = {}): request.Test {
  req = req.set('Cookie', person.cookie);
  return options.csrf === false ? req : req.set('X-CSRF-Token', person.csrf).set('Origin', ORIGIN);
}

/** An app-less shorthand: `session(ctx, person).get('/v1/apps')`. */
export function session(app: App, person: Pick<SignedIn, 'cookie' | 'csrf'>) {
  return {
    get: (path: string) => asPerson(request(app).get(path), person),
    post: (path: string, body?: object) => asPerson(request(app).post(path), person).send(body),
    patch: (path: string, body?: object) => asPerson(request(app).patch(path), person).send(body),
    delete: (path: string) => asPerson(request(app).delete(path), person),
  };
}
