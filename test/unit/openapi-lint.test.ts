import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDOCLY = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

/** `redocly lint` with the repository's redocly.yaml, on the Node running the tests (22). */
async function lint(file: string): Promise<LintReport> {
  const run = promisify(execFile)(process.execPath, [REDOCLY, 'lint', file, '--format=json', '--config', join(ROOT, 'redocly.yaml')], { cwd: ROOT });
  // Exit status 1 means problems were found; the JSON report is on stdout either way.
  const { stdout } = await run.catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return JSON.parse(stdout) as LintReport;
}

const scratch = mkdtempSync(join(tmpdir(), 'vigil-lint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('redocly lint openapi.yaml (npm run lint:openapi)', () => {
  it('reports no problem at all', async () => {
    const report = await lint(join(ROOT, 'openapi.yaml'));
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
  });

  it('catches an operation without a scope and an example that breaks its schema', async () => {
    const broken = readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')
      .replace('      x-required-scope: admin\n', '')
      .replace(/(\n {4}Host:\n {6}summary: .*\n {6}value:\n {8})id:/, '$1identifier:');
    writeFileSync(join(scratch, 'openapi.yaml'), broken);
    const rules = new Set((await lint(join(scratch, 'openapi.yaml'))).problems.map((p) => p.ruleId));
    expect([...rules].sort()).toEqual(['no-invalid-media-type-examples', 'rule/operation-required-scope']);
  });
});
