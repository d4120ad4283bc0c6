import { open, seal } from '../credentials/cipher.ts';
import { AppError } from '../lib/errors.ts';

/**
 * A channel's secret settings (SMTP password, Slack/Teams URL, PagerDuty routing key, signing key)
 * are sealed as one JSON object with VIGIL_SECRET_KEY, like credentials (src/credentials/cipher.ts),
 * bound to the channel's id so a sealed value copied onto another row does not open.
 */
export const channelAad = (channelId: string) => `notification-channel:${channelId}`;

export const noSecretKey = () =>
  new AppError('secret_key_missing', 503, 'notification channel secrets are unavailable: this Vigil has no VIGIL_SECRET_KEY to encrypt them with');

export function sealChannelSecrets(key: Buffer | undefined, channelId: string, secrets: Record<string, string>): Buffer {
  if (!key) throw noSecretKey();
  return seal(key, JSON.stringify(secrets), channelAad(channelId));
}

/** Opens sealed secrets ({} when none are stored); throws DecryptionError, or a 503 AppError without a key. */
export function openChannelSecrets(key: Buffer | undefined, channelId: string, sealed: Buffer | null): Record<string, string> {
  if (sealed === null) return {};
  if (!key) throw noSecretKey();
  return JSON.parse(open(key, sealed, channelAad(channelId))) as Record<string, string>;
}
