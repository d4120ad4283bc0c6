import type { Express } from 'express';
import type { Pool } from '../db/pool.ts';
import { readMigrations } from '../db/migrate.ts';
import { isBossStopped, type Boss } from '../queue/boss.ts';

interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/**
 * /healthz: the process is alive (no I/O). /readyz: the database answers, every migration is
 * applied and the queue is started — 503 naming the failing part otherwise. Neither needs a token,
 * so load balancers and orchestrators can probe them.
 */
export function serveHealth(app: Express, deps: { pool: Pool; boss: Boss }): void {
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = await readiness(deps);
    const ready = checks.every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });
}

async function readiness({ pool, boss }: { pool: Pool; boss: Boss }): Promise<ReadinessCheck[]> {
  const database = await pool.query<{ names: string[] }>(`SELECT coalesce(array_agg(name), '{}') AS names FROM vigil_migrations`).then(
    (r) => ({ ok: true as const, applied: new Set(r.rows[0]!.names) }),
    (err: Error) => ({ ok: false as const, error: err.message }),
  );
  if (!database.ok) {
    return [
      { name: 'database', ok: false, detail: `unreachable: ${database.error}` },
      { name: 'migrations', ok: false, detail: 'unknown while the database is unreachable' },
      queueCheck(boss),
    ];
  }
  const missing = (await readMigrations()).map((m) => m.name).filter((n) => !database.applied.has(n));
  return [
    { name: 'database', ok: true },
    { name: 'migrations', ok: missing.length === 0, ...(missing.length ? { detail: `not applied: ${missing.join(', ')}` } : {}) },
    queueCheck(boss),
  ];
}

function queueCheck(boss: Boss): ReadinessCheck {
  // startVigil awaited boss.start() before serving; it is only not ready once stopped.
  const stopped = isBossStopped(boss);
  return { name: 'queue', ok: !stopped, ...(stopped ? { detail: 'pg-boss is stopped' } : {}) };
}
