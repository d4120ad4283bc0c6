import type { Express } from 'express';
import type { Pool } from '../db/pool.ts';
import { readMigrations } from '../db/migrate.ts';
import type { Logger } from '../lib/logger.ts';
import { isBossStopped, type Boss } from '../queue/boss.ts';

interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/**
 * /healthz: the process is alive (no I/O). /readyz: the database answers, every migration is
 * applied and the queue is started — 503 naming the failing part otherwise. Neither needs a token,
 * so load balancers and orchestrators can probe them; so the database's own error text (host
 * names, ports, user names) goes to the log, and /readyz says only "unreachable".
 */
export function serveHealth(app: Express, deps: { pool: Pool; boss: Boss; logger: Logger }): void {
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = await readiness(deps);
    const ready = checks.every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });
}

async function readiness({ pool, boss, logger }: { pool: Pool; boss: Boss; logger: Logger }): Promise<ReadinessCheck[]> {
  const database = await pool.query<{ names: string[] }>(`SELECT coalesce(array_agg(name), '{}') AS names FROM vigil_migrations`).then(
    (r) => ({ ok: true as const, applied: new Set(r.rows[0]!.names) }),
    (err: Error) => ({ ok: false as const, error: err.message }),
  );
  if (!database.ok) {
    logger.warn('readiness: the database is unreachable', { err: database.error });
    return [
      { name: 'database', ok: false, detail: 'unreachable' },
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
