import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { decideIncident } from '../../src/incidents/policy.ts';
import { initialHealth } from '../../src/machine/apply-result.ts';
import { decideOutcome, type HostAtRecord, type ParentAtRecord } from '../../src/machine/check-outcome.ts';
import { createHealthMachine } from '../../src/machine/health-machine.ts';
import type { HostState } from '../../src/machine/states.ts';

const config = loadConfig({ VIGIL_INTERVAL_JITTER: '0' });
const machine = createHealthMachine(config.machine);
const T0 = new Date('2026-05-04T10:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

/** A HEALTHY host last checked `lastCheckS` seconds after T0 with the given result. */
function host(lastSuccess: boolean | null, lastCheckS: number | null): HostAtRecord {
  return {
    id: '00000000-0000-4000-8000-000000000001', machine_snapshot: initialHealth(machine), consecutive_failures: 0, consecutive_successes: 0,
    maintenance: false, group_maintenance: false, lease_job_id: null, ssh_host_key_sha256: null, probes: [{ type: 'tcp' }],
    last_success: lastSuccess, last_check: lastCheckS === null ? null : at(lastCheckS), flap_changes: '', flap_percent: 0, flapping: false,
  };
}
const parent = (state: HostState, lastCheckS: number | null, maintenance = false): ParentAtRecord => ({
  id: '00000000-0000-4000-8000-0000000000aa', name: 'olt-1', state, lastCheck: lastCheckS === null ? null : at(lastCheckS), maintenance,
});
const check = (success: boolean, atS: number) => ({
  result: { success, responseTimeMs: 1, errorType: success ? null : ('connection_refused' as const), errorMessage: success ? null : 'refused', detail: {} },
  checkTime: at(atS), checkedBy: 'scheduler' as const, lagMs: 0,
});

describe('a check decided against its parents', () => {
  it.each([
    // what, host's previous result and time, parent, this check (success, at), state, awaited parents, next check in (s)
    ['failure behind a DOWN parent -> UNREACHABLE at the slow cadence', [true, 0], parent('DOWN', 5), [false, 10], 'UNREACHABLE', 0, 900],
    ['failure behind a CRITICAL parent -> UNREACHABLE', [true, 0], parent('CRITICAL', 5), [false, 10], 'UNREACHABLE', 0, 900],
    ['first failure, parent not checked since -> held, parent awaited, DEGRADED cadence', [true, 0], parent('HEALTHY', 5), [false, 10], 'HEALTHY', 1, 300],
    ['second failure, parent checked since the first -> walks to DEGRADED', [false, 10], parent('DEGRADED', 11), [false, 20], 'DEGRADED', 0, 300],
    ['failure, parent in maintenance -> not awaited', [true, 0], parent('HEALTHY', null, true), [false, 10], 'DEGRADED', 0, 300],
    ['success behind a DOWN parent -> HEALTHY, nothing awaited', [true, 0], parent('DOWN', 5), [true, 10], 'HEALTHY', 0, 1800],
  ] as const)('%s', (_what, [lastSuccess, lastCheckS], p, [success, atS], state, awaited, nextS) => {
    const o = decideOutcome(machine, config, host(lastSuccess, lastCheckS), check(success, atS), [p]);
    expect(o.state).toBe(state);
    expect(o.awaitingParents).toHaveLength(awaited);
    expect(o.nextCheckDelayMs).toBe(nextS * 1000);
    if (state === 'UNREACHABLE') expect(o.detail.unreachable_because).toEqual([{ host_id: p.id, name: 'olt-1', state: p.state }]);
  });
});

describe('incidents of UNREACHABLE and flapping hosts', () => {
  it.each([
    ['UNREACHABLE never opens one, even if configured', { state: 'UNREACHABLE', success: false, hasOpen: false, incidentStates: ['DOWN', 'UNREACHABLE'] }, 'none'],
    ['a flapping host that is HEALTHY keeps its incident open', { state: 'HEALTHY', success: true, hasOpen: true, incidentStates: ['DOWN'], flapping: true }, 'none'],
    ['once it stops flapping, HEALTHY resolves it', { state: 'HEALTHY', success: true, hasOpen: true, incidentStates: ['DOWN'], flapping: false }, 'resolve'],
    ['a failure while flapping updates it', { state: 'DEGRADED', success: false, hasOpen: true, incidentStates: ['DEGRADED'], flapping: true }, 'update'],
  ] as const)('%s', (_what, input, kind) => {
    expect(decideIncident({ ...input, incidentStates: [...input.incidentStates] as HostState[] }).kind).toBe(kind);
  });
});

describe('a scheduled check\'s lag', () => {
  it('goes to its own column; the detail keeps only a delayed flag, and only when the check was delayed', () => {
    const lag = (lagMs: number | null) => decideOutcome(machine, config, host(true, 0), { ...check(true, 10), lagMs });
    const onTime = lag(40);
    expect(onTime.scheduleLagMs).toBe(40);
    expect(onTime.detail).toEqual({});
    const late = lag(config.delayThresholdSeconds * 1000 + 1);
    expect(late.scheduleLagMs).toBe(config.delayThresholdSeconds * 1000 + 1);
    expect(late.detail).toEqual({ delayed: true });
    expect(lag(null).detail).toEqual({});
  });
});
