import type { Pool, Queryable } from '../db/pool.ts';
import { PRUNE_BATCH, pruneDeliveries, pruneEvents, pruneNotificationDeliveries, pruneResolvedIncidents, pruneTombstones } from '../db/queries/pruning.ts';

/**
 * Retention of the tables that grow with every event (history has its own, by partition): each
 * is pruned after its own retention, so every table Vigil writes stays bounded.
 */

/** Retention per table, in milliseconds; 0 keeps the table's rows forever. */
export interface BoundedTablesPolicy {
  eventsMs: number;
  deliveriesMs: number;
  notificationDeliveriesMs: number;
  tombstonesMs: number;
  resolvedIncidentsMs: number;
}

/** Rows deleted per table by one run. */
export interface PruneReport {
  events: number;
  deliveries: number;
  notification_deliveries: number;
  tombstones: number;
  resolved_incidents: number;
}

type Prune = (db: Queryable, cutoff: Date) => Promise<number>;

/** Deletes in batches (each its own statement) until one comes back short. */
async function pruneAll(pool: Pool, prune: Prune, retentionMs: number, now: Date): Promise<number> {
  if (retentionMs <= 0) return 0;
  const cutoff = new Date(now.getTime() - retentionMs);
  let total = 0;
  for (;;) {
    const deleted = await prune(pool, cutoff);
    total += deleted;
    if (deleted < PRUNE_BATCH) return total;
  }
}

/** One pruning run. Deliveries go before events, so an event freed by its last delivery goes in the same run. */
export async function pruneBoundedTables(pool: Pool, policy: BoundedTablesPolicy, now: Date): Promise<PruneReport> {
  const deliveries = await pruneAll(pool, pruneDeliveries, policy.deliveriesMs, now);
  const notificationDeliveries = await pruneAll(pool, pruneNotificationDeliveries, policy.notificationDeliveriesMs, now);
  const events = await pruneAll(pool, pruneEvents, policy.eventsMs, now);
  const tombstones = await pruneAll(pool, pruneTombstones, policy.tombstonesMs, now);
  const resolvedIncidents = await pruneAll(pool, pruneResolvedIncidents, policy.resolvedIncidentsMs, now);
  return { events, deliveries, notification_deliveries: notificationDeliveries, tombstones, resolved_incidents: resolvedIncidents };
}
