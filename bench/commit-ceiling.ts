import pg from 'pg';
import { BENCH_APPLICATION_NAME } from './database.ts';
import { summarise } from './stats.ts';

/**
 * How many commits a second this PostgreSQL takes from concurrent clients, each transaction
 * one small INSERT — the physical ceiling of anything that commits once per check. Three
 * variants, because two things serialise commits that concurrent clients would otherwise share
 * (group commit): a NOTIFY (PostgreSQL takes one database-wide lock from the commit's start until
 * it is flushed), and an advisory lock held to commit (Vigil's event outbox orders event ids so).
 * Runs in the bench database before Vigil uses it, on a table of its own that it drops.
 */

export interface CommitCeiling {
  variant: string;
  clients: number;
  commits_per_second: number;
  commit_p50_ms: number | null;
  commit_p99_ms: number | null;
}

const TABLE = 'bench_commit_probe';
const LOCK_KEY = 0x62656e63; // "benc"

const VARIANTS: { variant: string; statements: string[] }[] = [
  { variant: 'INSERT; COMMIT', statements: [] },
  { variant: 'INSERT; NOTIFY; COMMIT', statements: [`SELECT pg_notify('${TABLE}', 'x')`] },
  { variant: 'INSERT; advisory xact lock; NOTIFY; COMMIT', statements: [`SELECT pg_advisory_xact_lock(${LOCK_KEY})`, `SELECT pg_notify('${TABLE}', 'x')`] },
];

export async function measureCommitCeiling(url: string, clients: number, secondsEach: number): Promise<CommitCeiling[]> {
  const pool = new pg.Pool({ connectionString: url, max: clients, application_name: BENCH_APPLICATION_NAME });
  pool.on('error', () => {});
  try {
    await pool.query(`CREATE TABLE ${TABLE} (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`);
    const out: CommitCeiling[] = [];
    for (const v of VARIANTS) out.push(await measureVariant(pool, clients, secondsEach * 1000, v));
    return out;
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => {});
    await pool.end();
  }
}

async function measureVariant(pool: pg.Pool, clients: number, durationMs: number, v: (typeof VARIANTS)[number]): Promise<CommitCeiling> {
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + durationMs;
  const lane = async () => {
    const client = await pool.connect();
    try {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await client.query('BEGIN');
        await client.query(`INSERT INTO ${TABLE} DEFAULT VALUES`);
        for (const statement of v.statements) await client.query(statement);
        await client.query('COMMIT');
        latencies.push(performance.now() - t0);
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: clients }, lane));
  const seconds = (performance.now() - start) / 1000;
  const summary = summarise(latencies);
  return { variant: v.variant, clients, commits_per_second: latencies.length / seconds, commit_p50_ms: summary.p50, commit_p99_ms: summary.p99 };
}
