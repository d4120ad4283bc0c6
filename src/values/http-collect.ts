/**
 * HTTP items. Response time and certificate days are what the host's http probe measured in this
 * same check (no second request); a JSON number needs the body, so it is one GET per distinct URL.
 */
import { sendHttpRequest } from '../probes/http-request.ts';
import type { ProbeResult } from '../probes/types.ts';
import { coerceError } from '../lib/errors.ts';
import type { AssignedItem, HttpItem, Sample } from './items.ts';
import { parseJsonAt } from './parse-output.ts';
import type { CollectOutcome } from './snmp-collect.ts';

/** The http probe's own measurements in this check's result (a one-probe check, or a step of a chain). */
export function httpMeasurements(result: ProbeResult): { responseTimeMs: number; certDaysRemaining: number | null } | null {
  const steps = result.detail.steps as { type: string; response_time_ms: number; detail: Record<string, unknown> }[] | undefined;
  const step = steps ? steps.find((s) => s.type === 'http') : { response_time_ms: result.responseTimeMs, detail: result.detail, type: 'http' };
  if (!step || (steps === undefined && result.detail.status_code === undefined)) return null;
  const days = step.detail.cert_days_remaining;
  return { responseTimeMs: step.response_time_ms, certDaysRemaining: typeof days === 'number' ? days : null };
}

export async function collectHttpItems(result: ProbeResult, probeUrl: string | null, items: AssignedItem[], signal: AbortSignal): Promise<CollectOutcome> {
  const outcome: CollectOutcome = { samples: [], errors: [] };
  const measured = httpMeasurements(result);
  const bodies = new Map<string, Promise<string | { error: string }>>();
  for (const assigned of items) {
    const item = assigned.item as HttpItem;
    const push = (value: number) => outcome.samples.push(sampleOf(assigned, value));
    if (item.measure !== 'json') {
      if (!measured) outcome.errors.push(`${item.name}: the host's http probe did not answer in this check`);
      else if (item.measure === 'response_time') push(measured.responseTimeMs);
      else if (measured.certDaysRemaining === null) outcome.errors.push(`${item.name}: no TLS certificate seen`);
      else push(measured.certDaysRemaining);
      continue;
    }
    const url = item.url ?? probeUrl;
    if (!url) {
      outcome.errors.push(`${item.name}: no url, and the host has no http probe`);
      continue;
    }
    if (!bodies.has(url)) bodies.set(url, fetchBody(url, signal));
    const body = await bodies.get(url)!;
    if (typeof body !== 'string') {
      outcome.errors.push(`${item.name}: ${body.error}`);
      continue;
    }
    const parsed = parseJsonAt(body, item.path!);
    if (typeof parsed === 'string') outcome.errors.push(`${item.name}: ${parsed}`);
    else push(parsed[0]!.value);
  }
  return outcome;
}

async function fetchBody(url: string, signal: AbortSignal): Promise<string | { error: string }> {
  try {
    const exchange = await sendHttpRequest({ url: new URL(url), method: 'GET', headers: { accept: 'application/json' }, tlsVerify: true, wantsBody: () => true }, signal);
    if (exchange.statusCode < 200 || exchange.statusCode > 299) return { error: `the JSON URL answered ${exchange.statusCode}` };
    if (exchange.bodyTruncated) return { error: `the JSON URL: body longer than 1 MiB` };
    return exchange.body ?? '';
  } catch (err) {
    return { error: `the JSON URL: ${coerceError(err).message}` };
  }
}

function sampleOf(assigned: AssignedItem, raw: number): Sample {
  const { item } = assigned;
  return { template: assigned.template, item: item.name, unit: item.unit, kind: item.kind, row: null, value: raw * item.scale };
}
