/**
 * `vigil rekey`: re-seals every secret (credentials, webhook signing secrets, notification channel secrets, the key check) under
 * VIGIL_SECRET_KEY, opening each with whichever key sealed it — VIGIL_SECRET_KEY_PREVIOUS during a
 * rotation. One transaction: either every value moves to the new key or none does. Rotation:
 * 1. start every process with VIGIL_SECRET_KEY=<new> and VIGIL_SECRET_KEY_PREVIOUS=<old>;
 * 2. run `npm run vigil -- rekey` (same variables); 3. drop VIGIL_SECRET_KEY_PREVIOUS.
 */
import type { Config } from '../config/config.ts';
import { createPool, type Pool } from '../db/pool.ts';
import { lockSealedValues, replaceSealedValue } from '../db/queries/sealed-secrets.ts';
import { withTransaction } from '../db/transaction.ts';
import { ConfigError } from '../lib/errors.ts';
import { channelAad } from '../notifications/secrets.ts';
import { DecryptionError, keyIdOf, open, seal, sealedKeyId, type SecretKey } from './cipher.ts';

/** What a rekey did: values re-sealed per table, and the key id they now carry. */
export interface RekeyReport {
  credentials: number;
  webhooks: number;
  notificationChannels: number;
  keyCheck: number;
  keyId: string;
}

const AAD = {
  credentials: (id: string) => id,
  webhooks: (id: string) => `webhook:${id}`,
  notification_channels: channelAad,
  secret_key_check: () => 'secret_key_check',
} as const;

/** Re-seals every sealed value under `key`; throws naming the first value no known key opens (nothing changes then). */
export async function rekeySecrets(pool: Pool, key: SecretKey): Promise<RekeyReport> {
  const report: RekeyReport = { credentials: 0, webhooks: 0, notificationChannels: 0, keyCheck: 0, keyId: keyIdOf(key).toString('hex') };
  await withTransaction(pool, async (tx) => {
    for (const value of await lockSealedValues(tx)) {
      const aad = AAD[value.table](value.id);
      let plaintext: string;
      try {
        plaintext = open(key, value.sealed, aad);
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err;
        const sealer = sealedKeyId(value.sealed) ?? 'unknown (sealed before key ids)';
        throw new ConfigError(
          `cannot open ${value.table} ${value.id || 'row'} (sealed with key id ${sealer}): set VIGIL_SECRET_KEY_PREVIOUS to the key it was saved with; nothing was changed`,
        );
      }
      await replaceSealedValue(tx, { ...value, sealed: seal(key, plaintext, aad) });
      if (value.table === 'credentials') report.credentials += 1;
      else if (value.table === 'webhooks') report.webhooks += 1;
      else if (value.table === 'notification_channels') report.notificationChannels += 1;
      else report.keyCheck += 1;
    }
  });
  return report;
}

/** The command: needs DATABASE_URL and VIGIL_SECRET_KEY (the new key). */
export async function runRekeyCommand(config: Config): Promise<string> {
  if (!config.databaseUrl) throw new ConfigError('rekey needs DATABASE_URL (with the embedded database, run it while Vigil is up, pointing at its URL)');
  if (!config.secretKey) throw new ConfigError('rekey needs VIGIL_SECRET_KEY (the new key) and VIGIL_SECRET_KEY_PREVIOUS (the key being replaced)');
  const pool = createPool(config.databaseUrl, 2);
  try {
    const r = await rekeySecrets(pool, config.secretKey);
    return `re-sealed ${r.credentials} credentials, ${r.webhooks} webhook secrets, ${r.notificationChannels} notification channels and ${r.keyCheck} key check under key id ${r.keyId}; VIGIL_SECRET_KEY_PREVIOUS can now be removed`;
  } finally {
    await pool.end();
  }
}
