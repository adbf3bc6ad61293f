// POST /v1/leaks: leaked secrets reported by whoever found them (GitHub's secret scanning
// partner payload), each one revoking the key it is the secret of.
import { LEAK_REPORTS_MAX } from '../domain/leaks.js';
import { LEAKS_PATH, leakReportsBody } from '../routes/leaks.js';
import { arrayOf, oneOfValues, string, type JsonSchema } from './schema.js';
import { problem, type Answer, type Operation } from './operations.js';

const retryAfter = { 'Retry-After': 'Seconds to wait.' };
const withRetry = (answer: Answer): Answer => ({ ...answer, headers: retryAfter });

const verdict: JsonSchema = {
  type: 'object',
  required: ['token_hash', 'label'],
  properties: {
    token_hash: { ...string, description: 'SHA-256 (hex) of the reported token.' },
    token_type: { ...string, description: 'The report’s `type`, when it had one.' },
    label: { ...oneOfValues(['true_positive', 'false_positive']), description: '`true_positive`: the token is the secret of a key of this server, which is revoked (now or before).' },
  },
};

export function leakOperations(): Operation[] {
  return [
    {
      method: 'post',
      path: LEAKS_PATH,
      tag: 'Keys',
      summary: 'Report leaked secrets: each one that is a key’s revokes that key at once',
      description: [
        `No authentication: whoever holds a secret may revoke it. The body is GitHub’s secret scanning partner payload, 1 to ${LEAK_REPORTS_MAX} reports; the answer has one verdict per report, in order, and says nothing else (not which key, nor whether it was revoked before).`,
        'A revocation is audited as `key.revoked` (actor `system`, reason `leaked`, the `url` and `source` in its details).',
        'Keys created before this server stored lookup digests cannot be found this way.',
        'With `SCOPE_AUTH_LEAK_REPORT_KEYS` set, a report carrying `Github-Public-Key-Identifier` and `Github-Public-Key-Signature` (base64 DER ECDSA P-256 SHA-256 over the raw body) must verify, or is refused (401).',
        'Unsigned reports (and those with a bad signature) are throttled per client address (`SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE`); signed ones are not.',
      ].join(' '),
      caller: { kind: 'public' },
      body: leakReportsBody,
      bodyRequired: true,
      answers: {
        '200': { description: 'One verdict per report, in order (GitHub’s false-positive feedback shape).', body: arrayOf(verdict) },
        '401': problem('A GitHub signature that does not verify: unknown key identifier, or a signature of another body (`unauthenticated`).'),
        '413': problem('A body over 64 KiB (`payload_too_large`).'),
        '415': problem('A body of another content type (`unsupported_media_type`).'),
        '429': withRetry(problem('Too many reports from this client (`throttled`).')),
        '503': withRetry(problem('Busy verifying other credentials, or the database is away (`unavailable`).')),
      },
    },
  ];
}
