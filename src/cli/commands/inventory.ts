import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import { contextOf } from '../context.ts';
import { CliError, usageError } from '../errors.ts';
import { paint, print } from '../output.ts';
import { startProgress } from '../progress.ts';
import type { InventoryPlan } from '../inventory/inventory-plan.ts';

/** The diff, one line per change, then a summary line. */
export function describePlan(plan: InventoryPlan): string {
  const { hosts, groups } = plan;
  const lines = [
    ...groups.create.map((n) => paint('green', `+ group ${n}`)),
    ...groups.update.map((n) => paint('yellow', `~ group ${n}`)),
    ...hosts.create.map((n) => paint('green', `+ host ${n}`)),
    ...hosts.update.map((n) => paint('yellow', `~ host ${n}`)),
    ...hosts.delete.map((h) => paint('red', `- host ${h.name}`)),
  ];
  const changes = lines.length;
  const summary =
    `hosts: ${hosts.create.length} to create, ${hosts.update.length} to update, ${hosts.unchanged.length} unchanged, ${hosts.delete.length} to delete; ` +
    `groups: ${groups.create.length} to create, ${groups.update.length} to update, ${groups.unchanged.length} unchanged`;
  return changes === 0 ? `No changes: ${summary}` : `${lines.join('\n')}\n${summary}`;
}

const planJson = (plan: InventoryPlan, dryRun: boolean, applied: boolean) => ({
  dry_run: dryRun,
  applied,
  hosts: { ...plan.hosts, delete: plan.hosts.delete.map((h) => h.name) },
  groups: plan.groups,
});

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function inventoryCommands(): Command[] {
  const apply = new Command('apply')
    .description('make the fleet match an inventory file (YAML or JSON): prints the diff, then applies it in batches; a second run changes nothing')
    .requiredOption('-f, --file <file>', 'inventory file (see vigil export-inventory for the format)')
    .option('--dry-run', 'print the diff and change nothing')
    .option('--prune', 'delete hosts the file does not declare')
    .option('--yes', 'do not ask before deleting (needed for --prune when not on a terminal)')
    .action(async (opts: { file: string; dryRun?: boolean; prune?: boolean; yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const text = await readFile(opts.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw usageError(`${opts.file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
      });
      // The API's schemas (and the probe modules behind them) load only for commands that validate files.
      const { parseInventory } = await import('../inventory/inventory-file.ts');
      const { planInventory, applyPlan } = await import('../inventory/inventory-plan.ts');
      const inv = parseInventory(opts.file, text);
      const plan = await planInventory(ctx.client, inv, opts.prune ?? false);
      const nothing = plan.writes.length + plan.groupWrites.length + plan.hosts.delete.length === 0;
      if (ctx.output !== 'json') process.stdout.write(`${describePlan(plan)}\n`);
      if (opts.dryRun || nothing) {
        if (ctx.output === 'json') print(ctx.output, planJson(plan, opts.dryRun ?? false, false), () => '');
        return;
      }
      if (plan.hosts.delete.length > 0 && !opts.yes) {
        if (!(process.stdin.isTTY && process.stderr.isTTY)) throw usageError(`--prune would delete ${plan.hosts.delete.length} host(s): add --yes to confirm when not on a terminal`);
        if (!(await confirm(`Delete ${plan.hosts.delete.length} host(s) and their history? [y/N] `))) throw new CliError('nothing changed');
      }
      const total = plan.writes.length + plan.hosts.delete.length;
      const progress = total >= 5000 ? startProgress('applying', total) : undefined;
      try {
        await applyPlan(ctx.client, plan, (done) => progress?.update(done));
      } finally {
        progress?.stop();
      }
      if (ctx.output === 'json') print(ctx.output, planJson(plan, false, true), () => '');
      else process.stdout.write('applied\n');
    });

  const exportInventory = new Command('export-inventory')
    .description('write the fleet as an inventory file for vigil apply: vigil export-inventory > fleet.yaml')
    .addOption(new Option('--format <format>', 'yaml or json').choices(['yaml', 'json']).default('yaml'))
    .action(async (opts: { format: 'yaml' | 'json' }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { exportInventory: build, inventoryYaml } = await import('../inventory/inventory-export.ts');
      const { document, warnings } = await build(ctx.client);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(opts.format === 'json' || ctx.output === 'json' ? `${JSON.stringify(document, null, 2)}\n` : inventoryYaml(document));
    });

  return [apply, exportInventory];
}
