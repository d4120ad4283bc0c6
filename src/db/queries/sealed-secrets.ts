import type { Queryable } from '../pool.ts';

/**
 * Every value sealed with VIGIL_SECRET_KEY, for re-sealing under a new key (src/credentials/rekey.ts):
 * credentials' secrets (bound to the row id), webhook signing secrets (bound to `webhook:<id>`) and
 * notification channels' secret settings (bound to `notification-channel:<id>`) and the key check. Rows are locked until the caller's transaction ends.
 */

export interface SealedValue {
  table: 'credentials' | 'webhooks' | 'notification_channels' | 'secret_key_check';
  id: string;
  sealed: Buffer;
}

export async function lockSealedValues(tx: Queryable): Promise<SealedValue[]> {
  // Writers wait until the caller commits, so no secret is sealed under the old key meanwhile.
  await tx.query(`LOCK TABLE credentials, webhooks, notification_channels, secret_key_check IN SHARE ROW EXCLUSIVE MODE`);
  const { rows } = await tx.query<SealedValue>(
    `SELECT 'credentials' AS table, id::text AS id, secret AS sealed FROM credentials
      UNION ALL SELECT 'webhooks', id::text, secret FROM webhooks WHERE secret IS NOT NULL
      UNION ALL SELECT 'notification_channels', id::text, secrets FROM notification_channels WHERE secrets IS NOT NULL
      UNION ALL SELECT 'secret_key_check', '', sealed FROM secret_key_check`,
  );
  return rows;
}

export async function replaceSealedValue(tx: Queryable, value: SealedValue): Promise<void> {
  if (value.table === 'credentials') await tx.query(`UPDATE credentials SET secret = $2 WHERE id = $1`, [value.id, value.sealed]);
  else if (value.table === 'webhooks') await tx.query(`UPDATE webhooks SET secret = $2 WHERE id = $1`, [value.id, value.sealed]);
  else if (value.table === 'notification_channels') await tx.query(`UPDATE notification_channels SET secrets = $2 WHERE id = $1`, [value.id, value.sealed]);
  else await tx.query(`UPDATE secret_key_check SET sealed = $1`, [value.sealed]);
}
