import type { FlappingConfig } from './states.ts';

/**
 * Flap detection, as Icinga 2 does it: the last FLAP_WINDOW check results are kept as "changed or
 * not" marks, each weighted from 0.8 (oldest) to 1.2 (newest), so recent changes count more; the
 * weighted sum over the window is the state-change percentage. A host starts flapping when the
 * percentage rises above the high threshold and stops only once it falls below the low one
 * (hysteresis: a host near one threshold does not toggle on every check). Pure.
 *
 * The "state" compared is the check result (success or failure), like Icinga's check state:
 * a host failing every other check changes on every check, whatever its machine does with it.
 */

/** Check results remembered (Icinga 2's window). */
export const FLAP_WINDOW = 20;

/** What a host carries for flap detection (hosts.flap_changes, flap_percent, flapping). */
export interface FlapState {
  /** '1' where a result differed from the one before, '0' where not; oldest first, at most FLAP_WINDOW. */
  changes: string;
  percent: number;
  flapping: boolean;
}

export interface FlapUpdate extends FlapState {
  /** 'started' or 'stopped' when this result moved the host across a threshold, else null. */
  transition: 'started' | 'stopped' | null;
}

/** Weighted state-change percentage of a change window (oldest first). */
export function flapPercent(changes: string): number {
  let weighted = 0;
  const offset = FLAP_WINDOW - changes.length; // a short window's marks are the newest ones
  for (let i = 0; i < changes.length; i++) {
    if (changes[i] === '1') weighted += 0.8 + (0.4 * (offset + i)) / (FLAP_WINDOW - 1);
  }
  return Math.round((weighted / FLAP_WINDOW) * 100 * 100) / 100;
}

/**
 * The flap state after one more result. `previousSuccess` is the last result before it (null for
 * a host never checked: no change to count).
 */
export function updateFlapping(before: FlapState, previousSuccess: boolean | null, success: boolean, config: FlappingConfig): FlapUpdate {
  const changed = previousSuccess !== null && previousSuccess !== success;
  const changes = (before.changes + (changed ? '1' : '0')).slice(-FLAP_WINDOW);
  const percent = flapPercent(changes);
  const flapping = before.flapping ? percent >= config.lowPercent : percent > config.highPercent;
  const transition = flapping === before.flapping ? null : flapping ? 'started' : 'stopped';
  return { changes, percent, flapping, transition };
}
