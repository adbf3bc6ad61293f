// Leaked secrets, reported by whoever found them (POST /v1/leaks, GitHub's secret scanning
// among them) or by the operator (`scope-auth keys report-leak`): a reported secret that is a
// stored key's is revoked at once (reason `leaked`, actor `system`, where it was found in the
// audit event). Anyone holding a secret may revoke it: that is the point, and all a report
// learns is whether the secret was a key's, which its holder could learn by exchanging it.
//
// The cost of junk is bounded before any database work: a token without the secret format's
// checksum is a false positive at once; a well-formed one costs an HMAC (its lookup digest)
// and one indexed read for the whole report. argon2 runs only for a digest that matched,
// that is for a reporter who holds a real secret (or one a hash collision would give).
import { createHash } from 'node:crypto';
import { findKeysByDigest, type LeakCandidateRow } from '../store/api-keys.js';
import type { Db } from '../store/database.js';
import type { Clock } from './clock.js';
import { isWellFormedSecret } from './credentials.js';
import type { SecretDigest } from './secret-digest.js';
import { revokeKeyAsSystem } from './system-revocation.js';

export type LeakLabel = 'true_positive' | 'false_positive';

export interface LeakReport {
  readonly token: string;
  /** Where it was found (a commit's URL, say); kept in the audit event, shortened to URL_MAX. */
  readonly url?: string | null;
  /** What kind of place (GitHub's `source`: content, commit, issue_comment…); shortened to SOURCE_MAX. */
  readonly source?: string | null;
}

/** Who reported: GitHub (its signature verified), anybody through the endpoint, or the operator. */
export type LeakReporter = { readonly ip: string | null; readonly via: 'github' | 'endpoint' | 'cli' };

/** The key a reported secret is, for the operator's eyes only: never in the endpoint's answer. */
export interface LeakedKey {
  readonly id: string;
  readonly orgId: string;
  readonly appId: string;
  readonly name: string;
  /** True when this report revoked it; false when it was revoked before. */
  readonly revokedNow: boolean;
}

export interface LeakFinding {
  readonly label: LeakLabel;
  readonly key: LeakedKey | null;
}

/** Runs argon2 on `secret` against `hash`; null when it cannot now (the argon2 queue is full). */
export type VerifyLeakedSecret = (hash: string, secret: string) => Promise<boolean | null>;

export interface LeakDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly secretDigest: SecretDigest;
  readonly verify: VerifyLeakedSecret;
}

export type LeakOutcome = { readonly ok: true; readonly findings: readonly LeakFinding[] } | { readonly ok: false; readonly error: 'busy' };

/** Reports one request may carry at most. */
export const LEAK_REPORTS_MAX = 100;
export const URL_MAX = 2048;
export const SOURCE_MAX = 100;

const FALSE_POSITIVE: LeakFinding = Object.freeze({ label: 'false_positive', key: null });

/** The SHA-256 (hex) of a reported token: how a report's answer names it (GitHub's `token_hash`). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Labels each report, in order, revoking the keys whose secrets they are. A token reported
 * twice in one request is verified once. `busy` when the argon2 queue refused a
 * verification: the revocations made until then stand, and a retry labels them again.
 */
export async function reportLeaks(deps: LeakDeps, reports: readonly LeakReport[], reporter: LeakReporter): Promise<LeakOutcome> {
  const digests = new Map<string, string>();
  for (const { token } of reports) {
    if (digests.has(token) || !isWellFormedSecret(token)) continue;
    const digest = deps.secretDigest(token);
    if (digest !== null) digests.set(token, digest);
  }
  const candidates = await findKeysByDigest(deps.db, [...new Set(digests.values())]);
  const byDigest = new Map<string | null, LeakCandidateRow[]>();
  for (const row of candidates) byDigest.set(row.secret_digest, [...(byDigest.get(row.secret_digest) ?? []), row]);

  const found = new Map<string, LeakFinding>();
  const findings: LeakFinding[] = [];
  for (const report of reports) {
    let finding = found.get(report.token);
    if (finding === undefined) {
      const digest = digests.get(report.token);
      const rows = digest === undefined ? [] : (byDigest.get(digest) ?? []);
      const result = await findLeakedKey(deps, rows, report, reporter);
      if (result === 'busy') return { ok: false, error: 'busy' };
      finding = result;
      found.set(report.token, finding);
    }
    findings.push(finding);
  }
  return { ok: true, findings };
}

async function findLeakedKey(deps: LeakDeps, rows: readonly LeakCandidateRow[], report: LeakReport, reporter: LeakReporter): Promise<LeakFinding | 'busy'> {
  for (const row of rows) {
    const verified = await deps.verify(row.secret_hash, report.token);
    if (verified === null) return 'busy';
    if (!verified) continue;
    const revokedNow =
      row.revoked_at === null &&
      (await revokeKeyAsSystem(deps, {
        orgId: row.org_id,
        keyId: row.id,
        appId: row.app_id,
        name: row.name,
        reason: 'leaked',
        details: { url: shortened(report.url, URL_MAX), source: shortened(report.source, SOURCE_MAX), reported_via: reporter.via },
        ip: reporter.ip,
      }));
    return { label: 'true_positive', key: { id: row.id, orgId: row.org_id, appId: row.app_id, name: row.name, revokedNow } };
  }
  return FALSE_POSITIVE;
}

/** At most `max` characters of what the reporter said (never more of it in the audit log); null for nothing. */
function shortened(value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  // By code points, so a character outside the BMP is not cut in half.
  const points = Array.from(trimmed);
  return points.length <= max ? trimmed : points.slice(0, max).join('');
}
