import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import type { Pool } from '../db/pool.ts';
import { readKeyCheck, writeKeyCheck } from '../db/queries/credentials.ts';
import { ConfigError } from '../lib/errors.ts';
import { DecryptionError, KEY_BYTES, open, seal } from './cipher.ts';

const CHECK_PLAINTEXT = 'vigil-secret-key-check';
const CHECK_AAD = 'secret_key_check';
export const KEY_FILE = 'secret.key';

/**
 * The key that encrypts credentials: VIGIL_SECRET_KEY, or — only with the embedded database — a
 * key generated once into `<data dir>/secret.key` (mode 0600). Undefined when neither applies;
 * credentials then cannot be created.
 */
export async function loadSecretKey(config: Config): Promise<Buffer | undefined> {
  if (config.secretKey) return config.secretKey;
  if (config.databaseUrl) return undefined;
  const file = path.join(config.dataDir, KEY_FILE);
  if (existsSync(file)) return decodeKeyFile(await readFile(file, 'utf8'), file);
  await mkdir(config.dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  await writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

/**
 * Said once at start when there is no key (DATABASE_URL given, VIGIL_SECRET_KEY not): otherwise
 * nothing tells the operator until the first credential is refused with a 503.
 */
export const NO_SECRET_KEY_WARNING =
  'VIGIL_SECRET_KEY is not set: credentials (SSH passwords and keys, SNMP communities and v3 keys, HTTP basic and bearer auth) ' +
  'and webhook signing secrets cannot be saved or used (creating one answers 503); ' +
  'set VIGIL_SECRET_KEY to 32 random bytes in base64 (`openssl rand -base64 32`), the same on every Vigil process, and keep it: it decrypts them';

function decodeKeyFile(text: string, file: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new ConfigError(`${file} does not hold a base64 ${KEY_BYTES}-byte key`);
  return key;
}

/**
 * Makes sure `key` is the key the stored credentials were sealed with: the first start records a
 * sealed check value; later starts must open it. A wrong or missing key stops start-up here
 * rather than failing every check later.
 */
export async function verifySecretKey(pool: Pool, key: Buffer | undefined): Promise<void> {
  let stored = await readKeyCheck(pool);
  if (!key) {
    if (stored) throw new ConfigError('credentials are stored in this database but VIGIL_SECRET_KEY is not set: set it to the key they were saved with');
    return;
  }
  if (!stored) {
    // Two first starts race: whichever check value lands, both verify against it below.
    await writeKeyCheck(pool, seal(key, CHECK_PLAINTEXT, CHECK_AAD));
    stored = (await readKeyCheck(pool))!;
  }
  try {
    if (open(key, stored, CHECK_AAD) === CHECK_PLAINTEXT) return;
  } catch (err) {
    if (!(err instanceof DecryptionError)) throw err;
  }
  throw new ConfigError('VIGIL_SECRET_KEY is not the key this database\'s credentials were saved with: start with the original key');
}
