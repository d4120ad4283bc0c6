/**
 * The per-probe timeout every probe type accepts (seed 000: each poll has its own timeout). It
 * only ever shortens a probe: the host's check timeout (VIGIL_CHECK_TIMEOUT_MS) bounds the whole
 * check, so a probe gets the smaller of its timeout_ms and the time the check has left.
 */
import { z } from 'zod';

export const probeTimeoutSchema = z
  .int()
  .min(100)
  .max(300_000)
  .optional()
  .describe("This probe's own timeout in milliseconds; bounded by the time left of the host's check timeout (VIGIL_CHECK_TIMEOUT_MS), which applies when omitted.");

/** The budget of one probe: its own timeout if set, never more than what the check has left. */
export function probeBudgetMs(probeTimeoutMs: number | undefined, remainingMs: number): number {
  // Whole milliseconds: the budget appears in timeout messages.
  return Math.max(1, Math.floor(probeTimeoutMs === undefined ? remainingMs : Math.min(probeTimeoutMs, remainingMs)));
}
