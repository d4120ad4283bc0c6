import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf, open, sealedKeyId, withPreviousKeys } from '../../src/credentials/cipher.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestVigil } from '../helpers/vigil.ts';

const MAIN = path.resolve('src/main.ts');
const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('base64');
const TOKEN = 'tok-Rk19-never-shown';
const PASSWORD = 'pw-Rk20-never-shown';
const WEBHOOK_SECRET = 'whsec_rekey_0123456789abcdef0123456789';
const ROUTING_KEY = 'R0UTEKEYREKEY0123456789ABCDEFGHI';

let db: TestDatabase;
let pool: Pool;
const ids: { bearer?: string; ssh?: string; webhook?: string; channel?: string } = {};

/** `node src/main.ts rekey` with exactly these variables, as an operator runs it. */
async function rekey(env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, 'rekey'], { env: { PATH: process.env.PATH!, DATABASE_URL: db.url, ...env } });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

async function sealedValues(): Promise<{ what: string; sealed: Buffer; aad: string }[]> {
  const creds = await pool.query<{ id: string; secret: Buffer }>(`SELECT id, secret FROM credentials`);
  const hooks = await pool.query<{ id: string; secret: Buffer }>(`SELECT id, secret FROM webhooks WHERE secret IS NOT NULL`);
  const check = await pool.query<{ sealed: Buffer }>(`SELECT sealed FROM secret_key_check`);
  const channels = await pool.query<{ id: string; secrets: Buffer }>(`SELECT id, secrets FROM notification_channels WHERE secrets IS NOT NULL`);
  return [
    ...channels.rows.map((r) => ({ what: `notification channel ${r.id}`, sealed: r.secrets, aad: `notification-channel:${r.id}` })),
    ...creds.rows.map((r) => ({ what: `credential ${r.id}`, sealed: r.secret, aad: r.id })),
    ...hooks.rows.map((r) => ({ what: `webhook ${r.id}`, sealed: r.secret, aad: `webhook:${r.id}` })),
    ...check.rows.map((r) => ({ what: 'key check', sealed: r.sealed, aad: 'secret_key_check' })),
  ];
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
  const vigil = await startTestVigil(db.url, ['api'], { VIGIL_SECRET_KEY: OLD });
  try {
    ids.bearer = (await vigil.http().post('/api/credentials').send({ name: 'bearer', kind: 'http-bearer', token: TOKEN })).body.id;
    ids.ssh = (await vigil.http().post('/api/credentials').send({ name: 'ssh', kind: 'ssh-password', username: 'ops', password: PASSWORD })).body.id;
    ids.webhook = (await vigil.http().post('/api/webhooks').send({ url: 'https://receiver.example/hook', secret: WEBHOOK_SECRET })).body.id;
    ids.channel = (await vigil.http().post('/api/notification-channels').send({ name: 'pd', type: 'pagerduty', config: { routing_key: ROUTING_KEY } })).body.id;
  } finally {
    await vigil.stop();
  }
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('rotating VIGIL_SECRET_KEY', () => {
  it('labels every sealed value with the id of the key that sealed it', async () => {
    const values = await sealedValues();
    expect(values).toHaveLength(5);
    for (const v of values) expect(sealedKeyId(v.sealed)).toBe(keyIdOf(Buffer.from(OLD, 'base64')).toString('hex'));
  });

  it('starts with the new key only while the old one is still accepted', async () => {
    await expect(startTestVigil(db.url, ['api'], { VIGIL_SECRET_KEY: NEW })).rejects.toThrow(/not the key this database's credentials were saved with/);
    const rotating = await startTestVigil(db.url, ['api'], { VIGIL_SECRET_KEY: NEW, VIGIL_SECRET_KEY_PREVIOUS: OLD });
    await rotating.stop();
  });

  it('refuses to rekey without the previous key, changing nothing', async () => {
    const before = await sealedValues();
    const run = await rekey({ VIGIL_SECRET_KEY: NEW });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/cannot open .* set VIGIL_SECRET_KEY_PREVIOUS to the key it was saved with; nothing was changed/);
    expect(await sealedValues()).toEqual(before);
  });

  it('re-seals every credential, webhook secret and the key check under the new key', async () => {
    const run = await rekey({ VIGIL_SECRET_KEY: NEW, VIGIL_SECRET_KEY_PREVIOUS: OLD });
    expect(run.output).toMatch(/re-sealed 2 credentials, 1 webhook secrets, 1 notification channels and 1 key check under key id [0-9a-f]{16}/);
    expect(run.code).toBe(0);
    const newKey = Buffer.from(NEW, 'base64');
    const values = await sealedValues();
    for (const v of values) expect(sealedKeyId(v.sealed)).toBe(keyIdOf(newKey).toString('hex'));
    // The new key alone opens everything; the old one opens nothing.
    const opened = values.map((v) => open(withPreviousKeys(newKey, []), v.sealed, v.aad));
    expect(opened.join('\n')).toContain(TOKEN);
    expect(opened.join('\n')).toContain(PASSWORD);
    expect(opened).toContain(WEBHOOK_SECRET);
    expect(opened).toContain(JSON.stringify({ routing_key: ROUTING_KEY }));
    for (const v of values) expect(() => open(Buffer.from(OLD, 'base64'), v.sealed, v.aad)).toThrow();
    for (const v of values) expect(v.sealed.toString('latin1')).not.toContain(TOKEN);
  });

  it('runs on the new key alone after the rotation, and no longer on the old one', async () => {
    const after = await startTestVigil(db.url, ['api'], { VIGIL_SECRET_KEY: NEW });
    try {
      const res = await after.http().get(`/api/credentials/${ids.bearer}`);
      expect(res.body).toMatchObject({ kind: 'http-bearer', has_token: true });
    } finally {
      await after.stop();
    }
    await expect(startTestVigil(db.url, ['api'], { VIGIL_SECRET_KEY: OLD })).rejects.toThrow(/not the key/);
  });
});
