// People: users (an org's owners), sign-in and sessions, the signed-in person (/v1/me), their
// second factor, and the one-time links of invitations and password resets.
import { noInput } from '../http/admin-request.js';
import { acceptInvitationBody, invitationPath } from '../routes/invitations.js';
import { mySessionsQuery, sessionPath, updateMeBody } from '../routes/me.js';
import { confirmMfaBody, removeMfaBody } from '../routes/mfa.js';
import { signInBody } from '../routes/sessions.js';
import { inviteBody, updateUserBody, userPath, usersQuery } from '../routes/users.js';
import { arrayOf, boolean, nullableString, nullableTime, ref, string, strings, time, type JsonSchema } from './schema.js';
import { problem, type Answer, type Caller, type Operation } from './operations.js';

const owners: Caller = { kind: 'admin', scopes: ['admin.users:full'] };
const session: Caller = { kind: 'session' };
const ok = (body: string | JsonSchema, description = 'OK'): Answer => ({ description, body });
const noContent: Answer = { description: 'Done; no body.' };
const notFound = problem('Not found in the caller’s org.');
const conflict = problem('It would leave the org without an active owner (`last_owner`), or the email is taken (`conflict`).');
const throttled: Answer = { ...problem('Too many failures from this client (`throttled`), or the server is busy (`unavailable`, 503); see `Retry-After`.'), headers: { 'Retry-After': 'Seconds to wait.' } };

const newSession: Answer = {
  description: 'Signed in: the session cookie is set (`Set-Cookie`), and the CSRF token its changes must carry is answered.',
  headers: { 'Set-Cookie': 'The session cookie: HttpOnly, SameSite=Strict; `__Host-` prefixed and Secure with an https issuer.' },
  body: {
    type: 'object',
    required: ['user', 'csrf_token', 'expires_at', 'restricted_to'],
    properties: {
      user: ref('Person'),
      csrf_token: { type: 'string', description: 'Send it as `X-CSRF-Token` with every change made with this session.' },
      expires_at: time,
      restricted_to: { type: ['string', 'null'], enum: ['mfa_enrolment', null], description: '`mfa_enrolment`: the org requires a second factor the person has not enrolled; only enrolment is open.' },
    },
  },
};

const me: JsonSchema = {
  type: 'object',
  required: ['user', 'org', 'role', 'scopes', 'csrf_token', 'session'],
  properties: {
    user: ref('Person'),
    org: { type: 'object', required: ['id', 'name', 'is_root', 'require_mfa'], properties: { id: string, name: string, is_root: boolean, require_mfa: boolean } },
    role: string,
    scopes: strings,
    csrf_token: string,
    session: { type: 'object', required: ['id', 'expires_at', 'restricted_to'], properties: { id: string, expires_at: time, restricted_to: nullableString } },
  },
};

