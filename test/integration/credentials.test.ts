import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { ConfigError } from '../../src/lib/errors.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { startVigil } from '../../src/runtime.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { startTestVigil, useTestVigil } from '../helpers/vigil.ts';

const KEY = randomBytes(32).toString('base64');
const SECRETS = {
  password: 'pw-Zq81-never-shown',
  private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nkey-material-Xy77\n-----END OPENSSH PRIVATE KEY-----',
  passphrase: 'phrase-Lk22-never-shown',
  community: 'comm-Pp09-never-shown',
  auth_key: 'auth-Tt55-never-shown',
  priv_key: 'priv-Rr31-never-shown',
  token: 'tok-Uu48-never-shown',
};

const ctx = useTestVigil({ roles: ['api'], env: { VIGIL_SECRET_KEY: KEY } });
const { call } = ctx;

describe('credentials API', () => {
  it.each([
    ['ssh-password', { username: 'ops', password: SECRETS.password }, { username: 'ops', has_password: true }],
    ['ssh-key', { username: 'ops', private_key: SECRETS.private_key, passphrase: SECRETS.passphrase }, { has_private_key: true, has_passphrase: true }],
    ['snmp-community', { community: SECRETS.community }, { has_community: true }],
    ['snmp-v3', { username: 'mon', level: 'authPriv', auth_protocol: 'sha', auth_key: SECRETS.auth_key, priv_protocol: 'aes', priv_key: SECRETS.priv_key }, { level: 'authPriv', auth_protocol: 'sha', priv_protocol: 'aes', has_auth_key: true, has_priv_key: true }],
    ['http-basic', { username: 'web', password: SECRETS.password }, { has_password: true }],
    ['http-bearer', { token: SECRETS.token }, { has_token: true }],
  ])('creates a %s credential and answers without its secrets', async (kind, fields, shown) => {
    const res = await call('post', '/api/credentials', { name: `c-${kind}`, kind, ...fields });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: `c-${kind}`, kind, host_count: 0, ...shown });
    for (const secret of Object.values(SECRETS)) expect(res.text).not.toContain(secret);
    // At rest the secret column is ciphertext.
    const { rows } = await ctx.vigil.pool.query('SELECT secret::text AS s, public::text AS p FROM credentials WHERE id = $1', [res.body.id]);
    for (const secret of Object.values(SECRETS)) expect(rows[0].s + rows[0].p).not.toContain(Buffer.from(secret).toString('hex'));
    for (const secret of Object.values(SECRETS)) expect(rows[0].p).not.toContain(secret);
  });

  it.each([
    ['an unknown kind', { name: 'x', kind: 'ftp', password: 'p' }, 'body.kind'],
    ['a missing secret', { name: 'x', kind: 'ssh-password', username: 'u' }, 'body.password'],
    ['a field of another kind', { name: 'x', kind: 'snmp-community', community: 'c', username: 'u' }, 'body'],
    ['authPriv without privacy', { name: 'x', kind: 'snmp-v3', username: 'u', level: 'authPriv', auth_protocol: 'sha', auth_key: 'abcdefgh' }, 'body.priv_protocol'],
    ['a short USM key', { name: 'x', kind: 'snmp-v3', username: 'u', level: 'authNoPriv', auth_protocol: 'sha', auth_key: 'short' }, 'body.auth_key'],
  ])('rejects %s naming %s', async (_what, body, field) => {
    const res = await call('post', '/api/credentials', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('updates secrets write-only, refuses fields of another kind, and lists with has_ flags', async () => {
    const created = await call('post', '/api/credentials', { name: 'rotating', kind: 'ssh-password', username: 'a', password: 'old-password-1' });
    const changed = await call('patch', `/api/credentials/${created.body.id}`, { password: 'new-password-2', username: 'b' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ username: 'b', has_password: true });
    const wrong = await call('patch', `/api/credentials/${created.body.id}`, { community: 'x' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].field).toBe('body.community');
    const list = await call('get', '/api/credentials?kind=ssh-password');
    expect(list.body.credentials.map((c: { name: string }) => c.name)).toContain('rotating');
    expect(list.text).not.toMatch(/new-password-2|old-password-1/);
  });

  it('refuses to delete a credential in use, naming the hosts, and deletes it once unused', async () => {
    const cred = await call('post', '/api/credentials', { name: 'shared-ssh', kind: 'ssh-password', username: 'u', password: SECRETS.password });
    const host = await call('post', '/api/hosts', { name: 'router-1', address: '127.0.0.1', probes: [{ type: 'ssh', credential_id: cred.body.id }] });
    expect(host.status).toBe(201);
    expect((await call('get', `/api/credentials/${cred.body.id}`)).body.host_count).toBe(1);
    const refused = await call('delete', `/api/credentials/${cred.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('router-1');
    await call('patch', `/api/hosts/${host.body.id}`, { probes: [{ type: 'tcp', port: 22 }] });
    expect((await call('delete', `/api/credentials/${cred.body.id}`)).status).toBe(204);
    expect((await call('get', `/api/credentials/${cred.body.id}`)).status).toBe(404);
  });

  it('refuses hosts that reference a missing credential or one of the wrong kind', async () => {
    const snmp = await call('post', '/api/credentials', { name: 'comm', kind: 'snmp-community', community: 'public-ish' });
    const res = await call('post', '/api/hosts', {
      name: 'bad-refs',
      address: '127.0.0.1',
      probes: [
        { type: 'ssh', credential_id: snmp.body.id },
        { type: 'snmp', version: '3', credential_id: snmp.body.id },
        { type: 'snmp', credential_id: '00000000-0000-4000-8000-000000000000' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.probes.0.credential_id', 'body.probes.1.credential_id', 'body.probes.2.credential_id']);
    expect(res.body.errors[1].message).toMatch(/snmp-v3/);
  });

  it('never put a secret in any response of this file', () => {
    for (const text of ctx.vigil.answers) for
 (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  });
});

describe('the secret key at start-up', () => {
  it('refuses to start with a different key than the credentials were saved with', async () => {
    const other = randomBytes(32).toString('base64');
    const config = loadConfig({ DATABASE_URL: ctx.db.url, PORT: '0', VIGIL_SECRET_KEY: other });
    await expect(startVigil(config, ['api'], createSilentLogger())).rejects.toThrow(/VIGIL_SECRET_KEY is not the key/);
  });

  it('refuses to start without a key once credentials are stored', async () => {
    const config = loadConfig({ DATABASE_URL: ctx.db.url, PORT: '0' });
    await expect(startVigil(config, ['api'], createSilentLogger())).rejects.toThrow(ConfigError);
  });

  it('rejects a key that is not 32 bytes of base64, naming the variable', () => {
    expect(() => loadConfig({ VIGIL_SECRET_KEY: 'c2hvcnQ=' })).toThrow(/VIGIL_SECRET_KEY: must be 32 random bytes/);
  });

  it('answers 503 for credential writes when no key is configured', async () => {
    const fresh = await createTestDatabase();
    const keyless = await startTestVigil(fresh.url, ['api']);
    try {
      const res = await keyless.call('post', '/api/credentials', { name: 'x', kind: 'http-bearer', token: 'abc' });

      expect(res.status).toBe(503);
      expect(res.body.detail).toMatch(/VIGIL_SECRET_KEY/);
    } finally {
      await keyless.stop();
      await fresh.drop();
    }
  });
});
