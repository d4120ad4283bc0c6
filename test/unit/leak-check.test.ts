import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

type FileResult = { name: string; status: string; message: string };

/** Runs vitest on the leak-check fixtures (no database) and returns each file's outcome by base name. */
async function runFixtures(): Promise<Map<string, FileResult>> {
  const vitest = path.resolve('node_modules/vitest/vitest.mjs');
  const args = [vitest, 'run', '--config', 'test/fixtures/leak-check/vitest.config.ts', '--reporter=json'];
  // A failing file makes vitest exit 1; the JSON report on stdout is what is checked.
  const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 << 20 }).catch(
    (err: { stdout?: string; code?: number }) => {
      if (err.code !== 1 || !err.stdout) throw err;
      return { stdout: err.stdout };
    },
  );
  const report = JSON.parse(stdout) as { testResults: FileResult[] };
  return new Map(report.testResults.map((r) => [path.basename(r.name), r]));
}

describe('the leak check (test/helpers/leak-check.ts)', () => {
  it('fails a file that leaves a timer, a server or a child process behind, naming what leaked, and passes one that cleans up', async () => {
    const files = await runFixtures();
    expect(files.get('cleans-up.fixture.ts')).toMatchObject({ status: 'passed' });
    expect(files.get('leaks-a-timer.fixture.ts')).toMatchObject({ status: 'failed', message: expect.stringMatching(/left resources running after its afterAll hooks: 1 × Timeout\b/) });
    expect(files.get('leaks-a-server.fixture.ts')).toMatchObject({ status: 'failed', message: expect.stringMatching(/1 × TCPServerWrap \(server on \{"address":"127\.0\.0\.1"/) });
    expect(files.get('leaks-a-child.fixture.ts')).toMatchObject({ status: 'failed', message: expect.stringMatching(/1 × ProcessWrap.*child process \d+: sleep 7/) });
  }, 120_000);
});
