import type pg from 'pg';
import type { Config } from '../src/config/config.ts';
import { lockDueHosts } from '../src/db/queries/claims.ts';
import { CHECK_QUEUES } from '../src/queue/names.ts';
import { planBulkHosts, type BulkHost } from '../src/db/queries/hosts-bulk.ts';
import { withClient } from './database.ts';

/**
 * The scale pass: does the producer's claim stay cheap as the fleet grows? We take the exact
 * statement lockDueHosts sends — the scan that finds and locks due hosts; the leases are then
 * written by primary key — (recorded through a stand-in pool, so this cannot drift from
 * src/db/queries/claims.ts) and EXPLAIN ANALYZE it inside a transaction that is rolled back, so
 * nothing is claimed. Two shapes of the hosts table, at each size:
 *
 * - steady: the scheduler keeps up, so only the hosts due in the last moments are due — a fixed
 *   number (200), whatever the fleet size; every other host is due later.
 * - backlog: every host is overdue (the scheduler has fallen far behind, or just started).
 */

export type Scenario = 'steady' | 'backlog';

export interface ClaimStatement {
  text: string;
  values: unknown[];
}

export interface ScalePoint {
  hosts: number;
  scenario: Scenario;
  dueHosts: number;
  /** Median over the timed runs, ms. */
  executionMs: number;
  planningMs: number;
  runsMs: number[];
  /** Indexes the plan scans hosts through. */
  indexes: string[];
  usesPartialIndex: boolean;
  plan: string;
}

/** The partial index the claim is meant to use (db/migrations/0003_scheduling.sql). */
export const DUE_INDEX = 'hosts_due_idx';

/** Records the statement lockDueHosts would run, without a database. */
export async function captureClaimStatement(config: Config): Promise<ClaimStatement> {
  const sent: ClaimStatement[] = [];
  const client = {
    query: async (text: string, values: unknown[] = []) => {
      sent.push({ text, values });
      return { rows: [], rowCount: 0 };
    },
  };
  const opts = { batchSize: config.producer.batchSize, groupDefaultLimit: config.groupDefaultConcurrency, checkQueues: CHECK_QUEUES };
  await lockDueHosts(client as never, opts);
  const [claim] = sent;
  if (!claim) throw new Error('lockDueHosts sent no statement');
  return claim;
}

/**
 * Records the statement the bulk API classifies a batch with (planBulkHosts), for a batch of
 * `names`. The stand-in database answers nothing, so planBulkHosts fails after sending it.
 */
export async function captureBulkPlanStatement(names: string[]): Promise<ClaimStatement> {
  const sent: ClaimStatement[] = [];
  const db = {
    query: async (text: string, values: unknown[] = []) => {
      sent.push({ text, values });
      return { rows: [], rowCount: 0 };
    },
  };
  const hosts: BulkHost[] = names.map((name, index) => ({
    index, id: crypto.randomUUID(), name, address: '127.0.0.1', probes: [{ type: 'tcp', port: 9 }],
    enabled: true, maintenance: false, tags: [], group: null, credentialIds: [],
  }));
  await planBulkHosts(db as never, hosts).catch(() => {});
  if (!sent[0]) throw new Error('planBulkHosts sent no statement');
  return sent[0];
}

/** EXPLAIN (without ANALYZE: it can take minutes) of a statement: its index scans and text plan. */
export async function explainPlan(url: string, statement: ClaimStatement): Promise<{ indexes: string[]; plan: string }> {
  return withClient(url, async (c) => {
    const [json] = (await c.query(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values)).rows;
    const top = (json!['QUERY PLAN'] as { Plan: PlanNode }[])[0]!;
    const text = (await c.query(`EXPLAIN ${statement.text}`, statement.values)).rows.map((r) => r['QUERY PLAN'] as string).join('\n');
    return { indexes: [...new Set(indexNames(top.Plan))], plan: text };
  });
}

/**
 * Copies the host named `template` under new names and ids, `count` times: the scale pass's
 * fallback when registering through the API gets too slow to finish in its time budget.
 */
export async function cloneHosts(url: string, template: string, prefix: string, from: number, to: number): Promise<void> {
  await withClient(url, (c) =>
    c.query(
      `INSERT INTO hosts
       SELECT (jsonb_populate_record(NULL::hosts, to_jsonb(t) || jsonb_build_object('id', gen_random_uuid(), 'name', $2::text || g))).*
         FROM hosts t, generate_series($3::int, $4::int - 1) AS g
        WHERE t.name = $1`,
      [template, prefix, from, to],
    ),
  );
}

/** Arranges next_check_time for a scenario (in the scale pass's own database), then VACUUM ANALYZE. */
export async function prepareScenario(url: string, scenario: Scenario, dueHosts: number): Promise<number> {
  return withClient(url, async (c) => {
    if (scenario === 'steady') {
      await c.query(`UPDATE hosts SET next_check_time = now() + interval '1 minute' + random() * interval '1 hour'`);
      await c.query(`UPDATE hosts SET next_check_time = now() - random() * interval '10 seconds' WHERE id IN (SELECT id FROM hosts ORDER BY random() LIMIT $1)`, [dueHosts]);
    } else {
      await c.query(`UPDATE hosts SET next_check_time = now() - random() * interval '10 minutes'`);
    }
    await c.query('VACUUM ANALYZE hosts');
    const { rows } = await c.query(`SELECT count(*) AS n FROM hosts WHERE enabled AND NOT maintenance AND next_check_time <= now()`);
    return Number(rows[0].n);
  });
}

/** EXPLAIN ANALYZE of the claim, `runs` times after one untimed run, each rolled back. */
export async function explainClaim(url: string, claim: ClaimStatement, runs: number): Promise<Omit<ScalePoint, 'hosts' | 'scenario' | 'dueHosts'>> {
  return withClient(url, async (c) => {
    const timings: { execution: number; planning: number; plan: PlanNode }[] = [];
    for (let i = 0; i <= runs; i++) {
      const [explained] = await rolledBack(c, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${claim.text}`, claim.values);
      const top = (explained!['QUERY PLAN'] as { Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }[])[0]!;
      if (i > 0) timings.push({ execution: top['Execution Time'], planning: top['Planning Time'], plan: top.Plan });
    }
    const text = (await rolledBack(c, `EXPLAIN (ANALYZE, BUFFERS) ${claim.text}`, claim.values)).map((r) => r['QUERY PLAN'] as string).join('\n');
    const indexes = [...new Set(indexNames(timings[0]!.plan))];
    return {
      executionMs: median(timings.map((t) => t.execution)),
      planningMs: median(timings.map((t) => t.planning)),
      runsMs: timings.map((t) => Math.round(t.execution * 1000) / 1000),
      indexes,
      usesPartialIndex: indexes.includes(DUE_INDEX),
      plan: text,
    };
  });
}

async function rolledBack(c: pg.Client, text: string, values: unknown[]): Promise<Record<string, unknown>[]> {
  await c.query('BEGIN');
  try {
    return (await c.query(text, values)).rows;
  } finally {
    await c.query('ROLLBACK');
  }
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function indexNames(node: PlanNode): string[] {
  const own = node['Index Name'] ? [node['Index Name']] : [];
  return [...own, ...(node.Plans ?? []).flatMap(indexNames)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(m * 1000) / 1000;
}
