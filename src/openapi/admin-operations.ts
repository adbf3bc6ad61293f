// The admin API's apps, keys, audit log, organizations and scope catalogue, as the document
// shows them. Request schemas are the routes' own.
import { appsSchemas } from '../routes/apps.js';
import { auditQuery } from '../routes/audit.js';
import { keyPath, listKeysQuery, revokeBody, rollBody } from '../routes/keys.js';
import { createOrgBody, orgPath, orgsQuery, updateOrgBody } from '../routes/orgs.js';
import { noInput } from '../http/admin-request.js';
import { problem, type Answer, type Caller, type Operation } from './operations.js';

const admin = (...scopes: string[]): Caller => ({ kind: 'admin', scopes });
const ok = (body: string, description = 'OK'): Answer => ({ description, body });
const created = (body: string, location: string): Answer => ({ description: 'Created', body, headers: { Location: location } });
const noContent: Answer = { description: 'Done; no body.' };
const notFound = problem('Not found in the caller’s org (another org’s id is not found either).');
const conflict = problem('It would break an invariant (`conflict`, `last_root_admin`).');

export function adminOperations(tokenTtlMaxSeconds: number): Operation[] {
  const apps = appsSchemas(tokenTtlMaxSeconds);
  const view = admin('admin.apps:view');
  const edit = admin('admin.apps:edit');
  const full = admin('admin.apps:full');
  const orgsFull = admin('admin.orgs:full');
  const orgsOwn = admin('admin.orgs:full', 'admin.users:full');
  return [
    { method: 'get', path: '/v1/scopes', tag: 'Scopes', summary: 'The scope catalogue and the audiences an app may name', description: 'Any `admin.*` scope opens it.', caller: admin(), query: noInput, answers: { '200': ok('Catalog') } },

    { method: 'get', path: '/v1/apps', tag: 'Apps', summary: 'List apps', caller: view, query: apps.listQuery, answers: { '200': ok('AppPage') } },
    { method: 'post', path: '/v1/apps', tag: 'Apps', summary: 'Create an app with scopes', caller: full, body: apps.createBody, answers: { '201': created('App', '/v1/apps/{app_id}') } },
    { method: 'get', path: '/v1/apps/:app_id', tag: 'Apps', summary: 'Read an app', caller: view, params: apps.appPath, answers: { '200': ok('App'), '404': notFound } },
    {
      method: 'patch',
      path: '/v1/apps/:app_id',
      tag: 'Apps',
      summary: 'Change an app',
      description: 'At least one member. Its keys’ next tokens carry the new scopes.',
      caller: edit,
      params: apps.appPath,
      body: apps.updateBody,
      bodyRequired: true,
      answers: { '200': ok('App'), '404': notFound, '409': conflict },
    },
    { method: 'delete', path: '/v1/apps/:app_id', tag: 'Apps', summary: 'Delete an app and its keys', caller: full, params: apps.appPath, answers: { '204': noContent, '404': notFound, '409': conflict } },
    { method: 'get', path: '/v1/apps/:app_id/keys', tag: 'Keys', summary: 'List an app’s keys', caller: view, params: apps.appPath, query: apps.keysQuery, answers: { '200': ok('KeyPage'), '404': notFound } },
    {
      method: 'post',
      path: '/v1/apps/:app_id/keys',
      tag: 'Keys',
      summary: 'Create a key; its secret is answered this once',
      caller: edit,
      params: apps.appPath,
      body: apps.createKeyBody,
      answers: { '201': created('KeyWithSecret', '/v1/keys/{key_id}'), '404': notFound },
    },

    { method: 'get', path: '/v1/keys', tag: 'Keys', summary: 'List the org’s keys', caller: view, query: listKeysQuery, answers: { '200': ok('KeyPage') } },
    { method: 'get', path: '/v1/keys/:key_id', tag: 'Keys', summary: 'Read a key', caller: view, params: keyPath, answers: { '200': ok('Key'), '404': notFound } },
    {
      method: 'post',
      path: '/v1/keys/:key_id/revoke',
      tag: 'Keys',
      summary: 'Revoke a key: its exchanges and tokens stop at once',
      caller: edit,
      params: keyPath,
      body: revokeBody,
      answers: { '200': ok('Key'), '404': notFound, '409': conflict },
    },
    {
      method: 'post',
      path: '/v1/keys/:key_id/roll',
      tag: 'Keys',
      summary: 'Roll a key: a new key and secret; the old one expires after the grace period',
      caller: edit,
      params: keyPath,
      body: rollBody,
      answers: { '201': created('KeyWithSecret', '/v1/keys/{key_id}'), '404': notFound, '409': conflict },
    },
    { method: 'delete', path: '/v1/keys/:key_id', tag: 'Keys', summary: 'Delete a key', caller: edit, params: keyPath, answers: { '204': noContent, '404': notFound, '409': conflict } },

    { method: 'get', path: '/v1/audit', tag: 'Audit', summary: 'The org’s audit log, newest first', caller: admin('admin.audit:view'), query: auditQuery, answers: { '200': ok('AuditEventPage') } },

    { method: 'get', path: '/v1/orgs', tag: 'Organizations', summary: 'List organizations (root org only)', caller: orgsFull, query: orgsQuery, answers: { '200': ok('OrgPage') } },
    {
      method: 'post',
      path: '/v1/orgs',
      tag: 'Organizations',
      summary: 'Create an organization with its admin app and key (root org only)',
      caller: orgsFull,
      body: createOrgBody,
      answers: {
        '201': {
          description: 'Created: the org, its admin app, its first key and that key’s secret (shown once).',
          headers: { Location: '/v1/orgs/{org_id}' },
          body: {
            type: 'object',
            required: ['org', 'admin_app', 'key', 'secret'],
            properties: { org: { $ref: '#/components/schemas/Org' }, admin_app: { $ref: '#/components/schemas/App' }, key: { $ref: '#/components/schemas/Key' }, secret: { type: 'string' } },
          },
        },
      },
    },
    {
      method: 'get',
      path: '/v1/orgs/:org_id',
      tag: 'Organizations',
      summary: 'Read an organization',
      description: 'The root org’s admins read any; an org’s owners (`admin.users:full`) their own.',
      caller: orgsOwn,
      params: orgPath,
      answers: { '200': ok('Org'), '404': notFound },
    },
    {
      method: 'patch',
      path: '/v1/orgs/:org_id',
      tag: 'Organizations',
      summary: 'Change an organization (name, allowance, disabled, require_mfa, auto_revoke_unused_days)',
      description: 'At least one member. An org’s own owners may change only its `require_mfa` and `auto_revoke_unused_days`.',
      caller: orgsOwn,
      params: orgPath,
      body: updateOrgBody,
      bodyRequired: true,
      answers: { '200': ok('Org'), '404': notFound, '409': conflict },
    },
    { method: 'delete', path: '/v1/orgs/:org_id', tag: 'Organizations', summary: 'Delete an organization with its apps and keys', caller: orgsFull, params: orgPath, answers: { '204': noContent, '404': notFound, '409': conflict } },
  ];
}
