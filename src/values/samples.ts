/**
 * Pure value logic: raw readings to numbers, counter rates against the previous check, and the
 * threshold verdict. No I/O here (the collectors in this folder do the reading).
 */
import type { Item, Sample, Threshold } from './items.ts';

/** What is kept on the host (hosts.latest_values) and shown in its state. */
export interface LatestValues {
  /** When these samples were read (ISO 8601). */
  collected_at: string;
  samples: Sample[];
}

/**
 * Decimal numbers as text. Each digit run can be read one way only: the former `\d+\.?\d*` could
 * split a run of digits anywhere, so a target's 64 KiB of digits ending in a letter (an SSH capture,
 * an SNMP string, a JSON string value of up to 1 MiB) took V8 seconds to hours of backtracking on
 * the worker's event loop. This one is linear.
 */
const DECIMAL = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A number from a raw reading (SNMP integers, Counter64 decimals, numeric text); null when it is not one. */
export function toNumber(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : null;
  if (typeof raw === 'bigint') return Number(raw);
  if (typeof raw !== 'string') return null;
  const text = raw.trim();
  if (!DECIMAL.test(text)) return null;
  return Number(text);
}

const sampleKey = (s: Pick<Sample, 'template' | 'item' | 'row'>) => `${s.template}\u0000${s.item}\u0000${s.row ?? ''}`;

/**
 * Counter rates per second since the previous reading of the same item and row. A counter that
 * went backwards was reset or wrapped (the agent restarted, a 32-bit counter overflowed): no rate
 * rather than a huge negative or guessed one.
 */
export function withRates(samples: Sample[], previous: LatestValues | null | undefined, now: Date): Sample[] {
  const before = new Map((previous?.samples ?? []).map((s) => [sampleKey(s), s]));
  const seconds = previous ? (now.getTime() - Date.parse(previous.collected_at)) / 1000 : 0;
  return samples.map((s) => {
    if (s.kind !== 'counter') return s;
    const old = before.get(sampleKey(s));
    const rate = old && seconds > 0 && s.value >= old.value ? (s.value - old.value) / seconds : null;
    return { ...s, rate };
  });
}

/** The number a threshold looks at: a gauge's value, a counter's rate (none yet: nothing to judge). */
export function judgedNumber(sample: Sample): number | null {
  return sample.kind === 'counter' ? (sample.rate ?? null) : sample.value;
}

/** Why a value breaches a threshold, or null when it is within it. */
export function breachOf(value: number, threshold: Threshold): string | null {
  if (threshold.above !== undefined && threshold.below !== undefined) {
    return value > threshold.above || value < threshold.below ? `outside [${threshold.below}, ${threshold.above}]` : null;
  }
  if (threshold.above !== undefined && value > threshold.above) return `above ${threshold.above}`;
  if (threshold.below !== undefined && value < threshold.below) return `below ${threshold.below}`;
  return null;
}

export interface Breach {
  template: string;
  item: string;
  row: string | null;
  value: number;
  /** 'rate' when the threshold judged a counter's rate per second. */
  measure: 'value' | 'rate';
  reason: string;
}

/** Every sample whose item has a threshold it breaches, in sample order. */
export function findBreaches(samples: Sample[], thresholds: Map<string, Threshold>): Breach[] {
  const breaches: Breach[] = [];
  for (const sample of samples) {
    const threshold = thresholds.get(`${sample.template}\u0000${sample.item}`);
    const value = judgedNumber(sample);
    if (!threshold || value === null) continue;
    const reason = breachOf(value, threshold);
    if (reason) breaches.push({ template: sample.template, item: sample.item, row: sample.row, value, measure: sample.kind === 'counter' ? 'rate' : 'value', reason });
  }
  return breaches;
}

/** The check's error message for its breaches: names the item, the row and the value, first three in full. */
export function breachMessage(breaches: Breach[]): string {
  const one = (b: Breach) => `${b.item}${b.row === null ? '' : `[${b.row}]`} ${b.measure === 'rate' ? 'rate ' : ''}${round(b.value)} ${b.reason}`;
  const shown = breaches.slice(0, 3).map(one).join('; ');
  return breaches.length > 3 ? `${shown}; and ${breaches.length - 3} more` : shown;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The thresholds of a set of items, keyed by template and item name. */
export function thresholdsOf(items: { template: string; item: Item }[]): Map<string, Threshold> {
  return new Map(items.filter((a) => a.item.threshold).map((a) => [`${a.template}\u0000${a.item.name}`, a.item.threshold!]));
}
