import Cursor from 'pg-cursor';
import type { Pool } from '../pool.ts';
import type { HistoryRow } from './history.ts';
import { filterParams, HISTORY_FILTER_SQL, type HistoryFilter } from './history-pages.ts';

/** A history row as exported: the check and the name of its host. */
export type ExportHistoryRow = Omit<HistoryRow, 'created_at'> & { host_name: string };

/** Rows per round trip: large enough to amortise it, small enough that memory stays flat. */
export const EXPORT_CHUNK_ROWS = 1000;

// Oldest first. With a host: history_host_time_idx scanned backwards; without: history_time_idx.
// The host name is a per-row index lookup rather than a join, so the plan keeps the index order
// and streams from the first row instead of sorting the whole result first.
const EXPORT_SQL = `
  SELECT m.id, m.host_id, (SELECT h.name FROM hosts h WHERE h.id = m.host_id) AS host_name, m.check_time,
         m.monitoring_state, m.previous_state, m.response_time_ms, m.success, m.error_type, m.error_message,
         m.checked_by, m.job_id, m.detail, m.schedule_lag_ms
    FROM host_monitoring_history m
   WHERE ${HISTORY_FILTER_SQL}
   ORDER BY m.check_time, m.id`;

/**
 * Reads the history rows matching `f` through a server-side cursor, `chunkRows` at a time, so the
 * result is never held whole. The generator owns one pool client for its lifetime: stopping the
 * iteration early (`break`, `return`, a throw in the loop body) closes the cursor and releases
 * the client, and a failed read destroys it rather than returning it to the pool.
 */
export async function* readHistoryExport(pool: Pool, f: HistoryFilter, chunkRows = EXPORT_CHUNK_ROWS): AsyncGenerator<ExportHistoryRow[]> {
  const client = await pool.connect();
  const cursor = client.query(new Cursor<ExportHistoryRow>(EXPORT_SQL, filterParams(f)));
  let failed = false;
  let finished = false;
  try {
    for (;;) {
      const rows = await cursor.read(chunkRows);
      if (rows.length === 0) return void (finished = true);
      yield rows;
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // After a read error the portal is already gone and the client's state is unknown: destroy it.
    // A client whose cursor was stopped early (reader gone or stalled) is destroyed too: reused, it
    // was seen to leave the next export waiting for ever.
    if (!failed) await cursor.close().catch(() => (failed = true));
    client.release(failed || !finished);
  }
}
