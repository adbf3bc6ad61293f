// A webhook's signing secret, in the Standard Webhooks form `whsec_<base64>`: shown once when
// made, stored sealed under the KEK (kek.ts, as the signing keys and TOTP secrets are), and
// opened by the deliverer to sign each attempt.
import { randomBytes } from 'node:crypto';
import { open, seal } from './kek.js';

const PREFIX = 'whsec_';
/** 256 bits, above the 24 bytes the specification asks for at least. */
const SECRET_BYTES = 32;

export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

// The webhook's id binds the ciphertext to its row: a secret copied to another row does not open.
const aadOf = (webhookId: string) => `webhook ${webhookId}`;

export function sealWebhookSecret(kek: Buffer, webhookId: string, secret: string): string {
  return seal(kek, secret, aadOf(webhookId));
}

export function openWebhookSecret(kek: Buffer, webhookId: string, sealed: string): string {
  return open(kek, sealed, aadOf(webhookId));
}
