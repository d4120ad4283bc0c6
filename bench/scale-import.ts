/**
 * Import speed: 100,000 hosts registered through the bulk API (what `vigil hosts import` and
 * `vigil apply` send, 5,000 a request) into an empty table, then 100,000 more into the table now
 * holding 100,000. The scale pass runs it last, on its own database and API process; also alone:
 *
 *   DATABASE_URL=postgres://… node bench/scale-import.ts [hosts]    (default 100000)
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MAX_BULK, registerHosts, type Api } from './api-client.ts';
import { ChildRegistry } from './children.ts';
import { openBenchServer, withClient } from './database.ts';
import { startApiProcess } from './vigil-cluster.ts';

export interface ImportRun {
  hosts_before: number;
  hosts: number;
  seconds: number;
  hosts_per_second: number;
  /** Slowest single bulk request, hosts/s: a plan that degrades with the table shows here first. */
  slowest_batch_hosts_per_second: number;
}

export interface ImportFigures {
  into_empty: ImportRun;
  into_full: ImportRun;
}

export interface ImportDeps {
  /** An API process on `url`'s database, which this empties first (the scale pass's own). */
  api: Api;
  url: string;
  hosts: number;
  log: (line: string) => void;
}

export async function measureImports(deps: ImportDeps): Promise<ImportFigures> {
  await withClient(deps.url, (c) => c.query('TRUNCATE hosts CASCADE'));
  const run = async (prefix: string, before: number): Promise<ImportRun> => {
    let slowest = Infinity;
    const started = performance.now();
    for (let i = 0; i < deps.hosts; i += MAX_BULK) {
      const batch = Array.from({ length: Math.min(MAX_BULK, deps.hosts - i) }, (_, j) => ({ name: `${prefix}${i + j}`, probe: { type: 'tcp', port: 9 } }));
      slowest = Math.min(slowest, (await registerHosts(deps.api, batch)).hostsPerSecond);
    }
    const seconds = (performance.now() - started) / 1000;
    const result = { hosts_before: before, hosts: deps.hosts, seconds, hosts_per_second: deps.hosts / seconds, slowest_batch_hosts_per_second: slowest };
    deps.log(`import: ${deps.hosts} hosts into ${before}: ${seconds.toFixed(1)} s, ${Math.round(result.hosts_per_second)} hosts/s (slowest request ${Math.round(slowest)} hosts/s)`);
    return result;
  };
  const into_empty = await run('import-a-', 0);
  const into_full = await run('import-b-', deps.hosts);
  return { into_empty, into_full };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const hosts = Number(process.argv[2] ?? 100_000);
  const registry = new ChildRegistry();
  const server = await openBenchServer(process.env.DATABASE_URL);
  const name = `vigil_bench_${process.pid}_import`;
  const env = { HOST: '127.0.0.1', LOG_LEVEL: 'warn', VIGIL_ADMIN_TOKEN: `bench-${randomBytes(24).toString('base64url')}`, VIGIL_SECRET_KEY: randomBytes(32).toString('base64') };
  try {
    const url = await server.createDatabase(name);
    const { api } = await startApiProcess(registry, { ...env, DATABASE_URL: url }, 'api (import)');
    const figures = await measureImports({ api, url, hosts, log: (l) => console.error(l) });
    console.log(JSON.stringify(figures, null, 2));
  } finally {
    await registry.stopAll(5000);
    await server.dropDatabase(name).catch(() => {});
    await server.close();
    registry.dispose();
  }
}
