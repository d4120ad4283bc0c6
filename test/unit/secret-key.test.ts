import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { KEY_FILE, loadSecretKey } from '../../src/credentials/secret-key.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'vigil-key-'));
  dirs.push(d);
  return d;
};

describe('the credentials key', () => {
  it('in embedded mode is generated once into a 0600 key file and reused', async () => {
    const dir = await tempDir();
    const config = loadConfig({ VIGIL_DATA_DIR: dir });
    const first = await loadSecretKey(config);
    expect(first).toHaveLength(32);
    const file = path.join(dir, KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first!.toString('base64'));
    expect((await loadSecretKey(config))!.equals(first!)).toBe(true);
  });

  it('comes from VIGIL_SECRET_KEY when set, and is absent with an external database and no key', async () => {
    const key = randomBytes(32);
    expect((await loadSecretKey(loadConfig({ VIGIL_SECRET_KEY: key.toString('base64') })))!.equals(key)).toBe(true);
    expect(await loadSecretKey(loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db' }))).toBeUndefined();
  });

  it('refuses a key file that does not hold 32 bytes', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, KEY_FILE), 'c2hvcnQ=\n', { mode: 0o600 });
    await expect(loadSecretKey(loadConfig({ VIGIL_DATA_DIR: dir }))).rejects.toThrow(/does not hold a base64 32-byte key/);
  });
});
