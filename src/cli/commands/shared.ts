import type { z } from 'zod';

/** The host states, as the API names them (kept here so the CLI needn't load the server's config module). */
export const HOST_STATE_NAMES = ['HEALTHY', 'DEGRADED', 'CRITICAL', 'DOWN', 'UNREACHABLE'] as const;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `--since`: an ISO 8601 time with offset, or an age (`90s`, `30m`, `2h`, `7d`, `1w`) back from now. Returns ISO. */
export function parseSince(value: string, ctx: z.core.$RefinementCtx): string {
  const age = /^(\d{1,7})([smhdw])$/.exec(value.trim());
  if (age) return new Date(Date.now() - Number(age[1]) * UNIT_SECONDS[age[2]!]! * 1000).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  ctx.addIssue({ code: 'custom', message: 'give an ISO 8601 time (2026-05-04T10:00:00Z) or an age like 30m, 2h, 7d' });
  return '';
}
