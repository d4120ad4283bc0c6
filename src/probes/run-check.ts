import { credentialIdOf, probeConfigSchema, runProbe, type CompositeProbeConfig, type HostFacts, type LeafProbeConfig, type ProbeConfig } from './index.ts';
import { memberMemoryKey, runComposite } from './composite.ts';
import { elapsedMs, failed } from './errors.ts';
import { probeBudgetMs } from './probe-timeout.ts';
import type { Pinger } from './fping.ts';
import { coerceError } from '../lib/errors.ts';
import { CheckNotRunError, CredentialUnavailableError, type ProbeResult, type ResolvedCredential } from './types.ts';

export interface CheckTarget extends HostFacts {
  address: string;
  /** Probe configs as stored: parsed again here, so rows written before a field got its default still run. */
  probes: unknown[];
  /** What the probes returned as memory at the previous check (hosts.probe_memory), by {@link memoryKey}. */
  probeMemory?: Record<string, unknown> | null;
}

/** A probe's memory is kept under its position and type: a reordered or replaced probe starts afresh. */
export function memoryKey(index: number, probe: { type: string }): string {
  return `${index}:${probe.type}`;
}

export interface RunCheckOptions {
  /** Hard limit for the whole check (all steps together), in milliseconds. */
  timeoutMs: number;
  /**
   * Decrypts the credential a probe references: undefined for an unknown id, CredentialUnavailableError
   * when it cannot be opened; anything else it throws is Vigil's own failure (CheckNotRunError).
   */
  resolveCredential?: (id: string) => Promise<ResolvedCredential | undefined>;
  /** The fping batcher ICMP probes share (built from VIGIL_FPING_PATH by the worker). */
  pinger?: Pinger;
}

/**
 * Runs a host's probes in order as one check (seed 004: a chain of nodes counts as one). The first
 * failing step decides the result; response time is the total; each step is in detail.steps.
 * A probe that breaks its contract becomes an internal_error result. Throws only CheckNotRunError,
 * when Vigil could not run the check at all (a credential could not be looked up).
 */
export async function runCheck(target: CheckTarget, opts: RunCheckOptions): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  // A timer cleared when the check ends, not AbortSignal.timeout(): at thousands of checks a second
  // those would keep a timer each alive for the whole timeout after their check finished.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`check timed out after ${opts.timeoutMs} ms`, 'TimeoutError')), opts.timeoutMs);
  try {
    const steps: ProbeResult[] = [];
    const parsed = parseProbes(target.probes);
    if (!Array.isArray(parsed)) return storable(failed(startNs, 'config_error', parsed.error));
    for (const [i, probe] of parsed.entries()) {
      const remainingMs = Math.max(1, opts.timeoutMs - elapsedMs(startNs));
      const step = await runStep(probe, target, controller.signal, remainingMs, opts, target.probeMemory?.[memoryKey(i, probe)]);
      steps.push(step);
      if (!step.success) break;
    }
    return withMemory(storable(combine(startNs, parsed, steps)), parsed, steps);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * PostgreSQL stores neither NUL characters nor lone surrogates in text or jsonb, and a hostile
 * target's garbage can put both into an error message or detail: replace them (U+FFFD) once here,
 * so history, incidents, events and logs all get the same storable text.
 */
function storable(result: ProbeResult): ProbeResult {
  const clean = (text: string) => text.toWellFormed().replaceAll('\0', '\uFFFD');
  const deep = (value: unknown): unknown =>
    typeof value === 'string' ? clean(value)
      : Array.isArray(value) ? value.map(deep)
        : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [clean(k), deep(v)]))
          : value;
  return { ...result, errorMessage: result.errorMessage === null ? null : clean(result.errorMessage), detail: deep(result.detail) as ProbeResult['detail'] };
}

/** The memories the steps returned, keyed for the next check; none at all when no probe keeps any. */
function withMemory(result: ProbeResult, probes: ProbeConfig[], steps: ProbeResult[]): ProbeResult {
  const { memory: _stepMemory, ...rest } = result;
  const entries = steps.flatMap((step, i) => (step.memory ? [[memoryKey(i, probes[i]!), step.memory] as const] : []));
  return entries.length === 0 ? rest : { ...rest, memory: Object.fromEntries(entries) };
}

function parseProbes(stored: unknown[]): ProbeConfig[] | { error: string } {
  const probes: ProbeConfig[] = [];
  for (const [i, raw] of stored.entries()) {
    const result = probeConfigSchema.safeParse(raw);
    if (!result.success) return { error: `stored probe ${i + 1} is invalid: ${result.error.issues.map((e) => `${e.path.join('.') || 'probe'}: ${e.message}`).join('; ')}` };
    probes.push(result.data);
  }
  return probes;
}