export function peopleOperations(): Operation[] {
  return [
    { method: 'get', path: '/v1/users', tag: 'Users', summary: 'List the org’s people', caller: owners, query: usersQuery, answers: { '200': ok('PersonPage') } },
    {
      method: 'post',
      path: '/v1/users',
      tag: 'Users',
      summary: 'Invite a person; the answer holds their one-time invitation link',
      caller: owners,
      body: inviteBody,
      answers: {
        '201': {
          description: 'Invited.',
          headers: { Location: '/v1/users/{user_id}' },
          body: { type: 'object', required: ['user', 'invitation_url'], properties: { user: ref('Person'), invitation_url: string } },
        },
        '409': conflict,
      },
    },
    { method: 'get', path: '/v1/users/:user_id', tag: 'Users', summary: 'Read a person', caller: owners, params: userPath, answers: { '200': ok('Person'), '404': notFound } },
    {
      method: 'patch',
      path: '/v1/users/:user_id',
      tag: 'Users',
      summary: 'Change a person’s role, status or name',
      description: 'At least one member. Disabling a person ends their sessions.',
      caller: owners,
      params: userPath,
      body: updateUserBody,
      bodyRequired: true,
      answers: { '200': ok('Person'), '404': notFound, '409': conflict },
    },
    { method: 'delete', path: '/v1/users/:user_id', tag: 'Users', summary: 'Delete a person', caller: owners, params: userPath, answers: { '204': noContent, '404': notFound, '409': conflict } },
    {
      method: 'post',
      path: '/v1/users/:user_id/password-reset',
      tag: 'Users',
      summary: 'Issue a one-time password-reset link',
      caller: owners,
      params: userPath,
      body: noInput,
      answers: { '201': ok({ type: 'object', required: ['reset_url'], properties: { reset_url: string } }, 'Issued.'), '404': notFound },
    },
    { method: 'get', path: '/v1/users/:user_id/sessions', tag: 'Users', summary: 'A person’s sessions', caller: owners, params: userPath, query: usersQuery, answers: { '200': ok('SessionPage'), '404': notFound } },
    { method: 'delete', path: '/v1/users/:user_id/sessions', tag: 'Users', summary: 'End all of a person’s sessions', caller: owners, params: userPath, answers: { '204': noContent, '404': notFound } },
    {
      method: 'delete',
      path: '/v1/users/:user_id/mfa',
      tag: 'Users',
      summary: 'Reset a person’s second factor (lost phone and recovery codes)',
      caller: owners,
      params: userPath,
      answers: { '200': ok('Person'), '404': notFound },
    },

    {
      method: 'post',
      path: '/v1/sessions',
      tag: 'Sessions',
      summary: 'Sign in with an email and password (and `totp` or `recovery_code` for a person with a second factor)',
      description: 'A browser’s request must come from the issuer’s origin (`Origin`), or it is refused (`csrf_failed`).',
      caller: { kind: 'public' },
      body: signInBody,
      answers: {
        '201': newSession,
        '401': problem('Wrong email or password, one identical answer (`invalid_credentials`); or the password was right and the second factor is missing or wrong (`mfa_required`).'),
        '403': problem('Sent from another site (`csrf_failed`).'),
        '429': throttled,
        '503': throttled,
      },
    },
    { method: 'delete', path: '/v1/sessions/current', tag: 'Sessions', summary: 'Sign out: end this session and clear its cookie', caller: session, answers: { '204': noContent } },

    { method: 'get', path: '/v1/me', tag: 'Me', summary: 'The signed-in person, their org, role, scopes and the session’s CSRF token', caller: session, query: noInput, answers: { '200': ok(me) } },
    {
      method: 'patch',
      path: '/v1/me',
      tag: 'Me',
      summary: 'Change my name, or my password (with the current one)',
      caller: session,
      body: updateMeBody,
      bodyRequired: true,
      answers: { '200': ok('Person') },
    },
    { method: 'get', path: '/v1/me/sessions', tag: 'Me', summary: 'My sessions', caller: session, query: mySessionsQuery, answers: { '200': ok('SessionPage') } },
    { method: 'delete', path: '/v1/me/sessions', tag: 'Me', summary: 'Sign out everywhere else: end every session but this one', caller: session, answers: { '204': noContent } },
    { method: 'delete', path: '/v1/me/sessions/:session_id', tag: 'Me', summary: 'End one of my sessions', caller: session, params: sessionPath, answers: { '204': noContent, '404': notFound } },

    {
      method: 'get',
      path: '/v1/me/mfa',
      tag: 'Second factor',
      summary: 'My second factor’s state',
      caller: session,
      query: noInput,
      answers: {
        '200': ok({
          type: 'object',
          required: ['enabled', 'enabled_at', 'pending', 'recovery_codes_remaining'],
          properties: { enabled: boolean, enabled_at: nullableTime, pending: boolean, recovery_codes_remaining: { type: 'integer' } },
        }),
      },
    },
    {
      method: 'post',
      path: '/v1/me/mfa',
      tag: 'Second factor',
      summary: 'Start enrolment: the otpauth:// URI and the secret, shown once',
      caller: session,
      body: noInput,
      answers: { '201': ok({ type: 'object', required: ['otpauth_uri', 'secret'], properties: { otpauth_uri: string, secret: string } }, 'Enrolment started.'), '409': problem('Already enabled (`conflict`).') },
    },
    {
      method: 'post',
      path: '/v1/me/mfa/confirm',
      tag: 'Second factor',
      summary: 'Confirm enrolment with a current code: the ten recovery codes, shown once',
      caller: session,
      body: confirmMfaBody,
      answers: { '200': ok({ type: 'object', required: ['user', 'recovery_codes'], properties: { user: ref('Person'), recovery_codes: arrayOf(string) } }), '409': problem('No enrolment pending (`conflict`).') },
    },
    {
      method: 'delete',
      path: '/v1/me/mfa',
      tag: 'Second factor',
      summary: 'Remove my second factor, given a current code or a recovery code',
      caller: session,
      body: removeMfaBody,
      answers: { '204': noContent },
    },

    {
      method: 'get',
      path: '/v1/invitations/:token',
      tag: 'Invitations',
      summary: 'What a one-time link is for: an invitation or a password reset',
      caller: { kind: 'public' },
      params: invitationPath,
      answers: {
        '200': ok({
          type: 'object',
          required: ['purpose', 'email', 'org', 'role', 'expires_at'],
          properties: {
            purpose: { type: 'string', enum: ['invitation', 'password_reset'] },
            email: nullableString,
            org: { type: 'object', required: ['id', 'name'], properties: { id: string, name: string } },
            role: string,
            expires_at: time,
          },
        }),
        '404': problem('Unknown, used or expired: one identical answer.'),
      },
    },
    {
      method: 'post',
      path: '/v1/invitations/:token',
      tag: 'Invitations',
      summary: 'Accept a link: join (`name`, `password`) or reset the password; signs the person in',
      description: 'A person with a second factor who resets their password gets 200 `{ user, mfa_required: true }` and no session.',
      caller: { kind: 'public' },
      params: invitationPath,
      body: acceptInvitationBody,
      answers: {
        '200': ok({ type: 'object', required: ['user', 'mfa_required'], properties: { user: ref('Person'), mfa_required: { const: true } } }, 'Password reset; sign in with it and a code.'),
        '201': newSession,
        '403': problem('Sent from another site (`csrf_failed`).'),
        '404': problem('Unknown, used or expired: one identical answer.'),
      },
    },
  ];
}
