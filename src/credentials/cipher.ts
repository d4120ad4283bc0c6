import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with a random 96-bit IV per message. A sealed value names the key that sealed it:
 * MAGIC || key id (8 bytes of SHA-256 of the key) || iv || tag || ciphertext, so a Vigil holding
 * the new key and the previous one (during a rotation, see rekey.ts) opens each value with the
 * right key. Values sealed before key ids existed (iv || tag || ciphertext) still open: every
 * known key is tried on them.
 */
const ALGORITHM = 'aes-256-gcm';
const MAGIC = Buffer.from('VK1', 'ascii');
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** The current key, with keys still accepted for opening (VIGIL_SECRET_KEY_PREVIOUS). */
export type SecretKey = Buffer & { previous?: readonly Buffer[] };

export class DecryptionError extends Error {
  constructor() {
    super('cannot decrypt: wrong VIGIL_SECRET_KEY, or the data was altered');
    this.name = 'DecryptionError';
  }
}

/** The current key carrying the previous ones it should still accept. */
export function withPreviousKeys(key: Buffer, previous: readonly Buffer[]): SecretKey {
  return Object.assign(Buffer.from(key), { previous });
}

/** A key's public name: safe to store and log, it reveals nothing of the key. */
export function keyIdOf(key: Buffer): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES);
}

/** The id of the key that sealed `sealed` (hex), or null for a value sealed before key ids. */
export function sealedKeyId(sealed: Buffer): string | null {
  return hasKeyId(sealed) ? sealed.subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES).toString('hex') : null;
}

/** Encrypts `plaintext` under the current key, binding it to `aad` (e.g. the row id) so it only decrypts there. */
export function seal(key: Buffer, plaintext: string, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, Buffer.from(key), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([MAGIC, keyIdOf(key), iv, cipher.getAuthTag(), body]);
}

/** Decrypts what `seal` produced with whichever known key sealed it; a wrong key or tampering throws DecryptionError. */
export function open(key: SecretKey, sealed: Buffer, aad: string): string {
  const keys = [key, ...(key.previous ?? [])];
  if (hasKeyId(sealed)) {
    const id = sealed.subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES);
    const sealer = keys.find((k) => keyIdOf(k).equals(id));
    if (sealer) return decrypt(sealer, sealed.subarray(MAGIC.length + KEY_ID_BYTES), aad);
  }
  // Sealed before key ids (or, once in 2^24, a legacy IV that starts like MAGIC).
  for (const k of keys) {
    try {
      return decrypt(k, sealed, aad);
    } catch {
      // try the next key
    }
  }
  throw new DecryptionError();
}

function hasKeyId(sealed: Buffer): boolean {
  return sealed.length > MAGIC.length + KEY_ID_BYTES + IV_BYTES + TAG_BYTES - 1 && sealed.subarray(0, MAGIC.length).equals(MAGIC);
}

/** iv || tag || ciphertext under one key. */
function decrypt(key: Buffer, sealed: Buffer, aad: string): string {
  try {
    const iv = sealed.subarray(0, IV_BYTES);
    const tag = sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv(ALGORITHM, Buffer.from(key), iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError();
  }
}
