import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_BIN } from '../helpers/cli.ts';
import { TEST_ADMIN_TOKEN, type TestVigil, useTestVigil } from '../helpers/vigil.ts';

// On a terminal the CLI draws a progress bar and colours states; util-linux `script` gives it a
// real pseudo-terminal (the other CLI tests use pipes, where both must be absent).
const run = promisify(execFile);
let vigil: TestVigil;
let dir: string;

const ctx = useTestVigil({ roles: ['api'] });
beforeAll(async () => {
  vigil = ctx.vigil;
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-tty-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI on a pseudo-terminal; returns what the terminal showed. */
async function onTerminal(args: string[]): Promise<string> {
  const command = [process.execPath, VIGIL_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const env = { PATH: process.env.PATH!, TERM: 'xterm', VIGIL_URL: vigil.apiUrl!, VIGIL_TOKEN: TEST_ADMIN_TOKEN };
  const { stdout } = await run('script', ['-qec', command, '/dev/null'], { env });
  return stdout;
}

describe('vigil on a terminal', () => {
  it('draws a progress bar with count, rate and ETA while importing, and colours the state', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `tty-${i},10.3.0.${i},tcp:22`);
    const csv = path.join(dir, 'hosts.csv');
    await writeFile(csv, `name,address,probe\n${rows.join('\n')}\n`);
    const shown = await onTerminal(['hosts', 'import', csv]);
    expect(shown).toMatch(/importing hosts \[[^\]]+\] 30\/30 \| \d+\/s \| ETA /);
    expect(shown).toMatch(/30 created/);
    const list = await onTerminal(['hosts', 'list', '--limit', '1']);
    expect(list).toMatch(/\x1b\[32mHEALTHY\x1b\[39m/);
  }, 90_000);
});
