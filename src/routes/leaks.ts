// POST /v1/leaks: public. A JSON array of leaked tokens, `[{ token, type?, url?, source? }]`
// (the payload GitHub's secret scanning sends its partners); each token that is a stored key's
// secret revokes that key at once (domain/leaks.ts). The answer is GitHub's feedback shape,
// `[{ token_hash, token_type?, label }]` in the order of the report, and says nothing but
// whether each token was a key's secret: never which key, org or app, nor whether the key
// was revoked before.
//
// Strictly throttled per client address (SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE, every report
// counts), except for reports GitHub signed (Github-Public-Key-Identifier and -Signature,
// checked when SCOPE_AUTH_LEAK_REPORT_KEYS is set): its scanner sends them from a few
// addresses. A report with a signature that is not valid is refused (401) and counted; one
// without a signature is taken like any other. The body is read raw: the signature is over
// its bytes as sent. It is never logged: it holds secrets.
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Argon2Queue } from '../domain/argon2-queue.js';
import type { SecretHasher } from '../domain/hashing.js';
import { LEAK_REPORTS_MAX, reportLeaks, tokenHash, type LeakDeps, type LeakReporter } from '../domain/leaks.js';
import type { LeakSignatures } from '../domain/leak-signatures.js';
import type { Throttle } from '../domain/throttle.js';
import { throttleSubject } from '../domain/throttle-subject.js';
import { InvalidRequestError, ThrottledError, UnauthenticatedError, UnavailableError, UnsupportedMediaTypeError } from '../errors.js';
import { parseInput } from '../http/admin-request.js';
import { BODY_LIMIT_BYTES } from '../http/raw-body.js';
import { clientIp, noStore } from '../http/request-context.js';
import { addLogFields } from '../http/request-logger.js';

export const LEAKS_PATH = '/v1/leaks';

const SHAPE = 'expected a JSON array of { token, type?, url?, source? }';

// Not strict: a reporter may send members of its own (GitHub has added `source` before).
// `location` is GitLab's name for the URL (its token revocation API sends the same array).
export const leakReport = z.object({
  token: z.string({ message: 'expected the leaked token, a string' }).describe('The leaked token, as found.'),
  type: z.string().nullable().optional().describe('The reporter’s name for the kind of token; answered back as `token_type`.'),
  url: z.string().nullable().optional().describe('Where it was found; kept (its first 2048 characters) in the audit event.'),
  location: z.string().nullable().optional().describe('GitLab’s name for `url`, used when there is no `url`.'),
  source: z.string().nullable().optional().describe('What kind of place (GitHub: `content`, `commit`, `issue_comment`…); kept (100 characters) in the audit event.'),
});
export const leakReportsBody = z
  .array(leakReport, { message: SHAPE })
  .min(1, { message: `${SHAPE}, with 1 to ${LEAK_REPORTS_MAX} reports` })
  .max(LEAK_REPORTS_MAX, { message: `expected at most ${LEAK_REPORTS_MAX} reports in one request` });

export const IDENTIFIER_HEADER = 'github-public-key-identifier';
export const SIGNATURE_HEADER = 'github-public-key-signature';
/** One answer for an unknown key identifier, a signature of another body, a header missing. */
export const INVALID_SIGNATURE = 'the report’s GitHub signature is not valid (Github-Public-Key-Identifier, Github-Public-Key-Signature)';

/** The second half of the throttle's (client, subject) counter: reports have no key id. */
const THROTTLE_SUBJECT = 'report';

export interface LeakRouteDeps extends Omit<LeakDeps, 'verify'> {
  readonly hasher: SecretHasher;
  readonly argon2Queue: Argon2Queue;
  readonly leaks: { readonly throttle: Throttle; readonly signatures: LeakSignatures };
}

export function leaksRoutes(deps: LeakRouteDeps): Router {
  const { throttle, signatures } = deps.leaks;
  const router = Router();
  router.use(LEAKS_PATH, noStore);

  /** Whether the request's signature is to be checked: it claims one, and there are keys to check it with. */
  const signed = (req: Request) => signatures.configured && (req.get(IDENTIFIER_HEADER) !== undefined || req.get(SIGNATURE_HEADER) !== undefined);

  function throttled(res: Response, seconds: number): ThrottledError {
    res.set('Retry-After', String(seconds));
    addLogFields(res, { outcome: 'throttled' });
    return new ThrottledError('too many leak reports from this client; retry later');
  }

  // A client blocked already costs no body read and no I/O, unless its report is signed.
  const refuseBlocked: RequestHandler = (req, res, next) => {
    const wait = signed(req) ? null : throttle.blockedFor(clientIp(req), THROTTLE_SUBJECT);
    if (wait !== null) throw throttled(res, wait);
    next();
  };

  const rawJson = express.raw({ type: 'application/json', limit: BODY_LIMIT_BYTES, inflate: false });
  const readBody: RequestHandler = (req, res, next) => {
    if (req.get('content-length') !== '0' && req.is('application/json') === false) throw new UnsupportedMediaTypeError('the body must be application/json');
    rawJson(req, res, next);
  };

  router.post(LEAKS_PATH, refuseBlocked, readBody, async (req, res) => {
    const ip = clientIp(req);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const genuine = signed(req) && signatures.verify(req.get(IDENTIFIER_HEADER) ?? '', req.get(SIGNATURE_HEADER) ?? '', body);
    if (!genuine) {
      const wait = throttle.blockedFor(ip, THROTTLE_SUBJECT) ?? (await throttle.recordFailure(ip, THROTTLE_SUBJECT));
      if (wait !== null) throw throttled(res, wait);
      if (signed(req)) {
        addLogFields(res, { outcome: 'refused', reason: 'invalid_signature' });
        throw new UnauthenticatedError(INVALID_SIGNATURE);
      }
    }
    const reports = parseInput(leakReportsBody, parseJson(body), 'body').map((r) => ({ ...r, url: r.url ?? r.location ?? null }));
    const reporter: LeakReporter = { ip, via: genuine ? 'github' : 'endpoint' };
    const source = throttleSubject(ip);
    const outcome = await reportLeaks(
      {
        db: deps.db,
        clock: deps.clock,
        secretDigest: deps.secretDigest,
        verify: async (hash, secret) => {
          const run = await deps.argon2Queue.run(source, () => deps.hasher.verify(hash, secret));
          return run.ran ? run.value : null;
        },
      },
      reports,
      reporter,
    );
    if (!outcome.ok) {
      res.set('Retry-After', String(deps.argon2Queue.retryAfterSeconds()));
      addLogFields(res, { outcome: 'unavailable', reported_via: reporter.via });
      throw new UnavailableError('the server is busy verifying other credentials; retry later');
    }
    const { findings } = outcome;
    // In aggregate: false positives are anybody's junk, and belong to no org's audit log.
    addLogFields(res, {
      outcome: 'reported',
      reported_via: reporter.via,
      reports: findings.length,
      true_positives: findings.filter((f) => f.label === 'true_positive').length,
      revoked_key_ids: [...new Set(findings.flatMap((f) => (f.key?.revokedNow ? [f.key.id] : [])))],
    });
    res.json(
      reports.map((report, i) => ({
        token_hash: tokenHash(report.token),
        ...(typeof report.type === 'string' ? { token_type: report.type } : {}),
        label: findings[i]!.label,
      })),
    );
  });

  return router;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new InvalidRequestError(`body: ${SHAPE}`);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new InvalidRequestError('the request body is not valid JSON');
  }
}
