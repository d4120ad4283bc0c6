import type { Config } from '../src/config/config.ts';
import { MAX_BULK, registerHosts, type Api } from './api-client.ts';
import type { ChildRegistry } from './children.ts';
import type { BenchServer } from './database.ts';
import type { BenchReport } from './report.ts';
import { captureBulkPlanStatement, captureClaimStatement, cloneHosts, explainClaim, explainPlan, prepareScenario, type Scenario, type ScalePoint } from './scale.ts';
import { measureImports } from './scale-import.ts';
import { startApiProcess } from './vigil-cluster.ts';

/**
 * The scale pass, on a database of its own with only an API process (nothing claims or checks):
 * grow the hosts table through the bulk API to each size and EXPLAIN ANALYZE the claim there.
 */

const SCENARIOS: Scenario[] = ['steady', 'backlog'];
const STEADY_DUE_HOSTS = 200;
const TIMED_RUNS = 5;
/**
 * Registration through the API gets this long in all; what is left is inserted by SQL (copies of
 * a registered host), so a slow bulk API cannot stall the pass. The report says which was used.
 */
const API_REGISTRATION_BUDGET_MS = 60_000;
const PREFIX = 'scale-';

export interface ScalePassDeps {
  sizes: number[];
  server: BenchServer;
  registry: ChildRegistry;
  env: Record<string, string>;
  config: Config;
  log: (line: string) => void;
}

export async function runScalePass(deps: ScalePassDeps): Promise<BenchReport['scale']> {
  const name = `vigil_bench_${process.pid}_scale`;
  const url = await deps.server.createDatabase(name);
  const { proc, api } = await startApiProcess(deps.registry, { ...deps.env, DATABASE_URL: url }, 'api (scale pass)');
  try {
    const claim = await captureClaimStatement(deps.config);
    // A steady fleet has a small share due at once (a claim's worth at most); the claim must use
    // hosts_due_idx then, whatever the fleet's size.
    const steadyDue = STEADY_DUE_HOSTS;
    const points: ScalePoint[] = [];
    const registration: BenchReport['scale']['registration'] = [];
    const bulkPlans: BenchReport['scale']['bulk_plan'] = [];
    const budgetEnds = Date.now() + API_REGISTRATION_BUDGET_MS;
    let hosts = 0;
    for (const size of deps.sizes) {
      registration.push(...(await growTo(api, url, hosts, size, budgetEnds)));
      hosts = size;
      const batch = Array.from({ length: MAX_BULK }, (_, i) => `${PREFIX}new-${i}`);
      const bulkStatement = await captureBulkPlanStatement(batch);
      // With the statistics registration left (what the API's next batch would get), and after ANALYZE.
      bulkPlans.push({ hosts: size, statistics: 'as registration left them', ...(await explainPlan(url, bulkStatement)) });
      for (const scenario of SCENARIOS) {
        const dueHosts = await prepareScenario(url, scenario, steadyDue);
        const explained = await explainClaim(url, claim, TIMED_RUNS);
        points.push({ hosts: size, scenario, dueHosts, ...explained });
        deps.log(`scale: ${size} hosts, ${scenario} (${dueHosts} due): claim ${explained.executionMs} ms, indexes ${explained.indexes.join(', ') || 'none'}`);
      }
      bulkPlans.push({ hosts: size, statistics: 'after ANALYZE', ...(await explainPlan(url, bulkStatement)) });
    }
    // The import figures: the largest size into an empty table and into one already that full.
    const imports = await measureImports({ api, url, hosts: deps.sizes.at(-1)!, log: deps.log });
    return {
      import: imports,
      claim_sql: claim.text,
      claim_params: claim.values,
      points: points.map(toReportPoint),
      registration,
      bulk_plan: bulkPlans,
      growth: SCENARIOS.map((scenario) => {
        const of = points.filter((p) => p.scenario === scenario);
        const [first, last] = [of[0]!, of[of.length - 1]!];
        return { scenario, from_hosts: first.hosts, to_hosts: last.hosts, execution_ratio: last.executionMs / Math.max(first.executionMs, 1e-3) };
      }),
    };
  } finally {
    await deps.registry.stop(proc, 15_000);
    await deps.server.dropDatabase(name).catch(() => {});
  }
}

type RegistrationStep = BenchReport['scale']['registration'][number];

/** Registers hosts `from`..`to` through the bulk API, a batch at a time, until the budget is spent; the rest by SQL. */
async function growTo(api: Api, url: string, from: number, to: number, budgetEnds: number): Promise<RegistrationStep[]> {
  const steps: RegistrationStep[] = [];
  let n = from;
  while (n < to && Date.now() < budgetEnds) {
    const end = Math.min(to, n + MAX_BULK);
    const batch = Array.from({ length: end - n }, (_, i) => ({ name: `${PREFIX}${n + i}`, probe: { type: 'tcp', port: 9 } }));
    const reg = await registerHosts(api, batch);
    steps.push({ hosts_before: n, hosts_after: end, seconds: reg.seconds, hosts_per_second: reg.hostsPerSecond, via: 'api' });
    n = end;
  }
  if (n < to) {
    const started = performance.now();
    await cloneHosts(url, `${PREFIX}0`, PREFIX, n, to);
    const seconds = (performance.now() - started) / 1000;
    steps.push({ hosts_before: n, hosts_after: to, seconds, hosts_per_second: (to - n) / Math.max(seconds, 1e-3), via: 'sql' });
  }
  return steps;
}

function toReportPoint(p: ScalePoint): BenchReport['scale']['points'][number] {
  return {
    hosts: p.hosts,
    scenario: p.scenario,
    due_hosts: p.dueHosts,
    execution_ms: p.executionMs,
    planning_ms: p.planningMs,
    runs_ms: p.runsMs,
    indexes: p.indexes,
    uses_partial_index: p.usesPartialIndex,
    plan: p.plan,
  };
}
