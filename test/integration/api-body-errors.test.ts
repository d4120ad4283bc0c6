import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { specOperations } from '../helpers/fuzz.ts';
import { expectConforms } from '../helpers/openapi.ts';
import { startTestVigil, type TestVigil } from '../helpers/vigil.ts';

/**
 * The body parser reads any JSON body sent to /api before routing, so every operation, a GET too,
 * can answer 413 and 415; openapi.yaml must say so (components/responses PayloadTooLarge and
 * UnsupportedMediaType), and the answers must match it.
 */

let db: TestDatabase;
let vigil: TestVigil;
const operations = specOperations().map((op) => ({ ...op, name: `${op.method.toUpperCase()} ${op.path}` }));
/** A concrete path: every parameter a valid-looking id (the answer comes before any lookup). */
const concrete = (path: string) => path.replace(/\{\w+\}/g, '06909604-8df5-4680-bb1c-e7dc7f17dcbf');

beforeAll(async () => {
  db = await createTestDatabase();
  vigil = await startTestVigil(db.url, ['api']);
});
afterAll(async () => {
  await vigil?.stop();
  await db?.drop();
});

async function send(op: (typeof operations)[number], contentType: string, body: string) {
  const method = op.method as 'get' | 'post' | 'patch' | 'put' | 'delete';
  const res = await vigil.http()[method](concrete(op.path)).set('content-type', contentType).send(body);
  expectConforms(res);
  return res;
}

describe('request bodies every operation refuses', () => {
  it.each(operations)('$name answers 413 for a JSON body over its limit', async (op) => {
    const res = await send(op, 'application/json', `"${'x'.repeat(op.bodyLimitBytes)}"`);
    expect(res.status).toBe(413);
    expect(res.body.detail).toBe('request body is too large');
  });

  it.each(operations)('$name answers 415 for a JSON body in a charset other than UTF-8', async (op) => {
    const res = await send(op, 'application/json; charset=latin1', '{}');
    expect(res.status).toBe(415);
    expect(res.body.detail).toMatch(/unsupported charset/);
  });

  it.each(operations.filter((op) => op.body))('$name answers 415 for a body that is not JSON', async (op) => {
    const res = await send(op, 'text/plain', 'name=x');
    expect(res.status).toBe(415);
    expect(res.body.detail).toBe('send the body as application/json');
  });
});
