import { open, seal } from '../credentials/cipher.ts';
import { AppError } from '../lib/errors.ts';

/**
 * Webhook secrets are signing keys: sealed like credentials, with VIGIL_SECRET_KEY (AES-256-GCM),
 * bound to the subscription's id so a sealed value copied onto another row does not open.
 */
const aad = (webhookId: string) => `webhook:${webhookId}`;

export const noSecretKey = () =>
  new AppError('secret_key_missing', 503, 'webhook secrets are unavailable: this Vigil has no VIGIL_SECRET_KEY to encrypt them with');

export function sealWebhookSecret(key: Buffer | undefined, webhookId: string, secret: string): Buffer {
  if (!key) throw noSecretKey();
  return seal(key, secret, aad(webhookId));
}

/** Opens a sealed secret; throws (DecryptionError, or a 503 AppError without a key) when it cannot. */
export function openWebhookSecret(key: Buffer | undefined, webhookId: string, sealed: Buffer): string {
  if (!key) throw noSecretKey();
  return open(key, sealed, aad(webhookId));
}
