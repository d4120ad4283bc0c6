/**
 * The worker's values step: after a host's probes, collect its templates' items, keep the latest
 * values on the host and hand the samples to the remote writer. Failures of Vigil's own (saving
 * the latest values) are logged, never fail the check.
 */
import type { Pool } from '../db/pool.ts';
import { saveLatestValues, type HostValueWork } from '../db/queries/value-templates.ts';
import { coerceError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { ProbeResult, ResolvedCredential } from '../probes/types.ts';
import { collectValues } from './collect.ts';
import { autoDetectTemplates, type AutoDetectOutcome } from './auto-detect.ts';
import { itemSchema, type AssignedItem, type Sample } from './items.ts';
import type { LatestValues } from './samples.ts';

/** Where samples go after a check (the remote writer); absent when no URL is configured. */
export interface SampleSink {
  push(samples: Sample[], labels: { host: string; group: string | null }, at: Date): void;
}

export interface ValuesStepDeps {
  pool: Pool;
  logger: Logger;
  resolveCredential?: (id: string) => Promise<ResolvedCredential | undefined>;
  sink?: SampleSink;
  /** The database's time as the worker keeps it: sample times and counter rates are compared across workers. */
  now: () => Date;
}

export interface ValuesHost {
  id: string;
  address: string;
  probes: unknown[];
  ssh_host_key_sha256: string | null;
}

/** The least time values get even when the probes used up the check's budget: an answering agent replies in far less. */
const MIN_VALUES_BUDGET_MS = 500;

export async function runValuesStep(deps: ValuesStepDeps, host: ValuesHost, work: HostValueWork, result: ProbeResult, budgetMs: number): Promise<ProbeResult> {
  // A host whose probes failed is down or broken: its values wait for a check that reaches it,
  // rather than spend the rest of the budget timing out a second time.
  if (!result.success) return result;
  const detected = work.auto_detect ? await detect(deps, host, budgetMs) : undefined;
  if (detected) work = { ...work, templates: [...work.templates, ...detected.templates.filter((t) => !work.templates.some((w) => w.name === t.name))] };
  const { items, invalid } = assignedItems(work);
  const collected = await collectValues(
    {
      address: host.address,
      probes: host.probes,
      items,
      previous: (work.latest_values ?? null) as LatestValues | null,
      sshHostKeySha256: host.ssh_host_key_sha256,
      resolveCredential: deps.resolveCredential,
      timeoutMs: Math.max(MIN_VALUES_BUDGET_MS, budgetMs),
      now: deps.now,
    },
    result,
  );
  const values = collected.result.detail.values as { errors: string[]; auto_detect?: unknown };
  if (invalid.length > 0) values.errors.push(...invalid);
  if (detected) values.auto_detect = detected.detail;
  await saveLatestValues(deps.pool, host.id, collected.latest).catch((err: unknown) =>
    deps.logger.warn('saving latest values failed; the next rates span two checks', { host_id: host.id, err: coerceError(err).message }),
  );
  deps.sink?.push(collected.samples, { host: work.name, group: work.group }, new Date(collected.latest.collected_at));
  return collected.result;
}

/** A failure of Vigil's own (the database) leaves the host waiting for the next check: logged, never thrown. */
async function detect(deps: ValuesStepDeps, host: ValuesHost, budgetMs: number): Promise<AutoDetectOutcome | undefined> {
  try {
    return await autoDetectTemplates(deps.pool, host, deps.resolveCredential, Math.max(MIN_VALUES_BUDGET_MS, budgetMs));
  } catch (err) {
    deps.logger.warn('template auto-detect failed; the next check tries again', { host_id: host.id, err: coerceError(err).message });
    return undefined;
  }
}

/** Items of every template, parsed again so stored rows get defaults added since; a bad one is reported, not run. */
function assignedItems(work: HostValueWork): { items: AssignedItem[]; invalid: string[] } {
  const items: AssignedItem[] = [];
  const invalid: string[] = [];
  for (const template of work.templates) {
    for (const raw of template.items) {
      const parsed = itemSchema.safeParse(raw);
      if (parsed.success) items.push({ template: template.name, item: parsed.data });
      else invalid.push(`template ${template.name}: a stored item is invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    }
  }
  return { items, invalid };
}