async function runStep(
  probe: ProbeConfig,
  target: CheckTarget,
  signal: AbortSignal,
  timeoutMs: number,
  opts: RunCheckOptions,
  memory: unknown,
): Promise<ProbeResult> {
  if (probe.type === 'composite') return runCompositeStep(probe, target, signal, timeoutMs, opts, memory);
  return runLeafStep(probe, target, signal, timeoutMs, opts, memory);
}

/** A composite runs its members as steps of their own, each with its credential, timeout and memory. */
async function runCompositeStep(
  probe: CompositeProbeConfig,
  target: CheckTarget,
  signal: AbortSignal,
  timeoutMs: number,
  opts: RunCheckOptions,
  memory: unknown,
): Promise<ProbeResult> {
  const budgetMs = probeBudgetMs(probe.timeout_ms, timeoutMs);
  const own = probeSignal(signal, budgetMs);
  const remembered = (memory ?? {}) as Record<string, unknown>;
  try {
    return await runComposite(probe, budgetMs, (member, i, remainingMs) =>
      runLeafStep(member, target, own.signal, remainingMs, opts, remembered[memberMemoryKey(i, member)]),
    );
  } finally {
    own.dispose();
  }
}

async function runLeafStep(
  probe: LeafProbeConfig,
  target: CheckTarget,
  signal: AbortSignal,
  timeoutMs: number,
  opts: RunCheckOptions,
  memory: unknown,
): Promise<ProbeResult> {
  const startNs = process.hrtime.bigint();
  const credentialId = credentialIdOf(probe);
  let credential: ResolvedCredential | undefined;
  try {
    credential = credentialId ? await opts.resolveCredential?.(credentialId) : undefined;
  } catch (err) {
    if (err instanceof CredentialUnavailableError) return failed(startNs, 'config_error', err.message);
    throw new CheckNotRunError(`credential ${credentialId} could not be looked up: ${coerceError(err).message}`, { cause: err });
  }
  if (credentialId && !credential) return failed(startNs, 'config_error', `credential ${credentialId} not found`);
  const budgetMs = probeBudgetMs(probe.timeout_ms, timeoutMs);
  const own = probeSignal(signal, budgetMs);
  try {
    const ctx = { address: target.address, signal: own.signal, timeoutMs: budgetMs, credential, memory, ...(opts.pinger ? { pinger: opts.pinger } : {}) };
    return await withHardTimeout(runProbe(probe, ctx, target), own.signal, startNs, budgetMs);
  } catch (err) {
    return failed(startNs, 'internal_error', `probe ${probe.type} threw: ${coerceError(err).message}`);
  } finally {
    own.dispose();
  }
}

/** The check's signal, or one that also fires at the probe's own (shorter) budget. */
function probeSignal(check: AbortSignal, budgetMs: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onCheckAbort = () => controller.abort(check.reason);
  if (check.aborted) onCheckAbort();
  else check.addEventListener('abort', onCheckAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException(`probe timed out after ${budgetMs} ms`, 'TimeoutError')), budgetMs);
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      check.removeEventListener('abort', onCheckAbort);
    },
  };
}

/** A probe must honour the signal; this makes sure a check ends even if one does not. */
function withHardTimeout(probe: Promise<ProbeResult>, signal: AbortSignal, startNs: bigint, timeoutMs: number): Promise<ProbeResult> {
  const grace = 1000;
  let timer: NodeJS.Timeout | undefined;
  let fire: (() => void) | undefined;
  const late = new Promise<ProbeResult>((resolve) => {
    fire = () => (timer = setTimeout(() => resolve(failed(startNs, 'timeout', `no result within ${timeoutMs} ms`)), grace));
    if (signal.aborted) fire();
    else signal.addEventListener('abort', fire, { once: true });
  });
  return Promise.race([probe, late]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener('abort', fire!);
  });
}

function combine(startNs: bigint, probes: ProbeConfig[], steps: ProbeResult[]): ProbeResult {
  const last = steps[steps.length - 1];
  if (!last) return failed(startNs, 'config_error', 'host has no probes');
  const total = elapsedMs(startNs);
  if (probes.length === 1) return { ...last, responseTimeMs: total };
  const failedAt = last.success ? null : steps.length - 1;
  return {
    ...last,
    responseTimeMs: total,
    errorMessage: failedAt === null ? null : `step ${failedAt + 1} (${probes[failedAt]!.type}): ${last.errorMessage}`,
    detail: {
      steps: steps.map((s, i) => ({
        type: probes[i]!.type,
        success: s.success,
        response_time_ms: s.responseTimeMs,
        error_type: s.errorType,
        error_message: s.errorMessage,
        detail: s.detail,
      })),
      ...(failedAt === null ? {} : { failed_step: failedAt + 1 }),
    },
  };
}
