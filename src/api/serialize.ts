import type { HostState } from '../machine/states.ts';
import type { HistoryRow } from '../db/queries/history.ts';
import type { HostRow } from '../db/queries/hosts.ts';
import type { CredentialRow } from '../db/queries/credentials.ts';
import { describeSecrets, type CredentialKind } from '../credentials/kinds.ts';
import { publicFields, secretsSet } from '../credentials/store.ts';

const STATUS: Record<HostState, 'online' | 'degraded' | 'critical' | 'offline' | 'unreachable'> = {
  HEALTHY: 'online',
  DEGRADED: 'degraded',
  CRITICAL: 'critical',
  DOWN: 'offline',
  UNREACHABLE: 'unreachable',
};

export function currentStatus(host: HostRow) {
  return host.last_check === null ? ('unknown' as const) : STATUS[host.monitoring_state];
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

// Header values that look like secrets are masked: put real secrets in credentials instead.
const SECRET_HEADER = /auth|token|key|secret|cookie|pass/i;

function maskProbe(probe: Record<string, unknown>): Record<string, unknown> {
  // A composite's members are probes too.
  if (Array.isArray(probe.probes)) return { ...probe, probes: (probe.probes as Record<string, unknown>[]).map(maskProbe) };
  const headers = probe.headers as Record<string, string> | undefined;
  if (!headers) return probe;
  const masked = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_HEADER.test(k) ? '********' : v]));
  return { ...probe, headers: masked };
}

/** A host as the API shows it; `dependsOn`: its own parents' ids (parentsOf). */
export function serializeHost(h: HostRow, dependsOn: string[] = []) {
  return {
    id: h.id,
    name: h.name,
    address: h.address,
    probes: (h.probes as Record<string, unknown>[]).map(maskProbe),
    enabled: h.enabled,
    maintenance: h.maintenance,
    tags: h.tags,
    group: h.group,
    policy_id: h.policy_id,
    policy_overrides: h.policy_overrides,
    monitoring_state: h.monitoring_state,
    current_status: currentStatus(h),
    consecutive_failures: h.consecutive_failures,
    consecutive_successes: h.consecutive_successes,
    check_priority: h.check_priority,
    next_check_time: h.next_check_time.toISOString(),
    last_state_change: iso(h.last_state_change),
    last_check: iso(h.last_check),
    response_time_ms: h.last_response_time_ms,
    last_error_type: h.last_error_type,
    last_error_message: h.last_error_message,
    ssh_host_key_sha256: h.ssh_host_key_sha256,
    depends_on: dependsOn,
    flapping: h.flapping,
    flap_percent: h.flap_percent,
    created_at: h.created_at.toISOString(),
    updated_at: h.updated_at.toISOString(),
  };
}

/** The fields of a history row a check result shows. */
type CheckFields = Pick<
  HistoryRow,
  'check_time' | 'monitoring_state' | 'previous_state' | 'success' | 'response_time_ms' | 'error_type' | 'error_message' | 'checked_by' | 'detail' | 'schedule_lag_ms'
>;

/**
 * A check's detail as shown: a scheduled check's lag and whether it was delayed are stored apart
 * from the detail (the lag in its column, `delayed` only when true) and shown in it.
 */
function shownDetail(r: Pick<CheckFields, 'detail' | 'schedule_lag_ms'>): Record<string, unknown> {
  if (r.schedule_lag_ms === null) return r.detail;
  return { ...r.detail, schedule_lag_ms: r.schedule_lag_ms, delayed: r.detail.delayed === true };
}

export function serializeCheck(r: CheckFields) {
  return {
    check_time: r.check_time.toISOString(),
    state: r.monitoring_state,
    previous_state: r.previous_state,
    success: r.success,
    response_time_ms: r.response_time_ms,
    error_type: r.error_type,
    error_message: r.error_message,
    checked_by: r.checked_by,
    detail: shownDetail(r),
  };
}

export function serializeCredential(row: CredentialRow) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    ...publicFields(row),
    ...describeSecrets(row.kind as CredentialKind, secretsSet(row)),
    host_count: row.host_count,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
