import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRetention } from '../../src/queue/retention-job.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { type TestVigil, useTestVigil, waitFor } from '../helpers/vigil.ts';

/** Five seconds, in days: every growing table keeps its rows that long here (long enough for a loaded machine to write the fresh rows and prune). */
const RETENTION_DAYS = String(5 / 86_400);
const RETENTION_ENV = {
  VIGIL_EVENT_RETENTION_DAYS: RETENTION_DAYS,
  VIGIL_WEBHOOK_DELIVERY_RETENTION_DAYS: RETENTION_DAYS,
  VIGIL_TOMBSTONE_RETENTION_DAYS: RETENTION_DAYS,
  VIGIL_INCIDENT_RETENTION_DAYS: RETENTION_DAYS,
  VIGIL_NOTIFY_DELIVERY_RETENTION_DAYS: RETENTION_DAYS,
  VIGIL_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8',
};

let vigil: TestVigil;

const ctx = useTestVigil({ roles: ['api'], env: RETENTION_ENV });
beforeAll(async () => {
  vigil = ctx.vigil;
});

async function createHost(name: string): Promise<string> {
  const res = await vigil.http().post('/api/hosts').send({ name, address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }] });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** Events, webhook and notification deliveries and incidents of one generation; returns their ids by role. */
async function writeGeneration(hostId: string, webhookId: string, channelId: string) {
  const q = (sql: string, params: unknown[]) => vigil.pool.query<{ id: string }>(sql, params).then((r) => r.rows.map((row) => row.id));
  const events = await q(
    `INSERT INTO host_events (type, host_id, host_name, from_state, to_state)
     SELECT 'state_changed', $1, 'h', 'HEALTHY', 'DOWN' FROM generate_series(1, 3) RETURNING id::text`,
    [hostId],
  );
  await vigil.pool.query(`UPDATE webhook_dispatch_cursor SET last_event_id = (SELECT max(id) FROM host_events)`);
  await vigil.pool.query(`UPDATE notification_dispatch_cursor SET last_event_id = (SELECT max(id) FROM host_events)`);
  const deliveries = await q(
    `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, job_id, status)
     SELECT $1, e, 'state_changed', gen_random_uuid(), s FROM unnest($2::bigint[], ARRAY['delivered', 'failed', 'pending']) AS u(e, s)
     RETURNING id::text`,
    [webhookId, events],
  );
  // Finished ones (delivered, failed, suppressed, digested) go after the retention; pending and held ones wait to be sent.
  const notifications = await q(
    `INSERT INTO notification_deliveries (channel_id, kind, event_id, message_key, message, status)
     SELECT $1, 'event', $2, 'k', '{"title":"t"}', s FROM unnest(ARRAY['delivered', 'failed', 'suppressed', 'digested', 'pending', 'held']) AS s
     RETURNING id::text`,
    [channelId, events[0]],
  );
  const incidents = await q(
    `INSERT INTO incidents (id, host_id, fingerprint, status, trigger_state, current_state, opened_at, updated_at, resolved_at)
     VALUES ($1::uuid, $3, $1::text, 'resolved', 'DOWN', 'HEALTHY', now(), now(), now()), ($2::uuid, $3, $2::text, 'open', 'DOWN', 'DOWN', now(), now(), NULL)
     RETURNING id::text`,
    [randomUUID(), randomUUID(), hostId],
  );
  return { events, deliveries, notifications, incidents };
}

async function ids(table: string, column = 'id'): Promise<string[]> {
  const { rows } = await vigil.pool.query<{ id: string }>(`SELECT ${column}::text AS id FROM ${table} ORDER BY 1`);
  return rows.map((r) => r.id);
}

