import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram, runCli } from '../../src/cli/program.ts';

// Issue 19: `--help` on every command. Walks the command tree as built, so a command added later is covered.
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const paths = commandPaths(buildProgram());

describe('vigil --help', () => {
  afterEach(() => vi.restoreAllMocks());

  it('covers every command the program has (the tree is not empty)', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['hosts list', 'hosts import', 'check', 'apply', 'export-inventory', 'tokens create', 'maintenance']));
  });

  it.each(paths.map((p) => [p.join(' '), p] as const))('vigil %s --help prints its usage and exits 0', async (_name, path) => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    expect(await runCli([...path, '--help'])).toBe(0);
    expect(out).toContain(`Usage: vigil ${path.join(' ')}`);
    expect(out).toMatch(/-h, --help/);
  });
});
