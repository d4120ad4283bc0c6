/** Small display helpers: relative times and numbers, as an operator reads them. */

const UNITS: [number, string][] = [
  [86_400, 'd'],
  [3_600, 'h'],
  [60, 'min'],
  [1, 's'],
];

/** "3 min ago" for an ISO time; `none` when there is none (e.g. "never", "no change yet"). */
export function ago(iso: string | null | undefined, none = 'never', now = Date.now()): string {
  if (!iso) return none;
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return `${span(seconds)} ago`;
}

/** "in 20 s" / "due" for a future ISO time. */
export function until(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  return seconds <= 0 ? 'due now' : `in ${span(seconds)}`;
}

export function span(seconds: number): string {
  for (const [size, unit] of UNITS) if (seconds >= size) return `${Math.floor(seconds / size)} ${unit}`;
  return '0 s';
}

export function ms(value: number | null | undefined): string {
  return value == null ? '—' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

export function percent(value: number | null | undefined): string {
  return value == null ? '—' : `${(value * 100).toFixed(value === 1 ? 0 : 1)} %`;
}

export function time(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}
