import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError, keyIdOf, open, seal, sealedKeyId, withPreviousKeys } from '../../src/credentials/cipher.ts';

describe('credential cipher (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('round-trips, and never stores the plaintext or reuses an IV', () => {
    const a = seal(key, 'hunter2-secret', 'row-1');
    const b = seal(key, 'hunter2-secret', 'row-1');
    expect(open(key, a, 'row-1')).toBe('hunter2-secret');
    expect(a.toString('latin1')).not.toContain('hunter2');
    expect(a.equals(b)).toBe(false);
  });

  it.each([
    ['a wrong key', (s: Buffer) => open(randomBytes(32), s, 'row-1')],
    ['another row (AAD)', (s: Buffer) => open(key, s, 'row-2')],
    ['a flipped ciphertext bit', (s: Buffer) => open(key, Buffer.concat([s.subarray(0, -1), Buffer.from([s[s.length - 1]! ^ 1])]), 'row-1')],
    ['a truncated value', (s: Buffer) => open(key, s.subarray(0, 10), 'row-1')],
  ])('refuses to decrypt with %s', (_what, attempt) => {
    const sealed = seal(key, 'hunter2-secret', 'row-1');
    expect(() => attempt(sealed)).toThrow(DecryptionError);
  });

  it('names the sealing key, and opens with it as a previous key during a rotation', () => {
    const next = randomBytes(32);
    const sealed = seal(key, 'hunter2-secret', 'row-1');
    expect(sealedKeyId(sealed)).toBe(keyIdOf(key).toString('hex'));
    expect(() => open(next, sealed, 'row-1')).toThrow(DecryptionError);
    expect(open(withPreviousKeys(next, [key]), sealed, 'row-1')).toBe('hunter2-secret');
  });

  it('still opens values sealed before key ids (iv || tag || ciphertext)', () => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from('row-1'));
    const body = Buffer.concat([cipher.update('legacy-secret', 'utf8'), cipher.final()]);
    const legacy = Buffer.concat([iv, cipher.getAuthTag(), body]);
    expect(sealedKeyId(legacy)).toBeNull();
    expect(open(withPreviousKeys(randomBytes(32), [key]), legacy, 'row-1')).toBe('legacy-secret');
  });
});