describe('retention of events, webhook and notification deliveries, tombstones and incidents', () => {
  it('prunes each past its retention, keeping what is still needed and everything newer', async () => {
    const hostId = await createHost('kept');
    const webhook = await vigil.http().post('/api/webhooks').send({ url: 'http://127.0.0.1:9/hook' });
    expect(webhook.status).toBe(201);
    const channel = await vigil.http().post('/api/notification-channels').send({ name: 'ops', type: 'email', config: { smtp_host: 'smtp.example.com', from: 'vigil@example.com', to: ['ops@example.com'] } });
    expect(channel.status).toBe(201);
    const cursor = (await vigil.http().get('/api/monitoring/changes')).body.next_cursor;
    const doomed = await createHost('deleted');
    expect((await vigil.http().delete(`/api/hosts/${doomed}`)).status).toBe(204);
    const old = await writeGeneration(hostId, webhook.body.id, channel.body.id);
    await waitFor('the old rows to pass the retention', async () => {
      const { rows } = await vigil.pool.query(`SELECT now() - interval '5.2 seconds' > max(occurred_at) AS past FROM host_events`);
      return rows[0].past;
    });
    const fresh = await writeGeneration(hostId, webhook.body.id, channel.body.id);

    const { pruned } = await runRetention({ pool: vigil.pool, config: vigil.config, logger: createSilentLogger() }, 'cron');

    // Old: the delivered and failed deliveries go, the pending one stays and keeps its event.
    expect(await ids('webhook_deliveries')).toEqual([old.deliveries[2], ...fresh.deliveries].sort());
    expect(await ids('host_events')).toEqual([old.events[2], ...fresh.events].sort());
    expect(await ids('incidents')).toEqual([old.incidents[1], ...fresh.incidents].sort());
    expect(await ids('host_tombstones', 'host_id')).toEqual([]);
    expect(await ids('notification_deliveries')).toEqual([...old.notifications.slice(4), ...fresh.notifications].sort());
    expect(pruned).toEqual({ events: 2, deliveries: 2, notification_deliveries: 4, tombstones: 1, resolved_incidents: 1 });

    // A change-feed cursor from before the forgotten deletion must list again.
    const stale = await vigil.http().get(`/api/monitoring/changes?since=${cursor}`);
    expect(stale.status).toBe(410);
    expect(stale.body.detail).toMatch(/VIGIL_TOMBSTONE_RETENTION_DAYS/);
    const relisted = await vigil.http().get('/api/monitoring/changes');
    expect(relisted.status).toBe(200);
    expect((await vigil.http().get(`/api/monitoring/changes?since=${relisted.body.next_cursor}`)).status).toBe(200);
  });

  it('knows how every table is bounded: a new table fails here until it is pruned or named', async () => {
    const BOUNDED_BY = {
      // Pruned by the hourly run after their own retention (src/retention/bounded-tables.ts), history by daily partitions.
      retention: ['host_events', 'webhook_deliveries', 'notification_deliveries', 'host_tombstones', 'incidents', 'incident_unreachable_hosts', 'host_monitoring_history'],
      // Rows of live things only: expired sessions go at each sign-in, dead workers when workers are
      // listed, a host's JIT mark (one row per host at most) when its check is recorded or abandoned.
      expiry: ['web_sessions', 'vigil_workers', 'host_jit_checks'],
      // What operators configure (at most a few rows per host, group, token or channel; host_search one per host); deleting the owner deletes them.
      configuration: [
        'hosts', 'host_search', 'host_groups', 'group_check_slots', 'credentials', 'host_credentials', 'api_tokens', 'webhooks', 'public_badges', 'host_dependencies',
        'notification_channels', 'notification_rules', 'notification_rule_channels', 'check_policies', 'maintenance_windows',
        'value_templates', 'host_value_templates', 'group_value_templates', 'host_value_auto_detect',
      ],
      // One row each.
      single: ['webhook_dispatch_cursor', 'notification_dispatch_cursor', 'change_feed_pruned', 'secret_key_check', 'vigil_migrations'],
    };
    const { rows } = await vigil.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual(Object.values(BOUNDED_BY).flat().sort());
  });

  it('keeps everything when a retention is 0 (forever)', async () => {
    const config = { ...vigil.config, retention: { eventsMs: 0, deliveriesMs: 0, notificationDeliveriesMs: 0, tombstonesMs: 0, resolvedIncidentsMs: 0 } };
    const { pruned } = await runRetention({ pool: vigil.pool, config, logger: createSilentLogger() }, 'cron');
    expect(pruned).toEqual({ events: 0, deliveries: 0, notification_deliveries: 0, tombstones: 0, resolved_incidents: 0 });
  });
});
