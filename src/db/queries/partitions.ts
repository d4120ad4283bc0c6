import type { Client, Pool, Queryable } from '../pool.ts';
import { withTransaction } from '../transaction.ts';

/**
 * The daily partitions of host_monitoring_history (migration 0012): `host_monitoring_history_pYYYYMMDD`
 * covers [00:00, 24:00) UTC of that day; `host_monitoring_history_default` takes rows no daily
 * partition covers. This module owns their DDL. Each function is one short transaction under a
 * transaction-level advisory lock, so concurrent retention runs take turns and the second finds
 * nothing left to do.
 *
 * Locks, measured on PostgreSQL 15 (pg_locks inside the transaction):
 * - creating one (CREATE TABLE … LIKE, ATTACH PARTITION): SHARE UPDATE EXCLUSIVE on the parent
 *   (inserts and reads of other partitions go on), ACCESS EXCLUSIVE on the DEFAULT partition, and
 *   SHARE ROW EXCLUSIVE on hosts for the cloned foreign key (host writes wait a few milliseconds).
 *   CREATE TABLE … PARTITION OF would take ACCESS EXCLUSIVE on the parent instead.
 * - dropping one (DROP TABLE): ACCESS EXCLUSIVE on the parent and the DEFAULT partition. DETACH
 *   first would also take ACCESS EXCLUSIVE on hosts (the detached table's foreign key gets
 *   triggers of its own on hosts, which DROP then removes), so the partition is dropped attached.
 * Both wait at most {@link LOCK_TIMEOUT} for a lock (a long history export holds the parent): a
 * DDL statement queued behind a long reader would block every writer queued behind it. The run
 * then fails and is retried later; partitions are created days ahead, so that costs nothing.
 */

export const HISTORY_TABLE = 'host_monitoring_history';
export const DEFAULT_PARTITION = 'host_monitoring_history_default';
export const DAY_MS = 24 * 60 * 60 * 1000;

const PARTITION_NAME = /^host_monitoring_history_p(\d{4})(\d{2})(\d{2})$/;
const LOCK_TIMEOUT = '3s';

/** A daily partition: its name and the UTC day it covers, [from, to). */
export interface HistoryPartition {
  name: string;
  from: Date;
  to: Date;
}

/** The start (00:00 UTC) of the UTC day `t` falls in. */
export function utcDayStart(t: Date): Date {
  return new Date(Math.floor(t.getTime() / DAY_MS) * DAY_MS);
}

/** `host_monitoring_history_pYYYYMMDD` for the UTC day `t` falls in. */
export function partitionName(t: Date): string {
  return `${HISTORY_TABLE}_p${utcDayStart(t).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The partition a name denotes, or undefined for names not of the daily scheme. */
export function parsePartitionName(name: string): HistoryPartition | undefined {
  const m = PARTITION_NAME.exec(name);
  if (!m) return undefined;
  const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return partitionName(from) === name ? { name, from, to: new Date(from.getTime() + DAY_MS) } : undefined;
}

/** The daily partitions attached now, oldest first (the DEFAULT partition is not one of them). */
export async function listHistoryPartitions(db: Queryable): Promise<HistoryPartition[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
    [HISTORY_TABLE],
  );
  return rows.map((r) => parsePartitionName(r.name)).filter((p) => p !== undefined);
}

/**
 * Creates the daily partitions of `days` that are missing, plus one for every day from
 * `strayFrom` on that has rows in the DEFAULT partition (null: every such day). Rows the DEFAULT
 * partition holds for a new partition's day move into it in the same transaction, ids kept:
 * attaching a partition whose range has rows in DEFAULT would fail. Returns the names created.
 */
export async function createHistoryPartitions(pool: Pool, r: { days: Date[]; strayFrom: Date | null }): Promise<string[]> {
  return withTransaction(pool, async (tx) => {
    await lockPartitionChanges(tx);
    const existing = new Set((await listHistoryPartitions(tx)).map((p) => p.name));
    const wanted = new Map([...r.days, ...(await strayDays(tx, r.strayFrom))].map((d) => [partitionName(d), utcDayStart(d)]));
    const missing = [...wanted].filter(([name]) => !existing.has(name)).sort(([a], [b]) => a.localeCompare(b));
    if (missing.length === 0) return [];
    // Locks in the order the check transaction takes them (hosts, then history), so neither can
    // wait for the other. With DEFAULT locked no row can reach it before its partition exists.
    await tx.query(`LOCK TABLE hosts IN SHARE ROW EXCLUSIVE MODE`);
    await tx.query(`LOCK TABLE ${DEFAULT_PARTITION} IN ACCESS EXCLUSIVE MODE`);
    for (const [name, from] of missing) await createPartition(tx, name, from);
    return missing.map(([name]) => name);
  });
}

/**
 * Drops every daily partition that ends at or before `cutoff` (DROP TABLE: its rows go at once,
 * nothing to vacuum), and deletes the DEFAULT partition's rows of days that end by then, so a row
 * that missed its partition is not kept forever.
 */
export async function dropHistoryPartitionsBefore(pool: Pool, cutoff: Date): Promise<{ dropped: string[]; defaultRowsDeleted: number }> {
  return withTransaction(pool, async (tx) => {
    await lockPartitionChanges(tx);
    const expired = (await listHistoryPartitions(tx)).filter((p) => p.to.getTime() <= cutoff.getTime());
    const { rowCount } = await tx.query(`DELETE FROM ${DEFAULT_PARTITION} WHERE check_time < $1`, [utcDayStart(cutoff)]);
    for (const p of expired) await tx.query(`DROP TABLE ${p.name}`);
    return { dropped: expired.map((p) => p.name), defaultRowsDeleted: rowCount ?? 0 };
  });
}

/** One partition-changing transaction at a time; lock waits after this one are bounded. */
async function lockPartitionChanges(tx: Client): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('vigil_history_partitions'))`);
  await tx.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
}

/** UTC days from `from` on (all when null) that have rows in the DEFAULT partition. */
async function strayDays(tx: Client, from: Date | null): Promise<Date[]> {
  const { rows } = await tx.query<{ day: Date }>(
    `SELECT DISTINCT date_trunc('day', check_time, 'UTC') AS day FROM ${DEFAULT_PARTITION}
      WHERE $1::timestamptz IS NULL OR check_time >= $1`,
    [from],
  );
  return rows.map((r) => r.day);
}

/**
 * Creates the partition as a table of its own, moves DEFAULT's rows of its day into it, then
 * attaches it (ATTACH locks the parent far less than CREATE TABLE … PARTITION OF; it adds the
 * parent's indexes and foreign key and checks the rows). The table has the parent's columns,
 * defaults and CHECK constraints, and gets ids from the parent's identity like every partition.
 */
async function createPartition(tx: Client, name: string, from: Date): Promise<void> {
  const to = new Date(from.getTime() + DAY_MS);
  await tx.query(`CREATE TABLE ${name} (LIKE ${HISTORY_TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  await tx.query(
    `WITH moved AS (DELETE FROM ${DEFAULT_PARTITION} WHERE check_time >= $1 AND check_time < $2 RETURNING *)
     INSERT INTO ${name} SELECT * FROM moved`,
    [from, to],
  );
  await tx.query(`ALTER TABLE ${HISTORY_TABLE} ATTACH PARTITION ${name} FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
}
