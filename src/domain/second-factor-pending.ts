// An enrolment started and not confirmed yet, shown again to its own person: the console's
// enrolment page is a URL that a reload keeps (the QR code and the secret, until confirmed).
// Showing the pending secret again gives nothing away that the session could not get by
// starting a new enrolment; once confirmed, nothing shows it.
import * as users from '../store/users.js';
import type { Enrolment, SecondFactorDeps } from './second-factor.js';
import type { SessionCaller } from './sessions.js';
import { openTotpSecret, totpUri } from './totp.js';

/** The pending enrolment of the person, or null when none is pending (none started, or enabled). */
export async function pendingEnrolment(deps: SecondFactorDeps, caller: SessionCaller): Promise<Enrolment | null> {
  const row = await users.getUser(deps.db, caller.orgId, caller.userId);
  if (!row || row.mfa_enabled_at !== null || row.totp_secret_encrypted === null) return null;
  const secret = openTotpSecret(deps.kek, row.id, row.totp_secret_encrypted);
  return { otpauthUri: totpUri(secret, new URL(deps.config.issuer).host, row.email), secret };
}
