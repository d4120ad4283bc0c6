/**
 * Composite mode (seed 004's composite node): every member probe runs — one after another, or
 * all at once — and each is recorded in detail.probes; the check fails when any *required*
 * member fails. The default chain of a host's probes stops at the first failure instead.
 * Running a member (credential, timeout, hard stop) is run-check's job: it is passed in.
 */
import { elapsedMs, failed, succeeded } from './errors.ts';
import type { CompositeProbeConfig, LeafProbeConfig } from './index.ts';
import type { ProbeResult } from './types.ts';

/** Runs member `index` within `remainingMs`, with the memory it returned last time. */
export type RunMember = (member: LeafProbeConfig, index: number, remainingMs: number) => Promise<ProbeResult>;

export async function runComposite(config: CompositeProbeConfig, budgetMs: number, runMember: RunMember): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const members = config.probes as (LeafProbeConfig & { required?: boolean })[];
  const remaining = () => Math.max(1, budgetMs - elapsedMs(startNs));
  let results: ProbeResult[];
  if (config.parallel) {
    results = await Promise.all(members.map((member, i) => runMember(member, i, budgetMs)));
  } else {
    results = [];
    for (const [i, member] of members.entries()) results.push(await runMember(member, i, remaining()));
  }
  return judge(startNs, members, results);
}

/** A composite's memory: each member's, under its position and type (as run-check keys a host's probes). */
export function memberMemoryKey(index: number, member: { type: string }): string {
  return `${index}:${member.type}`;
}

function judge(startNs: bigint, members: (LeafProbeConfig & { required?: boolean })[], results: ProbeResult[]): ProbeResult {
  const required = (i: number) => members[i]!.required !== false;
  const failures = results.flatMap((r, i) => (!r.success && required(i) ? [i] : []));
  const detail = {
    probes: results.map((r, i) => ({
      type: members[i]!.type,
      required: required(i),
      success: r.success,
      response_time_ms: r.responseTimeMs,
      error_type: r.errorType,
      error_message: r.errorMessage,
      detail: r.detail,
    })),
    failed_probes: failures.map((i) => i + 1),
  };
  const memoryEntries = results.flatMap((r, i) => (r.memory ? [[memberMemoryKey(i, members[i]!), r.memory] as const] : []));
  const memory = memoryEntries.length > 0 ? { memory: Object.fromEntries(memoryEntries) } : {};
  if (failures.length === 0) return { ...succeeded(startNs, detail), ...memory };
  const first = results[failures[0]!]!;
  const message = failures.map((i) => `probe ${i + 1} (${members[i]!.type}): ${results[i]!.errorMessage}`).join('; ');
  return { ...failed(startNs, first.errorType ?? 'internal_error', message, detail), ...memory };
}
