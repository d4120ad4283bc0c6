import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAndCheckHost, createVigilClient, describeHistory, exportHostHistory, type VigilClient } from '../client/client.ts';

import { expectAnswerConforms } from '../helpers/openapi.ts';
import { startHttpTarget, type HttpTarget } from '../helpers/targets.ts';
import { TEST_ADMIN_TOKEN, useTestVigil } from '../helpers/vigil.ts';

// The client in test/client is generated from openapi.yaml (schema.d.ts, checked for drift by
// test/unit/openapi.test.ts) and written with openapi-fetch. Here it must type-check, must stop
// type-checking when a field name is wrong, and must work against a live Vigil.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT = join(ROOT, 'test', 'client', 'client.ts');
const scratch = mkdtempSync(join(tmpdir(), 'vigil-client-'));

/** `tsc --noEmit` on just these files, with the repository's compiler options; the exit code and what it printed. */
async function typeCheck(files: string[]): Promise<{ code: number; output: string }> {
  const config = join(scratch, `tsconfig-${files.length}-${Date.now()}.json`);
  writeFileSync(config, JSON.stringify({
    extends: join(ROOT, 'tsconfig.json'),
    compilerOptions: { typeRoots: [join(ROOT, 'node_modules', '@types')] },
    include: [],
    files,
  }));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', config]);
    return { code: 0, output: stdout };
  } catch (err) {
    const { code, stdout } = err as { code: number; stdout: string };
    return { code, output: stdout };
  }
}

// Misspells one field the client sends and one it reads; nothing else is wrong with it. (A
// relative import: tsc refuses `.ts` extensions on absolute ones.)
const WRONG_FIELDS = `import { createVigilClient } from ${JSON.stringify(relative(scratch, CLIENT))};

export async function misspelled(): Promise<string | undefined> {
  const client = createVigilClient('http://127.0.0.1:8080');
  const created = await client.POST('/api/hosts', { body: { name: 'web-1', adress: '10.0.0.5', probes: [{ type: 'tcp', port: 22 }] } });
  const state = await client.GET('/api/monitoring/hosts/{host_id}/state', { params: { path: { host_id: created.data!.id } } });
  return state.data?.current_sate;
}
`;

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the generated client types', () => {
  it('type-check the client written against them', async () => {
    const { code, output } = await typeCheck([CLIENT]);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('reject a client that misspells a request field or a response field', async () => {
    const file = join(scratch, 'wrong-fields.mts');
    writeFileSync(file, WRONG_FIELDS);
    const { code, output } = await typeCheck([file]);
    expect(code).not.toBe(0);
    const errors = output.split('\n').filter((line) => line.includes('error TS'));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/wrong-fields\.mts\(5,.*error TS2561: .*'adress' does not exist.*Did you mean to write 'address'/);
    expect(errors[1]).toMatch(/wrong-fields\.mts\(7,.*error TS2551: Property 'current_sate' does not exist.*Did you mean 'current_state'/);
  });
});

describe('the generated client against a live Vigil', () => {
  let target: HttpTarget;
  let client: VigilClient;
  let conforming = 0;

  beforeAll(async () => {
    target = await startHttpTarget({ '/health': (_req, res) => res.end('ok') });
  });
  afterAll(async () => {
    await target?.close();
  });
  // No scheduler: the only checks are the ones the client asks for.
  const ctx = useTestVigil({ roles: ['api', 'worker'], env: { VIGIL_WORKER_POLL_SECONDS: '0.5' } });

  beforeAll(() => {
    client = createVigilClient(ctx.vigil.apiUrl!, TEST_ADMIN_TOKEN);
    // Every answer the client gets must also be what openapi.yaml documents.
    client.use({
      async onResponse({ request, response }) {
        const text = await response.clone().text();
        const url = new URL(request.url);
        const body = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
        expectAnswerConforms({ method: request.method, path: url.pathname, status: response.status, contentType: response.headers.get('content-type'), text, body });
        conforming += 1;
        return response;
      },
    });
  });


  it('adds a host, checks it now and reads its state and recent history', async () => {
    const { host, check, state } = await addAndCheckHost(client, 'client-web', `${target.url}/health`);
    expect(host).toMatchObject({ name: 'client-web', address: '127.0.0.1', tags: ['client'], monitoring_state: 'HEALTHY' });
    expect(check).toMatchObject({ host_id: host.id, check_queued: true, priority: 9, current_status: 'online' });
    expect(check.result).toMatchObject({ success: true, checked_by: 'jit', state: 'HEALTHY', detail: { status_code: 200 } });
    expect(state).toMatchObject({ host_id: host.id, current_state: 'HEALTHY', consecutive_successes: 1, last_check: check.last_check });
    expect(state.recent_history).toEqual([check.result]);
    expect(describeHistory(state)).toEqual([expect.stringMatching(/^\S+Z jit HEALTHY ok [\d.]+ ms$/)]);
    expect(target.requests.map((r) => r.url)).toEqual(['/health']);
    expect(conforming).toBe(3);
  });

  it('exports the host history it checked', async () => {
    const { host, check } = await addAndCheckHost(client, 'client-export', `${target.url}/health`);
    const records = await exportHostHistory(client, host.id);
    expect(records).toEqual([{ ...check.result, id: expect.stringMatching(/^\d+$/), job_id: check.task_id, host_id: host.id, host_name: 'client-export' }]);
  });

  it('reads problems as typed errors', async () => {
    const missing = await client.GET('/api/monitoring/hosts/{host_id}/state', { params: { path: { host_id: '00000000-0000-4000-8000-000000000000' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toMatchObject({ status: 404, title: 'Not Found', detail: 'host not found' });
  });
});
