import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import { contextOf } from '../context.ts';
import { CliError, usageError } from '../errors.ts';
import { paint, print } from '../output.ts';
import { startProgress } from '../progress.ts';
import type { InventoryPlan } from '../inventory/inventory-plan.ts';
import { ITEM_NAMES, SECTION_TITLES, SECTIONS, type Section } from '../inventory/inventory-sections-names.ts';

/** The diff, one line per change (in the order apply makes them), then a summary line. */
export function describePlan(plan: InventoryPlan): string {
  const { hosts, groups, sections } = plan;
  const sectionLines = (which: Section[], kinds: ('create' | 'update')[]) =>
    which.flatMap((s) => kinds.flatMap((k) => (sections[s]?.[k] ?? []).map((n) => (k === 'create' ? paint('green', `+ ${ITEM_NAMES[s]} ${n}`) : paint('yellow', `~ ${ITEM_NAMES[s]} ${n}`)))));
  const deletions = (which: Section[]) => which.flatMap((s) => (sections[s]?.delete ?? []).map((d) => paint('red', `- ${ITEM_NAMES[s]} ${d.name}`)));
  const lines = [
    ...sectionLines(['policies', 'notification_channels'], ['create', 'update']),
    ...groups.create.map((n) => paint('green', `+ group ${n}`)),
    ...groups.update.map((n) => paint('yellow', `~ group ${n}`)),
    ...hosts.create.map((n) => paint('green', `+ host ${n}`)),
    ...hosts.update.map((n) => paint('yellow', `~ host ${n}`)),
    ...sectionLines(['maintenance_windows', 'notification_rules'], ['create', 'update']),
    ...deletions(['notification_rules', 'maintenance_windows', 'notification_channels']),
    ...hosts.delete.map((h) => paint('red', `- host ${h.name}`)),
    ...deletions(['policies']),
  ];
  const counts = (p: { create: unknown[]; update: unknown[]; unchanged: unknown[]; delete?: unknown[] }, deletes = true) =>
    `${p.create.length} to create, ${p.update.length} to update, ${p.unchanged.length} unchanged${deletes ? `, ${p.delete?.length ?? 0} to delete` : ''}`;
  const summary = [
    `hosts: ${counts(hosts)}`,
    `groups: ${counts(groups, false)}`,
    ...SECTIONS.flatMap((s) => (sections[s] ? [`${SECTION_TITLES[s]}: ${counts(sections[s])}`] : [])),
  ].join('; ');
  return lines.length === 0 ? `No changes: ${summary}` : `${lines.join('\n')}\n${summary}`;
}

const planJson = (plan: InventoryPlan, dryRun: boolean, applied: boolean) => ({
  dry_run: dryRun,
  applied,
  hosts: { ...plan.hosts, delete: plan.hosts.delete.map((h) => h.name) },
  groups: plan.groups,
  ...Object.fromEntries(
    Object.entries(plan.sections).map(([s, p]) => [s, { create: p.create, update: p.update, unchanged: p.unchanged, delete: p.delete.map((d) => d.name) }]),
  ),
});

/** Changes the plan would make, deletions apart. */
const changesOf = (plan: InventoryPlan) => plan.writes.length + plan.groupWrites.length + Object.values(plan.sections).reduce((n, p) => n + p.writes.length, 0);
const deletionsOf = (plan: InventoryPlan) => plan.hosts.delete.length + Object.values(plan.sections).reduce((n, p) => n + p.delete.length, 0);
/** "1 host(s)" as before, other kinds after it: "2 host(s), 1 policy(s)". */
const describeDeletions = (plan: InventoryPlan) =>
  [
    ...(plan.hosts.delete.length ? [`${plan.hosts.delete.length} host(s)`] : []),
    ...SECTIONS.flatMap((s) => (plan.sections[s]?.delete.length ? [`${plan.sections[s].delete.length} ${ITEM_NAMES[s]}(s)`] : [])),
  ].join(', ');

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
    .summary('make Vigil match an inventory file (YAML or JSON): diff, apply, --prune')
    .description(
      'make Vigil match an inventory file (YAML or JSON): hosts, groups (limits, maintenance, policy, gateway), check policies, ' +
        'maintenance windows, notification channels and rules; prints the diff, then applies it in batches; a second run changes nothing',
    )
    .requiredOption('-f, --file <file>', 'inventory file (see vigil export-inventory and docs/cli.md for the format)')
    .option('--dry-run', 'print the diff and change nothing')
    .option('--prune', 'delete hosts the file does not declare, and policies, windows, channels and rules absent from a section the file declares')
    .option('--yes', 'do not ask before deleting (needed for --prune when not on a terminal)')
    .option('--update-secrets', "send every channel secret named in the file (by default a secret Vigil already holds is not sent again: Vigil can't show it to compare)")
    .addHelpText(
      'after',
      `
References are by name: a host's policy and depends_on, a group's policy and gateway, a window's hosts,
a rule's channels and hosts. Secrets never go in the file: a channel's secret fields are written
{ env: VARIABLE } and read from that environment variable when they must be sent.

Examples:
  vigil apply -f fleet.yaml --dry-run        the diff, nothing changed (exit 0)
  vigil apply -f fleet.yaml                  apply; again: "No changes"
  vigil apply -f fleet.yaml --prune --yes    also delete what the file does not declare`,
    )
    .action(async (opts: { file: string; dryRun?: boolean; prune?: boolean; yes?: boolean; updateSecrets?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const text = await readFile(opts.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw usageError(`${opts.file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
      });
      // The API's schemas (and the probe modules behind them) load only for commands that validate files.
      const { parseInventory } = await import('../inventory/inventory-file.ts');
      const { planInventory, applyPlan } = await import('../inventory/inventory-plan.ts');
      const { missingSecrets } = await import('../inventory/inventory-sections.ts');
      const inv = parseInventory(opts.file, text);
      const plan = await planInventory(ctx.client, inv, opts.prune ?? false, { updateSecrets: opts.updateSecrets ?? false });
      const deletions = deletionsOf(plan);
      const nothing = changesOf(plan) + deletions === 0;
      if (ctx.output !== 'json') process.stdout.write(`${describePlan(plan)}\n`);
      if (opts.dryRun || nothing) {
        if (ctx.output === 'json') print(ctx.output, planJson(plan, opts.dryRun ?? false, false), () => '');
        return;
      }
      const missing = missingSecrets(inv, plan.sections);
      if (missing.length > 0) throw usageError(`nothing changed: secrets to send are missing\n${missing.join('\n')}`);
      if (deletions > 0 && !opts.yes) {
        if (!(process.stdin.isTTY && process.stderr.isTTY)) throw usageError(`--prune would delete ${describeDeletions(plan)}: add --yes to confirm when not on a terminal`);
        if (!(await confirm(`Delete ${describeDeletions(plan)}${plan.hosts.delete.length ? ' (hosts with their history)' : ''}? [y/N] `))) throw new CliError('nothing changed');
      }
      const total = plan.writes.length + plan.hosts.delete.length;
      const progress = total >= 5000 ? startProgress('applying', total) : undefined;
      try {
        await applyPlan(ctx.client, inv, plan, (done) => progress?.update(done));
      } finally {
        progress?.stop();
      }
      if (ctx.output === 'json') print(ctx.output, planJson(plan, false, true), () => '');
      else process.stdout.write('applied\n');
    });

  const exportInventory = new Command('export-inventory')
    .description(
      "write today's Vigil as an inventory file for vigil apply (policies, groups, hosts, maintenance windows, notification channels and rules, " +
        'references by name, channel secrets as environment variable names): vigil export-inventory > fleet.yaml',
    )
    .summary('write today\'s Vigil as an inventory file: vigil export-inventory > fleet.yaml')
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
